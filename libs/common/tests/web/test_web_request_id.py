from __future__ import annotations

import io
import json
import re

import pytest
from flask.testing import FlaskClient

from quxiang.common import context
from quxiang.common.web.request_id import sanitize_request_id

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_given_request_id_is_echoed_and_used_as_correlation_id(client: FlaskClient) -> None:
    response = client.get("/registrations/5", headers={"X-Request-ID": "gw-01.abc_DEF"})
    assert response.headers["X-Request-ID"] == "gw-01.abc_DEF"
    # The view saw it through quxiang.common.context, which is what events and logs read.
    assert response.get_json()["request_id"] == "gw-01.abc_DEF"


def test_missing_request_id_is_minted(client: FlaskClient) -> None:
    response = client.get("/registrations/5")
    assert HEX32.fullmatch(response.headers["X-Request-ID"])
    assert response.get_json()["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "x" * 129, "引号", "a\"b"])
def test_unsafe_request_id_is_replaced(client: FlaskClient, bad: str) -> None:
    response = client.get("/registrations/5", headers={"X-Request-ID": bad})
    rid = response.headers["X-Request-ID"]
    assert rid != bad and HEX32.fullmatch(rid)
    assert response.get_json()["request_id"] == rid


def test_longest_allowed_request_id_is_kept() -> None:
    assert sanitize_request_id("a" * 128) == "a" * 128
    assert sanitize_request_id("") != ""
    assert sanitize_request_id(None) != sanitize_request_id(None)


def test_error_responses_carry_the_header(client: FlaskClient) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "r-404"})
    assert response.headers["X-Request-ID"] == "r-404"
    assert response.get_json(force=True)["request_id"] == "r-404"
    assert response.headers.getlist("X-Request-ID") == ["r-404"]


def test_context_is_reset_after_the_request(client: FlaskClient) -> None:
    assert context.current_correlation_id() is None
    client.get("/registrations/5", headers={"X-Request-ID": "short-lived"})
    assert context.current_correlation_id() is None
    client.get("/registrations/boom", headers={"X-Request-ID": "failed-one"})
    assert context.current_correlation_id() is None


def test_log_lines_during_the_request_carry_the_id(client: FlaskClient, log_stream: io.StringIO) -> None:
    client.get("/registrations/42", headers={"X-Request-ID": "log-me"})
    entries = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    [entry] = [e for e in entries if e["logger"] == "tests.web.view"]
    assert entry["message"] == "reading registration 42"
    assert entry["request_id"] == "log-me"
    assert entry["service"] == "demo"
