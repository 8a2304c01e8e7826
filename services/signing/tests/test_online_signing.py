"""在线签约: gating, the invitation, the graduate's answer, expiry and the late answer, the reviews,
the rules (one held agreement, one open invitation per employer), refused transitions, scope, the
agreement number, the events and the audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from quxiang.common import audit
from quxiang.common.auth.principal import Access, Role
from quxiang.common.contracts import accounts
from quxiang.common.contracts import signing as contracts
from quxiang.signing.adapters.tables import agreement_audit, agreements
from quxiang.signing.service import online

from .conftest import TERMS, utcnow


class Scene:
    def __init__(self, client, world, agreement_type="three_party"):
        self.client, self.world = client, world
        world.school(agreement_type=agreement_type)
        self.cs = world.department(code="01")
        self.math = world.department(code="02", name="数学学院")
        self.g1 = world.graduate(1, self.cs)
        self.g2 = world.graduate(2, self.math)
        self.e1 = world.employer()
        self.e2 = world.employer("深圳示例科技有限公司", "MA5DEMX02")
        self.school = world.school_user()

    def settings(self, department_review=True):
        return self.client.put("/schools/10558/settings", headers=self.school,
                               json={"department_review": department_review})

    def invite(self, employer, i=1, **changes):
        body = {"exam_number": f"26440100{i:06d}", "name": f"学生{i}", "terms": TERMS, **changes}
        return self.client.post("/invitations", headers=self.world.employer_user(employer), json=body)

    def act(self, agreement_id, verb, headers, json=None):
        return self.client.post(f"/agreements/{agreement_id}/{verb}", headers=headers, json=json)

    def review(self, agreement_id, headers, decision="approve", reason=None):
        return self.act(agreement_id, "reviews", headers, {"decision": decision, "reason": reason})


@pytest.fixture
def scene(client, world):
    return Scene(client, world)


@pytest.fixture
def ready(scene):
    assert scene.settings().status_code == 200
    return scene


# --- gating --------------------------------------------------------------------------------------


def test_invitations_wait_for_the_province_the_type_and_the_settings(client, world):
    world.school(enable=False, agreement_type=None)
    department = world.department()
    world.graduate(1, department)
    employer = world.employer()
    scene = Scene.__new__(Scene)
    scene.client, scene.world, scene.school = client, world, world.school_user()

    def code():
        return scene.invite(employer).get_json().get("code")

    assert code() == "module_not_enabled"
    # the school completes its settings once the province switched the module on (the guide), not before
    early = scene.settings()
    assert early.status_code == 403 and early.get_json()["code"] == "module_not_enabled"
    assert world.events("signing.school_settings") == []
    world.deliver("accounts.module.enabled", "44.employment", {"province": "44", "module": "employment",
                                                               "enabled_by": "p"})
    assert code() == "agreement_type_unset"
    world.agreement_type("10558", "three_party")
    assert code() == "settings_incomplete"
    assert scene.settings().status_code == 200
    created = scene.invite(employer)
    assert created.status_code == 201, created.get_json()


def test_settings_are_announced_and_the_schools_own(ready, world):
    events = world.events("signing.school_settings")
    assert [(e["sequence"], e["data"]) for e in events] == [
        (1, {"school_code": "10558", "module": "employment", "completed": True})]
    read_only = ready.client.put("/schools/10558/settings", headers=world.school_user(access=Access.READ),
                                 json={"department_review": True})
    assert read_only.status_code == 403
    world.school("10561", "华南理工大学")
    assert ready.client.put("/schools/10561/settings", headers=world.school_user(),
                            json={"department_review": True}).status_code == 403


# --- the flow ------------------------------------------------------------------------------------


def test_invite_accept_department_and_school_approve(ready, world, service):
    created = ready.invite(ready.e1, response_days=10)
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "invited" and body["status_label"] == "已发出签约邀请 待学生应约"
    assert body["number"] == "20261055831000001" and body["initiator_label"] == "单位"
    assert body["unit"]["name"] == "广州示例信息科技有限公司" and body["terms"]["job_title"] == "软件工程师"
    assert body["graduate"]["identity_number"] == "440***********1234"
    agreement = body["id"]
    graduate = world.graduate_user(ready.g1)
    accepted = ready.act(agreement, "accept", graduate).get_json()
    assert accepted["status"] == "department_review" and accepted["accepted_at"]
    early = ready.review(agreement, ready.school)
    assert early.status_code == 409 and early.get_json()["current_status"] == "department_review"
    assert set(early.get_json()["allowed_actions"]) == {"department_approve", "department_reject"}
    assert ready.review(agreement, world.department_user(ready.cs)).get_json()["status"] == "school_review"
    approved = ready.review(agreement, ready.school).get_json()
    assert approved["status"] == "approved" and approved["status_label"] == "签约审核通过"
    assert [(h["action"], h["to_state"]) for h in approved["history"]] == [
        ("invite", "invited"), ("accept", "department_review"), ("department_approve", "school_review"),
        ("school_approve", "approved")]

    types = [e["type"] for e in world.events("signing.agreement")]
    assert types == [contracts.AGREEMENT_INVITED, contracts.AGREEMENT_ACCEPTED,
                     contracts.AGREEMENT_DEPARTMENT_APPROVED, contracts.AGREEMENT_APPROVED]
    final = world.events(contracts.AGREEMENT_APPROVED)[0]
    assert final["subject"] == agreement and final["sequence"] == approved["version"] == 4
    data = final["data"]
    assert (data["destination_code"], data["agreement_number"], data["unit_name"], data["unit_region"],
            data["position_category"]) == ("10", body["number"], "广州示例信息科技有限公司", "440106", "10")
    assert data["credit_code"].startswith("91440106") and data["signing_date"] and data["approved_at"]
    with service.engine.connect() as conn:
        anchor = conn.execute(select(agreements.c.audit_position, agreements.c.audit_hash)).one()
        assert audit.verify(conn, agreement_audit, anchors={agreement: tuple(anchor)}) == []


def test_every_change_answers_what_a_read_right_after_shows(ready, world):
    """A change answers from its own transaction (what it wrote, its trail read before the commit):
    field for field what the detail shows right after, on both databases. An approval answers before
    its document is rendered; the next change renders a still-due document first, as a read does."""
    graduate, employer = world.graduate_user(ready.g1), world.employer_user(ready.e1)
    department = world.department_user(ready.cs)

    def same_as_read(response, headers):
        assert response.status_code in (200, 201), response.get_json()
        answer = response.get_json()
        assert answer == ready.client.get(f"/agreements/{answer['id']}", headers=headers).get_json()
        return answer

    other = world.employer_user(ready.e2)
    declined = same_as_read(ready.invite(ready.e2), other)
    same_as_read(ready.act(declined["id"], "decline", graduate, {"reason": "已有其他打算"}), graduate)
    withdrawn = same_as_read(ready.invite(ready.e2), other)
    same_as_read(ready.act(withdrawn["id"], "withdraw", other), other)

    agreement = same_as_read(ready.invite(ready.e1, response_days=10), employer)["id"]
    same_as_read(ready.act(agreement, "accept", graduate), graduate)
    same_as_read(ready.review(agreement, department), department)
    rejected = same_as_read(ready.review(agreement, ready.school, "reject", "岗位信息不完整"), ready.school)
    assert rejected["status"] == "school_rejected"

    agreement = same_as_read(ready.invite(ready.e1), employer)["id"]
    same_as_read(ready.act(agreement, "accept", graduate), graduate)
    same_as_read(ready.review(agreement, department), department)
    approved = ready.review(agreement, ready.school).get_json()
    assert approved["status"] == "approved" and approved["document_sha256"] is None  # not rendered yet
    # Neither a renderer nor a read has rendered it since: the next change renders it before it answers.
    asked = same_as_read(ready.act(agreement, "void-request", graduate, {"reason": "单位信息登记错误"}), graduate)
    assert asked["status"] == "void_review" and asked["document_sha256"]
    approved.update(status=asked["status"], status_label=asked["status_label"], version=asked["version"],
                    allowed_actions=asked["allowed_actions"], history=asked["history"][:-1],
                    document_sha256=asked["document_sha256"])
    assert approved == {**asked, "history": asked["history"][:-1]}

def test_two_party_agreements_are_attested(client, world):
    scene = Scene(client, world, agreement_type="two_party")
    scene.settings(department_review=False)
    agreement = scene.invite(scene.e1).get_json()["id"]
    accepted = scene.act(agreement, "accept", world.graduate_user(scene.g1)).get_json()
    assert accepted["status"] == "school_review" and accepted["status_label"] == "待学校鉴证"
    approved = scene.review(agreement, scene.school).get_json()
    assert approved["status_label"] == "鉴证通过" and approved["agreement_type_label"] == "两方协议"


def test_a_changed_type_applies_to_new_invitations_only(ready, world):
    first = ready.invite(ready.e1).get_json()
    world.agreement_type("10558", "two_party")
    second = ready.invite(ready.e2).get_json()
    assert (first["agreement_type"], second["agreement_type"]) == ("three_party", "two_party")


def test_decline_then_invite_again(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    again = ready.invite(ready.e1)
    assert again.status_code == 409 and again.get_json()["code"] == "invitation_open"
    declined = ready.act(agreement, "decline", world.graduate_user(ready.g1), {"reason": "已有其他打算"})
    assert declined.get_json()["status_label"] == "学生已拒绝签约 签约失败"
    assert ready.invite(ready.e1).status_code == 201


def test_rejection_needs_a_reason_and_the_employer_may_invite_again(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    ready.act(agreement, "accept", world.graduate_user(ready.g1))
    department = world.department_user(ready.cs)
    assert ready.review(agreement, department, "reject").get_json()["code"] == "reason_required"
    rejected = ready.review(agreement, department, "reject", "岗位信息不完整").get_json()
    assert rejected["status_label"] == "签约审核不通过（院系审核不通过）"
    assert rejected["history"][-1]["reason"] == "岗位信息不完整"
    assert world.events(contracts.AGREEMENT_REJECTED)[0]["data"]["reason"] == "岗位信息不完整"
    assert ready.invite(ready.e1).status_code == 201


# --- expiry --------------------------------------------------------------------------------------


def _age(service, agreement_id, days=8):
    with service.engine.begin() as conn:
        conn.execute(update(agreements).where(agreements.c.id == agreement_id)
                     .values(respond_by=utcnow() - timedelta(days=days - 7)))


def test_the_job_expires_unanswered_invitations(ready, world, service):
    stale = ready.invite(ready.e1).get_json()["id"]
    fresh = ready.invite(ready.e2).get_json()["id"]
    _age(service, stale)
    assert online.expire_due(service) == 1
    assert online.expire_due(service) == 0
    headers = world.employer_user(ready.e1)
    expired = ready.client.get(f"/agreements/{stale}", headers=headers).get_json()
    assert expired["status"] == "expired" and expired["status_label"] == "签约邀请逾期未回应 签约失败"
    assert expired["history"][-1]["actor_role"] == "admin" and expired["history"][-1]["actor_id"] == "system"
    assert ready.client.get(f"/agreements/{fresh}", headers=world.employer_user(ready.e2)).get_json()[
        "status"] == "invited"
    assert [e["subject"] for e in world.events(contracts.AGREEMENT_EXPIRED)] == [stale]


def test_a_late_answer_is_refused_before_the_job_ran(ready, world, service):
    agreement = ready.invite(ready.e1).get_json()["id"]
    _age(service, agreement)
    late = ready.act(agreement, "accept", world.graduate_user(ready.g1))
    assert late.status_code == 409 and late.get_json()["code"] == "invitation_expired"
    stored = ready.client.get(f"/agreements/{agreement}", headers=world.graduate_user(ready.g1)).get_json()
    assert stored["status"] == "expired"
    assert ready.invite(ready.e1).status_code == 201  # the employer may invite again


def test_a_lapsed_invitation_withdrawn_before_the_job_ran_expires(ready, world, service):
    agreement = ready.invite(ready.e1).get_json()["id"]
    _age(service, agreement)
    employer = world.employer_user(ready.e1)
    late = ready.client.post(f"/agreements/{agreement}/withdraw", headers=employer)
    assert late.status_code == 409 and late.get_json()["code"] == "invitation_expired"
    assert ready.client.get(f"/agreements/{agreement}", headers=employer).get_json()["status"] == "expired"
    assert [e["subject"] for e in world.events(contracts.AGREEMENT_EXPIRED)] == [agreement]
    assert world.events(contracts.AGREEMENT_WITHDRAWN) == []  # counted as lapsed, not as withdrawn


# --- the rules -----------------------------------------------------------------------------------


def test_one_held_agreement_others_viewable_not_acceptable(ready, world):
    first = ready.invite(ready.e1).get_json()["id"]
    second = ready.invite(ready.e2).get_json()["id"]
    graduate = world.graduate_user(ready.g1)
    assert ready.act(first, "accept", graduate).status_code == 200
    assert ready.client.get(f"/agreements/{second}", headers=graduate).status_code == 200
    refused = ready.act(second, "accept", graduate)
    assert refused.status_code == 409 and refused.get_json()["code"] == "agreement_held"
    assert ready.act(second, "decline", graduate).status_code == 200


def test_two_acceptances_at_the_same_moment_exactly_one_wins(ready, world, config):
    if not config.database_url_for("signing").startswith("postgresql"):
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    ids = [ready.invite(employer).get_json()["id"] for employer in (ready.e1, ready.e2)]
    graduate = world.graduate_user(ready.g1)
    app = ready.client.application
    barrier = threading.Barrier(2)
    results: list[int] = []

    def accept(agreement_id):
        client = app.test_client()
        barrier.wait()
        results.append(client.post(f"/agreements/{agreement_id}/accept", headers=graduate).status_code)

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    statuses = sorted(ready.client.get(f"/agreements/{i}", headers=graduate).get_json()["status"] for i in ids)
    assert statuses == ["department_review", "invited"]


def test_numbers_are_unique_per_year_school_and_level(ready, world):
    world.graduate(3, ready.cs, education_level="11")
    numbers = [ready.invite(ready.e1, 1).get_json()["number"], ready.invite(ready.e2, 1).get_json()["number"],
               ready.invite(ready.e1, 3).get_json()["number"]]
    assert numbers == ["20261055831000001", "20261055831000002", "20261055811000001"]


# --- refusals and scope --------------------------------------------------------------------------


def test_refused_steps_and_bad_input(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    graduate = world.graduate_user(ready.g1)
    ready.act(agreement, "accept", graduate)
    withdraw = ready.act(agreement, "withdraw", world.employer_user(ready.e1))
    assert withdraw.status_code == 409 and "学生已应约" in withdraw.get_json()["detail"]
    assert ready.act(agreement, "accept", graduate).status_code == 409
    bad = ready.invite(ready.e2, terms={**TERMS, "monthly_salary": -1, "position_category": "99",
                                        "probation_months": 7})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"terms.monthly_salary", "terms.position_category",
                                             "terms.probation_months"}
    assert ready.invite(ready.e2, response_days=31).status_code == 422
    unknown = ready.invite(ready.e2, name="别人")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "graduate_not_found"


def test_scope_of_every_role(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    get = ready.client.get
    assert get(f"/agreements/{agreement}", headers=world.graduate_user(ready.g2)).status_code == 404
    assert get(f"/agreements/{agreement}", headers=world.employer_user(ready.e2)).status_code == 404
    assert get(f"/agreements/{agreement}", headers=world.department_user(ready.math)).status_code == 404
    assert get(f"/agreements/{agreement}", headers=world.department_user(ready.cs)).status_code == 200
    assert get(f"/agreements/{agreement}", headers=world.school_user(access=Access.NONE)).status_code == 403
    assert get(f"/agreements/{agreement}", headers=world.school_user("10561")).status_code == 404
    assert get(f"/agreements/{agreement}", headers=world.headers(Role.PROVINCE, province="44")).status_code == 200
    assert get(f"/agreements/{agreement}", headers=world.headers(Role.PROVINCE, province="45")).status_code == 404
    ready.act(agreement, "accept", world.graduate_user(ready.g1))
    assert ready.review(agreement, world.department_user(ready.cs, access=Access.READ)).status_code == 403
    assert ready.review(agreement, world.department_user(ready.math)).status_code == 404
    assert ready.act(agreement, "accept", world.graduate_user(ready.g2)).status_code == 404
    lists = {who: get("/agreements", headers=headers).get_json()["total"] for who, headers in {
        "e1": world.employer_user(ready.e1), "e2": world.employer_user(ready.e2), "g1": world.graduate_user(ready.g1),
        "g2": world.graduate_user(ready.g2), "school": ready.school, "math": world.department_user(ready.math),
        "province": world.headers(Role.PROVINCE, province="44")}.items()}
    assert lists == {"e1": 1, "e2": 0, "g1": 1, "g2": 0, "school": 1, "math": 0, "province": 1}


def test_no_event_carries_an_identity_number(ready, world):
    agreement = ready.invite(ready.e1).get_json()["id"]
    ready.act(agreement, "accept", world.graduate_user(ready.g1))
    text = str(world.events())
    assert "identity" not in text and "440***" not in text


def test_the_signing_date_sent_on_is_the_day_in_china(ready, world, service):
    # Accepted at 01:30 on 11 May in China (17:30 UTC on the 10th): the PDF prints 11 May, and so
    # must what the employment management system receives.
    from datetime import UTC, datetime

    from sqlalchemy import update

    agreement = ready.invite(ready.e1).get_json()["id"]
    assert ready.act(agreement, "accept", world.graduate_user(ready.g1)).status_code == 200
    with service.engine.begin() as conn:
        conn.execute(update(agreements).where(agreements.c.id == agreement)
                     .values(accepted_at=datetime(2026, 5, 10, 17, 30, tzinfo=UTC)))
    ready.review(agreement, world.department_user(ready.cs))
    assert ready.review(agreement, ready.school).get_json()["status"] == "approved"
    assert world.events(contracts.AGREEMENT_APPROVED)[0]["data"]["signing_date"] == "2026-05-11"


@pytest.mark.parametrize(("contract", "longest"), [(2, 0), (3, 1), (11, 1), (12, 2), (35, 2), (36, 6), (120, 6)])
def test_probation_within_the_labour_contract_law(ready, contract, longest):
    """《劳动合同法》§19: no probation under three months, a month under a year, two under three years,
    six from three years; a salary of 0 is no salary."""
    too_long = ready.invite(ready.e2, terms={**TERMS, "contract_months": contract, "probation_months": longest + 1})
    assert too_long.status_code == 422, too_long.get_json()
    assert set(too_long.get_json()["errors"]) == {"terms.probation_months"}
    message = too_long.get_json()["errors"]["terms.probation_months"][0]
    assert (f"试用期最长{longest}个月" if longest < 6 else "应在0到6之间") in message
    assert ready.invite(ready.e2, terms={**TERMS, "monthly_salary": 0}).status_code == 422
    fits = ready.invite(ready.e2, terms={**TERMS, "contract_months": contract, "probation_months": longest})
    assert fits.status_code == 201, fits.get_json()


def test_department_review_is_not_switched_off_while_departments_have_items(ready, world):
    """The flow lets the school act after the department: switched off with an accepted agreement
    waiting for its department, that agreement would have no one to decide it. Refused, naming how
    many wait; once the department decided, it switches off."""
    agreement = ready.invite(ready.e1).get_json()["id"]
    assert ready.act(agreement, "accept", world.graduate_user(ready.g1)).status_code == 200
    refused = ready.settings(department_review=False)
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert (body["code"], body["waiting"], body["field"]) == ("department_reviews_pending", 1, "department_review")
    assert "1条记录待院系审核" in body["detail"]
    assert ready.settings(department_review=True).status_code == 200  # other changes still save
    assert ready.review(agreement, world.department_user(ready.cs)).status_code == 200
    assert ready.settings(department_review=False).status_code == 200


def test_one_line_terms_hold_no_line_breaks_or_invisible_text(ready):
    """A line break in a one-line field of the agreement stretched its PDF over pages (200 characters
    of a destination made 158), and a zero-width space passed for a required job title."""
    cases = {"archive_destination": "广" + "\n" * 198 + "州", "job_title": "软件\n工程师",
             "contact_person": "\u200b\u200b"}
    answer = ready.invite(ready.e2, terms={**TERMS, **cases, "remarks": "第1条\n" * 40})
    assert answer.status_code == 422, answer.get_json()
    errors = answer.get_json()["errors"]
    assert errors["terms.archive_destination"] == ["不能换行"] and errors["terms.job_title"] == ["不能换行"]
    assert errors["terms.contact_person"] == ["必填"] and errors["terms.remarks"] == ["不能超过30行"]
    fine = ready.invite(ready.e2, terms={**TERMS, "job_title": "\u200b软件工程师\ufeff", "remarks": "第一条\n第二条"})
    assert fine.status_code == 201, fine.get_json()
    assert fine.get_json()["terms"]["job_title"] == "软件工程师"


def test_a_unit_that_changed_its_data_invites_as_it_is_now_and_earlier_agreements_keep_theirs(ready, world):
    before = ready.invite(ready.e1).get_json()
    assert before["unit"]["name"] == "广州示例信息科技有限公司"
    changed = {"employer_id": ready.e1, "credit_code": before["unit"]["credit_code"],
               "name": "广州示例数字科技有限公司", "nature": "39", "industry": "34", "region": "440112",
               "address": "广州市黄埔区示例路9号"}
    world.deliver(accounts.EMPLOYER_UPDATED, ready.e1, changed, sequence=2)
    registered = {**changed, "name": "广州示例信息科技有限公司", "region": "440106", "address": "旧地址"}
    world.deliver(accounts.EMPLOYER_REGISTERED, ready.e1, registered, sequence=1)  # redelivered late: older
    employer = world.employer_user(ready.e1)
    assert ready.client.post(f"/agreements/{before['id']}/withdraw", headers=employer).status_code == 200
    after = ready.invite(ready.e1).get_json()
    assert (after["unit"]["name"], after["unit"]["region"], after["unit"]["address"]) == (
        "广州示例数字科技有限公司", "440112", "广州市黄埔区示例路9号")
    kept = ready.client.get(f"/agreements/{before['id']}", headers=employer).get_json()["unit"]
    assert kept["name"] == "广州示例信息科技有限公司" and kept["address"] == "广州市天河区示例路1号"


def test_the_settings_are_announced_again_as_they_stand(ready, service, world):
    # qx-signing republish-settings: a service whose copy lost a school's 网签设置 gets it back
    from quxiang.signing.entrypoints.cli import republish_settings

    assert ready.settings(department_review=False).status_code == 200  # its second version
    first = [e for e in world.events("signing.school_settings") if e["subject"] == "10558"]
    assert republish_settings(service) == 1
    again = [e for e in world.events("signing.school_settings") if e["subject"] == "10558"][len(first):]
    assert [(e["sequence"], e["data"]) for e in again] == [(first[-1]["sequence"], first[-1]["data"])]
    assert again[0]["event_id"] != first[-1]["event_id"]
