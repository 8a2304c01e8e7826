"""Employers register themselves: input checked field by field, the credit code and username unique."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quxiang.accounts.domain.model import Conflict
from quxiang.accounts.service import employers
from quxiang.common.auth.principal import Role
from quxiang.common.bus.tables import outbox
from quxiang.common.contracts.accounts import EMPLOYER_REGISTERED, EMPLOYER_UPDATED, USER_CREATED
from quxiang.common.events import catalogue
from quxiang.common.validators import make_credit_code

from .helpers import auth

CREDIT_CODE = make_credit_code("91440101MA59ABCD1")
PASSWORD = "Passw0rd!"


def registration(**changes):
    body = {"credit_code": CREDIT_CODE, "name": "广州某某科技有限公司", "nature": "10", "industry": "22",
            "region": "440106", "address": "广州市天河区某路1号", "contact_name": "李四",
            "contact_phone": "020-12345678", "username": "acme-hr", "password": PASSWORD}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def test_an_employer_registers_logs_in_and_reads_its_unit(client, service):
    body = registration(credit_code=CREDIT_CODE.lower(), name="  广州某某科技有限公司 ")
    answer = client.post("/employers", json=body)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    employer = body["employer"]
    assert employer["credit_code"] == CREDIT_CODE and employer["name"] == "广州某某科技有限公司"
    assert employer["nature_label"] == "机关" and employer["industry_label"] == "制造业"
    assert body["username"] == "acme-hr"

    tokens = client.post("/auth/login", json={"username": "acme-hr", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/employers/me", headers=headers).get_json() == employer
    me = client.get("/me", headers=headers).get_json()
    assert me["role"] == "employer" and me["scope"] == {"employer": employer["id"]} and me["id"] == body["user_id"]

    with service.unit_of_work() as uow:
        events = [catalogue.decode(p) for p in uow.session.execute(select(outbox.c.payload).order_by(outbox.c.id))
                  .scalars()]
    assert [e.type for e in events] == [EMPLOYER_REGISTERED, USER_CREATED]
    assert events[0].subject == employer["id"] and events[0].data["credit_code"] == CREDIT_CODE
    assert events[1].data["employer"] == employer["id"] and events[1].data["role"] == "employer"
    assert PASSWORD not in str([e.to_dict() for e in events])


@pytest.mark.parametrize(("changes", "field"), [
    ({"credit_code": CREDIT_CODE[:-1] + ("0" if CREDIT_CODE[-1] != "0" else "1")}, "credit_code"),  # check char
    ({"credit_code": "91440101MA59ABC"}, "credit_code"),  # too short
    ({"credit_code": "91440101MA59ABCDI" + "1"}, "credit_code"),  # I is not in the charset
    ({"nature": "98"}, "nature"),
    ({"industry": "00"}, "industry"),
    ({"region": "990100"}, "region"),  # no such province
    ({"name": "名" * 101}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "广" + "\n" * 98 + "州"}, "name"),  # one line: a PDF of 117 pages otherwise
    ({"name": "\u200b\u200b"}, "name"),  # zero-width spaces: a name that shows nothing
    ({"address": "广州市\r\n天河区"}, "address"),
    ({"contact_name": None}, "contact_name"),  # missing
    ({"contact_phone": "call me"}, "contact_phone"),
    ({"username": "a b"}, "username"),
    ({"username": "24440101110001"}, "username"),  # a 考生号: the graduate's username to come
    ({"password": "password"}, "password"),
])
def test_bad_input_names_the_field(client, changes, field):
    answer = client.post("/employers", json=registration(**changes))
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"], answer.get_json()
    assert answer.get_json()["code"] == "validation_error"


def test_the_credit_code_message_says_what_is_wrong(client):
    bad = CREDIT_CODE[:-1] + ("0" if CREDIT_CODE[-1] != "0" else "1")
    answer = client.post("/employers", json=registration(credit_code=bad))
    assert answer.get_json()["errors"]["credit_code"] == ["统一社会信用代码：校验码不正确，请核对每一位"]


def test_a_credit_code_registers_once_and_a_username_is_taken_once(client):
    assert client.post("/employers", json=registration()).status_code == 201
    again = client.post("/employers", json=registration(username="other-hr"))
    assert again.status_code == 409
    assert again.get_json()["code"] == "employer_exists" and again.get_json()["field"] == "credit_code"
    taken = client.post("/employers", json=registration(credit_code=make_credit_code("91440101MA59ABCD2")))
    assert taken.status_code == 409 and taken.get_json()["code"] == "username_taken"


def test_only_an_employer_has_a_unit(client, seed):
    user = seed.user(Role.PROVINCE, province="44")
    tokens = client.post("/auth/login", json={"username": user.username, "password": PASSWORD}).get_json()
    answer = client.get("/employers/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 403
    assert client.get("/employers/me").status_code == 401


@pytest.mark.parametrize(("changes", "code"), [
    ({"username": "other-hr"}, "employer_exists"),
    ({"credit_code": make_credit_code("91440101MA59ABCD2")}, "username_taken"),
])
def test_a_registration_that_loses_a_race_gets_the_conflict(service, monkeypatch, changes, code):
    def register(**changes):
        body = registration(**changes)
        with service.unit_of_work() as uow:
            return employers.register_employer(uow, employers.Registration(**body))

    register()
    real, calls = employers._conflict, []

    def checked_before_the_other_committed(uow, registration):
        calls.append(registration)
        return None if len(calls) == 1 else real(uow, registration)

    monkeypatch.setattr(employers, "_conflict", checked_before_the_other_committed)
    with pytest.raises(Conflict) as refused:
        register(**changes)
    assert refused.value.code == code and len(calls) == 2


def test_a_unit_cannot_take_a_graduates_exam_number_as_its_username(client):
    answer = client.post("/employers", json=registration(username="24440101110001"))
    assert answer.status_code == 422
    assert "考生号" in str(answer.get_json()["errors"]["username"])
    assert client.post("/employers", json=registration(username="hr2026")).status_code == 201  # digits and letters


def _registered(client):
    answer = client.post("/employers", json=registration())
    assert answer.status_code == 201, answer.get_json()
    tokens = client.post("/auth/login", json={"username": "acme-hr", "password": PASSWORD}).get_json()
    return answer.get_json()["employer"], {"Authorization": f"Bearer {tokens['access_token']}"}


def _unit(**changes):
    body = {k: v for k, v in registration().items() if k not in ("credit_code", "username", "password")}
    return {**body, **changes}


def test_a_unit_changes_its_data_and_the_others_learn_it(client, service):
    employer, headers = _registered(client)
    changed = client.put("/employers/me", headers=headers,
                         json=_unit(name="广州某某信息科技有限公司", address=" 广州市黄埔区某路9号 ", industry="34"))
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["name"], body["address"], body["industry_label"]) == (
        "广州某某信息科技有限公司", "广州市黄埔区某路9号", "信息传输、软件和信息技术服务业")
    assert body["credit_code"] == employer["credit_code"] and body["version"] == 2
    assert client.get("/employers/me", headers=headers).get_json() == body
    # its account is named after it, as at registration
    assert client.get("/me", headers=headers).get_json()["display_name"] == "广州某某信息科技有限公司"
    # the same data again changes nothing and tells nobody
    assert client.put("/employers/me", headers=headers, json=_unit(
        name="广州某某信息科技有限公司", address="广州市黄埔区某路9号", industry="34")).get_json()["version"] == 2
    with service.unit_of_work() as uow:
        events = [catalogue.decode(p) for p in uow.session.execute(select(outbox.c.payload).order_by(outbox.c.id))
                  .scalars()]
    [updated] = [e for e in events if e.type == EMPLOYER_UPDATED]
    assert updated.subject == employer["id"] and updated.sequence == 2
    assert updated.data["name"] == "广州某某信息科技有限公司" and updated.data["address"] == "广州市黄埔区某路9号"
    assert "contact_phone" not in updated.data  # other services keep no contact of the unit's


@pytest.mark.parametrize(("changes", "field"), [
    ({"credit_code": make_credit_code("91440101MA59ABCD2")}, "credit_code"),  # the unit itself: never changed
    ({"name": "广州\n某某"}, "name"),
    ({"nature": "98"}, "nature"),
    ({"region": "990100"}, "region"),
    ({"contact_phone": None}, "contact_phone"),
])
def test_a_bad_change_names_the_field_and_changes_nothing(client, changes, field):
    employer, headers = _registered(client)
    body = {k: v for k, v in _unit(**changes).items() if v is not None}
    refused = client.put("/employers/me", headers=headers, json=body)
    assert refused.status_code == 422 and field in refused.get_json()["errors"], refused.get_json()
    assert client.get("/employers/me", headers=headers).get_json() == employer


def test_only_a_unit_changes_its_own_data(client, service, seed):
    school = seed.user(Role.SCHOOL, province="44", school="10558")
    assert client.put("/employers/me", headers=auth(service, school), json=_unit()).status_code == 403
    assert client.put("/employers/me", json=_unit()).status_code == 401
