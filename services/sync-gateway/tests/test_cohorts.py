"""Every record the EMS is sent says which cohort (毕业年份) and level (学历层次) the graduate belongs to,
as the roster has them now: a re-import that moves a graduate to another year or level sends the
mirrored records again, reconciliation repairs a year changed in the EMS, and ``qx-sync fill-cohorts``
gives the records mirrored before the ledger kept them (migration 0009) their year and level."""

from __future__ import annotations

import dataclasses

import pytest
import requests
from sqlalchemy import select, update

from quxiang.sync_gateway.adapters.tables import sync_graduates, sync_records
from quxiang.sync_gateway.entrypoints.cli import _fill_cohorts
from quxiang.sync_gateway.service.cohorts import fill_cohorts
from quxiang.sync_gateway.service.reconcile import recheck_renamed, reconcile

from .events import A, agreement, new_id, registration, roster
from .snapshot_pages import Page

pytestmark = pytest.mark.timeout(120)


def slots(gateway, exam):
    with gateway.engine.connect() as conn:
        return {r.kind: r for r in conn.execute(select(sync_records).where(sync_records.c.exam_number == exam))}


def cohort(record):
    return record["graduation_year"], record["education_level"]


def test_mirrored_records_carry_the_graduates_year_and_level(world, gateway, worker, ems):
    exam = "26440198001"
    world.deliver(roster(exam, "李同学", 1, year=2027, level="11"),
                  agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam), registration("archive", new_id(), 3, exam))
    worker.drain()
    held = ems.graduate(exam)
    # the events said 2026 本科 (31); the roster, heard first, says 2027 硕士 (11): the roster's hold
    assert cohort(held["destination"]) == cohort(held["archive"]) == (2027, "11")
    assert {kind: (row.graduation_year, row.education_level) for kind, row in slots(gateway, exam).items()} == {
        "destination": (2027, "11"), "archive": (2027, "11")}


def test_a_record_mirrored_before_its_roster_event_keeps_the_events_cohort(world, worker, ems):
    exam = "26440198002"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    assert cohort(ems.graduate(exam)["destination"]) == (2026, "31")


def test_a_graduate_moved_to_another_year_goes_to_the_ems_again(world, gateway, worker, ems):
    exam = "26440198003"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                  registration("archive", new_id(), 3, exam), registration("hukou", new_id(), 3, exam))
    worker.drain()
    before = slots(gateway, exam)

    world.deliver(roster(exam, "李同学", 2, year=2027))  # the school confirmed the year change
    after = slots(gateway, exam)
    destination = after["destination"]
    assert (destination.status, destination.version, destination.graduation_year) == ("pending", 2, 2027)
    assert destination.key_round == before["destination"].key_round + 1
    # archive and hukou stay editable in the EMS: compared with it first, then sent
    assert [(after[k].status, after[k].graduation_year, after[k].recheck_after is not None)
            for k in ("archive", "hukou")] == [("synced", 2027, True)] * 2
    assert worker.drain().synced == 1
    assert cohort(ems.graduate(exam)["destination"]) == (2027, "31")
    report = recheck_renamed(gateway)
    assert (report.checked, report.changed, report.resynced) == (2, 2, 2)
    worker.drain()
    held = ems.graduate(exam)
    assert cohort(held["archive"]) == cohort(held["hukou"]) == (2027, "31")

    world.deliver(roster(exam, "李同学", 3, level="11"))  # then the level: 2026 again, 硕士
    assert slots(gateway, exam)["destination"].version == 3
    worker.drain()
    assert cohort(ems.graduate(exam)["destination"]) == (2026, "11")


def test_a_stale_or_repeated_roster_event_changes_no_year(world, gateway, worker, ems):
    exam = "26440198004"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                  roster(exam, "李同学", 3, year=2027))
    worker.drain()
    world.deliver(roster(exam, "李同学", 2, year=2025), roster(exam, "李同学", 3, year=2027))
    destination = slots(gateway, exam)["destination"]
    assert (destination.status, destination.graduation_year) == ("synced", 2027)
    assert cohort(ems.graduate(exam)["destination"]) == (2027, "31")


def test_reconciliation_repairs_a_year_changed_in_the_ems(world, gateway, worker, ems):
    exam = "26440198005"
    world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    ems.tamper(exam, "destination", {"graduation_year": 2025})
    report = reconcile(gateway)
    assert (report.changed, report.resynced) == (1, 1)
    worker.drain()
    assert cohort(ems.graduate(exam)["destination"]) == (2026, "31")
    assert reconcile(gateway).drift == 0


class Roster:
    """records' ``GET /snapshots/graduates`` as pages of rows (the HTTP boundary, not a database)."""

    def __init__(self, rows, page=2, fail=False):
        self.rows, self.page, self.fail, self.asked = rows, page, fail, []

    def get(self, url, params=None, headers=None, timeout=None):
        self.asked.append((url, dict(params or {})))
        if self.fail:
            raise requests.ConnectionError("records is down")
        start = int(params.get("cursor") or 0)
        items = self.rows[start:start + self.page]
        following = start + self.page
        return Page({"items": items, "next_cursor": str(following) if following < len(self.rows) else None})


def _as_before_0009(gateway, *exams):
    """The ledger as it was before migration 0009: neither year nor level anywhere."""
    with gateway.engine.begin() as conn:
        for table in (sync_records, sync_graduates):
            conn.execute(update(table).where(table.c.exam_number.in_(exams))
                         .values(graduation_year=None, education_level=None))


def test_fill_cohorts_gives_old_records_their_year_and_level(world, gateway, worker, ems):
    old, edited, current = "26440198006", "26440198007", "26440198008"
    for exam in (old, edited, current):
        world.deliver(roster(exam, "李同学", 1), agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam),
                      registration("archive", new_id(), 3, exam))
    worker.drain()
    _as_before_0009(gateway, old, edited)
    for exam in (old, edited):
        for kind in ("destination", "archive"):
            ems.tamper(exam, kind, {"graduation_year": None, "education_level": None})
    assert ems.http.patch(f"{ems.url}/graduates/{edited}/archive", json={"address": "深圳市南山区科技园1号"},
                          headers={"Idempotency-Key": new_id()}).status_code == 200
    assert reconcile(gateway, fix=False).drift == 0  # before the fill the ledger and the EMS agree

    roster_rows = [{"id": f"g-{exam}", "school_code": "10558", "department_id": None, "education_level": "31",
                    "graduation_year": 2026, "version": 1, "withdrawn": False} for exam in (old, edited, current)]
    roster_rows.append({"id": "g-unknown", "school_code": "10558", "department_id": None, "education_level": "31",
                        "graduation_year": 2026, "version": 1, "withdrawn": False})  # never mirrored
    http = Roster(roster_rows)
    report = fill_cohorts(gateway, "http://records.test/", "token", http=http)
    assert (report.read, report.filled, report.resent) == (4, 2, 2)
    assert [url for url, _ in http.asked] == ["http://records.test/snapshots/graduates"] * 2  # two pages
    assert slots(gateway, old)["destination"].version == 2
    assert slots(gateway, current)["destination"].version == 1  # had its year: left alone
    worker.drain()
    recheck_renamed(gateway)
    worker.drain()
    assert cohort(ems.graduate(old)["destination"]) == cohort(ems.graduate(old)["archive"]) == (2026, "31")
    edited_archive = ems.graduate(edited)["archive"]
    assert edited_archive["address"] == "深圳市南山区科技园1号"  # an EMS user's edit is not overwritten
    assert cohort(ems.graduate(edited)["destination"]) == (2026, "31")

    again = fill_cohorts(gateway, "http://records.test", "token", http=Roster(roster_rows))
    assert (again.read, again.filled, again.resent) == (4, 0, 0)


def test_fill_cohorts_says_when_it_cannot_read_the_roster(gateway, capsys, monkeypatch):
    from quxiang.sync_gateway.service import cohorts

    def unreachable(gateway, records_url, token):
        return fill_cohorts(gateway, records_url, token, http=Roster([], fail=True))

    monkeypatch.setattr(cohorts, "fill_cohorts", unreachable)
    assert _fill_cohorts(gateway, "http://records.test", "token") == 2
    assert "cannot read records' roster" in capsys.readouterr().err


def _named(event, name):
    return dataclasses.replace(event, data={**event.data, "name": name})


def test_fill_cohorts_keeps_a_newer_name_than_the_placeholders(world, gateway, worker, ems):
    """A graduate heard of only through mirrored events (no roster event yet): the placeholder holds
    the first event's name, a later event's newer name is on the ledger row; the fill gives the
    year and level and leaves the name alone."""
    exam = "26440198009"
    agreement_id = new_id()
    world.deliver(agreement(A.AGREEMENT_APPROVED, agreement_id, 7, exam))
    world.deliver(_named(agreement(A.AGREEMENT_TERMINATED, agreement_id, 8, exam), "李新名"))
    worker.drain()
    assert ems.graduate(exam)["destination"]["name"] == "李新名"
    _as_before_0009(gateway, exam)
    rows = [{"id": f"g-{exam}", "school_code": "10558", "department_id": None, "education_level": "31",
             "graduation_year": 2026, "version": 1, "withdrawn": False}]
    assert fill_cohorts(gateway, "http://records.test", "token", http=Roster(rows)).filled == 1
    worker.drain()
    destination = slots(gateway, exam)["destination"]
    assert (destination.name, destination.graduation_year) == ("李新名", 2026)
    held = ems.graduate(exam)["destination"]
    assert (held["name"], held["graduation_year"], held["status"]) == ("李新名", 2026, "terminated")


def test_a_write_under_way_at_the_upgrade_is_delivered_not_parked(world, gateway, worker, ems):
    """The release before sent a record and lost the answer; the row is still pending on that key.
    After the upgrade the row has no year or level yet: its body is the one sent before, so the EMS
    answers from its memory of the key rather than refusing a key reused with another body."""
    exam = "26440198010"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    _as_before_0009(gateway, exam)
    row = slots(gateway, exam)["destination"]
    before_upgrade = {**row.record, "school_code": row.school_code, "name": row.name, "platform_version": row.version}
    landed = ems.http.put(f"{ems.url}/graduates/{exam}/destination", json=before_upgrade,
                          headers={"Idempotency-Key": row.event_id})
    assert landed.status_code == 200, landed.text
    report = worker.drain()
    assert report.synced == 1 and slots(gateway, exam)["destination"].status == "synced"
    assert ems.stats()["replays"] == 1
