"""Personal data in what the services answer: a reason naming the graduate's identity number is
masked on the way in and in the agreement's history the employer reads, as the events mask it; and
no answer (a full number to those entitled to it, an export) may be kept by a cache."""

from __future__ import annotations

import io
import json

from security_scenario import EXAM_NUMBERS, IDENTITY_NUMBERS, ROSTER_HEADER, TERMS
from security_world import new_id, permissions

from quxiang.common.auth.principal import Access, Principal, Role, Scope
from quxiang.common.pii import identity_numbers_in


def _headers(world, principal):
    return {"Authorization": f"Bearer {world.token(principal, ttl=3600)}"}


def _school(world):
    return _headers(world, Principal(new_id(), Role.SCHOOL, Scope(province="44", school="10558"),
                                     permissions(Access.WRITE)))


def _employer(world, key):
    return _headers(world, Principal(new_id(), Role.EMPLOYER, Scope(employer=world.ids[key])))


def _graduate(world, key):
    return _headers(world, Principal(new_id(), Role.GRADUATE, Scope(province="44", school="10558",
                                                                     graduate=world.ids[key])))


def _invite(signing, employer, index):
    invited = signing.post("/invitations", headers=employer,
                           json={"exam_number": EXAM_NUMBERS[index], "name": f"学生{index}", "terms": TERMS})
    assert invited.status_code == 201, invited.get_data(as_text=True)
    return invited.get_json()


def test_a_reason_naming_an_identity_number_is_masked_for_everyone(world):
    signing = world.client("signing")
    employer, graduate = _employer(world, "employer"), _graduate(world, "law_graduate")
    agreement = _invite(signing, employer, 2)["id"]
    assert signing.post(f"/agreements/{agreement}/accept", headers=graduate).status_code == 200
    number = IDENTITY_NUMBERS[2]
    reason = f"学生身份证号与学籍不符（学籍为{number}），请核对后重新发起"
    rejected = signing.post(f"/agreements/{agreement}/reviews", headers=_school(world),
                            json={"decision": "reject", "reason": reason})
    assert rejected.status_code == 200, rejected.get_data(as_text=True)
    world.pump()
    assert not any(identity_numbers_in(json.dumps(e, ensure_ascii=False)) for e in world.events)
    for reader in (employer, graduate, _school(world)):
        seen = signing.get(f"/agreements/{agreement}", headers=reader)
        assert seen.status_code == 200
        reasons = [e["reason"] for e in seen.get_json()["history"] if e["reason"]]
        assert reasons and identity_numbers_in(" ".join(reasons)) == []
        assert "学籍不符" in reasons[-1] and number[-4:] in reasons[-1]  # masked, not dropped


def test_no_answer_is_kept_by_a_cache(world):
    records = world.client("records")
    detail = records.get(f"/graduates/{world.ids['graduate']}", headers=_school(world))
    assert detail.status_code == 200 and detail.get_json()["identity_number_masked"] is False
    export = records.get("/archive/registrations/export.xlsx", headers=_school(world))
    refused = records.get(f"/graduates/{world.ids['graduate']}")
    for answer in (detail, export, refused):
        assert answer.headers["Cache-Control"] == "no-store", answer.status_code
    # an endpoint that says otherwise keeps its own
    login = world.client("accounts").post("/auth/login", json={"username": "nobody", "password": "x" * 12})
    assert login.headers["Cache-Control"] == "no-store"


def test_an_employer_does_not_follow_a_graduate_who_declined(world):
    signing, records = world.client("signing"), world.client("records")
    employer, graduate = _employer(world, "other_employer"), _graduate(world, "other_graduate")
    invited = _invite(signing, employer, 1)
    agreement = invited["id"]
    assert invited["graduate"]["major_name"]  # while the invitation is open the unit sees whom
    declined = signing.post(f"/agreements/{agreement}/decline", headers=graduate, json={"reason": "不考虑"})
    assert declined.status_code == 200, declined.get_data(as_text=True)
    # the school corrects the graduate's major afterwards (a re-import)
    row = f"{EXAM_NUMBERS[1]},S1,学生1,男,{IDENTITY_NUMBERS[1]},LAW,030101,法学,31,440106,2026,,\n"
    imported = records.post("/schools/10558/roster/imports", headers=_school(world),
                            content_type="multipart/form-data",
                            data={"file": (io.BytesIO((ROSTER_HEADER + row).encode()), "r.csv")})
    assert imported.status_code == 201, imported.get_data(as_text=True)
    world.pump()
    seen = signing.get(f"/agreements/{agreement}", headers=employer).get_json()["graduate"]
    assert seen == {"id": world.ids["other_graduate"], "exam_number": EXAM_NUMBERS[1], "name": "学生1"}
    school_view = signing.get(f"/agreements/{agreement}", headers=_school(world)).get_json()["graduate"]
    assert school_view["major_name"] == "法学"  # the school still sees its graduate as it is now


def test_an_employers_list_shows_a_graduate_who_declined_as_the_detail_does(world):
    signing = world.client("signing")
    employer, graduate = _employer(world, "other_employer"), _graduate(world, "other_graduate")
    agreement = _invite(signing, employer, 1)["id"]

    def row():
        items = signing.get("/agreements?page_size=100", headers=employer).get_json()["items"]
        return next(item for item in items if item["id"] == agreement)

    assert row()["school_name"] and row()["identity_number"]  # an open invitation: whom it invited
    assert signing.post(f"/agreements/{agreement}/decline", headers=graduate, json={}).status_code == 200
    declined = row()
    assert (declined["exam_number"], declined["name"]) == (EXAM_NUMBERS[1], "学生1")
    assert (declined["school_name"], declined["school_code"], declined["identity_number"]) == (None, None, None)
