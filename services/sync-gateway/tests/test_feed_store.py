"""Recording the school feed's entries (adapters/feed_store.record), on PostgreSQL and SQLite: the
per-school sequence without gaps, an event recorded once only, and a pending delivery for each
active webhook of the entry's school, written with the entry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from quxiang.common.times import as_utc
from quxiang.sync_gateway.adapters import feed_store
from quxiang.sync_gateway.adapters.tables import (
    DELIVERY_PENDING,
    feed_counters,
    feed_deliveries,
    feed_entries,
    feed_webhooks,
)
from quxiang.sync_gateway.domain.feed import FeedEntry

from .feed_scenario import SCHOOL_A, SCHOOL_B

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def entry(school: str, event_id: str | None = None) -> FeedEntry:
    return FeedEntry(event_id=event_id or str(uuid.uuid4()), event_type="signing.agreement.approved",
                     school_code=school, exam_number="26440100000001", name="学生1", subject="a1", subject_version=4,
                     occurred_at=NOW, payload={"status": "approved"})


def hook(conn, school: str, active: bool = True) -> int:
    return conn.execute(insert(feed_webhooks).values(
        school_code=school, url="https://example.org/hook", secret="s", active=active, created_at=NOW,
        created_by="u1").returning(feed_webhooks.c.id)).scalar_one()


def test_sequences_per_school_without_gaps_and_each_event_once(gateway):
    first = entry(SCHOOL_A)
    with gateway.engine.begin() as conn:
        ids = [feed_store.record(conn, e, NOW) for e in (first, entry(SCHOOL_A), entry(SCHOOL_B))]
        assert all(isinstance(i, int) for i in ids)
        assert feed_store.record(conn, first, NOW) is None  # already in the feed: nothing written
        assert feed_store.record(conn, entry(SCHOOL_A), NOW) is not None
    with gateway.engine.connect() as conn:
        rows = conn.execute(select(feed_entries.c.school_code, feed_entries.c.sequence, feed_entries.c.message)
                            .order_by(feed_entries.c.id)).all()
        counters = dict(conn.execute(select(feed_counters.c.school_code, feed_counters.c.last_sequence)).all())
    assert [(r.school_code, r.sequence) for r in rows] == [(SCHOOL_A, 1), (SCHOOL_A, 2), (SCHOOL_B, 1), (SCHOOL_A, 3)]
    assert [r.message["sequence"] for r in rows] == [1, 2, 1, 3]
    assert rows[0].message["event_id"] == first.event_id
    assert counters == {SCHOOL_A: 3, SCHOOL_B: 1}


def test_a_pending_delivery_for_each_active_webhook_of_the_school(gateway):
    with gateway.engine.begin() as conn:
        active = [hook(conn, SCHOOL_A), hook(conn, SCHOOL_A)]
        hook(conn, SCHOOL_A, active=False)
        other = hook(conn, SCHOOL_B)
        recorded = feed_store.record(conn, entry(SCHOOL_A), NOW)
        quiet = feed_store.record(conn, entry(SCHOOL_B), NOW)
    with gateway.engine.connect() as conn:
        rows = conn.execute(select(feed_deliveries).order_by(feed_deliveries.c.id)).all()
    assert sorted((r.webhook_id, r.entry_id) for r in rows) == sorted([(active[0], recorded), (active[1], recorded),
                                                                        (other, quiet)])
    assert {(r.status, r.attempts) for r in rows} == {(DELIVERY_PENDING, 0)}
    assert {(as_utc(r.next_attempt_at), as_utc(r.created_at)) for r in rows} == {(NOW, NOW)}


def test_nothing_is_written_for_an_event_already_in_the_feed(gateway):
    with gateway.engine.begin() as conn:
        hook(conn, SCHOOL_A)
        first = entry(SCHOOL_A)
        feed_store.record(conn, first, NOW)
        assert feed_store.record(conn, entry(SCHOOL_A, first.event_id), NOW) is None
    with gateway.engine.connect() as conn:
        assert len(conn.execute(select(feed_deliveries.c.id)).all()) == 1
        assert conn.execute(select(feed_counters.c.last_sequence)).scalar_one() == 1
