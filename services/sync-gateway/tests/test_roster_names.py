"""A graduate's name corrected by a roster re-import reaches the EMS: records already mirrored go
again (a new version under a new key), records mirrored later carry the roster's name whatever name
the event brought, stale and repeated roster events change nothing, a department change moves the
ledger's scope without writing to the EMS, and reconciliation repairs a name changed in the EMS."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.tables import sync_graduates, sync_records
from quxiang.sync_gateway.domain.records import desired_record
from quxiang.sync_gateway.service.reconcile import recheck_renamed, reconcile

from .events import A, agreement, new_id, registration, roster

pytestmark = pytest.mark.timeout(120)


def slots(gateway, exam):
    with gateway.engine.connect() as conn:
        return {r.kind: r for r in conn.execute(select(sync_records).where(sync_records.c.exam_number == exam))}


def directory(gateway, exam):
    with gateway.engine.connect() as conn:
        return conn.execute(select(sync_graduates).where(sync_graduates.c.exam_number == exam)).first()


def test_a_corrected_name_reaches_the_records_already_mirrored(world, gateway, worker, ems):
    exam = "26440197001"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                  registration("archive", new_id(), 3, exam))
    worker.drain()
    before = slots(gateway, exam)
    assert {k: (r.status, r.version) for k, r in before.items()} == {"destination": ("synced", 1),
                                                                       "archive": ("synced", 1)}
    assert ems.graduate(exam)["destination"]["name"] == "李同学"

    world.deliver(roster(exam, "李同學", 2))  # the school corrected a character and imported again
    after = slots(gateway, exam)
    destination, archive = after["destination"], after["archive"]
    assert (destination.status, destination.version, destination.name) == ("pending", 2, "李同學")
    assert destination.key_round == before["destination"].key_round + 1
    assert destination.record == before["destination"].record
    # archive records stay editable in the EMS: the ledger's name, the EMS's at reconciliation
    assert (archive.status, archive.version, archive.name) == ("synced", 1, "李同學")
    assert worker.drain().synced == 1
    held = ems.graduate(exam)
    assert (held["destination"]["name"], held["destination"]["platform_version"]) == ("李同學", 2)
    assert ems.writes("destination")["updated"] == 1
    assert ems.stats()["replays"] == 0  # a new key: the EMS wrote, it did not answer from memory
    assert held["archive"]["name"] == "李同学"
    report = reconcile(gateway)
    assert (report.changed, report.resynced) == (1, 1)  # the archive, still the platform's in the EMS
    worker.drain()
    assert ems.graduate(exam)["archive"]["name"] == "李同學"


def test_a_name_correction_keeps_an_archive_edited_in_the_ems(world, gateway, worker, ems):
    """Archive records stay editable in the EMS and reconciliation keeps such edits; a name correction
    is not a newer approval and does not send the ledger's old address over the EMS user's."""
    exam = "26440197102"
    world.deliver(roster(exam, "李同学", 1), registration("archive", new_id(), 3, exam))
    worker.drain()
    answer = ems.http.patch(f"{ems.url}/graduates/{exam}/archive", json={"address": "深圳市南山区科技园1号"},
                            headers={"Idempotency-Key": new_id()})
    assert answer.status_code == 200, answer.text
    world.deliver(roster(exam, "李同學", 2))
    worker.drain()
    assert reconcile(gateway).kept_ems_edits == 1
    worker.drain()
    assert ems.graduate(exam)["archive"]["address"] == "深圳市南山区科技园1号"


def test_a_renamed_graduates_synced_archive_is_rechecked_within_seconds(world, gateway, worker, ems):
    """A synced archive (and hukou) record gets the new name from the recheck that follows the
    rename, not an hour later; one edited in the EMS is kept; an EMS that cannot answer leaves the
    row due for the next round."""
    exam, edited = "26440197112", "26440197113"
    world.deliver(roster(exam, "李同学", 1), registration("archive", new_id(), 3, exam),
                  registration("hukou", new_id(), 3, exam))
    world.deliver(roster(edited, "李同学", 1), registration("archive", new_id(), 3, edited))
    worker.drain()
    assert ems.http.patch(f"{ems.url}/graduates/{edited}/archive", json={"address": "深圳市南山区科技园1号"},
                          headers={"Idempotency-Key": new_id()}).status_code == 200
    assert recheck_renamed(gateway).checked == 0  # nothing renamed: nothing asked
    world.deliver(roster(exam, "李同學", 2), roster(edited, "李同學", 2))
    ems.faults(down=True)
    down = recheck_renamed(gateway)
    assert down.errors and down.checked == 0
    ems.clear_faults()
    report = recheck_renamed(gateway)
    assert (report.checked, report.changed, report.kept_ems_edits, report.resynced) == (3, 2, 1, 2)
    worker.drain()
    held = ems.graduate(exam)
    assert held["archive"]["name"] == held["hukou"]["name"] == "李同學"
    assert ems.graduate(edited)["archive"]["address"] == "深圳市南山区科技园1号"
    assert recheck_renamed(gateway).checked == 0  # done: nothing due any more


def test_a_placeholder_does_not_pin_a_stale_name(world, gateway, worker, ems):
    """A graduate registered (and corrected) before sync-gateway heard the roster: signing's event
    may carry the old name, records' the corrected one; the placeholder made from the first does not
    overrule the second."""
    exam = "26440197101"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))  # 李同学
    world.deliver(_named(registration("archive", new_id(), 3, exam), "李同學"))
    worker.drain()
    assert slots(gateway, exam)["archive"].name == "李同學"
    assert ems.graduate(exam)["archive"]["name"] == "李同學"


def _named(event, name):
    return dataclasses.replace(event, data={**event.data, "name": name})


def test_stale_and_repeated_roster_events_change_nothing(world, gateway, worker, ems):
    exam = "26440197002"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    world.deliver(roster(exam, "王同学", 3))
    worker.drain()
    synced = slots(gateway, exam)["destination"]
    assert (synced.name, synced.version, synced.status) == ("王同学", 2, "synced")
    world.deliver(roster(exam, "张同学", 2), roster(exam, "王同学", 3), roster(exam, "李同学", 1))
    row = slots(gateway, exam)["destination"]
    assert (row.name, row.version, row.status, row.updated_at) == ("王同学", 2, "synced", synced.updated_at)
    assert directory(gateway, exam).roster_sequence == 3
    assert ems.graduate(exam)["destination"]["name"] == "王同学"


def test_a_record_mirrored_after_the_correction_carries_the_rosters_name(world, gateway):
    """signing's event may still carry the old name (its copy of the roster catches up on its own
    queue): the ledger takes the name the roster last gave."""
    exam = "26440197003"
    world.deliver(roster(exam, "李同学", 1), roster(exam, "李同學", 2))
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))  # built with "李同学"
    assert slots(gateway, exam)["destination"].name == "李同學"


def test_a_records_event_ahead_of_the_roster_copy_keeps_its_name(world, gateway, worker, ems):
    """records renamed the graduate (roster version 2) before this copy heard of it: its archive
    approval names the graduate as of version 2, and that name is the one mirrored, not the copy's
    stale one (which nothing would have corrected after: the record was synced)."""
    exam = "26440197013"
    world.deliver(roster(exam, "李同学", 1))
    event = registration("archive", new_id(), 3, exam)
    renamed = {**event.data, "name": "李同學", "graduate_version": 2}
    world.deliver(dataclasses.replace(event, data=renamed))
    worker.drain()
    assert slots(gateway, exam)["archive"].name == "李同學"
    world.deliver(roster(exam, "李同學", 2))
    worker.drain()
    assert ems.graduate(exam)["archive"]["name"] == "李同學"
    # an event naming an older version than the copy's still takes the copy's (newer) name
    world.deliver(roster(exam, "李同学三", 3))
    older = registration("hukou", new_id(), 3, exam)
    world.deliver(dataclasses.replace(older, data={**older.data, "name": "李同學", "graduate_version": 2}))
    assert slots(gateway, exam)["hukou"].name == "李同学三"


def test_the_first_roster_event_after_a_mirrored_record(world, gateway):
    """A record mirrored before sync-gateway heard the roster holds the event's name as a placeholder:
    the same name from the roster changes nothing, another one is sent again."""
    same, other = "26440197004", "26440197005"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, same),
                  agreement(A.AGREEMENT_APPROVED, new_id(), 7, other))
    assert directory(gateway, same).roster_sequence == 0
    with gateway.engine.begin() as conn:
        conn.execute(sync_records.update().values(status="synced"))
    world.deliver(roster(same, "李同学", 1), roster(other, "李同學", 1))
    assert (slots(gateway, same)["destination"].status, directory(gateway, same).roster_sequence) == ("synced", 1)
    moved = slots(gateway, other)["destination"]
    assert (moved.status, moved.version, moved.name) == ("pending", 2, "李同學")


def test_a_department_change_moves_the_scope_without_writing_to_the_ems(world, gateway, worker, ems):
    exam = "26440197006"
    world.deliver(roster(exam, "李同学", 1, department_id="d-1"), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    assert slots(gateway, exam)["destination"].department_id == "d-1"  # the roster's, not the event's None
    world.deliver(roster(exam, "李同学", 2, department_id="d-2"))
    row = slots(gateway, exam)["destination"]
    assert (row.department_id, row.status, row.version) == ("d-2", "synced", 1)
    assert worker.drain().synced == 0


def test_a_failed_record_goes_again_with_the_new_name(world, gateway):
    exam = "26440197007"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    with gateway.engine.begin() as conn:
        conn.execute(sync_records.update().values(status="failed", attempts=4, last_error="422 invalid",
                                                  failed_at=datetime.now(UTC)))
    world.deliver(roster(exam, "李同學", 2))
    row = slots(gateway, exam)["destination"]
    assert (row.status, row.attempts, row.last_error, row.failed_at, row.name) == ("pending", 0, None, None, "李同學")


def test_reconciliation_repairs_a_name_changed_in_the_ems(world, gateway, worker, ems):
    exam = "26440197008"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    ems.tamper(exam, "destination", {"name": "别人"})
    report = reconcile(gateway)
    assert (report.changed, report.resynced) == (1, 1)
    worker.drain()
    assert ems.graduate(exam)["destination"]["name"] == "李同学"
    assert reconcile(gateway).drift == 0


def _desired(exam, name):
    event = agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam)
    data = {**event.data, "name": name}
    return desired_record(event.type, event.event_id, event.subject, event.sequence, event.occurred_at, data)


def _correct(gateway, exam, name, sequence):
    entry = ledger.RosterEntry(graduate_id=f"g-{exam}", exam_number=exam, school_code="10558", name=name,
                               department_id=None, sequence=sequence)
    with gateway.engine.begin() as conn:
        ledger.record_graduate(conn, entry, datetime.now(UTC))


def _in_thread(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    time.sleep(0.5)
    return thread


@pytest.mark.parametrize("first_heard", [False, True])
def test_a_correction_during_a_mirrored_event_is_not_lost(world, gateway, base_config, first_heard):
    """The consumers of the roster and of the mirrored events run side by side: a correction
    committed while an approval's transaction is open waits for it, then corrects its row; either
    with the graduate already known or heard of first in that transaction."""
    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    exam = f"2644019701{int(first_heard)}"
    if not first_heard:
        world.deliver(roster(exam, "李同学", 1))
    with gateway.engine.connect() as conn:
        ledger.apply(conn, _desired(exam, "李同学"), datetime.now(UTC))
        correction = _in_thread(lambda: _correct(gateway, exam, "李同學", 2))
        assert correction.is_alive()  # held by the open approval
        conn.commit()
    correction.join(10)
    row = slots(gateway, exam)["destination"]
    assert (row.name, row.version, row.status) == ("李同學", 2, "pending")


def test_a_mirrored_event_during_a_correction_reads_the_new_name(world, gateway, base_config):
    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    exam = "26440197020"
    world.deliver(roster(exam, "李同学", 1))
    entry = ledger.RosterEntry(graduate_id=f"g-{exam}", exam_number=exam, school_code="10558", name="李同學",
                               department_id=None, sequence=2)
    with gateway.engine.connect() as conn:
        ledger.record_graduate(conn, entry, datetime.now(UTC))

        def approve():
            with gateway.engine.begin() as other:
                ledger.apply(other, _desired(exam, "李同学"), datetime.now(UTC))

        approval = _in_thread(approve)
        assert approval.is_alive()  # waits for the correction's lock
        conn.commit()
    approval.join(10)
    row = slots(gateway, exam)["destination"]
    assert (row.name, row.version) == ("李同學", 1)



def test_corrections_and_the_worker_side_by_side(world, gateway, worker, ems, base_config):
    """Roster corrections while the worker settles rounds of the same rows: both lock a graduate's rows
    in id order (they deadlocked when each took them in its own order), and the last name lands."""
    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    from sqlalchemy.exc import OperationalError

    exams = [f"264401972{i:02d}" for i in range(30)]
    for exam in exams:
        world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                      registration("archive", new_id(), 3, exam), registration("hukou", new_id(), 3, exam))
    worker.drain()
    stop, errors = threading.Event(), []

    def work():
        while not stop.is_set():
            try:
                worker.deliver_due()
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(("worker", type(exc).__name__, str(exc)[:200]))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    version = 1
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        version += 1
        for exam in exams:
            try:
                world.deliver(roster(exam, f"名{version}", version))
            except OperationalError as exc:
                errors.append(("correction", type(exc.orig).__name__, str(exc)[:200]))
    stop.set()
    thread.join(30)
    assert not errors, errors[:5]
    worker.drain()
    for exam in exams:
        assert ems.graduate(exam)["destination"]["name"] == f"名{version}"
    with gateway.engine.connect() as conn:
        assert {r.name for r in conn.execute(select(sync_records.c.name))} == {f"名{version}"}


def test_settle_locks_a_rounds_rows_in_id_order(world, gateway, base_config):
    """Whatever order a round's results come in, settling takes its rows' locks lowest id first, as a
    correction does: while it waits for the lowest, it holds none of the others."""
    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    from sqlalchemy import text

    exam = "26440197300"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                  registration("archive", new_id(), 3, exam), registration("hukou", new_id(), 3, exam))
    claimed = sorted(ledger.claim(gateway.engine, 10, 60), key=lambda c: -c.id)  # highest id first
    lowest, highest = claimed[-1].id, claimed[0].id
    now = datetime.now(UTC)
    settled = []
    with gateway.engine.connect() as holder:
        holder.execute(text("SELECT id FROM sync_records WHERE id = :id FOR UPDATE"), {"id": lowest})
        thread = _in_thread(lambda: settled.append(ledger.settle(
            gateway.engine, [ledger.Settlement(c, "synced", now, write="created", lag_ms=1) for c in claimed])))
        assert thread.is_alive()  # waits for the lowest row
        with gateway.engine.connect() as probe:
            probe.execute(text("SET lock_timeout = '200ms'"))
            probe.execute(text("SELECT id FROM sync_records WHERE id = :id FOR UPDATE"), {"id": highest})
            probe.rollback()
        holder.rollback()
    thread.join(10)
    assert settled == [3]


def test_a_correction_locks_the_graduates_rows_in_id_order(world, gateway, base_config):
    if base_config.database_url.startswith("sqlite"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    from sqlalchemy import text

    exam = "26440197301"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                  registration("archive", new_id(), 3, exam), registration("hukou", new_id(), 3, exam))
    ids = sorted(row.id for row in slots(gateway, exam).values())
    with gateway.engine.connect() as holder:
        holder.execute(text("SELECT id FROM sync_records WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        thread = _in_thread(lambda: _correct(gateway, exam, "李同學", 2))
        assert thread.is_alive()  # waits for the lowest row (the destination, renamed last)
        with gateway.engine.connect() as probe:
            probe.execute(text("SET lock_timeout = '200ms'"))
            probe.execute(text("SELECT id FROM sync_records WHERE id = :id FOR UPDATE"), {"id": ids[-1]})
            probe.rollback()
        holder.rollback()
    thread.join(10)
    assert {row.name for row in slots(gateway, exam).values()} == {"李同學"}
