"""Control characters in query parameters and JSON bodies are refused with a 422 that names the
field, in every service (quxiang.common.web.text_input)."""

from __future__ import annotations

import json

import pytest

from quxiang.common.web.text_input import control_character_fields


@pytest.mark.parametrize("query,field", [("page=1&q=%00", "q"), ("page=%07", "page"), ("na%00me=1", "na\x00me")])
def test_a_query_parameter_with_a_control_character_is_refused_naming_it(client, query, field):
    answer = client.get(f"/registrations/?{query}")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["code"] == "validation_error"
    assert field in answer.get_json()["errors"]


@pytest.mark.parametrize("body,field", [
    ({"name": "张\u0000三", "address": {"city": "广州"}}, "name"),
    ({"name": "张三", "address": {"city": "广\u001f州"}}, "address.city"),
    ({"name": "张三", "tags": ["ok", "bad\u007f"]}, "tags.1"),
])
def test_a_json_string_with_a_control_character_is_refused_naming_its_path(client, body, field):
    answer = client.put("/registrations/1", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["errors"]) == [field]


@pytest.mark.parametrize("name", ["张三\t李四", "第一行\n第二行\r\n", "C:\\u0000 as typed", "普通姓名"])
def test_tabs_newlines_and_text_that_only_spells_an_escape_pass(client, name):
    answer = client.put("/registrations/1", data=json.dumps({"name": name}), content_type="application/json")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["name"] == name


def test_a_body_that_is_not_json_is_left_to_the_views_parser(client):
    answer = client.put("/registrations/1", data=b'{"name": "\\u0000', content_type="application/json")
    assert answer.status_code == 400


def test_the_paths_of_every_bad_string_and_key():
    found = control_character_fields({"a": "x\x00", "b": [{"c": "ok"}, {"d\x01": "ok"}], "e": 3, "f": None})
    assert found == ["a", "b.1.d\x01"]
    assert control_character_fields("\x0b") == ["body"]
    assert control_character_fields(["ok", 1, True]) == []


def test_a_path_parameter_with_a_control_character_is_refused_naming_it(make_app):
    from quxiang.common.web.blueprint import Blueprint

    schools = Blueprint("schools", __name__, url_prefix="/schools")

    @schools.route("/<school_code>")
    @schools.response(200)
    def school(school_code: str) -> dict[str, str]:
        return {"school_code": school_code}

    client = make_app(blueprints=[schools]).test_client()
    assert client.get("/schools/10558").get_json() == {"school_code": "10558"}
    answer = client.get("/schools/105%0058")
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["errors"]) == ["school_code"]


def test_a_lone_surrogate_in_a_json_string_is_refused_naming_the_field(client):
    # Valid JSON (the escape of half a character), but no database encoding can store it.
    answer = client.put("/registrations/1", data=b'{"name": "a\\ud800b"}', content_type="application/json")
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["errors"]) == ["name"]
    whole = client.put("/registrations/1", data=json.dumps({"name": "表情😀"}), content_type="application/json")
    assert whole.status_code == 200 and whole.get_json()["name"] == "表情😀"  # a pair is one character


def test_a_chunked_body_and_a_raw_del_are_looked_at_too(client):
    # A chunked body has no Content-Length; DEL is legal unescaped in JSON.
    import io

    body = '{"name": "张\\u0000三"}'.encode()
    chunked = client.put("/registrations/1", input_stream=io.BytesIO(body), content_type="application/json",
                         headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 422, chunked.get_json()
    raw_del = client.put("/registrations/1", data='{"name": "张\x7f三"}'.encode(), content_type="application/json")
    assert raw_del.status_code == 422 and list(raw_del.get_json()["errors"]) == ["name"]
