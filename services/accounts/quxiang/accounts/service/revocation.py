"""Voiding a user's tokens everywhere: the refresh tokens here, the access tokens at every service."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import update

from quxiang.accounts.adapters.tables import refresh_tokens
from quxiang.common.auth.revocation import TOKENS_REVOKED
from quxiang.common.bus.outbox import UnitOfWork


def revoke_tokens(uow: UnitOfWork, user_id: str, reason: str, sequence: int) -> float:
    """Revoke every refresh token of the user and record ``accounts.user.tokens_revoked``; every
    service then refuses access tokens issued before the returned time. ``sequence`` is the user
    aggregate's version after the change that caused it."""
    not_before = time.time()
    uow.session.execute(update(refresh_tokens).where(
        refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None)).values(
        revoked_at=datetime.now(UTC)))
    uow.record(TOKENS_REVOKED, subject=user_id, sequence=sequence,
               data={"user_id": user_id, "not_before": not_before, "reason": reason})
    return not_before
