"""The ledger kept by the consumer handlers: one slot per (考生号, kind), the newest record by the
ordering rule whatever order the events arrive in, duplicates harmless."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from quxiang.sync_gateway.adapters.tables import sync_records

from .events import A, D, agreement, at, destination, new_id, registration


def slot(gateway, exam_number, kind="destination"):
    with gateway.engine.connect() as conn:
        return conn.execute(select(sync_records).where(sync_records.c.exam_number == exam_number,
                                                       sync_records.c.kind == kind)).first()


def test_termination_stays_whatever_the_order(world, gateway):
    for n, order in enumerate(itertools.permutations(range(2))):
        exam, a = f"2644019900{n}", new_id()
        events = [agreement(A.AGREEMENT_APPROVED, a, 7, exam, occurred_at=at(0)),
                  agreement(A.AGREEMENT_TERMINATED, a, 9, exam, occurred_at=at(5))]
        world.deliver(*(events[i] for i in order))
        row = slot(gateway, exam)
        assert row.record["status"] == "terminated" and row.sequence == 9 and row.status == "pending"
        assert row.event_id == events[1].event_id


def test_older_aggregates_end_never_clears_a_newer_approval(world, gateway):
    """A approved, A terminated, B approved: every arrival order leaves B in force."""
    for n, order in enumerate(itertools.permutations(range(3))):
        exam, a, b = f"2644019901{n}", new_id(), new_id()
        events = [agreement(A.AGREEMENT_APPROVED, a, 7, exam, occurred_at=at(0), unit="甲公司"),
                  agreement(A.AGREEMENT_TERMINATED, a, 9, exam, occurred_at=at(5), unit="甲公司"),
                  agreement(A.AGREEMENT_APPROVED, b, 6, exam, occurred_at=at(10), unit="乙公司")]
        world.deliver(*(events[i] for i in order))
        row = slot(gateway, exam)
        assert (row.aggregate_id, row.record["unit_name"], row.record["status"]) == (b, "乙公司", "in_force"), order


def test_voided_registration_then_agreement_and_back(world, gateway):
    exam, r, a = "26440199020", new_id(), new_id()
    world.deliver(agreement(A.AGREEMENT_APPROVED, a, 5, exam, occurred_at=at(20)),
                  destination(D.DESTINATION_VOIDED, r, 6, exam, occurred_at=at(10)),
                  destination(D.DESTINATION_APPROVED, r, 4, exam, occurred_at=at(0)))
    assert slot(gateway, exam).aggregate_id == a
    world.deliver(agreement(A.AGREEMENT_VOIDED, a, 8, exam, occurred_at=at(30)))
    row = slot(gateway, exam)
    assert row.aggregate_id == a and row.record["status"] == "voided"


def test_duplicates_and_stale_versions_change_nothing(world, gateway):
    exam, a = "26440199030", new_id()
    approved = agreement(A.AGREEMENT_APPROVED, a, 7, exam, occurred_at=at(0))
    world.deliver(approved)
    before = slot(gateway, exam)
    world.deliver(approved, agreement(A.AGREEMENT_APPROVED, a, 5, exam, occurred_at=at(-1)))
    after = slot(gateway, exam)
    assert (after.version, after.event_id, after.updated_at) == (before.version, before.event_id, before.updated_at)


def test_each_kind_has_its_slot(world, gateway):
    exam = "26440199040"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam), registration("archive", new_id(), 3, exam),
                  registration("hukou", new_id(), 3, exam))
    assert {slot(gateway, exam, k).kind for k in ("destination", "archive", "hukou")} == {"destination", "archive",
                                                                                         "hukou"}
    newer = registration("archive", slot(gateway, exam, "archive").aggregate_id, 5, exam, address="深圳市南山区")
    world.deliver(newer)
    row = slot(gateway, exam, "archive")
    assert row.record["address"] == "深圳市南山区" and row.version == 2


def test_claim_and_settle_a_round(world, gateway):
    """Claimed rows carry the round's lease; settling writes a synced row, keeps a row whose slot got a
    newer version meanwhile pending (released, the sent version noted), and leaves a lost lease alone."""
    from datetime import UTC, datetime

    from quxiang.sync_gateway.adapters import ledger

    aggregates = {exam: new_id() for exam in ("26440198001", "26440198002", "26440198003")}
    world.deliver(*(agreement(A.AGREEMENT_APPROVED, agg, 7, exam) for exam, agg in aggregates.items()))
    claimed = ledger.claim(gateway.engine, 10, 60)
    assert sorted(c.exam_number for c in claimed) == sorted(aggregates) and len({c.lease for c in claimed}) == 1
    assert ledger.claim(gateway.engine, 10, 60) == []  # leased: not claimed twice
    world.deliver(agreement(A.AGREEMENT_TERMINATED, aggregates["26440198002"], 8, "26440198002"))
    with gateway.engine.begin() as conn:
        conn.execute(sync_records.update().where(sync_records.c.exam_number == "26440198003").values(lease="other"))
    now = datetime.now(UTC)
    written = ledger.settle(gateway.engine, [ledger.Settlement(c, "synced", now, write="created", lag_ms=5)
                                             for c in claimed])
    assert written == 2
    first, second, third = (slot(gateway, exam) for exam in sorted(aggregates))
    assert (first.status, first.synced_version, first.lease, first.lag_ms) == ("synced", 1, None, 5)
    assert (second.status, second.version, second.synced_version, second.lease) == ("pending", 2, 1, None)
    assert (third.status, third.lease, third.synced_at) == ("pending", "other", None)


def test_settling_retries_and_failures(world, gateway):
    """A retry goes back to pending with its next time and one more attempt, a park becomes failed with
    its time; a row whose slot got a newer version meanwhile is only released (the new version's
    attempts untouched); a lost lease is left alone. A claim then takes only what is due."""
    from datetime import UTC, datetime, timedelta

    from quxiang.sync_gateway.adapters import ledger

    exams = ("26440198011", "26440198012", "26440198013", "26440198014")
    aggregates = {exam: new_id() for exam in exams}
    world.deliver(*(agreement(A.AGREEMENT_APPROVED, agg, 7, exam) for exam, agg in aggregates.items()))
    claimed = {c.exam_number: c for c in ledger.claim(gateway.engine, 10, 60)}
    world.deliver(agreement(A.AGREEMENT_TERMINATED, aggregates[exams[2]], 8, exams[2]))
    with gateway.engine.begin() as conn:
        conn.execute(sync_records.update().where(sync_records.c.exam_number == exams[3]).values(lease="other"))
    now = datetime.now(UTC)
    later = now + timedelta(seconds=30)
    written = ledger.settle(gateway.engine, [
        ledger.Settlement(claimed[exams[0]], "pending", now, error="503", next_attempt_at=later),
        ledger.Settlement(claimed[exams[1]], "failed", now, error="422 refused"),
        ledger.Settlement(claimed[exams[2]], "pending", now, error="503", next_attempt_at=later),
        ledger.Settlement(claimed[exams[3]], "pending", now, error="503", next_attempt_at=later)])
    assert written == 3
    retry, parked, newer, lost = (slot(gateway, exam) for exam in exams)
    assert (retry.status, retry.attempts, retry.last_error, retry.lease, retry.failed_at) == ("pending", 1, "503", None,
                                                                                              None)
    assert ledger.utc(retry.next_attempt_at) == later
    assert (parked.status, parked.attempts, parked.last_error, parked.lease) == ("failed", 1, "422 refused", None)
    assert ledger.utc(parked.failed_at) == now
    assert (newer.status, newer.version, newer.attempts, newer.last_error, newer.lease) == ("pending", 2, 0, None, None)
    assert (lost.lease, lost.attempts, lost.last_error) == ("other", 0, None)
    assert [c.exam_number for c in ledger.claim(gateway.engine, 10, 60, now + timedelta(seconds=1))] == [exams[2]]
    assert {c.exam_number for c in ledger.claim(gateway.engine, 10, 60, later)} == {exams[0]}


def test_a_round_all_synced_is_written_whole(world, gateway):
    """The usual round: every claimed row still leased at the version sent, all written synced and
    released, and counted."""
    from datetime import UTC, datetime

    from quxiang.sync_gateway.adapters import ledger

    exams = ("26440198021", "26440198022", "26440198023")
    world.deliver(*(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam) for exam in exams))
    claimed = ledger.claim(gateway.engine, 10, 60)
    now = datetime.now(UTC)
    assert ledger.settle(gateway.engine, [ledger.Settlement(c, "synced", now, write="created", lag_ms=3)
                                          for c in claimed]) == 3
    for exam in exams:
        row = slot(gateway, exam)
        assert (row.status, row.synced_version, row.lease, row.leased_until, row.attempts, row.lag_ms) == (
            "synced", 1, None, None, 1, 3)
    assert ledger.claim(gateway.engine, 10, 60) == []


def test_a_first_insert_that_loses_its_race_still_applies_its_record(world, gateway, base_config):
    """Two consumers take the first two events of one slot at once: the second's insert waits for the
    first's and finds the row there; its record (here the newer: the termination) must still be
    applied over it, not reported as written."""
    import threading
    import time
    from datetime import UTC, datetime

    from quxiang.sync_gateway.adapters import ledger
    from quxiang.sync_gateway.domain.records import desired_record

    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    exam, a = "26440199050", new_id()

    def desired(event):
        return desired_record(event.type, event.event_id, event.subject, event.sequence, event.occurred_at,
                              event.data)

    approved = desired(agreement(A.AGREEMENT_APPROVED, a, 7, exam, occurred_at=at(0)))
    terminated = desired(agreement(A.AGREEMENT_TERMINATED, a, 9, exam, occurred_at=at(5)))
    applied = []

    def second():
        with gateway.engine.begin() as conn:
            applied.append(ledger.apply(conn, terminated, datetime.now(UTC)))

    with gateway.engine.connect() as conn:
        assert ledger.apply(conn, approved, datetime.now(UTC))
        thread = threading.Thread(target=second, daemon=True)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # its insert waits for this transaction
        conn.commit()
    thread.join(10)
    row = slot(gateway, exam)
    assert applied == [True]
    assert (row.record["status"], row.sequence, row.version) == ("terminated", 9, 2)
