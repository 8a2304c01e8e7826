"""去向登记 over HTTP: gating, the flow with and without department review, rejections, every refused
step, proofs (type by content, size, required on submit), the agreement rule, scope of every role,
void request and review, a new registration after voiding, events with the EMS data, the audit trail
and the partial unique index under a concurrent double submit."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from quxiang.common import audit
from quxiang.common.auth.principal import Access, Role
from quxiang.common.contracts import destinations as contracts
from quxiang.common.validators import make_credit_code
from quxiang.signing.adapters import destination_store
from quxiang.signing.adapters.destination_tables import destination_registrations
from quxiang.signing.adapters.tables import agreement_audit
from quxiang.signing.domain.destination import DESTINATION, Action, Status
from quxiang.signing.entrypoints import destination_api

from .conftest import TERMS, utcnow

CREDIT = make_credit_code("91440106MA59DEMX1")
UNIT = {"unit_name": "广州示例信息科技有限公司", "credit_code": CREDIT, "unit_nature": "39", "unit_industry": "34",
        "unit_region": "440106", "position_category": "10"}
STUDY = {"study_school": "中山大学", "programme": "计算机科学与技术"}
PDF = b"%PDF-1.4\n%admission notice\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Scene:
    def __init__(self, client, world, *, department_review=True, settings=True):
        self.client, self.world = client, world
        world.school()
        self.cs = world.department(code="01")
        self.math = world.department(code="02", name="数学学院")
        self.g1 = world.graduate(1, self.cs)
        self.g2 = world.graduate(2, self.math)
        self.school = world.school_user()
        self.department = world.department_user(self.cs)
        self._next = 10
        if settings:
            assert self.settings(department_review).status_code == 200

    def settings(self, department_review=True):
        return self.client.put("/schools/10558/settings", headers=self.school,
                               json={"department_review": department_review})

    def new_graduate(self):
        self._next += 1
        return self.world.graduate(self._next, self.cs)

    def me(self, graduate=None):
        return self.world.graduate_user(graduate or self.g1)

    def draft(self, code="11", fields=None, graduate=None, headers=None):
        graduate = graduate or self.g1
        body = {"destination_code": code, "fields": UNIT if fields is None else fields}
        return self.client.put(f"/graduates/{graduate}/destination/draft", json=body,
                               headers=headers or self.me(graduate))

    def submit(self, graduate=None, body=None, headers=None):
        graduate = graduate or self.g1
        return self.client.post(f"/graduates/{graduate}/destination/submit", json=body,
                                headers=headers or self.me(graduate))

    def current(self, graduate=None, headers=None):
        graduate = graduate or self.g1
        return self.client.get(f"/graduates/{graduate}/destination", headers=headers or self.me(graduate))

    def proof(self, registration, data=PDF, name="notice.pdf", headers=None):
        return self.client.post(f"/destinations/{registration}/proofs", headers=headers or self.me(),
                                data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    def review(self, registration, headers, decision="approve", reason=None):
        return self.client.post(f"/destinations/{registration}/reviews", headers=headers,
                                json={"decision": decision, "reason": reason})

    def void_request(self, registration, reason="已考取研究生", headers=None):
        return self.client.post(f"/destinations/{registration}/void-request", headers=headers or self.me(),
                                json={"reason": reason})

    def void_review(self, registration, decision="approve", reason=None, headers=None):
        return self.client.post(f"/destinations/{registration}/void-reviews", headers=headers or self.school,
                                json={"decision": decision, "reason": reason})


@pytest.fixture
def scene(client, world):
    return Scene(client, world)


# --- gating --------------------------------------------------------------------------------------


def test_registration_waits_for_the_province_and_the_school_settings(client, world):
    world.school(enable=False, agreement_type=None)
    scene = Scene.__new__(Scene)
    scene.client, scene.world, scene.school = client, world, world.school_user()
    scene.g1 = world.graduate(1, world.department())
    for refused in (scene.draft(), scene.submit(body={"destination_code": "70"})):
        assert (refused.status_code, refused.get_json()["code"]) == (403, "module_not_enabled")
    assert scene.current().get_json()["allowed_actions"] == []  # the view offers nothing it would refuse
    assert scene.current().get_json()["availability"] == {"open": False, "reason": "省级用户尚未开通毕业去向登记与网签"}
    world.deliver("accounts.module.enabled", "44.employment", {"province": "44", "module": "employment",
                                                               "enabled_by": "p"})
    refused = scene.draft()
    assert (refused.status_code, refused.get_json()["code"]) == (403, "settings_incomplete")
    assert scene.current().get_json()["allowed_actions"] == []
    assert scene.current().get_json()["availability"] == {"open": False, "reason": "学校尚未完成网签设置"}
    assert scene.settings().status_code == 200
    assert scene.current().get_json()["allowed_actions"] == ["save", "submit"]
    assert scene.current().get_json()["availability"] == {"open": True, "reason": None}
    assert scene.draft().status_code == 201  # the agreement type does not matter here


# --- the flow ------------------------------------------------------------------------------------


def test_draft_submit_department_and_school_approve(scene, world, service):
    assert scene.current().get_json()["status"] == "none"
    created = scene.draft("11", {"unit_name": "广州示例信息科技有限公司"})  # a draft may be partial
    assert created.status_code == 201
    body = created.get_json()
    registration = body["id"]
    assert (body["status"], body["status_label"], body["destination_name"]) == ("draft", "待提交", "签劳动合同形式就业")
    assert body["graduate"]["identity_number"] == "440***********1234"
    incomplete = scene.submit()
    assert incomplete.status_code == 422
    assert set(incomplete.get_json()["errors"]) == {f"fields.{n}" for n in UNIT if n != "unit_name"}
    saved = scene.draft("11", {**UNIT, "credit_code": CREDIT.lower()})
    assert saved.status_code == 200 and saved.get_json()["id"] == registration
    assert {f["name"]: f["value"] for f in saved.get_json()["fields"]}["credit_code"] == CREDIT  # normalised

    submitted = scene.submit().get_json()
    assert (submitted["status"], submitted["status_label"]) == ("department_review", "待院系审核")
    early = scene.review(registration, scene.school)
    assert early.status_code == 409 and early.get_json()["code"] == "invalid_state"
    assert early.get_json()["current_status"] == "department_review"
    assert set(early.get_json()["allowed_actions"]) == {"department_approve", "department_reject"}
    assert scene.review(registration, scene.department).get_json()["status_label"] == "待学校审核"
    approved = scene.review(registration, scene.school).get_json()
    assert (approved["status"], approved["status_label"]) == ("approved", "登记审核通过")
    assert approved["decided_at"] and approved["allowed_actions"] == ["request_void"]
    assert [(h["action"], h["from_state"], h["to_state"], h["actor_role"]) for h in approved["history"]] == [
        ("save", None, "draft", "graduate"), ("save", "draft", "draft", "graduate"),
        ("submit", "draft", "department_review", "graduate"),
        ("department_approve", "department_review", "school_review", "department"),
        ("school_approve", "school_review", "approved", "school")]

    events = world.events("signing.destination")
    assert [(e["type"], e["sequence"], e["data"]["status"], e["data"]["level"]) for e in events] == [
        (contracts.DESTINATION_SUBMITTED, 3, "department_review", None),
        (contracts.DESTINATION_DEPARTMENT_APPROVED, 4, "school_review", "department"),
        (contracts.DESTINATION_APPROVED, 5, "approved", "school")]
    assert all(e["subject"] == registration for e in events)
    submitted_data, final = events[0]["data"], events[-1]["data"]
    assert submitted_data["unit_name"] is None  # only approved and voided are for the EMS
    assert (final["registration_id"], final["exam_number"], final["name"], final["destination_code"],
            final["placement_bucket"], final["fields"]) == (registration, "26440100000001", "学生1", "11",
                                                            "unit_employment", UNIT)
    assert (final["unit_name"], final["credit_code"], final["unit_nature"], final["unit_industry"],
            final["unit_region"], final["position_category"], final["study_school"]) == (
        "广州示例信息科技有限公司", CREDIT, "39", "34", "440106", "10", None)
    assert final["approved_at"]
    with service.engine.connect() as conn:
        anchor = conn.execute(select(destination_registrations.c.audit_position,
                                     destination_registrations.c.audit_hash)).one()
        assert audit.verify(conn, agreement_audit, anchors={registration: tuple(anchor)}) == []


def test_without_department_review_the_school_reviews_at_once(client, world):
    scene = Scene(client, world, department_review=False)
    submitted = scene.submit(body={"destination_code": "76", "fields": {"description": "独立插画师"}})
    assert submitted.status_code == 200
    registration = submitted.get_json()
    assert registration["status"] == "school_review"
    assert [h["action"] for h in registration["history"]] == ["save", "submit"]
    assert world.events(contracts.DESTINATION_SUBMITTED)[0]["data"]["status"] == "school_review"
    assert scene.review(registration["id"], scene.department).status_code == 409
    approved = scene.review(registration["id"], scene.school).get_json()
    assert approved["status"] == "approved"
    data = world.events(contracts.DESTINATION_APPROVED)[0]["data"]
    assert (data["placement_bucket"], data["fields"], data["unit_name"]) == ("freelance", {"description": "独立插画师"},
                                                                              None)


def test_rejections_need_a_reason_and_the_graduate_submits_again(scene, world):
    registration = scene.draft().get_json()["id"]
    scene.submit()
    assert scene.review(registration, scene.department, "reject").get_json()["code"] == "reason_required"
    rejected = scene.review(registration, scene.department, "reject", "单位信息不完整").get_json()
    assert rejected["status_label"] == "登记审核不通过（院系审核不通过）"
    assert rejected["history"][-1]["reason"] == "单位信息不完整"
    assert set(rejected["allowed_actions"]) == {"save", "add_proof", "submit"}
    event = world.events(contracts.DESTINATION_REJECTED)[0]["data"]
    assert (event["status"], event["reason"], event["level"]) == ("department_rejected", "单位信息不完整", "department")

    assert scene.draft("12").get_json()["status"] == "draft"     # edited: a draft again
    assert scene.submit().get_json()["status"] == "department_review"
    scene.review(registration, scene.department)
    rejected = scene.review(registration, scene.school, "reject", "缺少录用证明").get_json()
    assert rejected["status_label"] == "登记审核不通过（学校审核不通过）"
    assert world.events(contracts.DESTINATION_REJECTED)[1]["data"]["level"] == "school"
    again = scene.submit().get_json()                            # submitted again as it is
    assert (again["id"], again["status"], again["destination_code"]) == (registration, "department_review", "12")


# --- every refused step --------------------------------------------------------------------------

EXPECTED = {  # status -> allowed actions, written out independently of the workflow
    Status.DRAFT: {"save", "add_proof", "submit"},
    Status.DEPARTMENT_REVIEW: {"department_approve", "department_reject"},
    Status.SCHOOL_REVIEW: {"school_approve", "school_reject"},
    Status.APPROVED: {"request_void"},
    Status.DEPARTMENT_REJECTED: {"save", "add_proof", "submit"},
    Status.SCHOOL_REJECTED: {"save", "add_proof", "submit"},
    Status.VOID_REVIEW: {"approve_void", "reject_void"},
    Status.VOIDED: set(),
}


def test_the_transition_table():
    assert {s: {a.value for a in DESTINATION.allowed(s)} for s in Status} == EXPECTED
    assert DESTINATION.next(Status.VOID_REVIEW, Action.REJECT_VOID) is Status.APPROVED
    assert DESTINATION.next(Status.SCHOOL_REJECTED, Action.SAVE) is Status.DRAFT
    assert DESTINATION.is_final(Status.VOIDED)


def _reach(scene, status):
    """A fresh graduate's registration in ``status``."""
    graduate = scene.new_graduate()
    registration = scene.draft("11", UNIT, graduate).get_json()["id"]
    me, dept, school = scene.me(graduate), scene.department, scene.school
    steps = {
        Status.DRAFT: [],
        Status.DEPARTMENT_REVIEW: ["submit"],
        Status.DEPARTMENT_REJECTED: ["submit", ("review", dept, "reject")],
        Status.SCHOOL_REVIEW: ["submit", ("review", dept, "approve")],
        Status.SCHOOL_REJECTED: ["submit", ("review", dept, "approve"), ("review", school, "reject")],
        Status.APPROVED: ["submit", ("review", dept, "approve"), ("review", school, "approve")],
        Status.VOID_REVIEW: ["submit", ("review", dept, "approve"), ("review", school, "approve"), "void"],
        Status.VOIDED: ["submit", ("review", dept, "approve"), ("review", school, "approve"), "void",
                        "void_approve"],
    }[status]
    for step in steps:
        if step == "submit":
            response = scene.submit(graduate)
        elif step == "void":
            response = scene.void_request(registration, headers=me)
        elif step == "void_approve":
            response = scene.void_review(registration)
        else:
            response = scene.review(registration, step[1], step[2], "原因")
        assert response.status_code == 200, response.get_json()
    return graduate, registration


def _attempt(scene, action, graduate, registration):
    me = scene.me(graduate)
    if action == "save":
        return scene.draft("12", UNIT, graduate)
    if action == "submit":
        return scene.submit(graduate)
    if action == "add_proof":
        return scene.proof(registration, headers=me)
    if action == "request_void":
        return scene.void_request(registration, headers=me)
    if action in ("approve_void", "reject_void"):
        return scene.void_review(registration, action.split("_")[0], "原因")
    level, decision = action.split("_")
    return scene.review(registration, scene.department if level == "department" else scene.school, decision, "原因")


def test_every_refused_step_answers_409_with_the_state_and_what_is_allowed(scene):
    for status in Status:
        graduate, registration = _reach(scene, status)
        for action in Action:
            if action.value in EXPECTED[status]:
                continue
            if status is Status.VOIDED and action in (Action.SAVE, Action.SUBMIT):
                continue  # the graduate's own routes start a new registration then
            refused = _attempt(scene, action.value, graduate, registration)
            assert refused.status_code == 409, (status, action, refused.get_json())
            body = refused.get_json()
            assert (body["code"], body["current_status"]) == ("invalid_state", status.value), (status, action)
            assert set(body["allowed_actions"]) == EXPECTED[status]


# --- field rules over HTTP -------------------------------------------------------------------------


def test_agreement_categories_and_broken_fields_are_422_naming_each_field(scene):
    signed = scene.draft("10")
    assert signed.status_code == 422 and set(signed.get_json()["errors"]) == {"destination_code"}
    assert "网上签约" in signed.get_json()["errors"]["destination_code"][0]
    assert set(scene.submit(body={"destination_code": "10", "fields": UNIT}).get_json()["errors"]) == {
        "destination_code"}
    assert set(scene.draft("99").get_json()["errors"]) == {"destination_code"}
    broken = scene.draft("11", {**UNIT, "credit_code": CREDIT[:-1] + "0" if CREDIT[-1] != "0" else CREDIT[:-1] + "1",
                                "unit_nature": "00", "unit_region": "44", "study_school": "中山大学"})
    assert broken.status_code == 422
    assert set(broken.get_json()["errors"]) == {"fields.credit_code", "fields.unit_nature", "fields.unit_region",
                                                "fields.study_school"}
    assert scene.current().get_json()["status"] == "none"  # nothing saved


# --- proofs --------------------------------------------------------------------------------------


def test_proofs_judged_by_content_bounded_and_required_on_submit(scene, monkeypatch):
    registration = scene.draft("801", STUDY).get_json()["id"]
    missing = scene.submit()
    assert missing.status_code == 422 and missing.get_json()["errors"] == {"proofs": ["须上传录取通知书"]}
    disguised = scene.proof(registration, b"just text, not a pdf", "notice.pdf")
    assert (disguised.status_code, disguised.get_json()["code"]) == (415, "unsupported_file_type")
    monkeypatch.setattr(destination_api, "MAX_PROOF_BYTES", 1024)
    too_large = scene.proof(registration, PDF + b"\0" * 1024)
    assert (too_large.status_code, too_large.get_json()["code"]) == (413, "file_too_large")
    monkeypatch.undo()
    assert scene.proof(registration, headers=scene.school).status_code == 403
    added = scene.proof(registration, PNG, "录取通知书.png")
    assert added.status_code == 201
    proofs = added.get_json()["proofs"]
    assert [(p["kind"], p["content_type"], p["filename"], p["size"]) for p in proofs] == [
        ("proof", "image/png", "录取通知书.png", len(PNG))]
    assert added.get_json()["history"][-1]["details"]["attachment_id"] == proofs[0]["id"]
    submitted = scene.submit().get_json()
    assert submitted["status"] == "department_review" and submitted["proof_required"]
    assert scene.proof(registration).status_code == 409  # under review: no more uploads

    path = f"/destinations/{registration}/proofs/{proofs[0]['id']}"
    download = scene.client.get(path, headers=scene.department)
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    assert download.headers["X-Content-SHA256"] == proofs[0]["sha256"]
    disposition = download.headers["Content-Disposition"]  # 录取通知书.png, RFC 5987
    assert "filename*=UTF-8''%E5%BD%95%E5%8F%96%E9%80%9A%E7%9F%A5%E4%B9%A6.png" in disposition
    assert scene.client.get(path, headers=scene.me(scene.g2)).status_code == 404
    other = scene.draft("70", {}, scene.g2).get_json()["id"]
    assert scene.client.get(f"/destinations/{other}/proofs/{proofs[0]['id']}",
                            headers=scene.school).status_code == 404


def test_a_unit_in_hong_kong_macao_or_taiwan_is_a_place_of_work(scene):
    for code in ("810000", "820000", "710000"):
        graduate = scene.new_graduate()
        assert scene.draft("11", {**UNIT, "unit_region": code}, graduate).status_code == 201, code
    refused = scene.draft("11", {**UNIT, "unit_region": "810100"}, scene.new_graduate())
    assert refused.status_code == 422  # GB/T 2260 does not divide Hong Kong


def test_a_submission_names_the_missing_fields_and_the_missing_proof_at_once(scene):
    assert scene.draft("801", {"study_school": "中山大学"}).status_code == 201
    refused = scene.submit()
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert "proofs" in errors and "programme" in str(errors), errors  # one round, not two


def test_every_category_that_needs_proof_refuses_a_submission_without_it(scene):
    needs = {"46": {"enlistment_notice_number": "2026-44-0001", "enlistment_region": "440106"},
             "75": {"business_name": "广州示例文化工作室", "credit_code": CREDIT},
             "80": STUDY, "802": STUDY, "85": {**STUDY, "study_school": "University of Oxford", "country": "英国"}}
    for code, fields in needs.items():
        graduate = scene.new_graduate()
        refused = scene.submit(graduate, {"destination_code": code, "fields": fields})
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"proofs"}, code
    for code, fields in {"11": UNIT, "271": UNIT, "512": UNIT, "76": {"description": "自由撰稿"}, "71": {}}.items():
        assert scene.submit(scene.new_graduate(), {"destination_code": code, "fields": fields}).status_code == 200


# --- the agreement rule ----------------------------------------------------------------------------


def test_a_graduate_holding_an_agreement_cannot_submit(scene, world, service):
    employer = world.employer()
    invitation = scene.client.post("/invitations", headers=world.employer_user(employer),
                                   json={"exam_number": "26440100000001", "name": "学生1", "terms": TERMS})
    assert scene.client.post(f"/agreements/{invitation.get_json()['id']}/accept",
                             headers=scene.me()).status_code == 200
    assert scene.draft().status_code == 201  # a draft is still allowed
    refused = scene.submit()
    assert (refused.status_code, refused.get_json()["code"]) == (409, "agreement_held")
    assert scene.current().get_json()["status"] == "draft"
    assert "submit" not in scene.current().get_json()["allowed_actions"]  # not offered what is refused



def test_current_destination_is_what_blocks_an_acceptance(scene, service):
    def current():
        with service.engine.connect() as conn:
            row = destination_store.current_destination(conn, scene.g1)
            return row.status if row else None

    registration = scene.draft().get_json()["id"]
    assert current() is None
    scene.submit()
    assert current() == "department_review"
    scene.review(registration, scene.department)
    scene.review(registration, scene.school)
    assert current() == "approved"
    scene.void_request(registration)
    assert current() == "void_review"
    scene.void_review(registration)
    assert current() is None


# --- scope ---------------------------------------------------------------------------------------


def test_scope_of_every_role(scene, world):
    registration = scene.draft().get_json()["id"]
    proof = scene.proof(registration).get_json()["proofs"][0]["id"]
    scene.submit()
    reads = {
        "own": (scene.me(), 200), "other graduate": (scene.me(scene.g2), 404),
        "department": (scene.department, 200), "other department": (world.department_user(scene.math), 404),
        "school": (scene.school, 200), "other school": (world.school_user("10561"), 404),
        "school without the module": (world.school_user(access=Access.NONE), 403),
        "school read-only": (world.school_user(access=Access.READ), 200),
        "province": (world.headers(Role.PROVINCE, province="44"), 200),
        "other province": (world.headers(Role.PROVINCE, province="45"), 404),
        "employer": (world.employer_user(world.employer()), 403),
    }
    for who, (headers, expected) in reads.items():
        for path in (f"/graduates/{scene.g1}/destination", f"/destinations/{registration}",
                     f"/destinations/{registration}/proofs/{proof}"):
            assert scene.client.get(path, headers=headers).status_code == expected, (who, path)
    assert scene.draft(headers=scene.me(scene.g2)).status_code == 404
    assert scene.draft(headers=scene.school).status_code == 403
    assert scene.submit(headers=scene.me(scene.g2)).status_code == 404
    assert scene.proof(registration, headers=scene.me(scene.g2)).status_code == 404
    assert scene.review(registration, world.department_user(scene.math)).status_code == 404
    assert scene.review(registration, world.department_user(scene.cs, access=Access.READ)).status_code == 403
    assert scene.review(registration, world.headers(Role.PROVINCE, province="44")).status_code == 403
    assert scene.review(registration, scene.me()).status_code == 403
    scene.review(registration, scene.department)
    assert scene.review(registration, world.school_user("10561")).status_code == 404
    scene.review(registration, scene.school)
    assert scene.void_request(registration, headers=scene.me(scene.g2)).status_code == 404
    assert scene.void_request(registration, headers=scene.school).status_code == 403
    scene.void_request(registration)
    assert scene.void_review(registration, headers=scene.department).status_code == 403
    assert scene.void_review(registration, headers=world.school_user(access=Access.READ)).status_code == 403
    assert scene.void_review(registration, headers=world.school_user("10561")).status_code == 404


# --- voiding ---------------------------------------------------------------------------------------


def test_void_request_review_voided_and_a_new_registration(scene, world):
    registration = scene.draft("801", STUDY).get_json()["id"]
    scene.proof(registration)
    scene.submit()
    scene.review(registration, scene.department)
    scene.review(registration, scene.school)
    assert scene.void_request(registration, "  ").get_json()["code"] == "reason_required"
    assert scene.client.post(f"/destinations/{registration}/void-request", headers=scene.me(),
                             json={}).status_code == 422
    requested = scene.void_request(registration, "已与单位签订就业协议").get_json()
    assert (requested["status"], requested["status_label"], requested["void_reason"]) == (
        "void_review", "作废申请审核中", "已与单位签订就业协议")
    assert scene.void_review(registration, "reject").get_json()["code"] == "reason_required"
    kept = scene.void_review(registration, "reject", "证明材料不足").get_json()
    assert (kept["status"], kept["void_reason"]) == ("approved", None)
    scene.void_request(registration, "已与单位签订就业协议")
    voided = scene.void_review(registration).get_json()
    assert (voided["status"], voided["status_label"], voided["allowed_actions"]) == ("voided", "已作废", [])
    assert voided["voided_at"]
    assert [h["action"] for h in voided["history"]][-5:] == [
        "school_approve", "request_void", "reject_void", "request_void", "approve_void"]

    types = [e["type"] for e in world.events("signing.destination")]
    assert types[-5:] == [contracts.DESTINATION_APPROVED, contracts.DESTINATION_VOID_REQUESTED,
                          contracts.DESTINATION_VOID_REJECTED, contracts.DESTINATION_VOID_REQUESTED,
                          contracts.DESTINATION_VOIDED]
    gone = world.events(contracts.DESTINATION_VOIDED)[0]
    assert gone["sequence"] == voided["version"]
    assert (gone["data"]["status"], gone["data"]["level"], gone["data"]["destination_code"],
            gone["data"]["study_school"], gone["data"]["programme"], gone["data"]["unit_name"]) == (
        "voided", "school", "801", "中山大学", "计算机科学与技术", None)
    approved = world.events(contracts.DESTINATION_APPROVED)[0]["data"]
    assert gone["data"]["voided_at"] and gone["data"]["approved_at"] == approved["approved_at"]
    assert (approved["study_school"], approved["programme"], approved["placement_bucket"]) == (
        "中山大学", "计算机科学与技术", "further_study")
    assert world.events(contracts.DESTINATION_VOID_REQUESTED)[0]["data"]["reason"] == "已与单位签订就业协议"

    nothing = scene.current().get_json()
    assert (nothing["status"], [v["id"] for v in nothing["voided"]]) == ("none", [registration])
    again = scene.draft("70", {})
    assert again.status_code == 201 and again.get_json()["id"] != registration
    assert scene.submit().get_json()["status"] == "department_review"
    assert scene.client.get(f"/destinations/{registration}", headers=scene.school).get_json()["status"] == "voided"


# --- events ----------------------------------------------------------------------------------------


def test_conscription_and_self_employment_carry_their_ems_data_and_no_identity_number(scene, world):
    soldier = scene.draft("46", {"enlistment_notice_number": "2026-44-0001", "enlistment_region": "440106"})
    scene.proof(soldier.get_json()["id"])
    scene.submit()
    scene.review(soldier.get_json()["id"], scene.department)
    scene.review(soldier.get_json()["id"], scene.school)
    data = world.events(contracts.DESTINATION_APPROVED)[0]["data"]
    assert (data["unit_nature"], data["unit_industry"], data["unit_region"], data["enlistment_notice_number"],
            data["credit_code"]) == ("40", "80", "440106", "2026-44-0001", None)
    text = str(world.events("signing.destination"))
    assert "identity" not in text and "440***" not in text


# --- the partial unique index ----------------------------------------------------------------------


def test_one_registration_that_is_not_voided_per_graduate(scene, service):
    values = {"graduate_id": scene.g2, "school_code": "10558", "graduation_year": 2026, "destination_code": "70",
              "fields": {}, "version": 1, "audit_position": 1, "audit_hash": "0" * 64, "created_at": utcnow(),
              "updated_at": utcnow()}
    with service.engine.begin() as conn:
        conn.execute(insert(destination_registrations).values(id="r1", status="approved", **values))
    with pytest.raises(IntegrityError), service.engine.begin() as conn:
        conn.execute(insert(destination_registrations).values(id="r2", status="draft", **values))
    with service.engine.begin() as conn:
        conn.execute(update(destination_registrations).where(destination_registrations.c.id == "r1")
                     .values(status="voided"))
        conn.execute(insert(destination_registrations).values(id="r2", status="draft", **values))


def _on_postgresql(config):
    if not config.database_url_for("signing").startswith("postgresql"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")


def _together(target, count=2):
    barrier = threading.Barrier(count)
    threads = [threading.Thread(target=target, args=(barrier, i)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_submissions_at_the_same_moment_exactly_one_wins(scene, service, config):
    _on_postgresql(config)
    app = scene.client.application
    headers = scene.me()
    results: list[tuple[int, str | None]] = []

    def submit(barrier, _):
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/graduates/{scene.g1}/destination/submit", headers=headers,
                               json={"destination_code": "70", "fields": {}})
        results.append((response.status_code, response.get_json().get("code")))

    _together(submit)
    assert sorted(code for code, _ in results) == [200, 409], results
    assert next(problem for code, problem in results if code == 409) in ("invalid_state", "registration_exists")
    with service.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(destination_registrations)).scalar() == 1


def test_the_index_decides_between_two_concurrent_inserts(scene, service, config):
    """Without the graduate's lock the partial unique index alone lets exactly one commit."""
    _on_postgresql(config)
    outcomes: list[str] = []

    def insert_one(barrier, i):
        with service.engine.connect() as conn:
            barrier.wait()
            try:  # the later insert waits on the earlier one's index entry, then fails or goes on
                conn.execute(insert(destination_registrations).values(
                    id=f"r{i}", status="draft", graduate_id=scene.g2, school_code="10558", graduation_year=2026,
                    destination_code="70", fields={}, version=1, audit_position=1, audit_hash="0" * 64,
                    created_at=utcnow(), updated_at=utcnow()))
                conn.commit()
                outcomes.append("committed")
            except IntegrityError:
                outcomes.append("refused")

    _together(insert_one)
    assert sorted(outcomes) == ["committed", "refused"]


def test_a_graduate_moved_to_another_department_takes_the_registration_along(client, world):
    # A roster re-import moves 学生1 from 计算机学院 to 数学学院 while the registration waits for its
    # department's review: 数学学院 now reviews and lists it, 计算机学院 no longer does.
    scene = Scene(client, world)
    registration = scene.draft().get_json()["id"]
    assert scene.submit().status_code == 200
    world.graduate(1, scene.math, graduate_id=scene.g1, sequence=2, education_level="11", graduation_year=2027)
    math = world.department_user(scene.math)
    assert scene.review(registration, scene.department).status_code == 404
    assert client.get("/lists/destinations", headers=scene.department).get_json()["total"] == 0
    listed = client.get("/lists/destinations", headers=math).get_json()
    assert listed["total"] == 1 and listed["items"][0]["department_name"] == "数学学院"
    assert client.get("/lists/destinations", headers=scene.school,
                      query_string={"education_level": "11"}).get_json()["total"] == 1
    for year, listed in ((2027, 1), (2026, 0)):  # deferred to 2027: listed (and counted) there
        assert client.get("/lists/destinations", headers=scene.school,
                          query_string={"graduation_year": year}).get_json()["total"] == listed
    assert scene.review(registration, math).status_code == 200
    # an older roster event arriving late moves nothing back
    world.graduate(1, scene.cs, graduate_id=scene.g1, sequence=1)
    assert client.get("/lists/destinations", headers=math).get_json()["total"] == 1


def test_a_department_move_waits_for_an_agreement_in_hand_instead_of_deadlocking(client, world, service):
    # Accepting locks the agreement, then the graduate; the move must take them in the same order.
    import threading

    from sqlalchemy import select

    from quxiang.signing.adapters import store
    from quxiang.signing.adapters.tables import agreements, graduates

    if service.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    scene = Scene(client, world)
    employer = world.employer()
    invited = client.post("/invitations", headers=world.employer_user(employer),
                          json={"exam_number": "26440100000001", "name": "学生1", "terms": _TERMS()})
    assert invited.status_code == 201, invited.get_json()
    errors = []
    with service.engine.begin() as hand:  # a request holding the agreement
        hand.execute(select(agreements.c.id).where(agreements.c.graduate_id == scene.g1).with_for_update()).all()

        def move():
            try:
                with service.engine.begin() as conn:
                    row = dict(conn.execute(select(graduates).where(graduates.c.id == scene.g1)).mappings().one())
                    row.pop("sequence")
                    store.apply_graduate(conn, {**row, "department_id": scene.math}, 5)
            except Exception as exc:  # noqa: BLE001 - what the test looks for
                errors.append(exc)

        mover = threading.Thread(target=move)
        mover.start()
        mover.join(1.0)
        assert mover.is_alive(), "the move did not wait for the agreement"
        hand.execute(select(graduates.c.id).where(graduates.c.id == scene.g1).with_for_update()).all()
    mover.join(10)
    assert errors == []
    listed = client.get("/lists/online-signing", headers=world.department_user(scene.math)).get_json()
    assert listed["total"] == 1


def _TERMS():
    from .conftest import TERMS

    return TERMS


def test_an_identity_number_typed_into_a_reason_never_reaches_the_event(scene, world):
    from quxiang.common.pii import identity_numbers_in

    typed = "11010519491231002X"
    registration = scene.draft().get_json()["id"]
    scene.submit()
    rejected = scene.review(registration, scene.department, "reject", f"证明上的身份证号{typed}与生源不符").get_json()
    # masked on the way in: a reason is free text, and its readers (an employer, for an agreement's) need not
    # be entitled to the number; the full one is in the roster, for those who are
    assert rejected["history"][-1]["reason"] == "证明上的身份证号110***********002X与生源不符"
    event = world.events(contracts.DESTINATION_REJECTED)[0]["data"]
    assert event["reason"] == "证明上的身份证号110***********002X与生源不符"
    assert identity_numbers_in(str(world.events())) == []
