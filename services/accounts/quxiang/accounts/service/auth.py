"""Logging in and the tokens: login, refresh (rotating), logout, password change.

Access tokens are EdDSA JWTs signed by the keyring's current key and live ``ACCESS_TOKEN_TTL``
seconds; every service verifies them with the public keys of the JWKS. They are not stored: a
logout or a password change ends them through ``accounts.user.tokens_revoked`` (every service's
per-user not-before).

Refresh tokens are random strings, stored only as their SHA-256 (a leaked table cannot be replayed;
a fast hash is enough because the token has 256 bits, unlike a password). Each login starts a
family; each refresh marks the presented token rotated and issues the next one of the family.
A rotated token presented again means two parties hold the family (a theft, or a client bug): the
family and every other token of the user are revoked and access tokens end everywhere. There is no
grace period for a client that retries a refresh whose answer it lost: it logs in again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from quxiang.accounts.adapters import credentials, repository
from quxiang.accounts.adapters.keyring import Keyring
from quxiang.accounts.domain.model import DomainError, User
from quxiang.accounts.service import throttle
from quxiang.accounts.service.passwords import hash_password, needs_rehash, password_problem, verify_password
from quxiang.accounts.service.revocation import revoke_tokens
from quxiang.common.auth.principal import PERMISSIONED_ROLES, Principal
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.outbox import UnitOfWork

ACCESS_TOKEN_TTL = 15 * 60  # seconds: short, because a stolen access token cannot be recalled before it ends
REFRESH_TOKEN_TTL = timedelta(days=14)  # from each rotation: an active user stays logged in


class AuthFailed(DomainError):
    status = 401


class InvalidInput(DomainError):
    status = 400


BAD_CREDENTIALS = "用户名或密码错误"


@dataclass(frozen=True)
class Signer:
    """The key that signs now, for the platform's audience."""

    kid: str
    key: Any
    audience: str

    def access_token(self, user: User) -> str:
        permissions = user.permissions if user.role in PERMISSIONED_ROLES else {}
        principal = Principal(user_id=user.id, role=user.role, scope=user.scope, permissions=permissions)
        return issue_token(principal, self.key, self.kid, audience=self.audience, ttl_seconds=ACCESS_TOKEN_TTL,
                           token_id=uuid.uuid4().hex)


@dataclass(frozen=True)
class TokenIssuer:
    keyring: Keyring
    audience: str

    def signer(self) -> Signer:
        """Take it before the use case's transaction starts: the keyring reads with its own connection,
        which on SQLite (one writer, BEGIN IMMEDIATE) would wait for that transaction forever."""
        kid, key = self.keyring.signing_key()
        return Signer(kid, key, self.audience)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int = ACCESS_TOKEN_TTL
    refresh_expires_in: int = int(REFRESH_TOKEN_TTL.total_seconds())
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(uow: UnitOfWork, signer: Signer, user: User, family_id: str, now: datetime) -> Tokens:
    refresh = secrets.token_urlsafe(32)
    stored = credentials.StoredRefreshToken(id=str(uuid.uuid4()), user_id=user.id, family_id=family_id,
                                            issued_at=now, expires_at=now + REFRESH_TOKEN_TTL,
                                            rotated_at=None, revoked_at=None)
    credentials.add_refresh_token(uow.session, stored, token_hash(refresh))
    return Tokens(access_token=signer.access_token(user), refresh_token=refresh)


def login(uow: UnitOfWork, issuer: TokenIssuer, username: str, password: str, address: str | None,
          now: datetime | None = None) -> Tokens:
    now = now or datetime.now(UTC)
    signer = issuer.signer()
    account, source = throttle.account_key(username), throttle.address_key(address)
    throttle.ensure_not_locked(uow.session, [account, source], now)
    throttle.reserve_attempt(uow.session, [(account, throttle.ACCOUNT_LIMIT), (source, throttle.ADDRESS_LIMIT)], now)
    user = repository.get_user_by_username(uow.session, username)
    # Counted before the slow check, where parallel guesses see it; and no transaction is held open
    # across the check (SQLite could not write in it once another writer committed meanwhile).
    uow.commit()
    # Always one argon2 verification (against a dummy hash for an unknown user), and one answer for
    # every failure: neither the timing nor the message tells which usernames exist.
    valid = verify_password(user.password_hash if user else None, password)
    if user is not None and valid:
        # Locked, and read again: a password change, a permission change or a disable that
        # committed during the check is seen here, and one that comes later waits for this login
        # and then voids the token it issues (its "not before" is taken once it holds the row).
        checked = user
        user = repository.get_user(uow.session, checked.id, for_update=True)
        if user is not None and user.password_hash != checked.password_hash:
            user = None  # the password changed meanwhile: the one given was checked against the old
    if user is None or not valid or not user.can_log_in:
        raise AuthFailed("invalid_credentials", BAD_CREDENTIALS)  # the attempt stays counted
    throttle.attempt_succeeded(uow.session, account, source)
    if needs_rehash(user.password_hash):  # type: ignore[arg-type]
        user.password_hash = hash_password(password)  # the library's parameters went up since
        repository.save_user(uow.session, user)
    tokens = _issue(uow, signer, user, family_id=str(uuid.uuid4()), now=now)
    uow.commit()
    return tokens


def refresh(uow: UnitOfWork, issuer: TokenIssuer, refresh_token: str, now: datetime | None = None) -> Tokens:
    now = now or datetime.now(UTC)
    signer = issuer.signer()
    digest = token_hash(refresh_token)
    seen = credentials.get_refresh_token(uow.session, digest)
    if seen is None:
        raise AuthFailed("refresh_token_invalid", "刷新令牌无效，请重新登录")
    # The user's row first, then the token's, in the order every change of the user takes them: a
    # permission change or a disable under way finishes first (and revokes this token), or waits
    # for this refresh and voids what it issues. Two refreshes with one token wait on each other.
    user = repository.get_user(uow.session, seen.user_id, for_update=True)
    stored = credentials.get_refresh_token(uow.session, digest, for_update=True)
    if stored is None:
        raise AuthFailed("refresh_token_invalid", "刷新令牌无效，请重新登录")
    if stored.rotated_at is not None:
        if stored.revoked_at is None:
            # First sight of the reuse: end the family and every session of the user. Later sightings
            # change nothing (all of it is revoked already) and must not end the user's new sessions.
            credentials.revoke_refresh_family(uow.session, stored.family_id, now)
            if user is not None:
                _revoke_everywhere(uow, user, "refresh_reuse")
            uow.commit()
        raise AuthFailed("refresh_token_reused", "刷新令牌已被使用过，所有登录已失效，请重新登录")
    if stored.revoked_at is not None:
        raise AuthFailed("refresh_token_revoked", "刷新令牌已失效，请重新登录")
    if stored.expires_at <= now:
        raise AuthFailed("refresh_token_expired", "刷新令牌已过期，请重新登录")
    if user is None or not user.can_log_in:
        raise AuthFailed("refresh_token_revoked", "刷新令牌已失效，请重新登录")
    credentials.mark_refresh_token_rotated(uow.session, stored.id, now)
    tokens = _issue(uow, signer, user, family_id=stored.family_id, now=now)
    uow.commit()
    return tokens


def _revoke_everywhere(uow: UnitOfWork, user: User, reason: str) -> None:
    """Every refresh token of the user here, and its access tokens at every service. The event is
    the user aggregate's, so it takes the next version as its sequence."""
    user.version += 1
    repository.save_user(uow.session, user)
    revoke_tokens(uow, user.id, reason, sequence=user.version)


def _locked_user(uow: UnitOfWork, user_id: str) -> User:
    user = repository.get_user(uow.session, user_id, for_update=True)
    if user is None:  # a valid token of a deleted user: nothing to act on
        raise AuthFailed("unknown_user", "账号不存在")
    return user


def logout(uow: UnitOfWork, user_id: str) -> None:
    """Ends every session of the user (all devices): one logout cannot pick out this token's family,
    because the access token does not name it."""
    _revoke_everywhere(uow, _locked_user(uow, user_id), "logout")
    uow.commit()


def change_password(uow: UnitOfWork, user_id: str, current: str, new: str, address: str | None,
                    now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    user = _locked_user(uow, user_id)
    # A stolen access token must not become a way to guess the password: same throttle as login.
    account, source = throttle.account_key(user.username), throttle.address_key(address)
    throttle.ensure_not_locked(uow.session, [account, source], now)
    if not verify_password(user.password_hash, current):
        throttle.record_failure(uow.session, account, throttle.ACCOUNT_LIMIT, now)
        throttle.record_failure(uow.session, source, throttle.ADDRESS_LIMIT, now)
        uow.commit()
        raise InvalidInput("wrong_password", "当前密码不正确")
    problem = password_problem(new, user.username)
    if problem is not None:
        raise DomainError("weak_password", problem, field="new_password")
    if new == current:
        raise DomainError("password_unchanged", "新密码不能与当前密码相同", field="new_password")
    throttle.reset(uow.session, account)
    user.password_hash = hash_password(new)
    _revoke_everywhere(uow, user, "password_changed")  # bumps the version and saves the new hash too
    uow.commit()
