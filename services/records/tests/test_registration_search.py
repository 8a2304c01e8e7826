"""The 图7 lists searched with the filters in a JSON body (POST …/registrations/search and POST
…/registrations/export.xlsx): the same answers as the GETs, and the only way to search by identity
number, because a query string is written to the gateway's and the APIs' access logs."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from quxiang.common.auth.principal import Access
from quxiang.common.pii import identity_numbers_in

from .roster_data import identity, row
from .test_registrations import Scenario


@pytest.fixture
def s(client, world):
    scenario = Scenario(client, world)
    scenario.open(department_review=False)
    scenario.submit(scenario.g1)
    scenario.review(scenario.g1, scenario.school())
    scenario.submit(scenario.g3, data={"transfer_type": "retained"})
    return scenario


def test_a_search_in_the_body_answers_as_the_list_does(s):
    headers = s.school()
    for query in ({}, {"status": "none"}, {"q": "学生3"}, {"sort": "name", "order": "desc", "page": 2, "page_size": 2}):
        listed = s.client.get("/archive/registrations", query_string=query, headers=headers)
        searched = s.client.post("/archive/registrations/search", json=query, headers=headers)
        assert searched.status_code == listed.status_code == 200, searched.get_json()
        assert searched.get_json() == listed.get_json(), query
    assert s.client.post("/hukou/registrations/search", json={}, headers=headers).get_json()["total"] == 3


def test_a_search_by_identity_number_finds_the_graduate_and_shows_the_number_masked(s):
    answer = s.client.post("/archive/registrations/search", json={"q": identity(1)}, headers=s.school())
    assert answer.status_code == 200
    assert [i["exam_number"] for i in answer.get_json()["items"]] == [row(1)["考生号"]]
    assert identity_numbers_in(answer.get_data(as_text=True)) == []


def test_an_identity_number_in_the_address_is_refused_without_echoing_it(s):
    for path in ("/archive/registrations", "/archive/registrations/export.xlsx", "/hukou/registrations"):
        answer = s.client.get(path, query_string={"q": identity(1)}, headers=s.school())
        body = answer.get_json()
        assert answer.status_code == 422 and body["code"] == "identity_number_in_url", path
        assert "q" in body["errors"] and identity(1) not in answer.get_data(as_text=True)
    # eighteen characters that are not a valid number are an ordinary search
    assert s.client.get("/archive/registrations", query_string={"q": "S" * 18}, headers=s.school()).status_code == 200


def test_the_search_body_is_checked_like_the_query(s):
    headers = s.school()
    for body, field in (({"sort": "password"}, "sort"), ({"status": "lost"}, "status"), ({"q": "x" * 51}, "q"),
                        ({"graduation_year": 1999}, "graduation_year"), ({"role": "admin"}, "role")):
        answer = s.client.post("/archive/registrations/search", json=body, headers=headers)
        assert answer.status_code == 422 and field in str(answer.get_json()["errors"]), body
    not_json = s.client.post("/archive/registrations/search", data="q=1", headers=headers,
                             content_type="application/x-www-form-urlencoded")
    assert not_json.status_code in (415, 422)


def test_the_export_with_the_filters_in_the_body(s):
    answer = s.client.post("/archive/registrations/export.xlsx", json={"q": identity(1)}, headers=s.school())
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(answer.data), read_only=True).worksheets[0]
    cells = [str(v) for r in sheet.iter_rows(values_only=True) for v in r if v is not None]
    assert row(1)["考生号"] in cells and row(3)["考生号"] not in cells
    assert identity_numbers_in(" ".join(cells)) == []
    same = s.client.get("/archive/registrations/export.xlsx", query_string={"status": "approved"}, headers=s.school())
    posted = s.client.post("/archive/registrations/export.xlsx", json={"status": "approved"}, headers=s.school())
    assert _rows(same.data) == _rows(posted.data)


def test_the_export_in_the_body_needs_read_write_as_the_get_does(s):
    read_only = s.client.post("/archive/registrations/export.xlsx", json={}, headers=s.school(archive=Access.READ))
    assert read_only.status_code == 403
    assert s.client.post("/archive/registrations/search", json={}, headers=s.school(archive=Access.READ)
                         ).status_code == 200
    assert s.client.post("/archive/registrations/search", json={}).status_code == 401


def _rows(data):
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [r for r in sheet.iter_rows(values_only=True)]
