"""Who sees what: a province user its province, a school user its school, a department user its
department; school and department accounts need read access to employment; everyone else 403."""

from __future__ import annotations

import pytest

from quxiang.common.auth.principal import Access, Role

from .scenario import CS, GXU, LAW, SCUT, ZSU, events


@pytest.fixture
def loaded(world):
    world.deliver(*events())
    return world


def test_province_user_sees_only_its_province(loaded, client):
    body = client.get("/province", headers=loaded.province_user("45")).json
    assert [i["school_code"] for i in body["items"]] == [GXU]
    assert body["total"]["employment"]["registered"] == 1
    assert client.get(f"/schools/{GXU}", headers=loaded.province_user("44")).status_code == 404
    assert client.get(f"/destinations?school={GXU}", headers=loaded.province_user("44")).status_code == 404
    assert client.get(f"/schools/{ZSU}", headers=loaded.province_user("44")).status_code == 200


def test_school_user_sees_only_its_school(loaded, client):
    headers = loaded.school_user(ZSU)
    assert client.get(f"/schools/{ZSU}", headers=headers).status_code == 200
    assert client.get(f"/schools/{SCUT}", headers=headers).status_code == 403
    assert client.get(f"/schools/{SCUT}/export.xlsx", headers=headers).status_code == 403
    assert client.get(f"/destinations?school={SCUT}", headers=headers).status_code == 403
    assert client.get("/destinations", headers=headers).json["total"] == 8  # its own school by default
    assert client.get("/province", headers=headers).status_code == 403


def test_department_user_sees_only_its_department(loaded, client):
    headers = loaded.department_user(ZSU, CS)
    body = client.get(f"/schools/{ZSU}", headers=headers).json
    assert [i["department_id"] for i in body["items"]] == [CS]
    assert body["total"]["employment"]["total"] == 4
    assert client.get(f"/schools/{ZSU}?department={LAW}", headers=headers).status_code == 403
    assert client.get(f"/schools/{SCUT}", headers=headers).status_code == 403
    assert client.get("/destinations", headers=headers).json["total"] == 4
    assert client.get(f"/destinations?department={LAW}", headers=headers).status_code == 403
    assert client.get("/province", headers=headers).status_code == 403


def test_employment_permission_is_needed(loaded, client):
    for headers in (loaded.school_user(ZSU, access=Access.NONE), loaded.department_user(ZSU, CS, access=Access.NONE)):
        response = client.get(f"/schools/{ZSU}", headers=headers)
        assert response.status_code == 403 and response.json["code"] == "module_forbidden"
    assert client.get(f"/schools/{ZSU}", headers=loaded.school_user(ZSU, access=Access.READ)).status_code == 200


@pytest.mark.parametrize("role,scope", [(Role.ADMIN, {}), (Role.GRADUATE, {"province": "44", "school": ZSU,
                                                                             "graduate": "g"}),
                                         (Role.EMPLOYER, {"employer": "e"})])
def test_other_roles_are_refused(loaded, client, role, scope):
    headers = loaded.headers(role, **scope)
    for path in ("/province", f"/schools/{ZSU}", "/destinations", "/province/export.xlsx"):
        assert client.get(path, headers=headers).status_code == 403, path


def test_anonymous_is_refused(client):
    assert client.get("/province").status_code == 401
