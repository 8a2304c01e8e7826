"""A school hands one graduate a new activation code: for a lost code (the old one stops working)
or a forgotten password (the password and every session are gone until the graduate activates
again). Only the school's own employment writers; never for a graduate off the roster."""

from __future__ import annotations

from quxiang.accounts.adapters import repository
from quxiang.common.auth.principal import Access
from quxiang.common.auth.revocation import TOKENS_REVOKED
from quxiang.common.contracts.accounts import GRADUATE_CODE_REISSUED
from quxiang.common.contracts.records import GRADUATE_WITHDRAWN

from .test_activation import activate, deliver, issued_codes, recorded, roster_event, school_headers
from .test_roster_withdrawal import roster

EXAM = "24440101110001"


def reissue(client, headers, graduate_id="g-1", school="10558"):
    return client.post(f"/schools/{school}/graduates/{graduate_id}/activation-code", headers=headers)


def login(client, password):
    return client.post("/auth/login", json={"username": EXAM, "password": password})


def test_a_lost_code_is_replaced_and_the_old_one_stops_working(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event())
    old = issued_codes(client, seed)[EXAM]
    answer = reissue(client, school_headers(client, seed))
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert (body["exam_number"], body["graduate_id"], body["name"], body["password_cleared"]) == \
        (EXAM, "g-1", "张三", False)
    new = body["activation_code"]
    assert new != old
    assert activate(client, EXAM, old).status_code == 400
    assert activate(client, EXAM, new).status_code == 200
    [event] = recorded(service, GRADUATE_CODE_REISSUED)
    assert event.data["password_cleared"] is False and event.data["school"] == "10558"
    assert new.encode() not in event.to_json() and old.encode() not in event.to_json()
    # it counts as handed out: the school's next batch does not hand it out again
    assert issued_codes(client, seed) == {}


def test_a_forgotten_password_is_cleared_with_its_sessions(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event())
    assert activate(client, EXAM, issued_codes(client, seed)[EXAM], password="Old-secret1").status_code == 200
    tokens = login(client, "Old-secret1").get_json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/me", headers=me).status_code == 200
    # the holder locked itself out guessing its password: the new code lets it in again
    for _ in range(6):
        login(client, "Wrong-guess9")
    answer = reissue(client, school_headers(client, seed)).get_json()
    assert answer["password_cleared"] is True
    # its sessions are gone: the refresh token here, access tokens wherever accounts.user.tokens_revoked
    # reaches (tests/test_revocation_across_services.py follows that event through every service)
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(client, "Old-secret1").status_code == 401  # so is the old password
    assert activate(client, EXAM, answer["activation_code"], password="New-secret2").status_code == 200
    assert login(client, "New-secret2").status_code == 200
    [event] = recorded(service, GRADUATE_CODE_REISSUED)
    assert event.data["password_cleared"] is True
    assert [e.data["reason"] for e in recorded(service, TOKENS_REVOKED)] == ["password_reset"]


def test_only_the_school_s_own_writers_and_its_own_graduates(client, service, config, seed):
    seed.school("10558", province="44")
    seed.school("10559", province="44")
    deliver(service, config, roster_event(), roster_event("g-2", "24440101110002", school_code="10559"))
    other = reissue(client, school_headers(client, seed, school="10559"))
    assert other.status_code == 403 and other.get_json()["code"] == "out_of_scope"
    read_only = reissue(client, school_headers(client, seed, employment=Access.READ))
    assert read_only.status_code == 403 and read_only.get_json()["code"] == "module_forbidden"
    # another school's graduate named under this school's code is unknown here
    foreign = reissue(client, school_headers(client, seed), graduate_id="g-2")
    assert foreign.status_code == 404 and foreign.get_json()["code"] == "graduate_not_found"
    assert reissue(client, school_headers(client, seed), graduate_id="nobody").status_code == 404
    assert reissue(client, {}).status_code == 401
    assert recorded(service, GRADUATE_CODE_REISSUED) == []


def test_no_code_for_a_graduate_off_the_roster_or_a_disabled_account(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event(), roster(GRADUATE_WITHDRAWN, 2))
    refused = reissue(client, school_headers(client, seed))
    assert refused.status_code == 409 and refused.get_json()["code"] == "graduate_withdrawn"
    deliver(service, config, roster_event("g-2", "24440101110002"))
    with service.unit_of_work() as uow:  # disabled for another reason than the roster
        user = repository.get_user_by_username(uow.session, "24440101110002")
        user.disable()
        repository.save_user(uow.session, user)
        uow.commit()
    disabled = reissue(client, school_headers(client, seed), graduate_id="g-2")
    assert disabled.status_code == 409 and disabled.get_json()["code"] == "account_disabled"
    assert recorded(service, GRADUATE_CODE_REISSUED) == []
