"""信息确认: the graduate confirms its base data or flags an error; the school reads the flags; a
changed roster row asks for a new confirmation."""

from __future__ import annotations

import pytest

from quxiang.common.auth.principal import Access, Module, Role

from .roster_data import csv_file, row, upload
from .test_registrations import Scenario


@pytest.fixture
def s(client, world):
    return Scenario(client, world)


def confirm(s, graduate_id, status, note=None, headers=None):
    return s.client.put(f"/graduates/{graduate_id}/confirmation", headers=headers or s.graduate(graduate_id),
                        json={"status": status, "note": note})


def flags(s, headers, status="flagged"):
    response = s.client.get(f"/schools/10558/roster/confirmations?status={status}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_confirm_and_flag(s, world):
    assert confirm(s, s.g1, "confirmed").get_json()["status"] == "confirmed"
    flagged = confirm(s, s.g3, "flagged", "专业名称应为应用数学")
    assert flagged.status_code == 200 and flagged.get_json()["status_label"] == "已反馈有误"
    body = flags(s, world.school_user())
    assert [(i["name"], i["note"]) for i in body["items"]] == [("学生3", "专业名称应为应用数学")]
    assert [i["name"] for i in flags(s, world.school_user(), "pending")["items"]] == ["学生2"]
    department = world.headers(Role.DEPARTMENT, {Module.EMPLOYMENT: Access.READ}, school="10558", department=s.cs)
    assert flags(s, department)["total"] == 0  # 学生3 is in 数学学院
    assert s.client.get("/schools/10558/roster/confirmations", headers=s.department(s.cs)).status_code == 403
    detail = s.client.get(f"/graduates/{s.g1}", headers=s.graduate(s.g1)).get_json()
    assert detail["confirmation"]["status"] == "confirmed"


def test_a_changed_row_asks_again(s, world):
    confirm(s, s.g1, "confirmed")
    rows = [row(1, 专业名称="软件工程"), row(2), row(3, 院系="02")]
    assert upload(s.client, world.school_user(), csv_file(rows)).status_code == 201
    detail = s.client.get(f"/graduates/{s.g1}", headers=s.graduate(s.g1)).get_json()
    assert detail["confirmation"]["status"] == "pending"
    assert {i["name"] for i in flags(s, world.school_user(), "pending")["items"]} == {"学生1", "学生2", "学生3"}


def test_refusals(s, world):
    missing = confirm(s, s.g1, "flagged")
    assert missing.status_code == 422 and missing.get_json()["code"] == "note_required"
    assert confirm(s, s.g1, "approved").status_code == 422
    assert confirm(s, s.g1, "confirmed", headers=s.graduate(s.g2)).status_code == 404
    assert confirm(s, s.g1, "confirmed", headers=world.school_user()).status_code == 403
    assert s.client.get("/schools/10558/roster/confirmations",
                        headers=world.headers(Role.PROVINCE, province="44")).status_code == 403
    world.school("10561", "华南理工大学")
    assert s.client.get("/schools/10558/roster/confirmations", headers=world.school_user("10561")).status_code == 404


def test_two_first_answers_at_once_both_succeed_and_one_is_kept(s, app, service, monkeypatch):
    # A double click: both requests find no answer yet; the second insert used to fail on the key (500).
    import threading

    from quxiang.records.service import confirmation

    if service.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    barrier = threading.Barrier(2, timeout=10)
    real = confirmation.repository.get_graduate

    def read_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        if threading.current_thread().name.startswith("answer"):
            barrier.wait()
        return found

    monkeypatch.setattr(confirmation.repository, "get_graduate", read_then_wait)
    statuses = []

    def answer(status, note):
        client = app.test_client()
        statuses.append(client.put(f"/graduates/{s.g1}/confirmation", headers=s.graduate(s.g1),
                                   json={"status": status, "note": note}).status_code)

    workers = [threading.Thread(target=answer, args=args, name=f"answer-{i}")
               for i, args in enumerate((("confirmed", None), ("flagged", "姓名有误")))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    assert statuses == [200, 200]
    from sqlalchemy import select

    from quxiang.records.adapters.tables import graduate_confirmations

    with service.engine.connect() as conn:
        kept = conn.execute(select(graduate_confirmations.c.status)).scalars().all()
    assert len(kept) == 1 and kept[0] in ("confirmed", "flagged")
