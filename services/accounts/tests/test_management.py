"""账号管理: schools, departments, and the accounts of schools, departments and provinces."""

from __future__ import annotations

import pytest

from quxiang.accounts.adapters import repository
from quxiang.accounts.domain.model import Department, DomainError, User
from quxiang.accounts.entrypoints import cli
from quxiang.accounts.service.management import change_permissions
from quxiang.accounts.service.passwords import hash_password
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope

from .helpers import apply_revocations, auth, events

ZSU, SCUT, PKU = "10558", "10561", "10001"


@pytest.fixture
def gd(seed):
    """Guangdong with two schools, Beijing with one, and a provincial user for each province."""
    seed.school(ZSU, "中山大学", "44")
    seed.school(SCUT, "华南理工大学", "44")
    seed.school(PKU, "北京大学", "11")
    return {"province": seed.user(Role.PROVINCE, username="gd-prov", province="44"),
            "other_province": seed.user(Role.PROVINCE, username="bj-prov", province="11")}


def new_school_account(client, headers, **overrides):
    body = {"school_code": ZSU, "username": "zsu-jyzx", "display_name": "中山大学就业指导中心",
            "password": "Passw0rd!"}
    body.update(overrides)
    return client.post("/school-accounts", json=body, headers=headers)


def field_errors(answer):
    body = answer.get_json()
    return set(body.get("errors", {}))


# --- schools --------------------------------------------------------------------------------------


def test_a_province_user_creates_a_school_of_its_province_and_the_event_is_recorded(client, service, gd):
    answer = client.post("/schools", json={"code": "10559", "name": " 暨南大学 ", "province": "44"},
                         headers=auth(service, gd["province"]))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"code": "10559", "name": "暨南大学", "province": "44", "province_name": "广东省",
                                 "agreement_type": None, "agreement_type_label": None}
    [event] = events(service, "accounts.school.created")
    assert event["subject"] == "10559" and event["sequence"] == 1
    assert event["data"] == {"school_code": "10559", "name": "暨南大学", "province": "44"}


def test_a_province_user_cannot_create_a_school_in_another_province(client, service, gd):
    answer = client.post("/schools", json={"code": "10003", "name": "清华大学", "province": "11"},
                         headers=auth(service, gd["province"]))
    assert answer.status_code == 403 and answer.get_json()["code"] == "out_of_scope"
    assert events(service, "accounts.school.created") == []


def test_the_admin_creates_schools_anywhere(client, service, seed):
    admin = seed.user(Role.ADMIN, username="root")
    answer = client.post("/schools", json={"code": "10003", "name": "清华大学", "province": "11"},
                         headers=auth(service, admin))
    assert answer.status_code == 201


@pytest.mark.parametrize(("body", "fields"), [
    ({"code": "10559", "name": "暨南大学", "province": "99"}, {"province"}),
    ({"code": "1055", "name": "暨南大学", "province": "44"}, {"code"}),
    ({"code": "1055a", "name": "暨南大学", "province": "44"}, {"code"}),
    ({"code": "10559", "name": "暨" * 101, "province": "44"}, {"name"}),
    ({"code": "10559", "name": "   ", "province": "44"}, {"name"}),
    ({"code": "10559", "name": "暨南\n大学", "province": "44"}, {"name"}),
    ({"code": "10559", "name": "\ufeff\u200b", "province": "44"}, {"name"}),
    ({"code": "10559", "province": "44"}, {"name"}),
    ({"code": "10559", "name": "暨南大学", "province": "44", "status": "active"}, {"status"}),
])
def test_bad_school_input_is_422_naming_the_field(client, service, gd, body, fields):
    answer = client.post("/schools", json=body, headers=auth(service, gd["province"]))
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["code"] == "validation_error"
    assert field_errors(answer) == fields


def test_a_school_code_is_taken_once(client, service, gd):
    answer = client.post("/schools", json={"code": ZSU, "name": "又一个中大", "province": "44"},
                         headers=auth(service, gd["province"]))
    assert answer.status_code == 409 and answer.get_json()["code"] == "school_exists"
    assert field_errors(answer) == {"code"}


def test_school_lists_are_scoped_paginated_and_filtered(client, service, seed, gd):
    for n in range(3):
        seed.school(f"1060{n}", f"广东测试学院{n}", "44")
    headers = auth(service, gd["province"])

    everything = client.get("/schools", headers=headers).get_json()
    assert everything["total"] == 5 and {s["province"] for s in everything["items"]} == {"44"}

    page = client.get("/schools?page=2&page_size=2", headers=headers).get_json()
    assert (page["page"], page["page_size"], page["total"], page["pages"]) == (2, 2, 5, 3)
    assert [s["code"] for s in page["items"]] == ["10600", "10601"]

    capped = client.get("/schools?page_size=1000", headers=headers).get_json()
    assert capped["page_size"] == 100 and len(capped["items"]) == 5

    found = client.get("/schools", query_string={"q": "华南"}, headers=headers).get_json()
    assert [s["code"] for s in found["items"]] == [SCUT]
    # Another province's filter does not widen a provincial user's view: it is refused, as the
    # other services' lists refuse a filter outside the caller's scope.
    other = client.get("/schools?province=11", headers=headers)
    assert other.status_code == 403 and other.get_json()["code"] == "out_of_scope"
    assert client.get("/schools?province=44", headers=headers).get_json()["total"] == 5
    assert client.get("/schools?page=0", headers=headers).status_code == 422

    school_user = seed.user(Role.SCHOOL, province="44", school=ZSU)
    mine = client.get("/schools", headers=auth(service, school_user)).get_json()
    assert [s["code"] for s in mine["items"]] == [ZSU]


def test_a_school_outside_the_callers_scope_is_not_found(client, service, seed, gd):
    assert client.get(f"/schools/{ZSU}", headers=auth(service, gd["province"])).status_code == 200
    assert client.get(f"/schools/{ZSU}", headers=auth(service, gd["other_province"])).status_code == 404
    department = seed.user(Role.DEPARTMENT, province="44", school=ZSU, department="d-1")
    assert client.get(f"/schools/{ZSU}", headers=auth(service, department)).status_code == 200
    assert client.get(f"/schools/{SCUT}", headers=auth(service, department)).status_code == 404
    assert client.get("/schools/99999", headers=auth(service, gd["province"])).status_code == 404


def test_graduates_and_employers_do_not_list_schools_and_nobody_anonymous(client, service, seed, gd):
    graduate = seed.user(Role.GRADUATE, graduate="g-1", school=ZSU)
    assert client.get("/schools", headers=auth(service, graduate)).status_code == 403
    assert client.get("/schools").status_code == 401


# --- departments ----------------------------------------------------------------------------------


def test_a_school_user_creates_and_lists_its_departments(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, province="44", school=ZSU)
    headers = auth(service, school_user)
    answer = client.post(f"/schools/{ZSU}/departments", json={"code": "CS", "name": "计算机学院"}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert created["school_code"] == ZSU and created["code"] == "CS" and created["id"]
    [event] = events(service, "accounts.department.created")
    assert event["subject"] == created["id"]
    assert event["data"] == {"department_id": created["id"], "school_code": ZSU, "code": "CS", "name": "计算机学院"}

    for name in ("计算机\n学院", "\u200b"):  # one visible line, as every list and export shows it
        refused = client.post(f"/schools/{ZSU}/departments", json={"code": "EE", "name": name}, headers=headers)
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"name"}
    listed = client.get(f"/schools/{ZSU}/departments", headers=headers).get_json()
    assert [d["code"] for d in listed["items"]] == ["CS"]
    assert client.get(f"/schools/{ZSU}/departments", headers=auth(service, gd["province"])).status_code == 200
    assert client.get(f"/schools/{ZSU}/departments",
                      headers=auth(service, gd["other_province"])).status_code == 404

    again = client.post(f"/schools/{ZSU}/departments", json={"code": "CS", "name": "另一个"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["code"] == "department_exists"


def test_a_school_user_cannot_add_departments_to_another_school(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, province="44", school=ZSU)
    headers = auth(service, school_user)
    other = client.post(f"/schools/{SCUT}/departments", json={"code": "CS", "name": "计算机学院"}, headers=headers)
    assert other.status_code == 403 and other.get_json()["code"] == "out_of_scope"
    unknown = client.post("/schools/99999/departments", json={"code": "CS", "name": "计算机学院"}, headers=headers)
    assert unknown.status_code == 404
    bad = client.post(f"/schools/{ZSU}/departments", json={"code": "计算机", "name": ""}, headers=headers)
    assert bad.status_code == 422 and field_errors(bad) == {"code", "name"}
    # Provincial users do not create departments; that is the school's job.
    province = client.post(f"/schools/{ZSU}/departments", json={"code": "CS", "name": "计算机学院"},
                           headers=auth(service, gd["province"]))
    assert province.status_code == 403 and province.get_json()["code"] == "role_forbidden"


# --- school accounts ------------------------------------------------------------------------------


def test_a_school_account_gets_the_default_permissions_and_an_event(client, service, gd):
    answer = new_school_account(client, auth(service, gd["province"]))
    assert answer.status_code == 201, answer.get_json()
    account = answer.get_json()
    assert "password" not in account and "password_hash" not in account
    assert account["permissions"] == {"employment": "write", "archive": "none", "hukou": "none"}
    assert [(d["module_label"], d["access_label"]) for d in account["permission_details"]] == [
        ("基本信息和就业信息", "读写"), ("档案信息", "无权限"), ("户口信息", "无权限")]
    assert (account["school_code"], account["school_name"], account["role"]) == (ZSU, "中山大学", "school")
    assert (account["status"], account["status_label"], account["disabled"]) == ("active", "正常", False)
    [event] = events(service, "accounts.user.created")
    assert event["subject"] == account["id"]
    assert event["data"]["permissions"] == {"employment": "write", "archive": "none", "hukou": "none"}
    assert event["data"]["school"] == ZSU and event["data"]["province"] == "44"
    with service.unit_of_work() as uow:
        stored = repository.get_user(uow.session, account["id"])
    assert stored.password_hash.startswith("$argon2")


def test_a_school_account_is_created_with_the_permissions_asked_for(client, service, gd):
    answer = new_school_account(client, auth(service, gd["province"]),
                                permissions={"employment": "read", "archive": "write"})
    assert answer.status_code == 201
    assert answer.get_json()["permissions"] == {"employment": "read", "archive": "write", "hukou": "none"}


@pytest.mark.parametrize(("overrides", "fields"), [
    ({"permissions": {"employment": "admin"}}, {"permissions.employment"}),
    ({"permissions": {"canteen": "write"}}, {"permissions.canteen"}),
    ({"display_name": "长" * 101}, {"display_name"}),
    ({"display_name": "就业\u2028中心"}, {"display_name"}),
    ({"username": "x"}, {"username"}),
    ({"password": "short"}, {"password"}),
    ({"password": "onlyletters"}, {"password"}),
    ({"role": "admin"}, {"role"}),
    ({"status": "disabled"}, {"status"}),
    ({"disabled": True}, {"disabled"}),
    ({"province": "11"}, {"province"}),
])
def test_bad_school_account_input_is_422_naming_the_field(client, service, gd, overrides, fields):
    answer = new_school_account(client, auth(service, gd["province"]), **overrides)
    assert answer.status_code == 422, answer.get_json()
    assert field_errors(answer) == fields
    assert events(service, "accounts.user.created") == []


def test_a_missing_field_is_named(client, service, gd):
    answer = client.post("/school-accounts", json={"school_code": ZSU, "display_name": "x", "password": "Passw0rd!"},
                         headers=auth(service, gd["province"]))
    assert answer.status_code == 422 and field_errors(answer) == {"username"}


def test_a_school_account_only_for_a_school_of_the_callers_province(client, service, gd):
    headers = auth(service, gd["province"])
    other = new_school_account(client, headers, school_code=PKU)
    assert other.status_code == 403 and other.get_json()["code"] == "out_of_scope"
    unknown = new_school_account(client, headers, school_code="99999")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "school_not_found"
    assert field_errors(unknown) == {"school_code"}
    assert events(service, "accounts.user.created") == []


def test_a_username_is_taken_once(client, service, seed, gd):
    seed.user(Role.GRADUATE, username="zsu-jyzx", graduate="g-1")
    answer = new_school_account(client, auth(service, gd["province"]))
    assert answer.status_code == 409 and answer.get_json()["code"] == "username_taken"


def test_a_province_lists_only_its_own_school_accounts_with_filters(client, service, gd):
    headers = auth(service, gd["province"])
    assert new_school_account(client, headers).status_code == 201
    assert new_school_account(client, headers, school_code=SCUT, username="scut-jy",
                              display_name="华工就业").status_code == 201
    other_headers = auth(service, gd["other_province"])
    assert new_school_account(client, other_headers, school_code=PKU, username="pku-jy").status_code == 201

    listed = client.get("/school-accounts", headers=headers).get_json()
    assert listed["total"] == 2 and {a["school_code"] for a in listed["items"]} == {ZSU, SCUT}
    by_school = client.get(f"/school-accounts?school={SCUT}", headers=headers).get_json()
    assert [a["username"] for a in by_school["items"]] == ["scut-jy"]
    by_name = client.get("/school-accounts", query_string={"q": "指导"}, headers=headers).get_json()
    assert [a["username"] for a in by_name["items"]] == ["zsu-jyzx"]
    assert client.get(f"/school-accounts?school={PKU}", headers=headers).get_json()["total"] == 0  # not its school
    refused = client.get("/school-accounts?province=11", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "out_of_scope"
    assert client.get("/school-accounts?status=disabled", headers=headers).get_json()["total"] == 0
    assert client.get("/school-accounts", headers=other_headers).get_json()["total"] == 1


def test_changing_permissions_records_an_event_and_kills_the_accounts_old_tokens(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, username="zsu", province="44", school=ZSU)
    old_token = auth(service, school_user)
    headers = auth(service, gd["province"])
    body = {"employment": "read", "archive": "write", "hukou": "none"}
    answer = client.put(f"/school-accounts/{school_user.id}/permissions", json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["permissions"] == body

    [changed] = events(service, "accounts.user.permissions_changed")
    assert changed["data"] == {"user_id": school_user.id, "permissions": body, "changed_by": gd["province"].id}
    [revoked] = events(service, "accounts.user.tokens_revoked")
    assert revoked["data"]["reason"] == "permissions_changed" and revoked["data"]["user_id"] == school_user.id
    assert revoked["sequence"] == changed["sequence"] == 2

    # The same permissions again: nothing changes, nothing recorded.
    assert client.put(f"/school-accounts/{school_user.id}/permissions", json=body, headers=headers).status_code == 200
    assert len(events(service, "accounts.user.permissions_changed")) == 1

    # Once the revocation event is consumed (here by this service's own consumer), the old token is void.
    apply_revocations(service)
    refused = client.get(f"/schools/{ZSU}", headers=old_token)
    assert refused.status_code == 401 and refused.get_json()["code"] == "token_revoked"


@pytest.mark.parametrize(("body", "fields"), [
    ({"employment": "read", "archive": "write"}, {"hukou"}),
    ({"employment": "rw", "archive": "write", "hukou": "none"}, {"employment"}),
    ({"employment": "read", "archive": "write", "hukou": "none", "role": "admin"}, {"role"}),
])
def test_bad_permissions_are_422_naming_the_field(client, service, seed, gd, body, fields):
    school_user = seed.user(Role.SCHOOL, province="44", school=ZSU)
    answer = client.put(f"/school-accounts/{school_user.id}/permissions", json=body,
                        headers=auth(service, gd["province"]))
    assert answer.status_code == 422 and field_errors(answer) == fields


def test_another_provinces_account_is_not_found(client, service, seed, gd):
    pku_user = seed.user(Role.SCHOOL, province="11", school=PKU)
    headers = auth(service, gd["province"])
    body = {"employment": "none", "archive": "none", "hukou": "none"}
    assert client.put(f"/school-accounts/{pku_user.id}/permissions", json=body, headers=headers).status_code == 404
    assert client.post(f"/school-accounts/{pku_user.id}/disable", headers=headers).status_code == 404
    assert client.get(f"/school-accounts/{pku_user.id}", headers=headers).status_code == 404
    assert client.get("/school-accounts/no-such-id", headers=headers).status_code == 404
    # A province account is not a school account, even within the province.
    assert client.post(f"/school-accounts/{gd['province'].id}/disable", headers=headers).status_code == 404
    assert events(service) == []


def test_disabling_a_school_account_records_it_once_and_revokes_its_tokens(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, province="44", school=ZSU)
    headers = auth(service, gd["province"])
    answer = client.post(f"/school-accounts/{school_user.id}/disable", headers=headers)
    assert answer.status_code == 200
    assert (answer.get_json()["status"], answer.get_json()["status_label"]) == ("disabled", "已停用")
    again = client.post(f"/school-accounts/{school_user.id}/disable", headers=headers)
    assert again.status_code == 200 and again.get_json()["disabled"] is True
    [disabled] = events(service, "accounts.user.disabled")
    assert disabled["data"] == {"user_id": school_user.id, "disabled_by": gd["province"].id}
    [revoked] = events(service, "accounts.user.tokens_revoked")
    assert revoked["data"]["reason"] == "disabled"
    assert client.get("/school-accounts?status=disabled", headers=headers).get_json()["total"] == 1


# --- department accounts --------------------------------------------------------------------------


@pytest.fixture
def zsu(client, service, seed, gd):
    """中山大学's school user (employment read-write, archive read-only) and two departments."""
    school_user = seed.user(Role.SCHOOL, username="zsu", province="44", school=ZSU)
    with service.unit_of_work() as uow:
        user = repository.get_user(uow.session, school_user.id)
        user.change_permissions({Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.READ,
                                 Module.HUKOU: Access.NONE})
        repository.save_user(uow.session, user)
        uow.commit()
    headers = auth(service, user)
    departments = {}
    for code, name in (("CS", "计算机学院"), ("LAW", "法学院")):
        answer = client.post(f"/schools/{ZSU}/departments", json={"code": code, "name": name}, headers=headers)
        departments[code] = answer.get_json()["id"]
    return {"user": user, "headers": headers, "departments": departments}


def test_a_school_user_creates_department_accounts_within_its_own_rights(client, service, zsu):
    answer = client.post("/department-accounts", json={
        "department_id": zsu["departments"]["CS"], "username": "zsu-cs", "display_name": "计算机学院学工办",
        "password": "Passw0rd!", "permissions": {"archive": "read"}}, headers=zsu["headers"])
    assert answer.status_code == 201, answer.get_json()
    account = answer.get_json()
    assert account["permissions"] == {"employment": "write", "archive": "read", "hukou": "none"}
    assert (account["department_code"], account["department_name"], account["school_code"]) == (
        "CS", "计算机学院", ZSU)
    [event] = events(service, "accounts.user.created")
    assert event["data"]["department"] == zsu["departments"]["CS"] and event["data"]["role"] == "department"

    too_much = client.post("/department-accounts", json={
        "department_id": zsu["departments"]["LAW"], "username": "zsu-law", "display_name": "法学院",
        "password": "Passw0rd!", "permissions": {"archive": "write"}}, headers=zsu["headers"])
    assert too_much.status_code == 403 and too_much.get_json()["code"] == "exceeds_own_permission"
    assert too_much.get_json()["module"] == "archive"

    listed = client.get("/department-accounts", headers=zsu["headers"]).get_json()
    assert [a["username"] for a in listed["items"]] == ["zsu-cs"]
    raise_it = client.put(f"/department-accounts/{account['id']}/permissions",
                          json={"employment": "write", "archive": "read", "hukou": "read"}, headers=zsu["headers"])
    assert raise_it.status_code == 403 and raise_it.get_json()["code"] == "exceeds_own_permission"
    lower = client.put(f"/department-accounts/{account['id']}/permissions",
                       json={"employment": "read", "archive": "none", "hukou": "none"}, headers=zsu["headers"])
    assert lower.status_code == 200 and lower.get_json()["permissions"]["employment"] == "read"
    assert client.post(f"/department-accounts/{account['id']}/disable", headers=zsu["headers"]).status_code == 200


def _department_account(service, zsu, username, department="CS", **permissions):
    """A department account of 中山大学 holding ``permissions`` (written directly, as if granted
    when the school held more)."""
    user = User(id=username, username=username, role=Role.DEPARTMENT, display_name=username,
                scope=Scope(province="44", school=ZSU, department=zsu["departments"][department]),
                permissions={m: Access(permissions.get(m.value, "none")) for m in Module},
                password_hash=hash_password("Passw0rd!"))
    with service.unit_of_work() as uow:
        repository.add_user(uow.session, user, created_by=None)
        uow.commit()
    return user


def rights(service, user):
    """The stored module rights of ``user`` (an account or its id)."""
    with service.unit_of_work() as uow:
        stored = repository.get_user(uow.session, getattr(user, "id", user))
    return {m.value: stored.permissions.get(m, Access.NONE).value for m in Module}


def test_a_right_the_province_takes_from_the_school_leaves_its_departments_too(client, service, gd, zsu):
    writer = _department_account(service, zsu, "cs-writer", employment="write", archive="read")
    reader = _department_account(service, zsu, "law-reader", "LAW", employment="read", hukou="none")
    old_token = auth(service, writer)
    province = auth(service, gd["province"])
    lowered = client.put(f"/school-accounts/{zsu['user'].id}/permissions", headers=province,
                         json={"employment": "read", "archive": "none", "hukou": "none"})
    assert lowered.status_code == 200, lowered.get_json()

    assert rights(service, writer) == {"employment": "read", "archive": "none", "hukou": "none"}
    # nothing above the school's: untouched
    assert rights(service, reader) == {"employment": "read", "archive": "none", "hukou": "none"}
    changed = {e["data"]["user_id"]: e for e in events(service, "accounts.user.permissions_changed")}
    assert set(changed) == {zsu["user"].id, writer.id}
    assert changed[writer.id]["data"]["changed_by"] == gd["province"].id
    revoked = {e["data"]["user_id"] for e in events(service, "accounts.user.tokens_revoked")}
    assert revoked == {zsu["user"].id, writer.id}
    apply_revocations(service)
    assert client.get("/me", headers=old_token).get_json()["code"] == "token_revoked"


def test_a_departments_rights_follow_the_schools_highest_account(client, service, seed, gd, zsu):
    writer = _department_account(service, zsu, "cs-writer", employment="write", archive="read")
    second = seed.user(Role.SCHOOL, username="zsu-2", province="44", school=ZSU)  # employment read-write
    province = auth(service, gd["province"])
    assert client.put(f"/school-accounts/{zsu['user'].id}/permissions", headers=province,
                      json={"employment": "read", "archive": "read", "hukou": "none"}).status_code == 200
    after_first = rights(service, writer)
    assert after_first == {"employment": "write", "archive": "read", "hukou": "none"}  # zsu-2 still writes
    assert client.put(f"/school-accounts/{second.id}/permissions", headers=province,
                      json={"employment": "read", "archive": "none", "hukou": "none"}).status_code == 200
    after_both = rights(service, writer)
    assert after_both == {"employment": "read", "archive": "read", "hukou": "none"}


def test_nobody_grants_a_department_more_than_its_school_holds(client, service, seed, gd, zsu):
    admin = auth(service, seed.user(Role.ADMIN, username="root"))
    body = {"department_id": zsu["departments"]["CS"], "username": "zsu-cs", "display_name": "计算机学院",
            "password": "Passw0rd!", "permissions": {"archive": "write"}}
    too_much = client.post("/department-accounts", json=body, headers=admin)
    assert too_much.status_code == 403 and too_much.get_json()["code"] == "exceeds_school_permission"
    assert too_much.get_json()["module"] == "archive" and "档案信息" in too_much.get_json()["detail"]
    made = client.post("/department-accounts", json={**body, "permissions": {"archive": "read"}}, headers=admin)
    assert made.status_code == 201
    raise_it = client.put(f"/department-accounts/{made.get_json()['id']}/permissions", headers=admin,
                          json={"employment": "write", "archive": "read", "hukou": "read"})
    assert raise_it.status_code == 403 and raise_it.get_json()["module"] == "hukou"

    # A school user's request in flight with the rights its token had before the province lowered them
    stale = Principal(user_id=zsu["user"].id, role=Role.SCHOOL, scope=Scope(province="44", school=ZSU),
                      permissions={Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.WRITE,
                                   Module.HUKOU: Access.NONE})
    with pytest.raises(DomainError) as refused:
        change_permissions(service, stale, Role.DEPARTMENT, made.get_json()["id"],
                           {Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.WRITE, Module.HUKOU: Access.NONE})
    assert refused.value.code == "exceeds_school_permission"


def test_a_school_user_manages_only_its_own_schools_departments(client, service, seed, gd, zsu):
    scut_user = seed.user(Role.SCHOOL, province="44", school=SCUT)
    scut_headers = auth(service, scut_user)
    body = {"department_id": zsu["departments"]["CS"], "username": "sneaky", "display_name": "x",
            "password": "Passw0rd!"}
    answer = client.post("/department-accounts", json=body, headers=scut_headers)
    assert answer.status_code == 403 and answer.get_json()["code"] == "out_of_scope"
    unknown = client.post("/department-accounts", json={**body, "department_id": "nope"}, headers=scut_headers)
    assert unknown.status_code == 404 and field_errors(unknown) == {"department_id"}

    cs_account = client.post("/department-accounts", json={**body, "username": "zsu-cs"}, headers=zsu["headers"])
    cs_id = cs_account.get_json()["id"]
    assert client.get(f"/department-accounts/{cs_id}", headers=scut_headers).status_code == 404
    assert client.post(f"/department-accounts/{cs_id}/disable", headers=scut_headers).status_code == 404
    assert client.get("/department-accounts", headers=scut_headers).get_json()["total"] == 0
    refused = client.get(f"/department-accounts?school={ZSU}", headers=scut_headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "out_of_scope"
    assert client.get(f"/department-accounts?school={SCUT}", headers=scut_headers).status_code == 200
    # Provincial users manage school accounts, not department accounts.
    assert client.get("/department-accounts", headers=auth(service, gd["province"])).status_code == 403


# --- provincial accounts --------------------------------------------------------------------------


def test_the_admin_creates_and_lists_provincial_accounts(client, service, seed, gd):
    admin = seed.user(Role.ADMIN, username="root")
    headers = auth(service, admin)
    answer = client.post("/province-accounts", json={"province": "44", "username": "gd-2",
                                                     "display_name": "广东省教育厅", "password": "Passw0rd!"},
                         headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["permissions"] is None and answer.get_json()["province_name"] == "广东省"
    unknown = client.post("/province-accounts", json={"province": "99", "username": "x-2", "display_name": "x",
                                                      "password": "Passw0rd!"}, headers=headers)
    assert unknown.status_code == 422 and field_errors(unknown) == {"province"}
    with_permissions = client.post("/province-accounts", json={
        "province": "44", "username": "gd-3", "display_name": "x", "password": "Passw0rd!",
        "permissions": {"employment": "write"}}, headers=headers)
    assert with_permissions.status_code == 422 and field_errors(with_permissions) == {"permissions"}
    listed = client.get("/province-accounts?province=44", headers=headers).get_json()
    assert {a["username"] for a in listed["items"]} == {"gd-prov", "gd-2"}
    assert client.post("/province-accounts", json={"province": "44", "username": "gd-4", "display_name": "x",
                                                   "password": "Passw0rd!"},
                       headers=auth(service, gd["province"])).status_code == 403


# --- 修改学校账号信息: the name, a forgotten password, enabling again -----------------------------------


def test_a_province_changes_a_school_accounts_information(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, username="zsu-jy", province="44", school=ZSU)
    old_token = auth(service, school_user)
    province = auth(service, gd["province"])
    base = f"/school-accounts/{school_user.id}"
    renamed = client.put(base, headers=province, json={"display_name": " 中山大学就业指导中心 "})
    assert renamed.status_code == 200 and renamed.get_json()["display_name"] == "中山大学就业指导中心"
    assert client.put(base, headers=province, json={"display_name": "中山\n大学"}).status_code == 422

    weak = client.post(f"{base}/password", headers=province, json={"new_password": "zsu-jy-2026"})
    assert weak.status_code == 422 and field_errors(weak) == {"new_password"}  # holds the username
    reset = client.post(f"{base}/password", headers=province, json={"new_password": "Reset-2026-pass"})
    assert reset.status_code == 204
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Passw0rd!"}).status_code == 401
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Reset-2026-pass"}).status_code == 200
    apply_revocations(service)
    assert client.get(f"/schools/{ZSU}", headers=old_token).get_json()["code"] == "token_revoked"

    assert client.post(f"{base}/disable", headers=province).status_code == 200
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Reset-2026-pass"}).status_code == 401
    enabled = client.post(f"{base}/enable", headers=province)
    assert enabled.status_code == 200 and enabled.get_json()["status"] == "active"
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Reset-2026-pass"}).status_code == 200
    kinds = [e["type"] for e in events(service) if e["subject"] == school_user.id]
    assert kinds.count("accounts.user.renamed") == 1 and kinds.count("accounts.user.enabled") == 1
    [reset] = events(service, "accounts.user.password_reset")
    assert reset["data"] == {"user_id": school_user.id, "reset_by": gd["province"].id}  # never the password


def test_only_the_accounts_manager_changes_its_information(client, service, seed, gd, zsu):
    bj = seed.user(Role.SCHOOL, province="11", school=PKU)
    province = auth(service, gd["province"])
    for path, body in ((f"/school-accounts/{bj.id}", {"display_name": "x"}),
                       (f"/school-accounts/{bj.id}/password", {"new_password": "Reset-2026-pass"})):
        method = client.put if path.endswith(bj.id) else client.post
        assert method(path, headers=province, json=body).status_code == 404  # another province's
    assert client.post(f"/school-accounts/{bj.id}/enable", headers=province).status_code == 404
    # a school user manages its department accounts, not its own kind
    assert client.put(f"/school-accounts/{zsu['user'].id}", headers=zsu["headers"],
                      json={"display_name": "x"}).status_code == 403
    made = client.post("/department-accounts", headers=zsu["headers"], json={
        "department_id": zsu["departments"]["CS"], "username": "zsu-cs", "display_name": "计算机学院",
        "password": "Passw0rd!"}).get_json()
    assert client.post(f"/department-accounts/{made['id']}/password", headers=zsu["headers"],
                       json={"new_password": "Reset-2026-cs"}).status_code == 204
    assert client.put(f"/department-accounts/{made['id']}", headers=zsu["headers"],
                      json={"display_name": "计算机学院学工办"}).get_json()["display_name"] == "计算机学院学工办"


def test_a_reset_password_lets_a_holder_who_locked_itself_out_in(client, service, seed, gd):
    school_user = seed.user(Role.SCHOOL, username="zsu-jy", province="44", school=ZSU)
    for _ in range(6):  # the holder forgot the password and kept trying
        client.post("/auth/login", json={"username": "zsu-jy", "password": "Wrong-guess-1"})
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Passw0rd!"}).status_code == 429
    reset = client.post(f"/school-accounts/{school_user.id}/password", headers=auth(service, gd["province"]),
                        json={"new_password": "Reset-2026-pass"})
    assert reset.status_code == 204
    assert client.post("/auth/login", json={"username": "zsu-jy", "password": "Reset-2026-pass"}).status_code == 200


def test_a_department_made_before_the_schools_first_account_is_held_to_it(client, service, seed, gd):
    admin = auth(service, seed.user(Role.ADMIN, username="root"))
    department = client.post(f"/schools/{ZSU}/departments", json={"code": "CS", "name": "计算机学院"},
                             headers=admin).get_json()["id"]
    made = client.post("/department-accounts", headers=admin, json={
        "department_id": department, "username": "zsu-cs", "display_name": "计算机学院", "password": "Passw0rd!",
        "permissions": {"employment": "write", "archive": "write", "hukou": "write"}})
    assert made.status_code == 201, made.get_json()  # no school account yet: nothing to hold it to
    school = client.post("/school-accounts", headers=auth(service, gd["province"]), json={
        "school_code": ZSU, "username": "zsu-jy", "display_name": "就业中心", "password": "Passw0rd!",
        "permissions": {"employment": "read", "archive": "none", "hukou": "none"}})
    assert school.status_code == 201
    assert rights(service, made.get_json()["id"]) == {"employment": "read", "archive": "none", "hukou": "none"}
    # left-out rights take the defaults lowered to the school's, not a refusal (403) of rights nobody asked for
    defaults = client.post("/department-accounts", headers=admin, json={
        "department_id": department, "username": "zsu-cs2", "display_name": "计算机学院2", "password": "Passw0rd!"})
    assert defaults.status_code == 201, defaults.get_json()
    assert defaults.get_json()["permissions"] == {"employment": "read", "archive": "none", "hukou": "none"}
    asked = client.post("/department-accounts", headers=admin, json={
        "department_id": department, "username": "zsu-cs3", "display_name": "x", "password": "Passw0rd!",
        "permissions": {"employment": "write"}})
    assert asked.status_code == 403 and asked.get_json()["code"] == "exceeds_school_permission"


def test_the_operator_holds_departments_granted_before_the_rule_to_their_school(service, config, seed, capsys):
    seed.school(ZSU, "中山大学", "44")
    seed.user(Role.SCHOOL, username="zsu-jy", province="44", school=ZSU)  # employment 读写, the rest 无权限
    with service.unit_of_work() as uow:
        repository.add_department(uow.session, Department(id="d-cs", school_code=ZSU, code="CS", name="计算机学院"))
        uow.commit()
    above = User(id="d-old", username="zsu-cs-old", role=Role.DEPARTMENT, display_name="计算机学院",
                 scope=Scope(province="44", school=ZSU, department="d-cs"),
                 permissions={Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.WRITE, Module.HUKOU: Access.READ},
                 password_hash=hash_password("Passw0rd!"))
    with service.unit_of_work() as uow:  # granted before a department was held to its school
        repository.add_user(uow.session, above, created_by=None)
        uow.commit()
    assert cli.main(["cap-departments"], config=config) == 0
    assert "1 department account(s) lowered" in capsys.readouterr().out
    assert rights(service, "d-old") == {"employment": "write", "archive": "none", "hukou": "none"}
    [changed] = [e for e in events(service, "accounts.user.permissions_changed") if e["subject"] == "d-old"]
    assert changed["data"]["changed_by"] == "system"
    assert cli.main(["cap-departments"], config=config) == 0  # once is enough: nothing more to lower
    assert "0 department account(s) lowered" in capsys.readouterr().out
