"""同步状态 in scope: a province user its province's schools, a school user its own school (employment
read; retries need read-write); other roles 403; failed records listed and retried by the API and by
``qx-sync retry-failed``."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from quxiang.common.auth.principal import Access, Role
from quxiang.sync_gateway.adapters.tables import sync_records
from quxiang.sync_gateway.entrypoints import cli

from .events import A, agreement, new_id, school_created

ZSU, SCUT, GXU = "10558", "10561", "10593"


@pytest.fixture
def loaded(world, gateway):
    world.deliver(school_created(ZSU, "中山大学"), school_created(SCUT, "华南理工大学"),
                  school_created(GXU, "广西大学", province="45"))
    for i, school in enumerate([ZSU, ZSU, ZSU, SCUT, GXU]):
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, f"2644019930{i}", school=school))
    with gateway.engine.begin() as conn:  # one synced, one failed at 中山大学
        conn.execute(update(sync_records).where(sync_records.c.exam_number == "26440199300")
                     .values(status="synced", lag_ms=120, synced_at=sync_records.c.updated_at))
        conn.execute(update(sync_records).where(sync_records.c.exam_number.in_(["26440199301", "26440199303"]))
                     .values(status="failed", last_error="HTTP 503", attempts=10))
    return world


def test_province_sees_its_schools(loaded, client):
    body = client.get("/sync/status", headers=loaded.province_user("44")).json
    assert [i["school_code"] for i in body["items"]] == [ZSU, SCUT]
    zsu = body["items"][0]
    assert (zsu["pending"], zsu["synced"], zsu["failed"], zsu["lag_ms_max"]) == (1, 1, 1, 120)
    assert zsu["school_name"] == "中山大学" and zsu["oldest_pending_age_s"] >= 0
    assert (body["total"]["pending"], body["total"]["failed"], body["total"]["synced"]) == (1, 2, 1)
    other = client.get(f"/sync/status?school={GXU}", headers=loaded.province_user("44"))
    assert other.status_code == 403 and other.json["code"] == "out_of_scope"  # as every service answers
    assert client.get("/sync/status?school=99999", headers=loaded.province_user("44")).status_code == 404
    assert [i["school_code"] for i in client.get("/sync/status", headers=loaded.province_user("45")).json["items"]] \
        == [GXU]


def test_school_sees_only_itself(loaded, client):
    headers = loaded.school_user(SCUT)
    body = client.get("/sync/status", headers=headers).json
    assert [i["school_code"] for i in body["items"]] == [SCUT] and body["total"]["failed"] == 1
    assert body["items"][0]["school_name"] == "华南理工大学"  # its name, as the province sees it
    assert client.get(f"/sync/status?school={ZSU}", headers=headers).status_code == 403
    failed = client.get("/sync/failed", headers=headers).json
    assert [i["exam_number"] for i in failed["items"]] == ["26440199303"] and failed["total"] == 1
    other = client.get("/sync/failed", headers=loaded.province_user("44")).json["items"]
    zsu_failed = next(i for i in other if i["school_code"] == ZSU)
    assert client.post(f"/sync/failed/{zsu_failed['id']}/retry",
                       headers=loaded.school_user(SCUT, Access.WRITE)).status_code == 404
    assert client.get("/sync/status", headers=loaded.school_user(SCUT, Access.NONE)).status_code == 403


@pytest.mark.parametrize("role,scope", [(Role.GRADUATE, {"graduate": "g", "school": ZSU}),
                                         (Role.EMPLOYER, {"employer": "e"}),
                                         (Role.DEPARTMENT, {"school": ZSU, "department": "d"})])
def test_other_roles_are_refused(loaded, client, role, scope):
    headers = loaded.headers(role, **scope)
    assert client.get("/sync/status", headers=headers).status_code == 403
    assert client.post("/sync/failed/retry-all", headers=headers).status_code == 403


def test_retry_by_api_in_scope(loaded, client):
    failed = client.get("/sync/failed", headers=loaded.province_user()).json["items"]
    assert {i["exam_number"] for i in failed} == {"26440199301", "26440199303"}
    one = next(i for i in failed if i["school_code"] == ZSU)
    assert client.post(f"/sync/failed/{one['id']}/retry", headers=loaded.school_user(ZSU)).status_code == 403
    retried = client.post(f"/sync/failed/{one['id']}/retry", headers=loaded.school_user(ZSU, Access.WRITE))
    assert retried.status_code == 200 and retried.json["status"] == "pending" and retried.json["attempts"] == 0
    again = client.post(f"/sync/failed/{one['id']}/retry", headers=loaded.school_user(ZSU, Access.WRITE))
    assert again.status_code == 409 and again.json["code"] == "not_failed"
    assert client.post("/sync/failed/retry-all", headers=loaded.province_user("45")).json == {"retried": 0}
    assert client.post("/sync/failed/retry-all", headers=loaded.province_user("44")).json == {"retried": 1}
    assert client.get("/sync/failed", headers=loaded.province_user()).json["total"] == 0


def test_retry_command(loaded, gateway, monkeypatch, capsys):
    monkeypatch.setenv("QX_DATABASE_URL", gateway.config.database_url)
    assert cli.main(["retry-failed", "--school", SCUT]) == 0
    assert capsys.readouterr().out.strip() == "retried=1"
    assert cli.main(["retry-failed"]) == 0
    assert capsys.readouterr().out.strip() == "retried=1"
    assert cli.main(["status"]) == 0
    assert capsys.readouterr().out.strip() == "pending=4 synced=1"


def test_metrics_show_backlog_and_failures(loaded, client):
    text = client.get("/metrics").get_data(as_text=True)
    assert 'qx_sync_backlog{kind="destination"} 2.0' in text
    assert 'qx_sync_failed_records{kind="destination"} 2.0' in text
    # a kind with nothing waiting is a 0, not a missing series (a dashboard shows "no data" for that)
    assert 'qx_sync_failed_records{kind="hukou"} 0.0' in text and 'qx_sync_backlog{kind="hukou"} 0.0' in text


def test_each_record_kind_follows_its_modules_permission(loaded, client, gateway):
    # The default school account (employment 读写, archive and hukou 无权限) must not see, nor retry,
    # an archive record; an archive-only account sees and retries its own kind only.
    with gateway.engine.begin() as conn:
        conn.execute(update(sync_records).where(sync_records.c.exam_number == "26440199301").values(kind="archive"))
    default = loaded.school_user(ZSU, Access.WRITE, archive=Access.NONE, hukou=Access.NONE)
    assert client.get("/sync/failed", headers=default).json["items"] == []
    assert client.get("/sync/status", headers=default).json["total"]["failed"] == 0
    assert client.post("/sync/failed/retry-all", headers=default).json == {"retried": 0}
    record = next(i for i in client.get("/sync/failed", headers=loaded.province_user()).json["items"]
                  if i["exam_number"] == "26440199301")
    assert client.post(f"/sync/failed/{record['id']}/retry", headers=default).status_code == 404
    reader = loaded.school_user(ZSU, Access.WRITE, archive=Access.READ, hukou=Access.NONE)
    assert [i["kind"] for i in client.get("/sync/failed", headers=reader).json["items"]] == ["archive"]
    refused = client.post(f"/sync/failed/{record['id']}/retry", headers=reader)
    assert refused.status_code == 403 and refused.json["code"] == "module_forbidden"
    assert client.post("/sync/failed/retry-all", headers=reader).json == {"retried": 0}
    archive_only = loaded.school_user(ZSU, Access.NONE, archive=Access.WRITE, hukou=Access.NONE)
    assert client.get("/sync/status", headers=archive_only).json["total"]["failed"] == 1
    assert client.post("/sync/failed/retry-all", headers=archive_only).json == {"retried": 1}
    nothing = loaded.school_user(ZSU, Access.NONE)
    assert client.get("/sync/failed", headers=nothing).status_code == 403


def test_a_record_sent_again_is_as_old_as_its_wait_not_its_event(loaded, client, gateway):
    """A failed record retried now has waited a moment, not since its event an hour ago."""
    from datetime import UTC, datetime, timedelta

    from quxiang.sync_gateway.adapters import ledger

    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with gateway.engine.begin() as conn:
        conn.execute(update(sync_records).values(occurred_at=hour_ago, pending_since=hour_ago))
        conn.execute(update(sync_records).where(sync_records.c.exam_number == "26440199302").values(status="synced"))
    assert ledger.retry_failed(gateway.engine, schools=[ZSU]) == 1
    zsu = client.get("/sync/status", headers=loaded.province_user("44")).json["items"][0]
    assert zsu["pending"] == 1 and zsu["oldest_pending_age_s"] < 60
