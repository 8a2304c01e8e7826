"""线下签约, 补登 and 作废: every step and refusal, uploads judged by content, the generated and the
approved documents, the one-agreement rule across flows, and the events."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from quxiang.common.contracts import signing as contracts
from quxiang.common.uploads import MAX_DOCUMENT_BYTES
from quxiang.common.validators import make_credit_code

from .conftest import TERMS
from .test_online_signing import Scene

UNIT = {"name": "佛山示例制造有限公司", "credit_code": make_credit_code("91440604MA5DEMX03"), "nature": "39",
        "industry": "34", "region": "440604"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.4\n%fake scan\n%%EOF"


@pytest.fixture
def ready(client, world):
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    scene.graduate_headers = world.graduate_user(scene.g1)
    scene.department = world.department_user(scene.cs)
    return scene


def post(scene, path, json=None, headers=None):
    return scene.client.post(path, headers=headers or scene.graduate_headers, json=json)


def upload(scene, agreement_id, data, name="scan.pdf", headers=None):
    return scene.client.post(f"/agreements/{agreement_id}/scan", headers=headers or scene.graduate_headers,
                             data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def approve(scene, agreement_id):
    assert scene.review(agreement_id, scene.department).status_code == 200
    response = scene.review(agreement_id, scene.school)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_offline_application_then_signing(ready, world):
    bad = post(ready, "/agreements/offline", {"unit": {**UNIT, "credit_code": "123"}, "terms": {**TERMS,
                                                                                                 "job_title": ""}})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"unit.credit_code", "terms.job_title"}
    created = post(ready, "/agreements/offline", {"unit": UNIT, "terms": TERMS})
    assert created.status_code == 201
    agreement = created.get_json()
    assert (agreement["flow"], agreement["initiator_label"], agreement["status"]) == (
        "offline", "学生", "application_department_review")
    agreement_id = agreement["id"]
    assert ready.client.get(f"/agreements/{agreement_id}/agreement.pdf",
                            headers=ready.graduate_headers).status_code == 409
    early = ready.review(agreement_id, ready.school)
    assert early.status_code == 409 and early.get_json()["current_status"] == "application_department_review"
    assert ready.review(agreement_id, ready.department).get_json()["status"] == "application_school_review"
    rejected = ready.review(agreement_id, ready.school, "reject", "月薪填写有误").get_json()
    assert rejected["status_label"] == "协议审核不通过（学校审核不通过）"
    assert upload(ready, agreement_id, PDF).status_code == 409  # no scan before the application passes
    assert ready.client.get(f"/agreements/{agreement_id}", headers=ready.school).get_json()["has_scan"] is False
    again = post(ready, f"/agreements/{agreement_id}/application", {"terms": {**TERMS, "monthly_salary": 9000}})
    assert again.get_json()["status"] == "application_department_review"
    assert again.get_json()["terms"]["monthly_salary"] == 9000
    ready.review(agreement_id, ready.department)
    assert ready.review(agreement_id, ready.school).get_json()["status"] == "awaiting_scan"

    generated = ready.client.get(f"/agreements/{agreement_id}/agreement.pdf", headers=ready.graduate_headers)
    assert generated.status_code == 200 and generated.get_data().startswith(b"%PDF")
    assert "X-Content-SHA256" not in generated.headers  # not the approved agreement yet

    wrong = upload(ready, agreement_id, b"MZ\x90\x00 an executable", "scan.pdf")
    assert wrong.status_code == 415 and wrong.get_json()["code"] == "unsupported_file_type"
    too_large = upload(ready, agreement_id, PDF + b"\0" * MAX_DOCUMENT_BYTES)
    assert too_large.status_code == 413
    assert upload(ready, agreement_id, PNG, "scan.png").get_json()["status"] == "department_review"
    scan = ready.client.get(f"/agreements/{agreement_id}/scan", headers=ready.school)
    assert scan.status_code == 200 and scan.mimetype == "image/png" and scan.get_data() == PNG
    # under the name it was uploaded as, with its SHA-256; the detail says there is one to download
    assert scan.headers["Content-Disposition"] == "attachment; filename=scan.png"
    assert scan.headers["X-Content-SHA256"] == hashlib.sha256(PNG).hexdigest()
    assert ready.client.get(f"/agreements/{agreement_id}", headers=ready.department).get_json()["has_scan"] is True
    approved = approve(ready, agreement_id)
    assert approved["status"] == "approved" and approved["accepted_at"]
    assert approved["document_sha256"] is None  # rendered after the approval answered
    shown = ready.client.get(f"/agreements/{agreement_id}", headers=ready.school).get_json()
    assert shown["document_sha256"]  # the detail renders a due document on the spot

    types = [e["type"] for e in world.events("signing.agreement")]
    assert types == [contracts.AGREEMENT_APPLIED, contracts.AGREEMENT_APPLICATION_ADVANCED,
                     contracts.AGREEMENT_APPLICATION_REJECTED, contracts.AGREEMENT_APPLIED,
                     contracts.AGREEMENT_APPLICATION_ADVANCED, contracts.AGREEMENT_APPLICATION_APPROVED,
                     contracts.AGREEMENT_SUBMITTED, contracts.AGREEMENT_DEPARTMENT_APPROVED,
                     contracts.AGREEMENT_APPROVED]
    final = world.events(contracts.AGREEMENT_APPROVED)[0]["data"]
    assert (final["flow"], final["employer_id"], final["unit_name"]) == ("offline", None, UNIT["name"])


def test_supplementary_registration(ready, world):
    future = post(ready, "/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "2999-01-01"})
    assert future.status_code == 422 and "signed_on" in future.get_json()["errors"]
    # a 2026 graduate signed no agreement before 2025: a slip of the year, refused with the first day
    ancient = post(ready, "/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "1900-01-01"})
    assert ancient.status_code == 422 and "2025-01-01" in ancient.get_json()["errors"]["signed_on"][0]
    assert post(ready, "/agreements/supplementary",
                {"unit": UNIT, "terms": TERMS, "signed_on": "2024-12-31"}).status_code == 422
    created = post(ready, "/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "2026-03-02"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "awaiting_scan" and body["accepted_at"].startswith("2026-03-02")
    assert ready.review(body["id"], ready.department).status_code == 409
    scanned = upload(ready, body["id"], PDF).get_json()
    # nobody answered an invitation: the label says what happened instead (学生已应约 would not be true)
    assert (scanned["status"], scanned["status_label"]) == ("department_review", "签约材料已上传 待院系审核")
    listed = ready.client.get("/lists/supplementary", headers=ready.school).get_json()["items"]
    assert [i["status_label"] for i in listed] == ["签约材料已上传 待院系审核"]
    step = ready.client.get(f"/agreements/{body['id']}", headers=ready.school).get_json()["history"][-1]
    assert (step["from_label"], step["to_label"]) == ("待上传签约材料", "签约材料已上传 待院系审核")  # the history too
    ready.review(body["id"], ready.department)
    assert ready.review(body["id"], ready.school, "reject", "扫描件不清晰").get_json()["status"] == "school_rejected"
    assert upload(ready, body["id"], PNG).get_json()["status"] == "department_review"
    assert approve(ready, body["id"])["status"] == "approved"
    data = world.events(contracts.AGREEMENT_APPROVED)[0]["data"]
    assert data["flow"] == "supplementary" and data["signing_date"] == "2026-03-02"
    assert world.events(contracts.AGREEMENT_REGISTERED)[0]["data"]["status"] == "awaiting_scan"


def test_one_agreement_across_flows(ready, world):
    invitation = ready.invite(ready.e1).get_json()["id"]
    assert post(ready, "/agreements/offline", {"unit": UNIT, "terms": TERMS}).status_code == 201
    held = ready.act(invitation, "accept", ready.graduate_headers)
    assert held.status_code == 409 and held.get_json()["code"] == "agreement_held"
    second = post(ready, "/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "2026-03-02"})
    assert second.status_code == 409 and second.get_json()["code"] == "agreement_held"
    assert post(ready, "/agreements/offline", {"unit": UNIT, "terms": TERMS},
                headers=ready.school).status_code == 403


def test_void_request_and_review(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    ready.act(agreement, "accept", ready.graduate_headers)
    approve(ready, agreement)
    no_reason = post(ready, f"/agreements/{agreement}/void-request", {})
    assert no_reason.status_code == 422 and no_reason.get_json()["code"] == "reason_required"
    asked = post(ready, f"/agreements/{agreement}/void-request", {"reason": "单位信息登记错误"}).get_json()
    assert asked["status"] == "void_review" and asked["status_label"] == "作废申请审核中"
    assert post(ready, f"/agreements/{agreement}/void-reviews", {"decision": "approve"},
                headers=ready.department).status_code == 403
    assert post(ready, f"/agreements/{agreement}/void-reviews", {"decision": "reject"},
                headers=ready.school).status_code == 422
    kept = post(ready, f"/agreements/{agreement}/void-reviews", {"decision": "reject", "reason": "理由不充分"},
                headers=ready.school).get_json()
    assert kept["status"] == "approved"
    pending = post(ready, f"/agreements/{agreement}/void-request", {"reason": "单位信息登记错误"}).get_json()
    # in force until the school approves the void: it may refuse it, as it did above
    waiting = ready.client.post("/agreements/verify", json={"sha256": pending["document_sha256"]}).get_json()
    assert waiting["status"] == "void_review" and waiting["in_force"] is True
    voided = post(ready, f"/agreements/{agreement}/void-reviews", {"decision": "approve"},
                  headers=ready.school).get_json()
    assert voided["status"] == "voided" and voided["status_label"] == "已作废"
    assert [e["type"] for e in world.events("signing.agreement.void")] == [
        contracts.AGREEMENT_VOID_REQUESTED, contracts.AGREEMENT_VOID_REJECTED, contracts.AGREEMENT_VOID_REQUESTED,
        contracts.AGREEMENT_VOIDED]
    assert world.events(contracts.AGREEMENT_VOIDED)[0]["data"]["agreement_number"] == voided["number"]
    genuine = ready.client.post("/agreements/verify", json={"sha256": voided["document_sha256"]}).get_json()
    assert genuine["genuine"] is True and genuine["status"] == "voided" and genuine["in_force"] is False
    assert post(ready, "/agreements/offline", {"unit": UNIT, "terms": TERMS}).status_code == 201  # free again


def test_a_registered_destination_blocks_signing(ready, world):
    invitation = ready.invite(ready.e1).get_json()["id"]
    submitted = ready.client.post(f"/graduates/{ready.g1}/destination/submit", headers=ready.graduate_headers,
                                  json={"destination_code": "70", "fields": {}})
    assert submitted.status_code == 200, submitted.get_json()
    refused = ready.act(invitation, "accept", ready.graduate_headers)
    assert refused.status_code == 409 and refused.get_json()["code"] == "destination_registered"
    offline = post(ready, "/agreements/offline", {"unit": UNIT, "terms": TERMS})
    assert offline.status_code == 409 and offline.get_json()["code"] == "destination_registered"


def test_a_unit_the_graduate_types_may_carry_its_address_on_one_line(ready):
    broken = post(ready, "/agreements/supplementary", {"unit": {**UNIT, "address": "佛山市\n禅城区"}, "terms": TERMS,
                                                        "signed_on": "2026-03-02"})
    assert broken.status_code == 422 and any("address" in key for key in broken.get_json()["errors"])
    made = post(ready, "/agreements/supplementary", {"unit": {**UNIT, "address": " 佛山市禅城区某路8号 "},
                                                      "terms": TERMS, "signed_on": "2026-03-02"})
    assert made.status_code == 201 and made.get_json()["unit"]["address"] == "佛山市禅城区某路8号"
    agreement = made.get_json()["id"]
    assert upload(ready, agreement, PDF).status_code == 200
    approve(ready, agreement)
    pdf = ready.client.get(f"/agreements/{agreement}/agreement.pdf", headers=ready.graduate_headers).get_data()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "单位地址 佛山市禅城区某路8号" in text.splitlines()
