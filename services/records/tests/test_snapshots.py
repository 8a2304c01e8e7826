"""Snapshots for rebuilding read models: content (no identity numbers), paging by cursor, scope."""

from __future__ import annotations

import pytest

from quxiang.common.auth.principal import Role

from .test_registrations import Scenario


def _all(client, path, headers, limit=1000, **query):
    items, cursor, pages = [], None, 0
    while True:
        params = {**query, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=params, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_graduate_and_registration_snapshots(client, world):
    s = Scenario(client, world)
    s.open("archive", department_review=False)
    assert s.submit(s.g1).status_code == 200
    assert s.review(s.g1, s.school()).status_code == 200
    assert s.submit(s.g2).status_code == 200
    assert s.submit(s.g1).status_code == 200  # a change to g1's approval, in review: the approval stands
    admin = world.headers(Role.ADMIN)
    graduates, pages = _all(client, "/snapshots/graduates", admin, limit=2)
    assert pages == 2 and [g["id"] for g in graduates] == sorted([s.g1, s.g2, s.g3])
    g1 = next(g for g in graduates if g["id"] == s.g1)
    assert set(g1) == {"id", "school_code", "department_id", "education_level", "graduation_year", "version",
                       "withdrawn"}
    assert g1["school_code"] == "10558" and g1["department_id"] == s.cs and g1["version"] == 1
    assert g1["withdrawn"] is False
    archive, _ = _all(client, "/snapshots/registrations", admin, limit=1, module="archive")
    assert {(r["graduate_id"], r["module"], r["status"], r["approval_stands"]) for r in archive} == {
        (s.g1, "archive", "school_review", True), (s.g2, "archive", "school_review", False)}
    assert all(r["version"] >= 1 for r in archive)
    assert _all(client, "/snapshots/registrations", admin, module="hukou")[0] == []
    # scope: the province sees its schools, another province nothing, a school user is refused
    assert len(_all(client, "/snapshots/graduates", s.province())[0]) == 3
    assert _all(client, "/snapshots/graduates", s.province("11"))[0] == []
    assert _all(client, "/snapshots/registrations", s.province("11"), module="archive")[0] == []
    assert client.get("/snapshots/graduates", headers=s.school()).status_code == 403
    assert client.get("/snapshots/registrations?module=archive", headers=s.school()).status_code == 403
    assert client.get("/snapshots/registrations?module=other", headers=admin).status_code == 422
    assert client.get("/snapshots/graduates?limit=1001", headers=admin).status_code == 422


@pytest.mark.parametrize("cursor", ["zzz", "!", "0" * 65])
def test_a_cursor_that_is_no_id_is_refused_not_read_as_the_end(client, world, cursor):
    answer = client.get("/snapshots/graduates", headers=world.headers(Role.ADMIN), query_string={"cursor": cursor})
    assert answer.status_code == 422 and "cursor" in answer.get_json()["errors"]
