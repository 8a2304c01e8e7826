"""Reading and writing the school feed's tables.

``record`` runs in the feed consumer's transaction: it takes the school's next sequence number
(an upsert on ``feed_counters`` that locks the school's counter row until commit, so the entries of
one school commit in sequence order and a reader paging by cursor never skips one committed later
with a lower number), writes the entry and a pending delivery per active webhook of the school.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quxiang.common.db import dialect_name
from quxiang.sync_gateway.adapters.ledger import _postgres
from quxiang.sync_gateway.adapters.tables import (
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    feed_attempts,
    feed_credentials,
    feed_deliveries,
    feed_entries,
    feed_webhooks,
)
from quxiang.sync_gateway.domain.feed import FeedEntry

Bind = Session | Connection
PUBLISH_LOCK = 0x5158_4645  # "QXFE": one publisher at a time keeps the queue in entry order


# What ``record`` runs for every event, built once: building a statement cost about as much as
# running it. The school's counter advances only for an event not yet in the feed (the sequence has
# no gaps), in the one statement that reads it: created at 1, then +1, locked until commit.
_ADVANCE_IF_NEW = text(
    "INSERT INTO feed_counters (school_code, last_sequence) "
    "SELECT :school_code, 1 WHERE NOT EXISTS (SELECT 1 FROM feed_entries WHERE event_id = :event_id) "
    "ON CONFLICT (school_code) DO UPDATE SET last_sequence = feed_counters.last_sequence + 1 "
    "RETURNING last_sequence")
_ENTRY_TYPES = (bindparam("message", type_=feed_entries.c.message.type),
                bindparam("recorded_at", type_=feed_entries.c.recorded_at.type))
_ENTRY = text(
    "INSERT INTO feed_entries (school_code, sequence, event_id, event_type, exam_number, message, recorded_at) "
    "VALUES (:school_code, :sequence, :event_id, :event_type, :exam_number, :message, :recorded_at) "
    "RETURNING id").bindparams(*_ENTRY_TYPES)
# PostgreSQL: the entry and a pending delivery per active webhook of the school in one statement.
_ENTRY_AND_DELIVERIES = text(
    "WITH entry AS ("
    "INSERT INTO feed_entries (school_code, sequence, event_id, event_type, exam_number, message, recorded_at) "
    "VALUES (:school_code, :sequence, :event_id, :event_type, :exam_number, :message, :recorded_at) "
    "RETURNING id), "
    "deliveries AS ("
    "INSERT INTO feed_deliveries (webhook_id, entry_id, status, attempts, next_attempt_at, created_at) "
    "SELECT w.id, entry.id, :pending, 0, :recorded_at, :recorded_at FROM feed_webhooks w, entry "
    "WHERE w.school_code = :school_code AND w.active) "
    "SELECT id FROM entry").bindparams(*_ENTRY_TYPES)
_ACTIVE_HOOKS = select(feed_webhooks.c.id).where(feed_webhooks.c.school_code == bindparam("school_code"),
                                                 feed_webhooks.c.active.is_(True))


def record(bind: Bind, entry: FeedEntry, now: datetime) -> int | None:
    """Write ``entry`` with the school's next sequence and a pending delivery per active webhook of
    the school; its id, or None when the source event is already in the feed."""
    sequence = bind.execute(_ADVANCE_IF_NEW, {"school_code": entry.school_code, "event_id": entry.event_id}).scalar()
    if sequence is None:
        return None
    values = {"school_code": entry.school_code, "sequence": sequence, "event_id": entry.event_id,
              "event_type": entry.event_type, "exam_number": entry.exam_number, "message": entry.message(sequence),
              "recorded_at": now}
    if dialect_name(bind) == "postgresql":
        return int(bind.execute(_ENTRY_AND_DELIVERIES, {**values, "pending": DELIVERY_PENDING}).scalar_one())
    entry_id = bind.execute(_ENTRY, values).scalar_one()
    hooks = bind.execute(_ACTIVE_HOOKS, {"school_code": entry.school_code}).scalars().all()
    if hooks:
        bind.execute(insert(feed_deliveries), [
            {"webhook_id": hook, "entry_id": entry_id, "status": DELIVERY_PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now} for hook in hooks])
    return int(entry_id)


def page_after(conn: Connection, school_code: str, after: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(feed_entries.c.message).where(
        feed_entries.c.school_code == school_code, feed_entries.c.sequence > after)
        .order_by(feed_entries.c.sequence).limit(limit)).scalars().all()
    return [dict(r) for r in rows]


def types_after(conn: Connection, school_code: str, after: int, window: int) -> Sequence[Any]:
    """(sequence, event type) of the next ``window`` entries of the school after ``after``, read
    along the cursor's index whatever the entries are."""
    return conn.execute(select(feed_entries.c.sequence, feed_entries.c.event_type).where(
        feed_entries.c.school_code == school_code, feed_entries.c.sequence > after)
        .order_by(feed_entries.c.sequence).limit(window)).all()


def messages_at(conn: Connection, school_code: str, sequences: Sequence[int]) -> list[dict[str, Any]]:
    if not sequences:
        return []
    rows = conn.execute(select(feed_entries.c.message).where(
        feed_entries.c.school_code == school_code, feed_entries.c.sequence.in_(list(sequences)))
        .order_by(feed_entries.c.sequence)).scalars().all()
    return [dict(r) for r in rows]


# -- publishing ---------------------------------------------------------------------------------

def lock_publisher(conn: Connection) -> bool:
    """Only one publisher round at a time (PostgreSQL: a transaction-scoped advisory lock)."""
    if not _postgres(conn):
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK}).scalar())


def unpublished(conn: Connection, limit: int) -> Sequence[Any]:
    return conn.execute(select(feed_entries.c.id, feed_entries.c.school_code, feed_entries.c.event_id,
                               feed_entries.c.message)
                        .where(feed_entries.c.published_at.is_(None)).order_by(feed_entries.c.id)
                        .limit(limit)).all()


def schools_with_credentials(conn: Connection) -> set[str]:
    """Schools that have (or had: a revoked user's queue stays for the next one) a broker user."""
    return set(conn.execute(select(feed_credentials.c.school_code)).scalars())


def mark_published(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(update(feed_entries).where(feed_entries.c.id.in_(list(ids))).values(published_at=now))


# -- webhook deliveries -------------------------------------------------------------------------

def claim_due(conn: Connection, now: datetime, limit: int, lease: timedelta) -> list[Any]:
    """Due pending deliveries with what sending needs; their next attempt moves past the lease, so
    another worker does not take them while this one sends."""
    query = (select(feed_deliveries.c.id).where(feed_deliveries.c.status == DELIVERY_PENDING,
                                                feed_deliveries.c.next_attempt_at <= now)
             .order_by(feed_deliveries.c.entry_id, feed_deliveries.c.id).limit(limit))
    if _postgres(conn):
        query = query.with_for_update(skip_locked=True)
    ids = conn.execute(query).scalars().all()
    if not ids:
        return []
    conn.execute(update(feed_deliveries).where(feed_deliveries.c.id.in_(ids)).values(next_attempt_at=now + lease))
    return list(conn.execute(
        select(feed_deliveries.c.id, feed_deliveries.c.attempts, feed_deliveries.c.entry_id,
               feed_deliveries.c.next_attempt_at.label("held_until"),
               feed_webhooks.c.url, feed_webhooks.c.secret, feed_webhooks.c.active, feed_entries.c.event_id,
               feed_entries.c.message, feed_entries.c.school_code)
        .join(feed_webhooks, feed_webhooks.c.id == feed_deliveries.c.webhook_id)
        .join(feed_entries, feed_entries.c.id == feed_deliveries.c.entry_id)
        .where(feed_deliveries.c.id.in_(ids)).order_by(feed_deliveries.c.entry_id)).all())


def renew(conn: Connection, delivery_id: int, held_until: datetime, until: datetime) -> bool:
    """The claimed delivery's lease from ``held_until`` (as the claim wrote it) to ``until``, just
    before it is sent; False if it is no longer this sender's: its lease ran out while the batch's
    earlier deliveries were sent and another sender took it (or it was redelivered by hand)."""
    return bool(conn.execute(update(feed_deliveries).where(
        feed_deliveries.c.id == delivery_id, feed_deliveries.c.status == DELIVERY_PENDING,
        feed_deliveries.c.next_attempt_at == held_until).values(next_attempt_at=until)).rowcount)


def settle(conn: Connection, delivery_id: int, attempt: int, started_at: datetime, status_code: int | None,
           error: str | None, duration_ms: int, ok: bool, give_up: bool, retry_at: datetime) -> None:
    conn.execute(insert(feed_attempts).values(delivery_id=delivery_id, attempt=attempt, started_at=started_at,
                                              status_code=status_code, error=error, duration_ms=duration_ms))
    values: dict[str, Any] = {"attempts": attempt, "last_status_code": status_code, "last_error": error}
    if ok:
        values.update(status=DELIVERY_DELIVERED, delivered_at=started_at)
    elif give_up:
        values.update(status=DELIVERY_FAILED, failed_at=started_at)
    else:
        values.update(next_attempt_at=retry_at)
    conn.execute(update(feed_deliveries).where(feed_deliveries.c.id == delivery_id,
                                               feed_deliveries.c.status == DELIVERY_PENDING).values(**values))


def redeliver(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """A failed or delivered delivery back to pending; False for one still pending (being sent, or
    waiting for its retry): made due at once, another sender would send it beside the one sending."""
    return bool(conn.execute(update(feed_deliveries).where(
        feed_deliveries.c.id == delivery_id, feed_deliveries.c.status != DELIVERY_PENDING).values(
        status=DELIVERY_PENDING, attempts=0, next_attempt_at=now, failed_at=None, delivered_at=None)).rowcount)


def delivery(conn: Connection, delivery_id: int) -> Any:
    return conn.execute(select(feed_deliveries, feed_webhooks.c.school_code, feed_entries.c.event_id,
                               feed_entries.c.sequence)
                        .join(feed_webhooks, feed_webhooks.c.id == feed_deliveries.c.webhook_id)
                        .join(feed_entries, feed_entries.c.id == feed_deliveries.c.entry_id)
                        .where(feed_deliveries.c.id == delivery_id)).first()


def attempts_of(conn: Connection, delivery_id: int) -> Sequence[Any]:
    return conn.execute(select(feed_attempts).where(feed_attempts.c.delivery_id == delivery_id)
                        .order_by(feed_attempts.c.id)).all()


def deliveries_of(conn: Connection, webhook_id: int, status: str | None, offset: int, limit: int) -> Sequence[Any]:
    query = (select(feed_deliveries, feed_entries.c.event_id, feed_entries.c.sequence)
             .join(feed_entries, feed_entries.c.id == feed_deliveries.c.entry_id)
             .where(feed_deliveries.c.webhook_id == webhook_id))
    if status:
        query = query.where(feed_deliveries.c.status == status)
    return conn.execute(query.order_by(feed_deliveries.c.id).offset(offset).limit(limit)).all()


def count_deliveries(conn: Connection, webhook_id: int, status: str | None) -> int:
    query = select(func.count()).select_from(feed_deliveries).where(feed_deliveries.c.webhook_id == webhook_id)
    if status:
        query = query.where(feed_deliveries.c.status == status)
    return int(conn.execute(query).scalar_one())
