"""Delivery to the real ems-sim over HTTP: mirrored once, down for a while then everything arrives
exactly once, 5xx and 429 (Retry-After) handled, out-of-order events end right in the EMS, the retry
budget parks a record as failed and a retry brings it through, permanent answers park at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.tables import sync_records
from quxiang.sync_gateway.domain.delivery import RetryPolicy

from .events import A, agreement, at, new_id, registration

# Every test both ways: records in batches of up to 10 (POST /batch), and one PUT per record.
pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("sync_batch", ["10", "1"])]


def rows(gateway):
    with gateway.engine.connect() as conn:
        return {r.exam_number + "/" + r.kind: r for r in conn.execute(select(sync_records))}


def approvals(world, count, prefix="264401990"):
    exams = [f"{prefix}{i:03d}" for i in range(count)]
    world.deliver(*(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam) for exam in exams))
    return exams


def settle_all(worker, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.drain(timeout=5)
        with worker.gateway.engine.connect() as conn:
            if not ledger.counts(conn).get("pending"):
                return
        time.sleep(0.05)
    raise AssertionError("still pending")


def test_mirrored_once_with_the_event_id_as_key(world, gateway, worker, ems):
    exam = approvals(world, 1)[0]
    registration_event = registration("archive", new_id(), 3, exam)
    world.deliver(registration_event)
    report = worker.drain()
    assert report.synced == 2
    held = ems.graduate(exam)
    assert held["destination"]["status"] == "in_force" and held["destination"]["source"] == "platform"
    assert held["archive"]["transfer_number"] == "2026105580000001"
    row = rows(gateway)[exam + "/destination"]
    assert row.status == "synced" and row.synced_version == 1 and row.ems_write == "created" and row.lag_ms >= 0
    # the same row delivered again (a lost answer, a second worker): the key makes it a replay
    with gateway.engine.begin() as conn:
        conn.execute(sync_records.update().where(sync_records.c.id == row.id).values(status="pending"))
    worker.drain()
    stats = ems.stats()
    assert stats["writes"]["destination"]["created"] == 1 and stats["replays"] == 1
    assert sum(stats["writes"]["destination"].values()) == 1


def test_down_for_a_while_then_everything_arrives_once(world, gateway, worker, ems, caplog):
    ems.faults(down=True)
    exams = approvals(world, 30)
    worker.run_for(1.0)
    assert worker.breaker.is_open
    opened = [r for r in caplog.records if r.levelname == "ERROR" and "deliveries held back" in r.getMessage()]
    assert len(opened) == worker.breaker.opened == 1  # said once, when it opened, for the on-call engineer
    pending = rows(gateway)
    assert all(r.status == "pending" for r in pending.values())
    attempts_while_down = ems.stats()["faults"]["down"]
    assert attempts_while_down < 30 + 10  # the breaker stops the hammering: a batch, then probes
    more = approvals(world, 20, prefix="264401991")
    ems.clear_faults()
    settle_all(worker)
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 50, "updated": 0, "unchanged": 0}
    assert not worker.breaker.is_open
    for exam in exams + more:
        assert ems.graduate(exam)["destination"]["status"] == "in_force"
    assert all(r.status == "synced" for r in rows(gateway).values())


def test_errors_and_throttling_are_retried_until_through(world, gateway, worker, ems):
    ems.faults(error_rate=0.25, throttle_rate=0.15, retry_after_s=0)
    worker.policy = RetryPolicy(max_attempts=15, initial=0.02, maximum=0.1)  # 0.4**15: never parked
    worker.breaker.threshold = 1000
    worker.batch_size = min(worker.batch_size, 2)  # enough requests for both faults to come up
    exams = approvals(world, 60)
    settle_all(worker, timeout=40)
    stats = ems.stats()
    assert stats["faults"]["error"] > 0 and stats["faults"]["throttle"] > 0
    assert stats["writes"]["destination"]["created"] == 60
    assert all(r.status == "synced" for r in rows(gateway).values()), [r.last_error for r in rows(gateway).values()]
    ems.clear_faults()  # reads are faulted too
    assert {e for e in exams if ems.graduate(e)} == set(exams)


def test_retry_after_is_honoured(world, gateway, worker, ems):
    ems.faults(throttle_rate=1.0, retry_after_s=1)
    exam = approvals(world, 1)[0]
    started = datetime.now(UTC)
    worker.deliver_due()
    row = rows(gateway)[exam + "/destination"]
    assert row.status == "pending" and row.attempts == 0 and "429" in row.last_error  # not counted
    assert (ledger.utc(row.next_attempt_at) - started).total_seconds() >= 0.99
    ems.clear_faults()
    sent = ems.stats()["faults"]["throttle"]
    worker.deliver_due()  # paused by Retry-After: nothing goes
    assert ems.stats()["faults"]["throttle"] == sent and ems.graduate(exam) is None
    time.sleep(1.05)
    worker.drain()
    assert ems.graduate(exam)["destination"]["status"] == "in_force"


def test_events_out_of_order_end_right_in_the_ems(world, gateway, worker, ems):
    exam, a, b = "26440199500", new_id(), new_id()
    world.deliver(agreement(A.AGREEMENT_APPROVED, b, 6, exam, occurred_at=at(10), unit="乙公司"))
    worker.drain()
    world.deliver(agreement(A.AGREEMENT_TERMINATED, a, 9, exam, occurred_at=at(5), unit="甲公司"),
                  agreement(A.AGREEMENT_APPROVED, a, 7, exam, occurred_at=at(0), unit="甲公司"))
    worker.drain()
    held = ems.graduate(exam)["destination"]
    assert (held["unit_name"], held["status"]) == ("乙公司", "in_force")
    world.deliver(agreement(A.AGREEMENT_TERMINATED, b, 8, exam, occurred_at=at(20), unit="乙公司"))
    world.deliver(agreement(A.AGREEMENT_APPROVED, b, 6, exam, occurred_at=at(10), unit="乙公司"))  # late duplicate
    worker.drain()
    held = ems.graduate(exam)["destination"]
    assert (held["unit_name"], held["status"], held["platform_version"]) == ("乙公司", "terminated", 2)


def test_budget_spent_parks_as_failed_then_retry_brings_it_through(world, gateway, worker, ems, client):
    ems.faults(error_rate=1.0)
    exam = approvals(world, 1)[0]
    worker.breaker.threshold = 100  # keep delivering: the budget, not the breaker, is under test
    deadline = time.monotonic() + 10
    while rows(gateway)[exam + "/destination"].status != "failed" and time.monotonic() < deadline:
        worker.deliver_due()
        time.sleep(0.05)
    row = rows(gateway)[exam + "/destination"]
    assert row.status == "failed" and row.attempts == 4 and "503" in row.last_error
    ems.clear_faults()
    worker.drain()
    assert ems.graduate(exam) is None  # parked: not retried by itself
    assert ledger.retry_failed(gateway.engine, ids=[row.id]) == 1
    worker.drain()
    assert rows(gateway)[exam + "/destination"].status == "synced" and ems.graduate(exam) is not None


def test_a_refused_record_is_parked_at_once(world, gateway, worker, ems):
    """ems-sim refuses what it cannot store (422): retrying cannot help. A 409 managed_by_platform
    never answers the platform's own PUT: the lock rule is for edits made in the EMS."""
    exam = "26440199600"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam, unit="单" * 300))
    worker.drain()
    row = rows(gateway)[exam + "/destination"]
    assert row.status == "failed" and row.attempts == 1 and "422" in row.last_error


def test_the_lock_rule_refuses_ems_edits_of_mirrored_destinations(world, worker, ems):
    exam = approvals(world, 1)[0]
    world.deliver(registration("archive", new_id(), 3, exam))
    worker.drain()
    edit = ems.http.patch(f"{ems.url}/graduates/{exam}/destination", json={"unit_name": "别的公司"},
                          headers={"Idempotency-Key": new_id()})
    assert edit.status_code == 409 and edit.json()["code"] == "managed_by_platform"
    edit = ems.http.patch(f"{ems.url}/graduates/{exam}/archive", json={"address": "北京市"},
                          headers={"Idempotency-Key": new_id()})
    assert edit.status_code == 200 and ems.graduate(exam)["archive"]["source"] == "ems"


def test_a_batch_answers_per_record(world, gateway, worker, ems, sync_batch):
    """One request carries up to QX_SYNC_BATCH records; a refused one is parked, the others synced,
    and a replayed one (a lost answer) is one write."""
    ems.faults(latency_ms=1)  # counts the requests
    good = approvals(world, 12, prefix="264401997")
    bad = "26440199700"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, bad, unit="单" * 300))
    worker.drain()
    held = rows(gateway)
    assert all(held[e + "/destination"].status == "synced" for e in good)
    assert held[bad + "/destination"].status == "failed" and "422" in held[bad + "/destination"].last_error
    requests = ems.stats()["faults"]["latency"]
    assert requests == (2 if sync_batch == "10" else 13)  # at least SPREAD requests side by side
    with gateway.engine.begin() as conn:  # two answers lost: delivered again with the same keys
        conn.execute(sync_records.update().where(sync_records.c.exam_number.in_(good[:2])).values(status="pending"))
    worker.drain()
    stats = ems.stats()
    assert stats["writes"]["destination"] == {"created": 12, "updated": 0, "unchanged": 0}
    assert stats["replays"] == 2
