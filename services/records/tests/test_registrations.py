"""Archive and hukou registration: gating by the province and the school's settings, the draft,
the submission, the department and school reviews, refused transitions, transfer numbers, events,
and who may do what."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.contracts.accounts import MODULE_ENABLED
from quxiang.common.contracts.records import (
    ARCHIVE_APPROVED,
    ARCHIVE_REJECTED,
    ARCHIVE_SUBMITTED,
    HUKOU_APPROVED,
    SCHOOL_SETTINGS_UPDATED,
)
from quxiang.records.adapters.tables import province_modules, registration_history, school_module_settings
from quxiang.records.entrypoints.consumers import on_module_enabled
from quxiang.records.service.registrations import china_today

from .roster_data import csv_file, identity, row, upload

ARCHIVE = {"transfer_type": "employer", "receiving_unit": "广州某科技有限公司", "receiving_department": "人力资源部",
           "address": "广州市天河区某路1号", "postcode": "510000", "recipient": "王老师", "phone": "13800000000"}


class Scenario:
    """A school with two departments and three graduates; helpers for each role's calls."""

    def __init__(self, client, world):
        self.client, self.world = client, world
        world.school()
        self.cs = world.department(code="01", name="计算机学院")
        self.math = world.department(code="02", name="数学学院")
        rows = [row(1), row(2), row(3, 院系="02")]
        assert upload(client, world.school_user(), csv_file(rows)).status_code == 201
        listing = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"]
        self.ids = {g["exam_number"]: g["id"] for g in listing}
        self.g1, self.g2, self.g3 = (self.ids[row(i)["考生号"]] for i in (1, 2, 3))

    def enable(self, module="archive", province="44"):
        self.world._deliver(on_module_enabled, MODULE_ENABLED, f"{province}.{module}",
                            {"province": province, "module": module, "enabled_by": "p1"})

    def school(self, archive=Access.WRITE, hukou=Access.WRITE, school="10558"):
        return self.world.headers(Role.SCHOOL, {Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: archive,
                                                Module.HUKOU: hukou}, province="44", school=school)

    def department(self, department_id, access=Access.WRITE):
        return self.world.headers(Role.DEPARTMENT, {Module.ARCHIVE: access, Module.HUKOU: access}, province="44",
                                  school="10558", department=department_id)

    def province(self, province="44"):
        return self.world.headers(Role.PROVINCE, province=province)

    def graduate(self, graduate_id):
        return self.world.headers(Role.GRADUATE, province="44", school="10558", graduate=graduate_id)

    def settings(self, module="archive", department_review=True, deadline=None):
        deadline = deadline or (china_today() + dt.timedelta(days=30))
        return self.client.put(f"/schools/10558/settings/{module}", headers=self.school(),
                               json={"department_review": department_review, "deadline": deadline.isoformat(),
                                     "notice": "请如实填写"})

    def open(self, module="archive", department_review=True):
        self.enable(module)
        assert self.settings(module, department_review).status_code == 200

    def submit(self, graduate_id, module="archive", data=None):
        return self.client.post(f"/graduates/{graduate_id}/{module}/submit", headers=self.graduate(graduate_id),
                                json=ARCHIVE if data is None and module == "archive" else data)

    def review(self, graduate_id, headers, decision="approve", reason=None, module="archive"):
        return self.client.post(f"/graduates/{graduate_id}/{module}/reviews", headers=headers,
                                json={"decision": decision, "reason": reason})


@pytest.fixture
def s(client, world):
    return Scenario(client, world)


# --- gating --------------------------------------------------------------------------------------


def test_graduates_wait_for_the_province_and_the_school(s):
    first = s.submit(s.g1)
    assert first.status_code == 403 and first.get_json()["code"] == "module_not_enabled"
    s.enable()
    second = s.submit(s.g1)
    assert second.status_code == 403 and second.get_json()["code"] == "settings_incomplete"
    assert s.settings().status_code == 200
    assert s.submit(s.g1).status_code == 200
    # another province's switch does not open this one
    s.enable("hukou", province="11")
    assert s.client.get(f"/graduates/{s.g1}/hukou", headers=s.graduate(s.g1)).get_json()["availability"][
        "enabled"] is False


def test_the_deadline_closes_the_module(s, world, service):
    s.enable()
    assert s.settings(deadline=china_today()).status_code == 200
    yesterday = china_today() - dt.timedelta(days=1)
    refused = s.settings(deadline=yesterday)  # a slip of the keyboard would close it for everyone
    assert refused.status_code == 422 and refused.get_json()["code"] == "deadline_in_the_past"
    assert refused.get_json()["field"] == "deadline"
    for too_far in (dt.date(china_today().year + 2, 1, 1), dt.date(9999, 12, 31)):  # 2207 for 2027 never closes
        far = s.settings(deadline=too_far)
        assert far.status_code == 422 and far.get_json()["code"] == "deadline_too_far", too_far
    assert s.settings(deadline=dt.date(china_today().year + 1, 12, 31)).status_code == 200
    with service.engine.begin() as conn:  # the day passes
        conn.execute(update(school_module_settings).values(deadline=yesterday))
    late = s.submit(s.g1)
    assert late.status_code == 403 and late.get_json()["code"] == "deadline_passed"
    assert s.settings(deadline=china_today()).status_code == 200  # the deadline day itself is open
    assert s.submit(s.g1).status_code == 200


def test_the_detail_offers_only_what_the_module_allows_now(s, service):
    def actions(graduate_id, headers):
        return set(s.client.get(f"/graduates/{graduate_id}/archive", headers=headers).get_json()["allowed_actions"])

    assert actions(s.g1, s.graduate(s.g1)) == set()  # the province has not switched it on
    s.open("archive", department_review=False)
    assert actions(s.g1, s.graduate(s.g1)) == {"save", "submit"}
    assert s.submit(s.g2).status_code == 200
    assert actions(s.g2, s.school()) == {"school_approve", "school_reject"}
    with service.engine.begin() as conn:  # the deadline passes
        conn.execute(update(school_module_settings).values(deadline=china_today() - dt.timedelta(days=1)))
    assert actions(s.g1, s.graduate(s.g1)) == set()  # nothing the graduate may still do
    assert actions(s.g2, s.school()) == {"school_approve", "school_reject"}  # what came in time is decided
    assert s.review(s.g2, s.school()).status_code == 200

def test_module_enabled_is_idempotent(s, service):
    s.enable()
    s.enable()
    with service.engine.connect() as conn:
        assert len(conn.execute(select(province_modules)).all()) == 1


def test_settings_are_the_schools_and_announced(s, world):
    s.enable()
    assert s.settings().status_code == 200
    again = s.settings(department_review=False)
    body = again.get_json()
    assert body["completed"] is True and body["department_review"] is False and body["version"] == 2
    events = world.events(SCHOOL_SETTINGS_UPDATED)
    assert [(e["sequence"], e["data"]) for e in events] == [
        (1, {"school_code": "10558", "module": "archive", "completed": True}),
        (2, {"school_code": "10558", "module": "archive", "completed": True})]
    read_only = s.client.put("/schools/10558/settings/archive", headers=s.school(archive=Access.READ),
                             json={"department_review": True, "deadline": "2027-06-30"})
    assert read_only.status_code == 403
    world.school("10561", "华南理工大学")
    other = s.client.put("/schools/10561/settings/archive", headers=s.school(),
                         json={"department_review": True, "deadline": "2027-06-30"})
    assert other.status_code == 403
    missing = s.client.put("/schools/10558/settings/archive", headers=s.school(), json={"deadline": "2027-06-30"})
    assert missing.status_code == 422
    assert s.client.get("/schools/10558/settings/archive", headers=s.department(s.cs)).status_code == 200
    assert s.client.get("/schools/10558/settings/archive", headers=s.province("11")).status_code == 404


# --- the flow ------------------------------------------------------------------------------------


def test_draft_submit_department_then_school_review(s, world, service):
    s.open()
    headers = s.graduate(s.g1)
    draft = s.client.put(f"/graduates/{s.g1}/archive/draft", headers=headers,
                         json={"transfer_type": "employer", "receiving_unit": "广州某科技有限公司"})
    assert draft.status_code == 200 and draft.get_json()["status"] == "draft"
    incomplete = s.client.post(f"/graduates/{s.g1}/archive/submit", headers=headers)
    assert incomplete.status_code == 422
    assert set(incomplete.get_json()["errors"]) == {"address", "postcode", "recipient", "phone"}
    submitted = s.submit(s.g1)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "department_review"

    early = s.review(s.g1, s.school())
    assert early.status_code == 409
    problem = early.get_json()
    assert problem["current_status"] == "department_review" and "待院系审核" in problem["detail"]
    assert set(problem["allowed_actions"]) == {"department_approve", "department_reject"}

    assert s.review(s.g1, s.department(s.math)).status_code == 404  # not that department's graduate
    passed = s.review(s.g1, s.department(s.cs))
    assert passed.status_code == 200 and passed.get_json()["status"] == "school_review"
    no_reason = s.review(s.g1, s.school(), "reject")
    assert no_reason.status_code == 422 and no_reason.get_json()["code"] == "reason_required"
    rejected = s.review(s.g1, s.school(), "reject", "接收单位地址不完整")
    assert rejected.get_json()["status"] == "school_rejected"
    assert rejected.get_json()["status_label"] == "审核不通过（学校审核不通过）"

    again = s.submit(s.g1, data={**ARCHIVE, "address": "广州市天河区某路1号A座"})
    assert again.get_json()["status"] == "department_review"
    s.review(s.g1, s.department(s.cs))
    approved = s.review(s.g1, s.school()).get_json()
    assert approved["status"] == "approved"
    assert approved["transfer_number"] == "202610558" + "0000001"
    assert [(h["action"], h["level"]) for h in approved["history"]] == [
        ("submit", "graduate"), ("department_approve", "department"), ("school_reject", "school"),
        ("submit", "graduate"), ("department_approve", "department"), ("school_approve", "school")]
    assert approved["history"][2]["reason"] == "接收单位地址不完整"
    assert all(h["actor_id"] and h["at"] for h in approved["history"])
    # a change answers with what it wrote: the same as reading the detail afterwards
    assert approved == s.client.get(f"/graduates/{s.g1}/archive", headers=s.school()).get_json()
    assert again.get_json() == {**again.get_json(), "version": approved["version"] - 2}

    types = [e["type"] for e in world.events() if e["type"].startswith("records.archive")]
    assert types == [ARCHIVE_SUBMITTED, ARCHIVE_REJECTED, ARCHIVE_SUBMITTED, ARCHIVE_APPROVED]
    # never approved until the last step: no approval stood while it was in review or refused
    assert [e["data"]["approval_stands"] for e in world.events() if e["type"].startswith("records.archive")] == \
        [False, False, False, True]
    final = world.events(ARCHIVE_APPROVED)[0]
    assert final["subject"] == approved["registration_id"] and final["sequence"] == approved["version"]
    assert final["data"]["transfer"]["address"] == "广州市天河区某路1号A座"
    assert final["data"]["transfer_number"] == approved["transfer_number"]
    assert final["data"]["level"] == "school" and final["data"]["exam_number"] == row(1)["考生号"]
    text = json.dumps(world.events())
    assert identity(1) not in text and identity(2) not in text


def test_school_only_review_and_the_approved_state(s, world):
    s.open("hukou", department_review=False)
    submitted = s.submit(s.g2, "hukou", {"transfer_type": "origin", "address": "广州市越秀区某街2号"})
    assert submitted.get_json()["status"] == "school_review"
    assert s.review(s.g2, s.department(s.cs), module="hukou").status_code == 409
    approved = s.review(s.g2, s.school(), module="hukou").get_json()
    assert approved["status"] == "approved" and approved["transfer_number"] is None  # hukou: no 转递编号
    # an approved registration changes only by a new submission, reviewed again
    draft = s.client.put(f"/graduates/{s.g2}/hukou/draft", headers=s.graduate(s.g2), json={"transfer_type": "origin"})
    assert draft.status_code == 409 and draft.get_json()["current_status"] == "approved"
    resubmitted = s.submit(s.g2, "hukou", {"transfer_type": "not_at_school", "address": "忽略"})
    assert resubmitted.get_json()["status"] == "school_review"
    assert resubmitted.get_json()["transfer"]["address"] is None  # a type without an address keeps none
    assert len(world.events(HUKOU_APPROVED)) == 1


def test_refused_steps(s):
    s.open()
    assert s.review(s.g1, s.school()).status_code == 409  # nothing submitted yet
    s.submit(s.g1)
    twice = s.submit(s.g1)
    assert twice.status_code == 409 and twice.get_json()["current_status"] == "department_review"
    unknown = s.submit(s.g2, data={"transfer_type": "moon"})
    assert unknown.status_code == 422 and "transfer_type" in unknown.get_json()["errors"]
    bad = s.submit(s.g2, data={**ARCHIVE, "postcode": "51", "phone": "12"})
    assert set(bad.get_json()["errors"]) == {"postcode", "phone"}
    retained = s.submit(s.g2, data={"transfer_type": "retained"})
    assert retained.status_code == 200  # 保留原校 needs no address
    wrong = s.client.post(f"/graduates/{s.g1}/archive/reviews", headers=s.department(s.cs),
                          json={"decision": "maybe"})
    assert wrong.status_code == 422


def test_transfer_numbers_are_unique_per_school_and_year(s):
    s.open(department_review=False)
    numbers = []
    for graduate in (s.g1, s.g2, s.g3):
        s.submit(graduate)
        numbers.append(s.review(graduate, s.school()).get_json()["transfer_number"])
    assert numbers == [f"202610558{n:07d}" for n in (1, 2, 3)]
    s.submit(s.g1)  # a new submission of an approved one keeps its number
    assert s.review(s.g1, s.school()).get_json()["transfer_number"] == numbers[0]


# --- who may do what -----------------------------------------------------------------------------


def test_permissions_and_scope(s, world):
    s.open(department_review=False)
    s.submit(s.g1)
    assert s.review(s.g1, s.school(archive=Access.READ)).status_code == 403
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.school(archive=Access.READ)).status_code == 200
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.school(archive=Access.NONE)).status_code == 403
    assert s.client.get("/archive/registrations", headers=s.school(archive=Access.NONE)).status_code == 403
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.graduate(s.g2)).status_code == 404
    assert s.client.put(f"/graduates/{s.g1}/archive/draft", headers=s.graduate(s.g2),
                        json={"transfer_type": "retained"}).status_code == 404
    assert s.client.post(f"/graduates/{s.g1}/archive/submit", headers=s.school(), json=ARCHIVE).status_code == 403
    assert s.review(s.g1, s.province()).status_code == 403
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.province()).status_code == 200
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.province("11")).status_code == 404
    world.school("10561", "华南理工大学")
    assert s.client.get(f"/graduates/{s.g1}/archive", headers=s.school(school="10561")).status_code == 404
    assert s.review(s.g1, s.school(school="10561")).status_code == 404


def test_every_review_is_recorded(s, service):
    s.open()
    s.submit(s.g3)
    s.review(s.g3, s.department(s.math), "reject", "请补充收件人电话")
    with service.engine.connect() as conn:
        rows = conn.execute(select(registration_history).order_by(registration_history.c.version)).all()
    assert [(r.action, r.level, r.status, r.reason) for r in rows] == [
        ("submit", "graduate", "department_review", None),
        ("department_reject", "department", "department_rejected", "请补充收件人电话")]
    assert rows[1].actor_role == "department" and rows[1].snapshot["transfer_type"] == "employer"


def test_settings_wait_for_the_province_to_switch_the_module_on(s, world):
    # The guide: once the province switched a module on, the school completes its settings.
    refused = s.settings()
    assert refused.status_code == 403 and refused.get_json()["code"] == "module_not_enabled"
    assert world.events(SCHOOL_SETTINGS_UPDATED) == []
    s.enable()
    assert s.settings().status_code == 200


def test_two_first_saves_of_the_settings_at_once(s, app, service, monkeypatch):
    # Both find no settings yet; the second plain INSERT failed on the key (500). Now the second
    # waits for the first's row and writes version 2 over it.
    import threading

    from quxiang.records.service import registrations

    if service.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    s.enable()
    barrier = threading.Barrier(2, timeout=10)
    real = registrations.store.get_settings
    waited: set[str] = set()

    def read_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        name = threading.current_thread().name
        if name.startswith("save") and name not in waited:
            waited.add(name)
            barrier.wait()
        return found

    monkeypatch.setattr(registrations.store, "get_settings", read_then_wait)
    answers = []

    def save(department_review):
        client = app.test_client()
        answers.append(client.put("/schools/10558/settings/archive", headers=s.school(),
                                  json={"department_review": department_review, "deadline": "2027-06-30"}))

    workers = [threading.Thread(target=save, args=(review,), name=f"save-{review}") for review in (True, False)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    assert sorted(a.status_code for a in answers) == [200, 200]
    # each answer reads the settings after its commit: the first may already show the second's
    assert max(a.get_json()["version"] for a in answers) == 2
    assert [e["sequence"] for e in s.world.events(SCHOOL_SETTINGS_UPDATED)] == [1, 2]


@pytest.mark.parametrize(("field", "value"), [("postcode", "５１００００"), ("postcode", "٥١٠٠٠٠"),
                                              ("phone", "1３800000000"), ("phone", "020-１２３45678"),
                                              ("phone", "10000000000"), ("phone", "12000000000")])
def test_digits_are_ascii_and_mobile_numbers_start_13_to_19(s, field, value):
    s.open()
    refused = s.submit(s.g1, data={**ARCHIVE, field: value})
    assert refused.status_code == 422 and field in refused.get_json()["errors"], value
    assert s.submit(s.g1, data={**ARCHIVE, "phone": "19912345678"}).status_code == 200


def test_department_review_is_not_switched_off_while_departments_have_registrations(s):
    """Switched off, a registration waiting for its department would have no one to decide it (the
    school acts after the department): refused, naming how many wait, until the department decided.
    Another module's waiting registrations do not hold this one back."""
    s.open("archive")
    s.open("hukou")
    assert s.submit(s.g1).get_json()["status"] == "department_review"
    refused = s.settings("archive", department_review=False)
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert (body["code"], body["waiting"], body["field"]) == ("department_reviews_pending", 1, "department_review")
    assert s.settings("hukou", department_review=False).status_code == 200
    assert s.review(s.g1, s.department(s.cs)).status_code == 200
    assert s.settings("archive", department_review=False).status_code == 200


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_submission_while_department_review_is_switched_off_follows_the_new_setting(s, service):
    """The school's change holds its settings (as put_settings does) when a graduate submits: the
    submission waits for it and goes to the school, as the settings now say. Read without waiting, it
    went to a department review switched off meanwhile, which no count had refused."""
    import threading
    import time

    from sqlalchemy import select, update

    s.open("archive")
    client = s.client.application.test_client()
    answers = []
    key = (school_module_settings.c.school_code == "10558", school_module_settings.c.module == "archive")
    with service.engine.connect() as school:
        school.execute(select(school_module_settings.c.version).where(*key).with_for_update())
        submitting = threading.Thread(target=lambda: answers.append(client.post(
            f"/graduates/{s.g1}/archive/submit", headers=s.graduate(s.g1), json=ARCHIVE)))
        submitting.start()
        time.sleep(0.5)  # the submission has read the graduate and the registration, and waits
        assert answers == []
        school.execute(update(school_module_settings).where(*key).values(department_review=False))
        school.commit()
    submitting.join(10)
    assert [a.status_code for a in answers] == [200]
    assert answers[0].get_json()["status"] == "school_review"


@pytest.mark.parametrize("postcode", ["000000", "870000", "99999a", "51000"])
def test_a_postcode_that_no_place_has_is_refused(postcode):
    from quxiang.records.domain.registration import InvalidTransfer, RegistrationModule, check_transfer

    with pytest.raises(InvalidTransfer) as caught:
        check_transfer(RegistrationModule.ARCHIVE, {**ARCHIVE, "postcode": postcode}, complete=True)
    assert caught.value.errors == {"postcode": ["应为6位邮政编码（前两位01至86）"]}
    assert check_transfer(RegistrationModule.ARCHIVE, {**ARCHIVE, "postcode": "010010"}, complete=True).postcode == \
        "010010"


def test_a_truncated_body_is_refused_not_read_as_none(s):
    """The submission reads an optional body by hand: a truncated one must not submit the draft."""
    s.open("archive")
    assert s.client.put(f"/graduates/{s.g1}/archive/draft", headers=s.graduate(s.g1),
                        json={"transfer_type": "employer"}).status_code == 200
    answer = s.client.post(f"/graduates/{s.g1}/archive/submit", headers=s.graduate(s.g1),
                           data='{"receiving_unit": "深圳市人才中心"', content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["code"] == "invalid_json"
    assert s.world.events("records.archive.submitted") == []


def test_a_refused_change_leaves_the_approval_standing(s):
    """Approved, then changed and refused: the graduate keeps the approved registration with its
    data, as the EMS does (it mirrors approvals only), and the event says so."""
    s.open("archive", department_review=False)
    first = s.submit(s.g1)
    assert first.status_code == 200 and first.get_json()["approval_stands"] is False
    approved = s.review(s.g1, s.school())
    assert approved.status_code == 200 and approved.get_json()["approval_stands"] is True
    number = approved.get_json()["transfer_number"]
    changed = {**ARCHIVE, "receiving_unit": "深圳某科技有限公司", "address": "深圳市南山区某路9号"}
    in_review = s.submit(s.g1, data=changed).get_json()
    assert in_review["status"] == "school_review" and in_review["approval_stands"] is True
    # the events say whether an approval stands: the statistics keep counting the change as 已登记
    assert [e["data"]["approval_stands"] for e in s.world.events(ARCHIVE_SUBMITTED)] == [False, True]
    assert [e["data"]["approval_stands"] for e in s.world.events(ARCHIVE_APPROVED)] == [True]
    refused = s.review(s.g1, s.school(), decision="reject", reason="单位信息有误")
    assert refused.status_code == 200, refused.get_json()
    body = refused.get_json()
    assert body["status"] == "approved" and body["transfer_number"] == number
    assert body["transfer"]["receiving_unit"] == ARCHIVE["receiving_unit"]
    assert body["history"][-1]["reason"] == "单位信息有误"
    [event] = s.world.events(ARCHIVE_REJECTED)
    data = event["data"]
    assert data["status"] == "approved" and data["transfer"]["address"] == ARCHIVE["address"]
    assert data["approval_stands"] is True
    assert data["transfer_number"] == number
    # refused again after another change: still the first approval's data
    assert s.submit(s.g1, data=changed).status_code == 200
    assert s.review(s.g1, s.school(), decision="reject", reason="仍有误").get_json()["transfer"]["address"] \
        == ARCHIVE["address"]
    # a change approved replaces it
    assert s.submit(s.g1, data=changed).status_code == 200
    assert s.review(s.g1, s.school()).get_json()["transfer"]["address"] == changed["address"]


def test_the_settings_are_announced_again_as_they_stand(s, config, capsys):
    # qx-records republish-settings: a service whose copy lost a school's 档案/户口设置 gets it back
    from quxiang.records.entrypoints.cli import main

    s.open("archive")
    s.open("hukou", department_review=False)
    assert s.settings("archive", False).status_code == 200  # the archive settings' second version
    first = {e["subject"]: e for e in s.world.events("records.school_settings.updated")}
    assert main(["republish-settings"], config=config) == 0
    assert capsys.readouterr().out.strip() == "announced again: 2 school archive/hukou setting(s)"
    again = s.world.events("records.school_settings.updated")[-2:]
    assert {e["subject"]: (e["sequence"], e["data"]) for e in again} == \
        {k: (e["sequence"], e["data"]) for k, e in first.items()}
    assert first["10558.archive"]["sequence"] == 2
