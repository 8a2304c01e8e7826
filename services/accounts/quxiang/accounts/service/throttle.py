"""Slowing down password and activation-code guessing (table ``login_throttle``).

Failures are counted per key within a window; when a key reaches its limit it is locked, and a
locked key is refused (429 with Retry-After) before any password is checked, so a locked-out guesser
learns nothing and costs us no argon2 time.

Why two keys per attempt:
- ``account:<username>`` (and ``activation:<考生号>``) stops a guesser working on ONE account from
  many addresses (a botnet): the account locks whatever the source. Its limit is low (5): a person
  who forgot the password needs a few tries, not dozens.
- ``address:<ip>`` stops ONE source trying a few passwords on MANY accounts (password spraying),
  which never trips an account key. Its limit is higher (20) because a campus or a company often
  reaches us from one NAT address, and locking it locks every user behind it.
A successful login resets the account key (the person is back in) but not the address key: a
spraying source that guesses one account right must not get its budget back. Password and
activation-code failures share the address key: one budget per source for guessing anything.

The address is ``request.remote_addr``: behind a reverse proxy the deployment must make that the
client's address (``QX_PROXY_HOPS``, see quxiang.common.wsgi), or every user shares the proxy's key.

Locking an account key also lets anyone lock a known username out for 15 minutes; that is the usual
price of account lockout and the reason the lock is short and expires by itself. The counting itself
is libs/common's (``quxiang.common.throttle``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from quxiang.accounts.adapters.tables import login_throttle
from quxiang.accounts.domain.model import DomainError
from quxiang.common.throttle import FailureCounter

WINDOW = timedelta(minutes=15)   # failures older than this are forgotten
LOCKOUT = timedelta(minutes=15)  # how long a key stays locked once it reached its limit
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
PRUNE_ONE_IN = 100  # failures that also sweep out the finished keys

COUNTER = FailureCounter(login_throttle, WINDOW, LOCKOUT, PRUNE_ONE_IN)


class Throttled(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too_many_attempts", f"尝试次数过多，请 {math.ceil(retry_after / 60)} 分钟后再试",
                         retry_after=retry_after)
        self.retry_after = retry_after


def account_key(username: str) -> str:
    return f"account:{username}"


def address_key(address: str | None) -> str:
    return f"address:{address or 'unknown'}"


def activation_key(exam_number: str) -> str:
    return f"activation:{exam_number}"


def ensure_not_locked(session: Session, keys: Iterable[str], now: datetime | None = None) -> None:
    """Raise ``Throttled`` with the longest remaining lock among ``keys``."""
    remaining = COUNTER.locked_for(session, keys, now)
    if remaining:
        raise Throttled(remaining)


def reserve_attempt(session: Session, limits: Iterable[tuple[str, int]], now: datetime | None = None) -> None:
    """Count this attempt as a failure for each (key, limit) before the slow check, and refuse it
    (``Throttled``) if that passes a key's limit; the caller commits at once, so that parallel
    attempts see each other. Counted only after the check, twelve guesses sent together would all
    be checked against a limit of five. A success gives its count back (``attempt_succeeded``)."""
    for key, limit in limits:
        if COUNTER.count_failure(session, key, limit, now) > limit:
            raise Throttled(math.ceil(LOCKOUT.total_seconds()))


def attempt_succeeded(session: Session, account: str, address: str) -> None:
    """The reserved attempt was right: the account key starts afresh (the person is back in); the
    address gets this attempt back, and its lock if only attempts under way had reached it."""
    reset(session, account)
    COUNTER.give_back(session, address, ADDRESS_LIMIT)


def record_failure(session: Session, key: str, limit: int, now: datetime | None = None) -> bool:
    """Count one failure for ``key``; True if that locked it."""
    return COUNTER.count_failure(session, key, limit, now) >= limit


def reset(session: Session, key: str) -> None:
    COUNTER.reset(session, key)


def prune(session: Session, now: datetime | None = None) -> None:
    """Forget keys whose window and lock are over. Guesses at made-up usernames from many addresses
    would otherwise grow the table without end; a rare sweep on failures keeps it to recent ones."""
    COUNTER.prune(session, now)
