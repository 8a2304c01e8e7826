"""Every body is JSON or an upload, and well-formed, before a view reads it
(quxiang.common.web.json_body): a JSON body sent as a form or as text is 415, a truncated or
over-deep one 400 invalid_json, never a 500 and never read as "no body"."""

from __future__ import annotations

import io
import json

import pytest

from quxiang.common.web.json_body import MAX_DEPTH, nesting_depth

BODY = json.dumps({"name": "张三", "address": {"city": "广州"}})


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_not_sent_as_json_is_refused(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    answer = client.put("/registrations/1", data=BODY.encode(), **kwargs)
    assert answer.status_code == 415, answer.get_json()
    assert answer.get_json()["code"] == "unsupported_media_type"
    assert "application/json" in answer.get_json()["detail"]


@pytest.mark.parametrize("raw", [b'{"name": "\xe5\xbc\xa0', b'{"name": "x",', b"\xff\xfe{}", b"[1, 2"])
def test_a_body_that_is_not_json_is_refused_before_any_view(client, raw):
    for method, path in (("PUT", "/registrations/1"), ("POST", "/registrations/manual-validation")):
        answer = client.open(path, method=method, data=raw, content_type="application/json")
        assert answer.status_code == 400, answer.get_json()
        assert answer.get_json()["code"] == "invalid_json"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_a_body_nested_too_deep_is_400_not_500(client, depth):
    raw = b"[" * depth + b'"\\u0001"' + b"]" * depth
    for method in ("PUT", "GET"):
        answer = client.open("/registrations/1", method=method, data=raw, content_type="application/json")
        assert answer.status_code == 400, answer.get_json()
        assert answer.get_json()["code"] == "invalid_json" and str(MAX_DEPTH) in answer.get_json()["detail"]


def test_what_passes(client):
    assert client.put("/registrations/1", data=BODY, content_type="application/json").status_code == 200
    assert client.put("/registrations/1", data=BODY, content_type="application/json; charset=utf-8"
                      ).status_code == 200
    assert client.get("/registrations/1").status_code == 200  # no body at all
    upload = client.post("/registrations/manual-validation", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF"), "a.pdf")})
    assert upload.status_code != 415


def test_nesting_depth():
    assert nesting_depth("x") == 0 and nesting_depth([]) == 1 and nesting_depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert nesting_depth(deep) == MAX_DEPTH + 1  # stops looking once past the limit
