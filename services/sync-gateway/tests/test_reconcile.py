"""Reconciliation against the real ems-sim: a record deleted or changed on the EMS side is found and
re-synced (under a new idempotency key); an archive or hukou record edited in the EMS (source ems)
is left as the EMS has it; the counts are reported."""

from __future__ import annotations

import pytest

from quxiang.sync_gateway.entrypoints import cli
from quxiang.sync_gateway.service.reconcile import reconcile

from .events import A, agreement, new_id, registration

pytestmark = pytest.mark.timeout(120)


def test_reconciliation_repairs_drift_and_keeps_ems_edits(world, gateway, worker, ems):
    exams = [f"2644019970{i}" for i in range(4)]
    for exam in exams:
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam), registration("archive", new_id(), 3, exam))
    worker.drain()
    clean = reconcile(gateway)
    assert (clean.checked, clean.in_sync, clean.drift) == (8, 8, 0)

    ems.tamper(exams[0], "destination", delete=True)
    ems.tamper(exams[1], "destination", {"unit_name": "被改掉的单位"})
    ems.tamper(exams[2], "archive", {"address": "北京市海淀区", "source": "ems"})   # an edit made in the EMS
    ems.tamper(exams[3], "archive", {"recipient": "别人"})                          # drift, still platform's
    dry = reconcile(gateway, fix=False)
    assert (dry.missing, dry.changed, dry.kept_ems_edits, dry.resynced) == (1, 2, 1, 0)

    report = reconcile(gateway)
    assert (report.checked, report.missing, report.changed, report.kept_ems_edits, report.resynced) == (8, 1, 2, 1, 3)
    worker.drain()
    assert ems.graduate(exams[0])["destination"]["status"] == "in_force"
    assert ems.graduate(exams[1])["destination"]["unit_name"] == "广州示例信息科技有限公司"
    assert ems.graduate(exams[2])["archive"]["address"] == "北京市海淀区"
    assert ems.graduate(exams[3])["archive"]["recipient"] == "王老师"
    after = reconcile(gateway)
    assert (after.drift, after.kept_ems_edits, after.in_sync) == (0, 1, 7)


def test_reconcile_command_reports_counts(world, gateway, worker, ems, monkeypatch, capsys):
    exam = "26440199800"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, exam))
    worker.drain()
    ems.tamper(exam, "destination", delete=True)
    monkeypatch.setenv("QX_DATABASE_URL", gateway.config.database_url)
    monkeypatch.setenv("QX_EMS_URL", ems.url)
    assert cli.main(["reconcile", "--dry-run"]) == 1
    assert "missing=1" in capsys.readouterr().out
    assert cli.main(["reconcile"]) == 0
    assert "resynced=1" in capsys.readouterr().out
    worker.drain()
    assert ems.graduate(exam)["destination"] is not None


def test_unreachable_ems_is_reported_not_fatal(world, gateway, worker, ems):
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, "26440199900"))
    worker.drain()
    ems.faults(down=True)
    report = reconcile(gateway)
    assert report.errors and report.checked == 0


def test_a_record_synced_while_the_ems_is_read_is_not_drift(world, gateway, worker, ems):
    """Reconciliation reads a school's records from the EMS, then the ledger's synced rows: one first
    synced between the two reads is not in the EMS's answer. It is judged in the next round, not
    counted missing and sent again."""
    first, late = "26440199710", "26440199711"
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, first))
    worker.drain()
    client = gateway.ems_client()
    asked = client.records

    def records_then_a_sync(kind, school):
        answer = list(asked(kind, school))
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, late))  # synced after the EMS answered
        worker.drain()
        return answer

    client.records = records_then_a_sync
    try:
        report = reconcile(gateway, client=client)
    finally:
        client.close()
    assert (report.checked, report.in_sync, report.missing, report.resynced) == (1, 1, 0, 0)
    assert ems.graduate(late)["destination"] is not None
    after = reconcile(gateway)
    assert (after.checked, after.in_sync, after.drift) == (2, 2, 0)
