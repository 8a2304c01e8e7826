"""解约: online (either party asks, the other answers, the school reviews) and offline (the letter),
every refused step, the agreement ending, signing again afterwards, the events and the history."""

from __future__ import annotations

import io

import pytest

from quxiang.common.contracts import signing as contracts

from .conftest import TERMS
from .test_agreement_flows import PNG, UNIT, approve, post
from .test_online_signing import Scene


@pytest.fixture
def signed(client, world):
    scene = Scene(client, world)
    scene.settings()
    scene.graduate_headers = world.graduate_user(scene.g1)
    scene.employer_headers = world.employer_user(scene.e1)
    scene.department = world.department_user(scene.cs)
    agreement = scene.invite(scene.e1).get_json()["id"]
    scene.act(agreement, "accept", scene.graduate_headers)
    approve(scene, agreement)
    scene.agreement = agreement
    return scene


def ask(scene, headers, reason="个人原因"):
    return scene.client.post(f"/agreements/{scene.agreement}/terminations", headers=headers, json={"reason": reason})


def test_online_termination_by_the_graduate(signed, world):
    assert ask(signed, signed.graduate_headers, "").status_code == 422
    asked = ask(signed, signed.graduate_headers)
    assert asked.status_code == 201
    termination = asked.get_json()
    assert (termination["status"], termination["requested_by_label"]) == ("awaiting_counterparty", "学生")
    assert ask(signed, signed.employer_headers).get_json()["code"] == "termination_open"
    tid = termination["id"]
    own = post(signed, f"/terminations/{tid}/agree", headers=signed.graduate_headers)
    assert own.status_code == 403 and own.get_json()["code"] == "counterparty_only"
    early = post(signed, f"/terminations/{tid}/reviews", {"decision": "approve"}, headers=signed.school)
    assert early.status_code == 409 and early.get_json()["current_status"] == "awaiting_counterparty"
    assert post(signed, f"/terminations/{tid}/agree", headers=signed.employer_headers).get_json()[
        "status"] == "school_review"
    assert post(signed, f"/terminations/{tid}/reviews", {"decision": "approve"},
                headers=signed.department).status_code == 403
    done = post(signed, f"/terminations/{tid}/reviews", {"decision": "approve"}, headers=signed.school).get_json()
    assert done["status_label"] == "解约审核通过" and done["agreement_status"] == "terminated"
    assert done["agreement_status_label"] == "已解约"
    assert [h["action"] for h in done["history"]] == ["request", "agree", "school_approve"]
    detail = signed.client.get(f"/agreements/{signed.agreement}", headers=signed.school).get_json()
    assert detail["history"][-1]["action"] == "terminate" and detail["history"][-1]["reason"] == "个人原因"
    assert [e["type"] for e in world.events("signing.termination")] == [
        contracts.TERMINATION_REQUESTED, contracts.TERMINATION_AGREED, contracts.TERMINATION_APPROVED]
    ended = world.events(contracts.AGREEMENT_TERMINATED)[0]["data"]
    assert ended["agreement_number"] == detail["number"] and ended["unit_name"] and ended["destination_code"] == "10"
    verified = signed.client.post("/agreements/verify", json={"sha256": detail["document_sha256"]}).get_json()
    assert verified["genuine"] is True and verified["status_label"] == "已解约" and verified["in_force"] is False
    # the graduate may sign again
    again = signed.invite(signed.e2).get_json()["id"]
    assert signed.act(again, "accept", signed.graduate_headers).status_code == 200


def test_declined_withdrawn_and_rejected_requests_keep_the_agreement(signed):
    tid = ask(signed, signed.employer_headers).get_json()["id"]
    assert post(signed, f"/terminations/{tid}/disagree", {}, headers=signed.graduate_headers).status_code == 422
    declined = post(signed, f"/terminations/{tid}/disagree", {"reason": "不同意"}, headers=signed.graduate_headers)
    assert declined.get_json()["status_label"] == "对方不同意解约"
    second = ask(signed, signed.employer_headers).get_json()["id"]
    assert post(signed, f"/terminations/{second}/withdraw", headers=signed.graduate_headers).status_code == 403
    assert post(signed, f"/terminations/{second}/withdraw", headers=signed.employer_headers).get_json()[
        "status"] == "withdrawn"
    third = ask(signed, signed.graduate_headers).get_json()["id"]
    post(signed, f"/terminations/{third}/agree", headers=signed.employer_headers)
    rejected = post(signed, f"/terminations/{third}/reviews", {"decision": "reject", "reason": "材料不全"},
                    headers=signed.school).get_json()
    assert rejected["status"] == "school_rejected" and rejected["agreement_status"] == "approved"
    listed = signed.client.get(f"/agreements/{signed.agreement}/terminations", headers=signed.school).get_json()
    assert [t["status"] for t in listed["items"]] == ["counterparty_declined", "withdrawn", "school_rejected"]
    # the requester reads why it was refused: each listed request carries its history
    employer_view = signed.client.get(f"/agreements/{signed.agreement}/terminations",
                                      headers=signed.employer_headers).get_json()["items"]
    assert [(e["action"], e["reason"]) for e in employer_view[0]["history"] if e["action"] == "disagree"] == [
        ("disagree", "不同意")]
    assert employer_view[2]["history"][-1]["reason"] == "材料不全"


def test_offline_termination_with_the_letter(client, world):
    scene = Scene(client, world)
    scene.settings(department_review=False)
    graduate = world.graduate_user(scene.g1)
    agreement = post_offline(scene, graduate)
    online_ask = client.post(f"/agreements/{agreement}/terminations", headers=graduate, json={"reason": "x"})
    assert online_ask.status_code == 409 and online_ask.get_json()["code"] == "offline_only"

    def letter(data, headers=graduate):
        return client.post(f"/agreements/{agreement}/terminations", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "letter.pdf"), "reason": "单位撤销录用"})

    assert letter(b"plain text, not a letter").status_code == 415
    made = letter(PNG)
    assert made.status_code == 201 and made.get_json()["status"] == "school_review"
    tid = made.get_json()["id"]
    downloaded = client.get(f"/terminations/{tid}/letter", headers=scene.school)
    assert downloaded.get_data() == PNG and downloaded.mimetype == "image/png"
    # named "letter.pdf" but a PNG: saved as one, it opens as what it is
    assert downloaded.headers["Content-Disposition"] == "attachment; filename=letter.pdf.png"
    done = client.post(f"/terminations/{tid}/reviews", headers=scene.school, json={"decision": "approve"}).get_json()
    assert done["agreement_status"] == "terminated"


def post_offline(scene, graduate):
    created = scene.client.post("/agreements/supplementary", headers=graduate,
                                json={"unit": UNIT, "terms": TERMS, "signed_on": "2026-03-02"}).get_json()
    scene.client.post(f"/agreements/{created['id']}/scan", headers=graduate, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(PNG), "scan.png")})
    approved = scene.review(created["id"], scene.school).get_json()
    assert approved["status"] == "approved"
    return created["id"]


def test_only_an_agreement_in_force_ends_and_only_its_parties_ask(client, world):
    scene = Scene(client, world)
    scene.settings()
    agreement = scene.invite(scene.e1).get_json()["id"]
    refused = client.post(f"/agreements/{agreement}/terminations", headers=world.employer_user(scene.e1),
                          json={"reason": "x"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "not_in_force"
    assert client.post(f"/agreements/{agreement}/terminations", headers=world.employer_user(scene.e2),
                       json={"reason": "x"}).status_code == 404
    assert client.post(f"/agreements/{agreement}/terminations", headers=scene.school,
                       json={"reason": "x"}).status_code == 403


def test_every_change_answers_what_a_read_right_after_shows(signed):
    """Each step answers from its own transaction: field for field what the termination's detail
    shows right after, the agreement's status included (terminated by the approval)."""
    def same_as_read(response):
        assert response.status_code in (200, 201), response.get_json()
        answer = response.get_json()
        assert answer == signed.client.get(f"/terminations/{answer['id']}", headers=signed.school).get_json()
        return answer

    declined = same_as_read(ask(signed, signed.employer_headers))["id"]
    same_as_read(post(signed, f"/terminations/{declined}/disagree", {"reason": "不同意"},
                      headers=signed.graduate_headers))
    withdrawn = same_as_read(ask(signed, signed.employer_headers))["id"]
    same_as_read(post(signed, f"/terminations/{withdrawn}/withdraw", headers=signed.employer_headers))
    rejected = same_as_read(ask(signed, signed.graduate_headers))["id"]
    same_as_read(post(signed, f"/terminations/{rejected}/agree", headers=signed.employer_headers))
    same_as_read(post(signed, f"/terminations/{rejected}/reviews", {"decision": "reject", "reason": "材料不全"},
                      headers=signed.school))
    approved = same_as_read(ask(signed, signed.graduate_headers))["id"]
    same_as_read(post(signed, f"/terminations/{approved}/agree", headers=signed.employer_headers))
    done = same_as_read(post(signed, f"/terminations/{approved}/reviews", {"decision": "approve"},
                             headers=signed.school))
    assert done["agreement_status"] == "terminated"


def test_an_offline_termination_reason_with_a_control_character_is_refused(client, world):
    # The reason comes in a multipart form here, which the JSON check of every service does not read.
    scene = Scene(client, world)
    scene.settings(department_review=False)
    graduate = world.graduate_user(scene.g1)
    agreement = post_offline(scene, graduate)
    answer = client.post(f"/agreements/{agreement}/terminations", headers=graduate,
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(PNG), "letter.pdf"), "reason": "单位\x00撤销"})
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["field"] == "reason"
    listed = client.get(f"/agreements/{agreement}/terminations", headers=scene.school).get_json()
    assert listed["items"] == []


def test_the_agreement_lists_show_a_termination_still_open(signed):
    """The employer's and graduate's lists (and the scoped lists) carry the open request, so the party
    it waits for sees it without opening each agreement; a closed one leaves the list as it was."""
    def listed(headers):
        items = signed.client.get("/agreements", headers=headers).get_json()["items"]
        return next(i for i in items if i["id"] == signed.agreement)["open_termination"]

    everyone = (signed.employer_headers, signed.graduate_headers, signed.school)
    assert [listed(h) for h in everyone] == [None, None, None]
    tid = ask(signed, signed.graduate_headers).get_json()["id"]
    waiting = {"id": tid, "status": "awaiting_counterparty", "status_label": "解约申请 待对方确认",
               "requested_by": "graduate"}
    assert [listed(h) for h in everyone] == [waiting, waiting, waiting]
    post(signed, f"/terminations/{tid}/agree", headers=signed.employer_headers)
    assert listed(signed.employer_headers)["status"] == "school_review"
    post(signed, f"/terminations/{tid}/reviews", {"decision": "reject", "reason": "材料不全"}, headers=signed.school)
    assert listed(signed.employer_headers) is None
    second = ask(signed, signed.employer_headers).get_json()["id"]
    assert listed(signed.graduate_headers)["id"] == second  # one row per agreement, the open request's
    assert len(signed.client.get("/agreements", headers=signed.graduate_headers).get_json()["items"]) == 1


def test_an_offline_termination_reason_is_masked_as_an_online_one(client, world):
    scene = Scene(client, world)
    scene.settings(department_review=False)
    graduate = world.graduate_user(scene.g1)
    agreement = post_offline(scene, graduate)
    typed = "11010519491231002X"
    made = client.post(f"/agreements/{agreement}/terminations", headers=graduate, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(PNG), "letter.pdf"), "reason": f"身份证号{typed}有误"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["reason"] == "身份证号110***********002X有误"
    listed = client.get(f"/agreements/{agreement}/terminations", headers=scene.school).get_data(as_text=True)
    assert typed not in listed and "110***********002X" in listed


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_review_locks_the_agreement_before_the_termination(signed, service):
    """A school's approval takes the agreement's lock first, as a new request for the same agreement
    (which locks it, then inserts) does: in the other order the two deadlocked and one of them
    failed with 503. While another transaction holds the agreement the review waits holding nothing."""
    import threading
    import time

    from sqlalchemy import select

    from quxiang.signing.adapters.tables import agreements, terminations

    tid = ask(signed, signed.graduate_headers).get_json()["id"]
    assert post(signed, f"/terminations/{tid}/agree", headers=signed.employer_headers).status_code == 200
    answers = []
    client = signed.client.application.test_client()
    with service.engine.connect() as holder:
        holder.execute(select(agreements.c.id).where(agreements.c.id == signed.agreement).with_for_update())
        review = threading.Thread(target=lambda: answers.append(client.post(
            f"/terminations/{tid}/reviews", json={"decision": "approve"}, headers=signed.school)))
        review.start()
        time.sleep(0.5)  # the review has begun and waits for the agreement
        with service.engine.connect() as other:  # the termination is not locked meanwhile
            assert other.execute(select(terminations.c.status).where(terminations.c.id == tid)
                                 .with_for_update(nowait=True)).scalar_one() == "school_review"
        holder.rollback()
    review.join(10)
    assert [a.status_code for a in answers] == [200]
    assert answers[0].get_json()["agreement_status"] == "terminated"
