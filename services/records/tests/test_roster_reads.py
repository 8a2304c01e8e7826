"""The roster lists (masked, scoped, filtered, paginated) and the audited detail view."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quxiang.common.auth.principal import Access, Module, Role
from quxiang.records.adapters.tables import departments, identity_views

from .roster_data import csv_file, identity, row, upload


@pytest.fixture
def roster(client, world):
    world.school()
    cs = world.department(code="01", name="计算机学院")
    math = world.department(code="02", name="数学学院")
    rows = [row(1), row(2), row(3, 院系="02", 学历="11"), row(4, 院系="02", 毕业年份="2027")]
    assert upload(client, world.school_user(), csv_file(rows)).status_code == 201
    return {"cs": cs, "math": math}


def department_user(world, department_id, school="10558"):
    return world.headers(Role.DEPARTMENT, {Module.EMPLOYMENT: Access.READ}, school=school,
                         department=department_id)


def test_lists_mask_identity_numbers(client, world, roster):
    response = client.get("/schools/10558/graduates", headers=world.school_user())
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 4 and len(body["items"]) == 4
    text = response.get_data(as_text=True)
    for i in range(1, 5):
        assert identity(i) not in text
    masked = body["items"][0]["identity_number"]
    assert masked[:3] == "440" and masked[-4:] == identity(1)[-4:] and set(masked[3:-4]) == {"*"}


def test_lists_filter_and_paginate(client, world, roster):
    headers = world.school_user()
    by_department = client.get(f"/schools/10558/graduates?department={roster['math']}", headers=headers)
    assert by_department.get_json()["total"] == 2
    by_level = client.get("/schools/10558/graduates?education_level=11", headers=headers).get_json()
    assert [g["name"] for g in by_level["items"]] == ["学生3"]
    next_year = client.get("/schools/10558/graduates?graduation_year=2027", headers=headers).get_json()
    assert [g["name"] for g in next_year["items"]] == ["学生4"]  # next year's cohort beside this year's
    assert client.get("/schools/10558/graduates?graduation_year=2026", headers=headers).get_json()["total"] == 3
    by_text = client.get("/schools/10558/graduates?q=S000002", headers=headers).get_json()
    assert [g["name"] for g in by_text["items"]] == ["学生2"]
    # letters in either case, on PostgreSQL as on SQLite
    lower = client.get("/schools/10558/graduates?q=s000002", headers=headers).get_json()
    assert [g["name"] for g in lower["items"]] == ["学生2"]
    page = client.get("/schools/10558/graduates?page=2&page_size=3", headers=headers).get_json()
    assert (len(page["items"]), page["pages"]) == (1, 2)
    capped = client.get("/schools/10558/graduates?page_size=1000", headers=headers).get_json()
    assert capped["page_size"] == 100
    for bad in ("page_size=0", "page_size=-1", "page=0"):  # refused as on every other list, not clamped
        refused = client.get(f"/schools/10558/graduates?{bad}", headers=headers)
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {bad.split("=")[0]}


def test_another_school_sees_nothing(client, world, roster):
    world.school("10561", "华南理工大学")
    assert client.get("/schools/10558/graduates", headers=world.school_user("10561")).status_code == 404
    graduate = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"][0]
    assert client.get(f"/graduates/{graduate['id']}", headers=world.school_user("10561")).status_code == 404


def test_a_department_user_sees_its_department_only(client, world, roster):
    headers = department_user(world, roster["math"])
    body = client.get(f"/schools/10558/graduates?department={roster['cs']}", headers=headers).get_json()
    assert body["total"] == 2 and {g["department_id"] for g in body["items"]} == {roster["math"]}
    everyone = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"]
    other = next(g for g in everyone if g["department_id"] == roster["cs"])
    assert client.get(f"/graduates/{other['id']}", headers=headers).status_code == 404
    own = next(g for g in everyone if g["department_id"] == roster["math"])
    detail = client.get(f"/graduates/{own['id']}", headers=headers).get_json()
    assert detail["identity_number_masked"] is True and "*" in detail["identity_number"]


def test_the_province_reads_its_schools(client, world, roster):
    own = world.headers(Role.PROVINCE, province="44")
    assert client.get("/schools/10558/graduates", headers=own).get_json()["total"] == 4
    assert client.get("/schools/10558/graduates", headers=world.headers(Role.PROVINCE, province="11")).status_code \
        == 404


def test_the_full_number_in_the_detail_view_is_audited(client, service, world, roster):
    graduate = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"][0]
    response = client.get(f"/graduates/{graduate['id']}", headers=world.school_user())
    assert response.status_code == 200
    detail = response.get_json()
    assert detail["identity_number"] == identity(1) and detail["identity_number_masked"] is False
    with service.engine.connect() as conn:
        views = conn.execute(select(identity_views)).all()
    assert len(views) == 1
    assert (views[0].graduate_id, views[0].viewer_role, views[0].purpose) == (graduate["id"], "school", "detail")
    assert identity(1) not in " ".join(str(v) for v in views[0])


def test_module_none_is_refused(client, world, roster):
    headers = world.school_user(access=Access.NONE)
    assert client.get("/schools/10558/graduates", headers=headers).status_code == 403


def test_department_events_are_idempotent(service, world):
    world.school()
    department_id = world.department(code="01")
    from quxiang.common.contracts.accounts import DEPARTMENT_CREATED
    from quxiang.records.entrypoints.consumers import on_department_created

    world._deliver(on_department_created, DEPARTMENT_CREATED, department_id,
                   {"department_id": department_id, "school_code": "10558", "code": "01", "name": "计算机学院"})
    with service.engine.connect() as conn:
        assert len(conn.execute(select(departments)).all()) == 1


def test_instants_in_the_detail_and_the_import_job_carry_their_zone(client, world):
    world.school()
    world.department(code="01", name="计算机学院")
    job = upload(client, world.school_user(), csv_file([row(1)])).get_json()
    status = client.get(f"/schools/10558/roster/imports/{job['id']}", headers=world.school_user()).get_json()
    [graduate] = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"]
    detail = client.get(f"/graduates/{graduate['id']}", headers=world.school_user()).get_json()
    for value in (job["created_at"], job["finished_at"], status["created_at"], detail["created_at"],
                  detail["updated_at"]):
        assert value.endswith("+00:00"), value  # SQLite gives naive values back: printed raw, no zone


@pytest.mark.parametrize("params", [{"q": "x" * 51}, {"department": "d" * 37}, {"education_level": "zzzzz"},
                                    {"graduation_year": "26"}, {"graduation_year": "二〇二六"}])
def test_the_roster_list_bounds_its_filters_like_every_list(client, world, roster, params):
    answer = client.get("/schools/10558/graduates", headers=world.school_user(), query_string=params)
    assert answer.status_code == 422 and set(params) <= set(answer.get_json()["errors"])
