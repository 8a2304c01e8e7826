"""Revocation everywhere: each service keeps, per user, the time before which tokens are void.

accounts records ``accounts.user.tokens_revoked`` whenever a user's rights change (permissions,
password, logout, disabling); every service consumes it into its own ``auth_not_before`` table, and
the authenticator refuses tokens issued before that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import marshmallow
from sqlalchemy import Column, Float, Index, MetaData, String, Table, bindparam, select, update
from sqlalchemy.engine import Engine

from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.db import reading
from quxiang.common.events import Event, catalogue

TOKENS_REVOKED = "accounts.user.tokens_revoked"
# refresh_reuse: a rotated refresh token came back, so the family leaked; every session of the user ends.
# password_reset: the account's manager set a new password (its holder forgot it).
REVOCATION_REASONS = ("permissions_changed", "password_changed", "logout", "disabled", "role_changed",
                      "refresh_reuse", "password_reset")

auth_metadata = MetaData()
not_before_table = Table(
    "auth_not_before", auth_metadata,
    Column("user_id", String(64), primary_key=True),
    Column("not_before", Float, nullable=False),  # epoch seconds; tokens with an earlier iat are void
    Index("ix_auth_not_before_not_before", "not_before"),  # the revocation list's read of recent entries
)
# The revocation list's two reads, built once: every recent entry, and one user's.
_RECENT = select(not_before_table.c.user_id, not_before_table.c.not_before).where(
    not_before_table.c.not_before > bindparam("since", type_=Float))
_NOT_BEFORE = select(not_before_table.c.not_before).where(not_before_table.c.user_id == bindparam("user_id"))


class TokensRevoked(marshmallow.Schema):
    user_id = marshmallow.fields.String(required=True)
    not_before = marshmallow.fields.Float(required=True)
    reason = marshmallow.fields.String(required=True, validate=marshmallow.validate.OneOf(REVOCATION_REASONS))


if TOKENS_REVOKED not in catalogue:
    catalogue.register(TOKENS_REVOKED, TokensRevoked, version=1,
                       description="Every token of the user issued before not_before is void.")


def on_tokens_revoked(event: Event, uow: UnitOfWork) -> None:
    """Consumer handler: keep the latest not-before per user (events may come out of order)."""
    user_id, not_before = event.data["user_id"], float(event.data["not_before"])
    session = uow.session
    current = session.execute(select(not_before_table.c.not_before).where(
        not_before_table.c.user_id == user_id).with_for_update()).scalar()
    if current is None:
        session.execute(not_before_table.insert().values(user_id=user_id, not_before=not_before))
    elif not_before > current:
        session.execute(update(not_before_table).where(not_before_table.c.user_id == user_id).values(
            not_before=not_before))


def revocation_consumer(service: str) -> tuple[str, dict]:
    """The (consumer name, handlers) pair each service adds to its consumers."""
    return f"{service}.auth", {TOKENS_REVOKED: on_tokens_revoked}


# How far back the revocation list reads every entry at once: past the access tokens' life (15 min)
# and PyJWT's leeway, so every token still accepted is answered from that one read. A longer-lived
# token, older than this, reads its user's entry instead.
RECENT_WINDOW_SECONDS = 30 * 60
# How long a read of the entries answers: a revocation takes effect within this of its commit.
REVOCATION_TTL_SECONDS = 1.0


class RevocationList:
    """Answers whether a token is void: issued before its user's ``auth_not_before`` time.

    Every ``ttl`` seconds it reads all entries newer than ``window`` seconds, one statement on the
    ``not_before`` index, and answers each token issued within that window from them: an entry that
    voids such a token is newer than the token, so it is among them. Per user, that would be a
    statement on nearly every request (a user seldom calls twice within ``ttl``). A token issued
    before the window reads its own user's entry, cached for ``ttl``. Either way a revocation takes
    effect within ``ttl`` seconds of the consumer's commit."""

    def __init__(self, engine: Engine, ttl: float = REVOCATION_TTL_SECONDS, window: float = RECENT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.ttl = ttl
        self.window = window
        self._clock = clock
        self._monotonic = monotonic
        self._recent: dict[str, float] = {}
        self._recent_since = float("inf")  # tokens issued at or after this are answered from _recent
        self._recent_read_at = float("-inf")
        self._cache: dict[str, tuple[float, float | None]] = {}
        self._lock = threading.Lock()

    def revokes(self, user_id: str, issued_at: float) -> bool:
        """Whether a token of ``user_id`` issued at ``issued_at`` (epoch seconds) is void."""
        not_before = self.not_before(user_id, issued_at)
        return not_before is not None and issued_at < not_before

    def not_before(self, user_id: str, issued_at: float) -> float | None:
        """``user_id``'s entry as far as it matters to a token issued at ``issued_at``: the entry, or
        None when it has none or (from the recent read) none that could void this token."""
        now = self._monotonic()
        with self._lock:
            if now - self._recent_read_at >= self.ttl:
                self._read_recent(now)
            if issued_at >= self._recent_since:
                return self._recent.get(user_id)
            cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        with reading(self.engine) as conn:
            value = conn.execute(_NOT_BEFORE, {"user_id": user_id}).scalar()
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[user_id] = (now, value)
        return value

    def _read_recent(self, now: float) -> None:
        since = self._clock() - self.window
        with reading(self.engine) as conn:
            rows = conn.execute(_RECENT, {"since": since}).all()
        self._recent = dict(rows)  # type: ignore[arg-type]
        self._recent_since, self._recent_read_at = since, now
