"""Password hashing: argon2id with the library's current parameters; old hashes upgrade on login.

``QX_PASSWORD_HASHING=fast-for-tests`` (set by the test plugin, never in production) makes every
argon2 hasher of accounts cheap, so test runs that log in hundreds of times do not spend minutes in
argon2. A hash written that way differs in its parameters, so a normal run rehashes it at the next
login.
"""

from __future__ import annotations

import logging
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

logger = logging.getLogger(__name__)

HASHING_ENV = "QX_PASSWORD_HASHING"
FAST_FOR_TESTS = "fast-for-tests"


def argon2_hasher(**parameters: int) -> PasswordHasher:
    """An argon2id hasher with ``parameters`` (the library's defaults when none), or the cheap test
    one when ``QX_PASSWORD_HASHING=fast-for-tests``."""
    if os.environ.get(HASHING_ENV) == FAST_FOR_TESTS:
        logger.warning("%s=%s: argon2 at test cost; never in production", HASHING_ENV, FAST_FOR_TESTS)
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher(**parameters)


_hasher = argon2_hasher()
# Verifying against this when the account does not exist keeps the answer's timing the same.
_DUMMY_HASH = _hasher.hash("no such account: timing parity only")

MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why a new password is refused, in Chinese; None if it is acceptable. Spaces do not count
    towards the length ("a1" and six spaces is two characters of password), and a password holding
    the account's username is the first thing anyone tries."""
    if len("".join(password.split())) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位（空格不计）"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 位"
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        return "密码须同时包含字母和数字"
    if username and username.casefold() in password.casefold():
        return "密码不能包含用户名"
    return None
