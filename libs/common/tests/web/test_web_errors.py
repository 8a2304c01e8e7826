from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import exc as sa_exc
from werkzeug.test import TestResponse

from quxiang.common.web import PROBLEM_CONTENT_TYPE, ProblemError
from quxiang.common.web.errors import flatten_messages

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.data
    assert response.mimetype == PROBLEM_CONTENT_TYPE
    body = response.get_json(force=True)
    assert PROBLEM_KEYS <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_malformed_json_body_is_400_naming_the_body(client: FlaskClient) -> None:
    response = client.put("/registrations/1", data="{not json", content_type="application/json")
    body = problem(response, 400, "invalid_json")
    assert body["errors"] == {"_body": ["请求体不是有效的 JSON"]}
    assert body["type"] == "about:blank"


def test_non_json_content_type_is_415_not_a_missing_body(client: FlaskClient) -> None:
    # webargs ignores a body that is not declared JSON: it would report the sent field missing.
    response = client.put("/registrations/1", data="name=Li", content_type="text/plain")
    problem(response, 415, "unsupported_media_type")


def test_wrong_type_names_the_field(client: FlaskClient) -> None:
    response = client.put("/registrations/1", json={"name": "Li", "age": "old"})
    body = problem(response, 422, "validation_error")
    assert body["errors"] == {"age": ["须为整数"]}
    assert body["detail"] == "以下字段有误：age"  # users read it: Chinese, naming the field


def test_missing_required_field(client: FlaskClient) -> None:
    body = problem(client.put("/registrations/1", json={"age": 3}), 422, "validation_error")
    assert body["errors"] == {"name": ["必填"]}


def test_unknown_field(client: FlaskClient) -> None:
    response = client.put("/registrations/1", json={"name": "Li", "hacker": True})
    body = problem(response, 422, "validation_error")
    assert body["errors"] == {"hacker": ["不接受此字段"]}


def test_nested_field_errors_are_flattened_to_a_path(client: FlaskClient) -> None:
    response = client.put("/registrations/1", json={"name": "Li", "address": {}})
    body = problem(response, 422, "validation_error")
    assert body["errors"] == {"address.city": ["必填"]}


def test_json_array_instead_of_object(client: FlaskClient) -> None:
    body = problem(client.put("/registrations/1", json=[1, 2]), 422, "validation_error")
    assert body["errors"] == {"_schema": ["类型不正确"]}


def test_query_string_errors_name_the_parameter(client: FlaskClient) -> None:
    body = problem(client.get("/registrations/?page=first"), 422, "validation_error")
    assert body["errors"] == {"page": ["须为整数"]}


def test_valid_input_passes(client: FlaskClient) -> None:
    response = client.put("/registrations/1", json={"name": "李雷", "age": 22})
    assert response.status_code == 200
    assert response.get_json() == {"name": "李雷", "age": 22}


def test_marshmallow_validation_error_raised_in_a_view(client: FlaskClient) -> None:
    body = problem(client.post("/registrations/manual-validation"), 422, "validation_error")
    assert body["errors"] == {
        "name": ["必填"],
        "address.city": ["必填"],
    }


def test_problem_error_carries_type_and_extra_fields(client: FlaskClient) -> None:
    body = problem(client.post("/registrations/conflict"), 409, "already_submitted")
    assert body["type"] == "urn:quxiang:problem:already-submitted"
    assert body["title"] == "Conflict"
    assert body["detail"] == "The registration was already submitted."
    assert body["current_state"] == "submitted"


def test_problem_error_rejects_extra_fields_shadowing_the_standard_ones() -> None:
    with pytest.raises(TypeError, match="status"):
        ProblemError(409, "conflict", status="x")


def test_flask_smorest_abort_message_becomes_detail(client: FlaskClient) -> None:
    body = problem(client.get("/registrations/abort-conflict"), 409, "conflict")
    assert body["detail"] == "Version mismatch."


def test_unexpected_exception_is_500_without_its_text(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="quxiang.common.web.errors")
    response = client.get("/registrations/boom", headers={"X-Request-ID": "req-500"})
    body = problem(response, 500, "internal_error")
    assert body["request_id"] == "req-500"
    # users read it (the console adds the request id as 错误编号): Chinese, and honest that the
    # operation may not have been done
    assert body["detail"] == "系统出错，本次操作可能未完成。请稍后重试；如仍出错，请将错误编号告知技术支持。"
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "RuntimeError" not in text and "11010519491231002X" not in text
    [record] = [r for r in caplog.records if r.name == "quxiang.common.web.errors"]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_unexpected_exception_traceback_is_logged_with_request_id_and_masked(
    client: FlaskClient, log_stream: Any
) -> None:
    import json

    client.get("/registrations/boom", headers={"X-Request-ID": "req-tb"})
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    [entry] = [e for e in lines if e["logger"] == "quxiang.common.web.errors"]
    assert entry["request_id"] == "req-tb"
    assert "RuntimeError" in entry["traceback"]
    assert "11010519491231002X" not in entry["traceback"]
    assert "110***********002X" in entry["traceback"]


def test_abort_500_hides_its_description(client: FlaskClient) -> None:
    response = client.get("/registrations/abort-500")
    assert problem(response, 500, "internal_error")["detail"].startswith("系统出错")
    assert "private" not in response.get_data(as_text=True)


def test_unknown_url_is_404_problem(client: FlaskClient) -> None:
    problem(client.get("/no/such/thing"), 404, "not_found")


def test_wrong_method_is_405_problem_keeping_allow_header(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_413_problem(make_app: Any) -> None:
    client = make_app(max_content_length=64).test_client()
    response = client.put("/registrations/1", json={"name": "x" * 500})
    body = problem(response, 413, "payload_too_large")
    # what a user who chose too large a file reads: the limits, as the gateway's own 413 says them
    assert body["detail"] == "上传的文件过大：单个文件不超过 10 MB（生源文件不超过 50 MB）"


def test_not_modified_has_no_problem_body(client: FlaskClient) -> None:
    first = client.get("/registrations/tagged")
    assert first.status_code == 200
    response = client.get("/registrations/tagged", headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert response.data == b""


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ({"a": ["bad"]}, {"a": ["bad"]}),
        ({"items": {0: {"name": ["bad"]}}}, {"items.0.name": ["bad"]}),
        ({"address": {"_schema": ["inconsistent"]}}, {"address": ["inconsistent"]}),
        (["whole thing"], {"_schema": ["whole thing"]}),
        ("just text", {"_schema": ["just text"]}),
    ],
)
def test_flatten_messages(messages: Any, expected: dict[str, list[str]]) -> None:
    assert flatten_messages(messages) == expected


def test_error_responses_are_documented_as_problem_json_with_extension_members(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    responses = spec["components"]["responses"]
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        content = responses[name]["content"]
        assert list(content) == [PROBLEM_CONTENT_TYPE], name
        schema = spec["components"]["schemas"][content[PROBLEM_CONTENT_TYPE]["schema"]["$ref"].split("/")[-1]]
        assert schema.get("additionalProperties") is not False, "problems carry members beyond the standard ones"


def database_failure_app(make_app: Any, error: Exception) -> FlaskClient:
    from flask_smorest import Blueprint

    bp = Blueprint("failing", __name__, url_prefix="/failing")

    @bp.route("/")
    def fail() -> Any:
        raise error

    return make_app(blueprints=[bp]).test_client()


@pytest.mark.parametrize("error", [
    sa_exc.OperationalError("SELECT 1", {}, OSError("server closed the connection unexpectedly")),
    sa_exc.DBAPIError("SELECT 1", {}, OSError("terminating connection"), connection_invalidated=True),
    sa_exc.TimeoutError("QueuePool limit reached, connection timed out"),
], ids=["operational", "invalidated", "pool-timeout"])
def test_a_database_outage_is_503_with_retry_after(make_app: Any, error: Exception) -> None:
    body = problem(database_failure_app(make_app, error).get("/failing/"), 503, "database_unavailable")
    assert "稍后重试" in body["detail"] and "server closed" not in body["detail"]


def test_the_503_says_when_to_try_again(make_app: Any) -> None:
    error = sa_exc.OperationalError("SELECT 1", {}, OSError("server closed the connection unexpectedly"))
    assert database_failure_app(make_app, error).get("/failing/").headers["Retry-After"] == "5"


@pytest.mark.parametrize("cause", ["DeadlockDetected", "SerializationFailure"])
def test_a_transaction_rolled_back_for_a_concurrent_one_is_409_not_an_outage(make_app: Any, cause: str) -> None:
    import psycopg

    error = sa_exc.OperationalError("UPDATE agreements ...", {}, getattr(psycopg.errors, cause)("deadlock detected"))
    response = database_failure_app(make_app, error).get("/failing/")
    body = problem(response, 409, "concurrent_change")
    assert "刷新后重试" in body["detail"] and "deadlock" not in body["detail"]
    assert "Retry-After" not in response.headers


def test_a_database_error_that_is_not_an_outage_stays_a_500(make_app: Any) -> None:
    error = sa_exc.ProgrammingError("SELEC 1", {}, Exception('syntax error at or near "SELEC"'))
    body = problem(database_failure_app(make_app, error).get("/failing/"), 500, "internal_error")
    assert "SELEC" not in body["detail"]


def test_stock_werkzeug_texts_are_replaced_by_chinese_ones(client: FlaskClient) -> None:
    assert problem(client.get("/no-such-thing"), 404, "not_found")["detail"] == "接口或对象不存在"
    assert problem(client.delete("/registrations/1"), 405, "method_not_allowed")["detail"] == "该地址不支持此请求方法"


def test_a_domain_refusal_naming_a_field_has_the_validation_errors_shape_too(app) -> None:
    from quxiang.common.web import ProblemError

    with app.test_request_context():
        response = ProblemError(422, "reason_required", detail="请填写原因", field="reason").to_response()
        assert response.get_json()["errors"] == {"reason": ["请填写原因"]}
        assert response.get_json()["code"] == "reason_required" and response.get_json()["field"] == "reason"
        other = ProblemError(409, "conflict", detail="x", field="reason").to_response()
        assert "errors" not in other.get_json()
