"""``qx-records after-restore``: after a restore from an older dump, every roster and registration
version is moved past what was announced since the dump (a confirmation keeps matching its roster
version), every 转递编号 counter skips ahead (one per (school, year) with graduates but no counter yet
starts past the gap), and no graduate is withdrawn until signing's records are fetched again."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from quxiang.common.contracts.records import GRADUATE_UPDATED
from quxiang.records.adapters.tables import graduates, transfer_counters
from quxiang.records.entrypoints.cli import after_restore

from .roster_data import csv_file, row, upload
from .test_registrations import Scenario


def run(service, fence=1000, gap=50):
    return after_restore(argparse.Namespace(version_fence=fence, serial_gap=gap), service)


def test_after_a_restore_versions_and_numbers_move_past_the_dump(client, world, service, capsys):
    s = Scenario(client, world)
    s.open(department_review=False)
    s.submit(s.g1)
    assert s.review(s.g1, s.school()).get_json()["transfer_number"] == "2026105580000001"
    assert client.put(f"/graduates/{s.g2}/confirmation", headers=s.graduate(s.g2),
                      json={"status": "confirmed"}).status_code == 200
    assert upload(client, world.school_user(), csv_file([row(4, 毕业年份="2027")])).status_code == 201

    assert run(service) == 0
    out = capsys.readouterr().out
    assert "transfer_counters: 1 moved 50 ahead, 1 started at 50" in out and "backfill-signing-records" in out
    with service.engine.connect() as conn:
        assert conn.execute(select(graduates.c.version).where(graduates.c.id == s.g1)).scalar() == 1001
        assert dict(conn.execute(select(transfer_counters.c.year, transfer_counters.c.last)).all()) == {
            2026: 51, 2027: 50}
    # the roster's next change is announced past the dump's versions, the confirmation still holds
    detail = client.get(f"/graduates/{s.g2}", headers=s.graduate(s.g2)).get_json()
    assert detail["confirmation"]["status"] == "confirmed"
    renaming = csv_file([row(1, 姓名="改名"), row(2), row(3, 院系="02")])
    assert upload(client, world.school_user(), renaming).status_code == 201
    [renamed] = [e for e in world.events(GRADUATE_UPDATED) if e["subject"] == s.g1]
    assert renamed["sequence"] == 1002
    # the next 转递编号 is never one handed out since the dump
    s.submit(s.g2)
    assert s.review(s.g2, s.school()).get_json()["transfer_number"] == "2026105580000052"
    # no withdrawal until signing's records are known again
    refused = client.post(f"/schools/10558/graduates/{s.g3}/withdrawal", headers=world.school_user(),
                          json={"reason": "退学"})
    assert refused.status_code == 503 and refused.get_json()["code"] == "signing_records_pending"


def test_a_gap_past_the_numbers_format_is_refused_and_changes_nothing(client, world, service, capsys):
    s = Scenario(client, world)
    assert run(service, gap=10_000_000) == 2
    assert "passes the format's 9999999" in capsys.readouterr().err
    with service.engine.connect() as conn:
        assert conn.execute(select(graduates.c.version).where(graduates.c.id == s.g1)).scalar() == 1


def test_the_command_line_takes_the_fence_and_the_gap(client, world, service, config, capsys):
    from quxiang.records.entrypoints.cli import main
    s = Scenario(client, world)
    assert main(["after-restore", "--version-fence", "7", "--serial-gap", "3"], config=config) == 0
    assert "transfer_counters: 0 moved 3 ahead, 1 started at 3" in capsys.readouterr().out
    with service.engine.connect() as conn:
        assert conn.execute(select(graduates.c.version).where(graduates.c.id == s.g1)).scalar() == 8
