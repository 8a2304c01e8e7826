"""A graduate holds one agreement or one destination at a time, whatever the flow and whatever
step brings an agreement back into review; and the corners where two flows meet: a termination
and a void request of the same agreement, an invitation past its deadline, a date in China."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from quxiang.common.validators import make_credit_code
from quxiang.signing.adapters.tables import agreements
from quxiang.signing.service import online

from .conftest import TERMS, utcnow

UNIT = {"name": "佛山示例制造有限公司", "credit_code": make_credit_code("91440604MA5DEMX03"), "nature": "39",
        "industry": "34", "region": "440604"}
DESTINATION = {"unit_name": "广州示例信息科技有限公司", "credit_code": make_credit_code("91440106MA59DEMX1"),
               "unit_nature": "39", "unit_industry": "34", "unit_region": "440106", "position_category": "10"}
PDF = b"%PDF-1.4\n%fake scan\n%%EOF"


class Graduate:
    """One graduate of a school with department review, the employer, and their reviewers."""

    def __init__(self, client, world):
        self.client, self.world = client, world
        world.school()
        department = world.department(code="01")
        self.id = world.graduate(1, department)
        self.employer_id = world.employer()
        self.employer = world.employer_user(self.employer_id)
        self.school = world.school_user()
        self.department = world.department_user(department)
        self.me = world.graduate_user(self.id)
        assert client.put("/schools/10558/settings", headers=self.school,
                          json={"department_review": True}).status_code == 200

    def post(self, path, json=None, headers=None):
        return self.client.post(path, headers=headers or self.me, json=json)

    def review(self, agreement_id, headers, decision="approve", reason=None):
        return self.post(f"/agreements/{agreement_id}/reviews", {"decision": decision, "reason": reason}, headers)

    def invite(self):
        answer = self.post("/invitations", {"exam_number": "26440100000001", "name": "学生1", "terms": TERMS},
                           self.employer)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["id"]

    def approved_online(self):
        agreement_id = self.invite()
        assert self.post(f"/agreements/{agreement_id}/accept").status_code == 200
        assert self.review(agreement_id, self.department).status_code == 200
        assert self.review(agreement_id, self.school).get_json()["status"] == "approved"
        return agreement_id

    def apply_offline(self, terms=TERMS):
        return self.post("/agreements/offline", {"unit": UNIT, "terms": terms})

    def rejected_application(self):
        agreement_id = self.apply_offline().get_json()["id"]
        assert self.review(agreement_id, self.department).status_code == 200
        answer = self.review(agreement_id, self.school, "reject", "信息有误")
        assert answer.get_json()["status"] == "application_school_rejected"
        return agreement_id

    def scan(self, agreement_id):
        return self.client.post(f"/agreements/{agreement_id}/scan", headers=self.me,
                                data={"file": (io.BytesIO(PDF), "scan.pdf")}, content_type="multipart/form-data")

    def submit_destination(self):
        return self.post(f"/graduates/{self.id}/destination/submit",
                         {"destination_code": "11", "fields": DESTINATION})

    def approved_destination(self):
        registration = self.submit_destination().get_json()
        self.post(f"/destinations/{registration['id']}/reviews", {"decision": "approve"}, self.department)
        answer = self.post(f"/destinations/{registration['id']}/reviews", {"decision": "approve"}, self.school)
        assert answer.get_json()["status"] == "approved"

    def status(self, agreement_id):
        return self.client.get(f"/agreements/{agreement_id}", headers=self.me).get_json()["status"]


@pytest.fixture
def graduate(client, world):
    return Graduate(client, world)


def test_the_department_rejects_an_offline_application(graduate):
    # application_department_rejected has 31 characters: PostgreSQL refused it in a column of 30.
    agreement_id = graduate.apply_offline().get_json()["id"]
    answer = graduate.review(agreement_id, graduate.department, "reject", "信息有误")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "application_department_rejected"
    assert graduate.status(agreement_id) == "application_department_rejected"


@pytest.mark.parametrize("held", ["application_department_review", "awaiting_scan", "void_review"])
def test_no_destination_is_submitted_while_an_agreement_is_held(graduate, held):
    if held == "void_review":
        agreement_id = graduate.approved_online()
        assert graduate.post(f"/agreements/{agreement_id}/void-request", {"reason": "想换工作"}).status_code == 200
    else:
        agreement_id = graduate.apply_offline().get_json()["id"]
        if held == "awaiting_scan":
            graduate.review(agreement_id, graduate.department)
            graduate.review(agreement_id, graduate.school)
    assert graduate.status(agreement_id) == held
    answer = graduate.submit_destination()
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["code"] == "agreement_held"


def test_a_rejected_void_leaves_the_agreement_alone_in_force(graduate):
    agreement_id = graduate.approved_online()
    graduate.post(f"/agreements/{agreement_id}/void-request", {"reason": "想换工作"})
    assert graduate.submit_destination().status_code == 409
    answer = graduate.post(f"/agreements/{agreement_id}/void-reviews", {"decision": "reject", "reason": "不同意"},
                           graduate.school)
    assert answer.get_json()["status"] == "approved"


def test_a_rejected_application_is_not_resubmitted_over_an_approved_destination(graduate):
    agreement_id = graduate.rejected_application()
    graduate.approved_destination()
    answer = graduate.post(f"/agreements/{agreement_id}/application", {})
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["code"] == "destination_registered"
    assert graduate.status(agreement_id) == "application_school_rejected"


def test_a_rejected_application_is_not_resubmitted_beside_another_held_agreement(graduate):
    agreement_id = graduate.rejected_application()
    online_id = graduate.invite()
    assert graduate.post(f"/agreements/{online_id}/accept").status_code == 200
    answer = graduate.post(f"/agreements/{agreement_id}/application", {})
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["code"] == "agreement_held"
    assert graduate.status(agreement_id) == "application_school_rejected"


def test_a_rejected_scan_is_not_resubmitted_beside_another_held_agreement(graduate):
    agreement_id = graduate.post("/agreements/supplementary", {"unit": UNIT, "terms": TERMS,
                                                              "signed_on": "2025-01-02"}).get_json()["id"]
    assert graduate.scan(agreement_id).get_json()["status"] == "department_review"
    assert graduate.review(agreement_id, graduate.department, "reject", "扫描件不清晰").status_code == 200
    online_id = graduate.invite()
    assert graduate.post(f"/agreements/{online_id}/accept").status_code == 200
    answer = graduate.scan(agreement_id)
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["code"] == "agreement_held"
    assert graduate.status(agreement_id) == "department_rejected"


def test_a_scan_awaited_is_still_accepted(graduate):
    # The agreement awaiting its scan is the one the graduate holds: not "another" agreement.
    agreement_id = graduate.apply_offline().get_json()["id"]
    graduate.review(agreement_id, graduate.department)
    graduate.review(agreement_id, graduate.school)
    assert graduate.scan(agreement_id).get_json()["status"] == "department_review"


@pytest.mark.parametrize("field,value", [("job_title", ["x" * 5000]), ("remarks", {"a": 1}),
                                         ("position_category", ["10"]), ("contact_phone", 13800000000)])
def test_terms_that_are_not_text_are_refused_naming_the_field(graduate, field, value):
    answer = graduate.apply_offline({**TERMS, field: value})
    assert answer.status_code == 422, answer.get_json()
    assert field in str(answer.get_json()), answer.get_json()
    assert graduate.client.get("/agreements", headers=graduate.me).get_json()["total"] == 0


def test_a_unit_field_that_is_not_text_is_refused(graduate):
    answer = graduate.post("/agreements/offline", {"unit": {**UNIT, "name": ["佛山"]}, "terms": TERMS})
    assert answer.status_code == 422, answer.get_json()
    assert "name" in str(answer.get_json())


def test_a_void_is_not_asked_while_a_termination_is_under_way(graduate):
    agreement_id = graduate.approved_online()
    termination = graduate.post(f"/agreements/{agreement_id}/terminations", {"reason": "个人原因"}).get_json()
    assert graduate.post(f"/terminations/{termination['id']}/agree", None, graduate.employer).status_code == 200
    answer = graduate.post(f"/agreements/{agreement_id}/void-request", {"reason": "想作废"})
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["code"] == "termination_open"
    decided = graduate.post(f"/terminations/{termination['id']}/reviews", {"decision": "approve"}, graduate.school)
    assert decided.get_json()["status"] == "approved"
    assert graduate.status(agreement_id) == "terminated"


def test_a_void_is_asked_once_a_termination_was_declined(graduate):
    agreement_id = graduate.approved_online()
    termination = graduate.post(f"/agreements/{agreement_id}/terminations", {"reason": "个人原因"}).get_json()
    graduate.post(f"/terminations/{termination['id']}/withdraw")
    answer = graduate.post(f"/agreements/{agreement_id}/void-request", {"reason": "想作废"})
    assert answer.status_code == 200, answer.get_json()


def test_an_employer_invites_again_once_its_invitation_is_past_its_deadline(graduate, service, world):
    first = graduate.invite()
    assert graduate.post("/invitations", {"exam_number": "26440100000001", "name": "学生1", "terms": TERMS},
                         graduate.employer).get_json()["code"] == "invitation_open"
    with service.engine.begin() as conn:  # the deadline passed; the expiry job has not run yet
        conn.execute(update(agreements).where(agreements.c.id == first)
                     .values(respond_by=utcnow() - timedelta(minutes=1)))
    second = graduate.invite()
    assert second != first
    assert graduate.status(first) == "expired"
    assert graduate.status(second) == "invited"
    expired = [e for e in world.events() if e["type"] == "signing.agreement.expired"]
    assert [e["subject"] for e in expired] == [first]


def test_a_paper_agreement_signed_today_in_china_is_registered_before_eight_utc(graduate, monkeypatch):
    # 2026-06-01 07:00 in Beijing is still 2026-05-31 in UTC.
    monkeypatch.setattr(online, "now", lambda: datetime(2026, 5, 31, 23, 0, tzinfo=UTC))
    answer = graduate.post("/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "2026-06-01"})
    assert answer.status_code == 201, answer.get_json()
    tomorrow = graduate.post("/agreements/supplementary", {"unit": UNIT, "terms": TERMS, "signed_on": "2026-06-02"})
    assert tomorrow.status_code == 422
