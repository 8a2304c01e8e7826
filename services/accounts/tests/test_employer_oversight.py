"""用人单位账号: the province of a unit's region lists its units, sets a new password for a unit that
forgot its own (or whose credit code somebody else registered first), and stops or restarts the
unit's account; another province's unit is 404, other roles 403."""

from __future__ import annotations

import pytest

from quxiang.common.auth.principal import Role
from quxiang.common.auth.revocation import TOKENS_REVOKED
from quxiang.common.contracts.accounts import USER_DISABLED, USER_ENABLED, USER_PASSWORD_RESET
from quxiang.common.validators import make_credit_code

from .helpers import auth, events
from .test_employers import PASSWORD, registration

BEIJING_CODE = make_credit_code("91110105MA01XYCW2")


@pytest.fixture
def units(client):
    gz = client.post("/employers", json=registration()).get_json()
    bj = client.post("/employers", json=registration(credit_code=BEIJING_CODE, name="北京某某有限公司", region="110105",
                                                     username="bj-hr")).get_json()
    return gz["employer"]["id"], bj["employer"]["id"]


def login(client, username, password):
    return client.post("/auth/login", json={"username": username, "password": password})


def test_a_province_lists_the_units_of_its_region(client, service, seed, units):
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    listed = client.get("/employer-accounts", headers=gd).get_json()
    assert listed["total"] == 1
    [unit] = listed["items"]
    assert (unit["employer_id"], unit["username"], unit["status"], unit["nature_label"]) == \
        (units[0], "acme-hr", "active", "机关")
    assert unit["contact_name"] == "李四" and unit["credit_code"] == registration()["credit_code"]
    assert client.get("/employer-accounts", query_string={"q": "acme"}, headers=gd).get_json()["total"] == 1
    assert client.get("/employer-accounts", query_string={"q": "北京"}, headers=gd).get_json()["total"] == 0
    admin = auth(service, seed.user(Role.ADMIN))
    assert client.get("/employer-accounts", headers=admin).get_json()["total"] == 2
    school = auth(service, seed.user(Role.SCHOOL, province="44", school="10558"))
    refused = client.get("/employer-accounts", headers=school)
    assert refused.status_code == 403 and refused.get_json()["code"] == "role_forbidden"
    assert client.get("/employer-accounts").status_code == 401


def test_a_new_password_for_a_unit_that_proved_itself(client, service, seed, units):
    tokens = login(client, "acme-hr", PASSWORD).get_json()
    for _ in range(6):  # the unit locked itself out guessing
        login(client, "acme-hr", "Wrong-guess9")
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    weak = client.post(f"/employer-accounts/{units[0]}/password", json={"new_password": "acme-hr1"}, headers=gd)
    assert weak.status_code == 422 and "new_password" in weak.get_json()["errors"]
    done = client.post(f"/employer-accounts/{units[0]}/password", json={"new_password": "Handed-0ver"}, headers=gd)
    assert done.status_code == 200, done.get_json()
    assert "Handed-0ver" not in done.get_data(as_text=True)
    assert login(client, "acme-hr", PASSWORD).status_code == 401
    assert login(client, "acme-hr", "Handed-0ver").status_code == 200
    # whoever held the old password is out: its refresh token is refused, its access tokens revoked
    assert client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    [reset] = events(service, USER_PASSWORD_RESET)
    assert reset["data"]["reset_by"] != reset["data"]["user_id"]
    assert "Handed-0ver" not in str(events(service))
    assert [e["data"]["reason"] for e in events(service, TOKENS_REVOKED)] == ["password_reset"]


def test_another_province_s_unit_is_not_found(client, service, seed, units):
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    for path, body in ((f"/employer-accounts/{units[1]}/password", {"new_password": "Handed-0ver"}),
                       (f"/employer-accounts/{units[1]}/disable", None), ("/employer-accounts/nobody/disable", None)):
        answer = client.post(path, json=body, headers=gd)
        assert answer.status_code == 404 and answer.get_json()["code"] == "employer_not_found", path
    assert login(client, "bj-hr", PASSWORD).status_code == 200
    assert events(service, USER_PASSWORD_RESET) == [] and events(service, USER_DISABLED) == []


def test_a_unit_s_account_is_stopped_and_restarted(client, service, seed, units):
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    stopped = client.post(f"/employer-accounts/{units[0]}/disable", headers=gd)
    assert stopped.status_code == 200 and stopped.get_json()["status_label"] == "已停用"
    assert client.post(f"/employer-accounts/{units[0]}/disable", headers=gd).status_code == 200  # idempotent
    [disabled] = events(service, USER_DISABLED)
    assert disabled["data"]["employer_id"] == units[0]  # signing stops dealing with the unit
    assert login(client, "acme-hr", PASSWORD).status_code == 401
    assert client.post(f"/employer-accounts/{units[0]}/enable", headers=gd).get_json()["status"] == "active"
    assert login(client, "acme-hr", PASSWORD).status_code == 200
    [enabled] = events(service, USER_ENABLED)
    assert enabled["data"]["employer_id"] == units[0] and enabled["sequence"] > disabled["sequence"]


def test_the_province_of_the_registering_authority_oversees_a_unit_wherever_it_says_it_is(client, service, seed,
                                                                                          units):
    # A Guangzhou credit code registered first by someone giving a Beijing region (or a unit that moved
    # itself there): Guangdong, whose authority issued the code, still finds and stops it.
    squatted = make_credit_code("91440101MA5TQT0X7")
    answer = client.post("/employers", json=registration(credit_code=squatted, name="冒名单位", region="110105",
                                                         username="squatter"))
    assert answer.status_code == 201, answer.get_json()
    unit = answer.get_json()["employer"]["id"]
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    found = client.get("/employer-accounts", query_string={"q": squatted}, headers=gd).get_json()
    assert [u["employer_id"] for u in found["items"]] == [unit]
    assert client.post(f"/employer-accounts/{unit}/disable", headers=gd).status_code == 200
    assert login(client, "squatter", PASSWORD).status_code == 401
    bj = auth(service, seed.user(Role.PROVINCE, province="11"))  # the region's province oversees it too...
    listed = client.get("/employer-accounts", query_string={"q": squatted}, headers=bj).get_json()["items"]
    assert [(u["stopped_by"], u["stopped_by_label"]) for u in listed] == [("44", "广东省")]
    # ...but cannot lift the registering authority's stop: the squatter chose that region itself
    refused = client.post(f"/employer-accounts/{unit}/enable", headers=bj)
    assert refused.status_code == 403 and refused.get_json()["code"] == "stopped_by_another"
    assert "广东省" in refused.get_json()["detail"]
    assert login(client, "squatter", PASSWORD).status_code == 401
    assert client.post(f"/employer-accounts/{unit}/enable", headers=gd).status_code == 200
    # a stop by the region's province is lifted by it or by the registering authority's
    assert client.post(f"/employer-accounts/{unit}/disable", headers=bj).get_json()["stopped_by"] == "11"
    lifted = client.post(f"/employer-accounts/{unit}/enable", headers=gd).get_json()
    assert (lifted["status"], lifted["stopped_by"]) == ("active", None)
    # the administrator's stop, by the administrator alone
    admin = auth(service, seed.user(Role.ADMIN))
    stopped = client.post(f"/employer-accounts/{unit}/disable", headers=admin).get_json()
    assert stopped["stopped_by_label"] == "平台管理员"
    assert client.post(f"/employer-accounts/{unit}/enable", headers=gd).status_code == 403
    assert client.post(f"/employer-accounts/{unit}/enable", headers=admin).get_json()["status"] == "active"
    # and the province of neither gets a 404
    sh = auth(service, seed.user(Role.PROVINCE, province="31"))
    assert client.post(f"/employer-accounts/{unit}/disable", headers=sh).status_code == 404


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_stop_takes_the_unit_before_its_account_as_the_units_own_edit_does(app, client, service, seed, units):
    """The unit editing its data holds its row, then its account; a province stopping it at once
    takes them in the same order (the other way round the two deadlocked): while the unit's row is
    held the stop waits holding nothing, then stops the account."""
    import threading
    import time

    from sqlalchemy import select

    from quxiang.accounts.adapters.tables import employers, users

    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    answers = []
    with service.engine.connect() as unit:
        unit.execute(select(employers.c.id).where(employers.c.id == units[0]).with_for_update())
        stopping = threading.Thread(target=lambda: answers.append(
            app.test_client().post(f"/employer-accounts/{units[0]}/disable", headers=gd)))
        stopping.start()
        time.sleep(0.5)
        with service.engine.connect() as other:  # the account is free meanwhile
            assert other.execute(select(users.c.username).where(users.c.employer == units[0])
                                 .with_for_update(nowait=True)).scalar_one() == "acme-hr"
        unit.rollback()
    stopping.join(10)
    assert [a.status_code for a in answers] == [200] and answers[0].get_json()["status_label"] == "已停用"
