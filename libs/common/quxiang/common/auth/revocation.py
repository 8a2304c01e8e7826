"""Revocation everywhere: each service keeps, per user, the time before which tokens are void.

accounts records ``accounts.user.tokens_revoked`` whenever a user's rights change (permissions,
password, logout, disabling); every service consumes it into its own ``auth_not_before`` table, and
the authenticator refuses tokens issued before that time.
"""

from __future__ import annotations

import threading
import time

import marshmallow
from sqlalchemy import Column, Float, MetaData, String, Table, bindparam, select, update
from sqlalchemy.engine import Engine

from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.db import reading
from quxiang.common.events import Event, catalogue

TOKENS_REVOKED = "accounts.user.tokens_revoked"
# refresh_reuse: a rotated refresh token came back, so the family leaked; every session of the user ends.
REVOCATION_REASONS = ("permissions_changed", "password_changed", "logout", "disabled", "role_changed",
                      "refresh_reuse")

auth_metadata = MetaData()
not_before_table = Table(
    "auth_not_before", auth_metadata,
    Column("user_id", String(64), primary_key=True),
    Column("not_before", Float, nullable=False),  # epoch seconds; tokens with an earlier iat are void
)
# Read on every request whose user's entry is not cached: built once.
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


class RevocationList:
    """Reads ``auth_not_before`` with a short cache: revocation takes effect within ``ttl`` seconds
    of the consumer's commit, without a query on every request."""

    def __init__(self, engine: Engine, ttl: float = 1.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._cache: dict[str, tuple[float, float | None]] = {}
        self._lock = threading.Lock()

    def not_before(self, user_id: str) -> float | None:
        now = time.monotonic()
        with self._lock:
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
