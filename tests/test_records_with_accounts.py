"""records and accounts together, on PostgreSQL and RabbitMQ, through their HTTP APIs and their
events: the province switches hukou on at accounts, the school imports its roster and completes its
settings at records, accounts shows the settings completed, the graduate activates its account
(provisioned from the roster event), registers its hukou transfer and the school approves it."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from quxiang.common.testing.served_suite import served_suite
from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_identity_number

pytestmark = pytest.mark.timeout(240)

ROSTER_HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"


def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0,
               details: Callable[[], Any] = lambda: None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what} {details() or ''}")
        time.sleep(0.2)


class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    def login(self, username: str, password: str = "Demo2026!") -> dict[str, str]:
        response = self.client.post("/api/accounts/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_hukou_registration_across_accounts_and_records(monkeypatch, tmp_path, postgres, rabbitmq):
    with served_suite(monkeypatch, tmp_path, postgres, rabbitmq) as (suite, _):
        run_scenario(Api(Client(suite.app)))


def run_scenario(api: Api) -> None:
    client = api.client
    province, school = api.login("demo-gd"), api.login("demo-zsu")

    # the province switches hukou on; records hears of it
    assert client.post("/api/accounts/provinces/44/modules/hukou/enable", headers=province).status_code == 200

    # the school's roster: departments reach records through accounts' events first
    identity = make_identity_number("44010620030307001")
    roster = ROSTER_HEADER + f"2644019900001,S1,李同学,男,{identity},CS,080901,计算机科学与技术,31,440106,2026,,\n"

    last: list[Any] = []

    def imported() -> Any:
        response = client.post("/api/records/schools/10558/roster/imports", headers=school,
                               data={"file": (io.BytesIO(roster.encode()), "roster.csv")},
                               content_type="multipart/form-data")
        last.append((response.status_code, response.json))
        return response.json if response.status_code == 201 else None

    job = eventually(imported, "the roster import (departments known to records)", details=lambda: last[-1:])
    assert job["created"] == 1

    # settings: not before the province's switch has reached records, then completed
    settings = {"department_review": False, "deadline": latest_deadline().isoformat()}
    answers: list[Any] = []

    def saved() -> bool:
        response = client.put("/api/records/schools/10558/settings/hukou", headers=school, json=settings)
        answers.append((response.status_code, response.json))
        assert response.status_code in (200, 403), response.json  # 403 module_not_enabled until it arrives
        return response.status_code == 200

    eventually(saved, "records takes the hukou settings once the switch-on arrived", details=lambda: answers[-1:])

    def shown_completed() -> bool:
        page = client.get("/api/accounts/provinces/44/school-settings?q=10558", headers=province).json
        rows = [r for r in page["items"] if r["school_code"] == "10558"]
        return bool(rows) and any(m["module"] == "hukou" and m["completed"] for m in rows[0]["modules"])

    eventually(shown_completed, "accounts shows the school's hukou settings completed")

    # the graduate's account exists from the roster event: activate and log in
    def codes() -> Any:
        response = client.post("/api/accounts/schools/10558/activation-codes/issue", headers=school)
        return [c for c in response.json["codes"] if c["exam_number"] == "2644019900001"]

    code = eventually(codes, "the graduate's account provisioned from records.graduate.registered")[0]
    assert client.post("/api/accounts/graduates/activate", json={
        "exam_number": "2644019900001", "activation_code": code["activation_code"],
        "password": "Graduate-2026-pass"}).status_code == 200
    graduate = api.login("2644019900001", "Graduate-2026-pass")
    graduate_id = code["graduate_id"]

    def hukou_open() -> Any:
        body = client.get(f"/api/records/graduates/{graduate_id}/hukou", headers=graduate).json
        return body if body["availability"]["open"] else None

    eventually(hukou_open, "records knows hukou is switched on")
    submitted = client.post(f"/api/records/graduates/{graduate_id}/hukou/submit", headers=graduate,
                            json={"transfer_type": "origin", "address": "广州市越秀区某街2号"})
    assert submitted.status_code == 200 and submitted.json["status"] == "school_review"
    approved = client.post(f"/api/records/graduates/{graduate_id}/hukou/reviews", headers=school,
                           json={"decision": "approve"})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    listed = client.get("/api/records/hukou/registrations?status=approved", headers=province).json
    assert [i["exam_number"] for i in listed["items"]] == ["2644019900001"]
    assert identity not in str(listed)
