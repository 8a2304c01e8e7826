"""The whole suite as separate processes (gunicorn, consumers, relays, jobs, ems-sim) behind nginx,
on PostgreSQL and RabbitMQ, driven only over HTTP through the gateway, as a browser or an operator
would: the province switches the modules on and sets agreement types, the school imports its
roster and completes its settings, an employer invites, the graduate accepts, department and school
approve, the statistics show it and the employment management system's stand-in has it; the
graduate's archive and hukou registrations go through review to the same mirror. Then what the
gateway itself promises: every OpenAPI document, request ids, the 413 and the login's 429.

The stack is its own: databases named for this run, its own RabbitMQ vhost (or, where no vhost can
be made, its own exchange and queue names), free ports; stopped and dropped at the end."""

from __future__ import annotations

import io
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from quxiang.common.stack import Stack, StackError, nginx_binary
from quxiang.common.testing.infra import Postgres, RabbitMQ, require_infra
from quxiang.common.testing.stack_run import SERVICES, Gateway, eventually, isolated_settings
from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_identity_number

pytestmark = pytest.mark.timeout(300)

SCHOOL = "10558"  # 中山大学; its 计算机学院 is CS in the roster and demo-zsu-cs at accounts
EXAM = "2644019900001"
NAME = "李同学"
ROSTER = ("考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"
          f"{EXAM},S1,{NAME},男,{make_identity_number('44010620030307001')},CS,080901,计算机科学与技术,31,"
          "440106,2026,,\n")
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 12000, "contract_months": 36, "probation_months": 3, "contact_person": "王经理",
         "contact_phone": "13800000000", "archive_destination": "广州市人才中心", "hukou_destination": "广州市天河区",
         "remarks": "五险一金"}


@pytest.fixture(scope="module")
def gateway(postgres: Postgres, rabbitmq: RabbitMQ, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if nginx_binary() is None:
        message = "nginx is not installed (make installs it: `make stack` or `make test`)"
        if require_infra():
            pytest.fail(f"REQUIRE_INFRA=1 and {message}", pytrace=False)
        pytest.skip(f"INFRA MISSING: {message}")
    run = uuid.uuid4().hex[:8]
    settings = isolated_settings(
        Path(tmp_path_factory.mktemp("stack")), run, "e2e", postgres.url_for, rabbitmq.base_url,
        own_vhost=rabbitmq.can_admin, broker_url=rabbitmq.url,
        web_workers=1)  # 6 APIs, 6 consumers, 5 relays, 2 job runners and nginx on 2 cores
    stack = Stack(settings)
    started = time.monotonic()
    try:
        stack.up(timeout=150)
        print(f"stack up in {time.monotonic() - started:.1f}s at {settings.gateway_url}")
        yield settings.gateway_url
    except StackError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        groups = stack.recorded()
        killed = stack.down()
        stack.purge()
        left = subprocess.run(["ps", "-o", "pid=,args=", "-g", ",".join(map(str, groups.values()))],
                              capture_output=True, text=True, check=False).stdout.strip() if groups else ""
        assert not left, f"stack processes outlived stack-down:\n{left}"
        assert not killed, f"needed SIGKILL: {killed}"


def test_the_whole_scenario_through_the_gateway(gateway: str) -> None:
    api = Gateway(gateway)
    province, school = api.login("demo-gd"), api.login("demo-zsu")
    department, employer = api.login("demo-zsu-cs"), api.login("demo-employer")

    # --- accounts: the province switches the modules on and sets the agreement types ----------
    api.ok("POST", "/api/accounts/provinces/44/modules/employment/enable", province,
           json={"agreement_type": "three_party"})
    hukou = api.ok("POST", "/api/accounts/provinces/44/modules/hukou/enable", province)
    assert hukou["enabled"] is True
    archive = api.ok("POST", "/api/accounts/provinces/44/modules/archive/enable", province)
    assert archive["enabled"] is True
    # 华南师范大学 was two-party in the demo data
    typed = api.ok("PUT", "/api/accounts/schools/10574/agreement-type", province,
                   json={"agreement_type": "three_party"})
    assert typed["agreement_type"] == "three_party"
    api.ok("PUT", f"/api/accounts/schools/{SCHOOL}/agreement-type", province, json={"agreement_type": "three_party"})

    # --- records: the roster (its departments reach records through accounts' events first) ----
    def imported() -> Any:
        response = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports", school,
                            files={"file": ("roster.csv", io.BytesIO(ROSTER.encode()), "text/csv")})
        assert response.status_code == 201, response.text[:500]
        return response.json()

    job = eventually(imported, "the roster import (departments known to records)")
    assert job["created"] == 1

    # --- the school completes its settings in every module -------------------------------------
    # (once the province's switch-on has reached records and signing: before it they answer 403)
    for module in ("archive", "hukou"):
        eventually(lambda module=module: api.ok("PUT", f"/api/records/schools/{SCHOOL}/settings/{module}", school,
                                                json={"department_review": module == "archive",
                                                      "deadline": latest_deadline().isoformat()}),
                   f"records takes the {module} settings")
    eventually(lambda: api.ok("PUT", f"/api/signing/schools/{SCHOOL}/settings", school,
                              json={"department_review": True}), "signing takes the settings")

    def settings_completed() -> bool:
        page = api.ok("GET", f"/api/accounts/provinces/44/school-settings?q={SCHOOL}", province)
        rows = [r for r in page["items"] if r["school_code"] == SCHOOL]
        return bool(rows) and all(m["completed"] for m in rows[0]["modules"])

    eventually(settings_completed, "accounts shows every module's settings completed")

    # --- the graduate's account, provisioned from the roster event ------------------------------
    def code() -> Any:
        codes = api.ok("POST", f"/api/accounts/schools/{SCHOOL}/activation-codes/issue", school)["codes"]
        return next((c for c in codes if c["exam_number"] == EXAM), None)

    issued = eventually(code, "the graduate's account provisioned from records.graduate.registered")
    api.ok("POST", "/api/accounts/graduates/activate",
           json={"exam_number": EXAM, "activation_code": issued["activation_code"], "password": "Graduate-2026-pass"})
    graduate = api.login(EXAM, "Graduate-2026-pass")
    graduate_id = issued["graduate_id"]

    # --- signing: invite, accept, department and school approve ---------------------------------
    def invited() -> Any:
        response = api.call("POST", "/api/signing/invitations", employer,
                            json={"exam_number": EXAM, "name": NAME, "terms": TERMS})
        assert response.status_code == 201, response.text[:500]  # waits for the roster, type, settings
        return response.json()

    agreement = eventually(invited, "the employer's invitation (signing knows the graduate and the school)")
    assert agreement["status"] == "invited"
    path = f"/api/signing/agreements/{agreement['id']}"
    assert api.ok("POST", f"{path}/accept", graduate)["status"] == "department_review"
    assert api.ok("POST", f"{path}/reviews", department, json={"decision": "approve"})["status"] == "school_review"
    approved = api.ok("POST", f"{path}/reviews", school, json={"decision": "approve"})
    assert approved["status"] == "approved" and approved["number"] == agreement["number"]

    # --- records: archive (department, then school) and hukou (school) --------------------------
    archive_data = {"transfer_type": "employer", "receiving_unit": "广州示例信息科技有限公司",
                    "address": "广州市天河区某路1号", "postcode": "510000", "recipient": "王经理",
                    "phone": "13800000000"}

    def module_open(module: str) -> Callable[[], bool]:
        return lambda: api.ok("GET", f"/api/records/graduates/{graduate_id}/{module}", graduate)["availability"]["open"]

    eventually(module_open("archive"), "records has archive switched on and set")
    submitted = api.ok("POST", f"/api/records/graduates/{graduate_id}/archive/submit", graduate, json=archive_data)
    assert submitted["status"] == "department_review"
    api.ok("POST", f"/api/records/graduates/{graduate_id}/archive/reviews", department, json={"decision": "approve"})
    archived = api.ok("POST", f"/api/records/graduates/{graduate_id}/archive/reviews", school,
                      json={"decision": "approve"})
    assert archived["status"] == "approved"

    eventually(module_open("hukou"), "records has hukou switched on and set")
    submitted = api.ok("POST", f"/api/records/graduates/{graduate_id}/hukou/submit", graduate,
                       json={"transfer_type": "origin", "address": "广州市越秀区某街2号"})
    assert submitted["status"] == "school_review"
    hukou_done = api.ok("POST", f"/api/records/graduates/{graduate_id}/hukou/reviews", school,
                        json={"decision": "approve"})
    assert hukou_done["status"] == "approved"

    # --- stats: the province's view counts all three -------------------------------------------
    def counted() -> Any:
        body = api.ok("GET", "/api/stats/province", province)
        rows = {row["school_code"]: row for row in body["items"]}
        zsu = rows.get(SCHOOL)
        assert zsu is not None, body
        expected = {"total": 1, "registered": 1, "review": 0, "unregistered": 0}
        assert (zsu["employment"], zsu["archive"], zsu["hukou"]) == (expected, expected, expected), zsu
        assert rows["10574"]["agreement_type"] == "three_party", rows.get("10574")
        return body

    eventually(counted, "the statistics show the agreement, the archive and the hukou registration")
    destinations = api.ok("GET", f"/api/stats/destinations?school={SCHOOL}", province)
    assert {c["code"]: c["count"] for c in destinations["categories"]}["10"] == 1

    # --- the employment management system's stand-in has every record --------------------------
    def mirrored() -> Any:
        record = api.ok("GET", f"/api/ems-sim/graduates/{EXAM}")
        assert record["destination"] and record["archive"] and record["hukou"], record
        return record

    record = eventually(mirrored, "ems-sim has the destination, the archive and the hukou records", timeout=45)
    assert record["destination"]["agreement_number"] == agreement["number"]
    assert record["destination"]["status"] == "in_force"
    assert record["archive"]["transfer_number"] == archived["transfer_number"]
    assert record["hukou"]["transfer_type"] == "origin"
    assert "44010620030307001" not in str(record)

    status = api.ok("GET", f"/api/sync-gateway/sync/status?school={SCHOOL}", school)
    assert status, status

    # --- a name corrected in the roster reaches the destination record in the EMS ----------------
    # (archive and hukou records stay editable in the EMS: they follow at reconciliation, docs/sync.md)
    corrected = ROSTER.replace(f",{NAME},", ",李同學,")
    response = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports", school,
                        files={"file": ("roster.csv", io.BytesIO(corrected.encode()), "text/csv")})
    assert response.status_code == 201 and response.json()["updated"] == 1, response.text[:500]

    def renamed() -> Any:
        record = api.ok("GET", f"/api/ems-sim/graduates/{EXAM}")
        assert record["destination"]["name"] == "李同學", record["destination"]
        return record

    eventually(renamed, "the corrected name on the destination record in ems-sim", timeout=45)


def test_every_openapi_document_and_docs_page(gateway: str) -> None:
    api = Gateway(gateway)
    for service in SERVICES:
        document = api.ok("GET", f"/api/{service}/openapi.json")
        assert document["openapi"].startswith("3.") and document["paths"], service
        docs = api.call("GET", f"/api/{service}/docs")
        assert docs.status_code == 200 and f"/api/{service}/openapi.json" in docs.text, service
        assert api.call("GET", f"/api/{service}/readyz").status_code == 200, service


def test_request_ids_are_kept_or_minted(gateway: str) -> None:
    api = Gateway(gateway)
    echoed = api.call("GET", "/api/signing/healthz", headers={"X-Request-ID": "e2e-trace-42"})
    assert echoed.status_code == 200 and echoed.headers["X-Request-ID"] == "e2e-trace-42"
    minted = api.call("GET", "/api/records/healthz")
    assert len(minted.headers["X-Request-ID"]) >= 16
    problem = api.call("GET", "/api/accounts/me", headers={"X-Request-ID": "e2e-trace-43"})
    assert problem.status_code == 401 and problem.json()["request_id"] == "e2e-trace-43"
    unknown = api.call("GET", "/api/nothing-here/x")
    assert unknown.status_code == 404 and unknown.json()["request_id"] == unknown.headers["X-Request-ID"]


def test_an_oversized_body_is_refused_by_the_gateway(gateway: str) -> None:
    api = Gateway(gateway)
    too_big = api.call("POST", "/api/signing/agreements/verify", files={"file": ("a.pdf", b"%PDF" + b"0" * (12 << 20))})
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"].startswith("application/problem+json")
    assert too_big.json()["code"] == "payload_too_large"
    # The roster import may be larger than a document: 12 MB passes the gateway and records judges
    # it. Refused before its body is read (no login), the upload still gets the service's 401, not
    # a 502 from a connection closed under nginx's feet (quxiang.common.web.body reads the rest).
    anonymous = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports",
                         files={"file": ("roster.csv", b"x" * (12 << 20))})
    assert anonymous.status_code == 401, anonymous.text[:300]
    school = api.login("demo-zsu")
    roster = api.call("POST", f"/api/records/schools/{SCHOOL}/roster/imports", school,
                      files={"file": ("roster.csv", b"x" * (12 << 20))})
    assert roster.status_code == 400 and roster.json()["code"] == "unreadable_file", roster.text[:300]
    assert roster.headers["X-Request-ID"] == roster.json()["request_id"]


def test_logins_are_rate_limited_by_the_gateway(gateway: str) -> None:
    # Last in this module: it spends the gateway's login allowance for 127.0.0.1.
    api = Gateway(gateway)
    statuses = [api.call("POST", "/api/accounts/auth/login", json={}).status_code for _ in range(45)]
    assert statuses[0] == 422  # accounts itself answers while within the allowance
    assert 429 in statuses, statuses
    refused = api.call("POST", "/api/accounts/auth/login", json={})
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_requests"
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    # Other endpoints are not limited.
    assert api.call("GET", "/api/accounts/healthz").status_code == 200
