"""Every error response is RFC 9457 ``application/problem+json`` with a stable machine ``code``.

Clients (the web front end, the universities' integrations) branch on ``code`` and show ``detail``;
``request_id`` is what a user quotes to support. Bad input is always a 4xx naming the field, and an
unexpected failure is a 500 that says nothing about its cause (the traceback goes to the log).
"""

from __future__ import annotations

import http
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import flask
import marshmallow as ma
import werkzeug.exceptions as wexc
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy import exc as sa_exc

from quxiang.common.context import current_correlation_id
from quxiang.common.web.messages_zh import in_chinese

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "ProblemApi",
    "ProblemError",
    "ProblemSchema",
    "flatten_messages",
    "problem_response",
    "register_error_handlers",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)

# Codes for the statuses clients are expected to branch on; others get a code derived from the
# status name, so a code never changes when a description is reworded.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}

# The keys a problem body always has; ProblemError's extra fields may not shadow them.
_RESERVED = frozenset({"type", "title", "status", "detail", "code", "request_id", "errors"})

# webargs reports errors keyed by where it looked; these are the body locations, whose
# location-level messages (e.g. malformed JSON) are about the body as a whole.
_BODY_LOCATIONS = frozenset({"json", "form", "json_or_form", "files"})
_LOCATIONS = _BODY_LOCATIONS | {"query", "querystring", "headers", "cookies", "view_args", "path"}

# Users read it (the console adds the request id): the operation may or may not have been applied.
INTERNAL_ERROR_DETAIL = "系统出错，本次操作可能未完成。请稍后重试；如仍出错，请将错误编号告知技术支持。"
# The same sentence as the gateway's own 413 (deploy/nginx/gateway.conf.template): the limits a user
# who chose too large a file needs (uploads.MAX_DOCUMENT_BYTES, the roster import's own limit).
PAYLOAD_TOO_LARGE_DETAIL = "上传的文件过大：单个文件不超过 10 MB（生源文件不超过 50 MB）"
DATABASE_UNAVAILABLE_DETAIL = "数据库暂时不可用，本次操作未生效，请稍后重试"
DATABASE_RETRY_AFTER = 5  # seconds: a PostgreSQL restart or failover takes about that long
CONCURRENT_CHANGE_DETAIL = "另一项操作同时修改了同一记录，本次操作未生效，请刷新后重试"
# SQLSTATE class 40, transaction rollback: a deadlock's victim (40P01), a serialization failure (40001).
_ROLLED_BACK_FOR_ANOTHER = "40"


def status_code(status: int) -> str:
    """The stable machine code for an HTTP status."""
    if status in _CODES:
        return _CODES[status]
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return f"http_{status}"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower().replace("'", "")).strip("_")


def _status_title(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemError(Exception):
    """A domain error with its HTTP shape; raise it from a view or anything a view calls.

    ``extra`` fields go into the body as they are (JSON-serialisable values), e.g.
    ``ProblemError(409, "conflict", detail="already submitted", current_state="submitted")``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = "about:blank",  # the RFC 9457 member is called "type"
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        clash = _RESERVED.intersection(extra)
        if clash:
            # Fail where the error is built, not later as a confusing response.
            raise TypeError(f"ProblemError extra fields may not be named {sorted(clash)}")
        super().__init__(detail or title or code)
        self.status = status
        self.code = code
        self.title = title or _status_title(status)
        self.detail = detail
        self.type = type
        self.headers = dict(headers or {})
        self.extra = extra

    def to_response(self) -> flask.Response:
        extra = dict(self.extra)
        field = extra.get("field")
        if self.status == 422 and isinstance(field, str) and self.detail:
            # A domain refusal naming one field answers in the validation errors' shape too, so a
            # client highlights fields from ``errors`` whichever layer refused.
            extra["errors"] = {field: [self.detail]}
        return problem_response(
            self.status, self.code, self.title, self.detail, type=self.type, headers=self.headers, **extra,
        )


def problem_response(
    status: int,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    *,
    type: str = "about:blank",  # the RFC 9457 member is called "type"
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    **extra: Any,
) -> flask.Response:
    """Build a problem+json response; the request id comes from the request context."""
    body: dict[str, Any] = {
        "type": type,
        "title": title or _status_title(status),
        "status": status,
        "detail": detail if detail is not None else _status_title(status),
        "code": code or status_code(status),
        "request_id": current_correlation_id(),
    }
    if errors is not None:
        body["errors"] = dict(errors)
    for key, value in extra.items():
        body.setdefault(key, value)
    response = flask.current_app.response_class(
        flask.json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE
    )
    if headers:
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in items:
            if name.lower() != "content-type":
                response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"field.path": [messages]}``, its own English ones in
    Chinese (``messages_zh``).

    Clients then need no knowledge of marshmallow's nesting (dicts for nested schemas, integer keys
    for list items) to highlight the offending field. Schema-level messages stay under ``_schema``.
    """
    out: dict[str, list[str]] = {}
    _flatten_into(out, messages, prefix)
    return out


def _flatten_into(out: dict[str, list[str]], messages: Any, prefix: str) -> None:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            key = str(key)
            if key == "_schema" and prefix:
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else key
            _flatten_into(out, value, path)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                _flatten_into(out, item, prefix)
            else:
                out.setdefault(prefix or "_schema", []).append(in_chinese(str(item)))
    else:
        out.setdefault(prefix or "_schema", []).append(in_chinese(str(messages)))


def _webargs_errors(messages: Any) -> dict[str, list[str]]:
    """Drop webargs's location level (each flask-smorest ``arguments`` parses one location)."""
    if isinstance(messages, Mapping) and len(messages) == 1:
        location, inner = next(iter(messages.items()))
        if location in _LOCATIONS:
            if isinstance(inner, Mapping):
                return flatten_messages(inner)
            # Not about a field but the location as a whole, e.g. "Invalid JSON body."
            key = "_body" if location in _BODY_LOCATIONS else f"_{location}"
            return flatten_messages(inner, key)
    return flatten_messages(messages)


def http_exception_response(error: wexc.HTTPException) -> flask.Response | wexc.HTTPException:
    """The problem response for a werkzeug HTTPException, including webargs/flask-smorest aborts."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    # Allow on 405, WWW-Authenticate on 401, Retry-After on 429... must survive the rewrite.
    headers: list[tuple[str, str]] = [
        (k, v) for k, v in error.get_headers() if k.lower() != "content-type"
    ]
    headers.extend((data.get("headers") or {}).items())
    if status < 400:
        # 304 from flask-smorest's ETag support: not an error, and it must not have a body.
        response = flask.current_app.response_class(status=status)
        for name, value in headers:
            response.headers[name] = value
        return response
    if status == 500:
        # Either abort(500, ...) or Flask's wrapper after a failing error handler (which Flask has
        # logged already). The description may hold internals, so it goes to the log, not the body.
        logger.error("500 response: %s", error.description)
        return problem_response(500, "internal_error", detail=INTERNAL_ERROR_DETAIL, headers=headers)
    messages = data.get("errors", data.get("messages"))
    errors = _webargs_errors(messages) if messages is not None else None
    code = status_code(status)
    if status == 400 and errors is not None:
        code = "invalid_json" if "_body" in errors else "validation_error"
    detail = data.get("message") or error.description
    if detail == type(error).description:  # werkzeug's stock English text: users read ours
        detail = _STOCK_DETAILS.get(status, detail)
    if errors is not None and not data.get("message"):
        detail = _validation_detail(errors)
    return problem_response(status, code, detail=detail, errors=errors, headers=headers)


# In place of werkzeug's stock descriptions (an error raised with its own text keeps it).
_STOCK_DETAILS = {
    400: "请求有误", 401: "需要登录", 403: "没有权限执行此操作", 404: "接口或对象不存在",
    405: "该地址不支持此请求方法", 406: "无法提供所请求的内容格式", 408: "请求超时", 409: "与当前状态冲突",
    411: "请求缺少 Content-Length", 413: PAYLOAD_TOO_LARGE_DETAIL, 414: "请求地址过长", 415: "不支持的请求体格式",
    429: "请求过于频繁，请稍后再试", 431: "请求头过大", 503: "服务暂时不可用，请稍后重试",
}


def _validation_detail(errors: Mapping[str, list[str]]) -> str:
    fields = [name for name in errors if not name.startswith("_")]
    if fields:
        return "以下字段有误：" + "、".join(fields)
    return "; ".join(m for messages in errors.values() for m in messages) or "输入有误。"


def _handle_problem_error(error: ProblemError) -> flask.Response:
    return error.to_response()


def _handle_validation_error(error: ma.ValidationError) -> flask.Response:
    errors = flatten_messages(error.messages)
    return problem_response(422, "validation_error", detail=_validation_detail(errors), errors=errors)


def _handle_unexpected(error: Exception) -> flask.Response | wexc.HTTPException:
    if isinstance(error, wexc.HTTPException):
        # Only reached if the app has no HTTPException handler (no ProblemApi); keep one shape.
        return http_exception_response(error)
    # The traceback (masked by the logging filter) is for operators; the body only gets the id.
    logger.exception("unhandled exception in %s %s", flask.request.method, flask.request.path)
    return problem_response(500, "internal_error", detail=INTERNAL_ERROR_DETAIL)


class ProblemSchema(ma.Schema):
    """The problem+json body; used by flask-smorest to document error responses."""

    class Meta:
        unknown = ma.INCLUDE  # RFC 9457 extension members (row_errors, module, needed, job_id...)

    type = ma.fields.String(metadata={"description": "'about:blank' or a URN naming the problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "Explanation of this occurrence"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    request_id = ma.fields.String(metadata={"description": "Id to quote when reporting the error"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages by field path"},
    )


class ProblemApi(Api):
    """flask-smorest's Api with problem+json errors (its own handler is registered by ``init_app``)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """The error responses documented as what they are: problem+json (flask-smorest would say
        application/json, so a client or schemathesis holding us to the spec sees an undocumented
        content type on every error)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: wexc.HTTPException) -> Any:  # type: ignore[override]
        return http_exception_response(error)


def _handle_database_unavailable(error: sa_exc.DBAPIError | sa_exc.TimeoutError) -> flask.Response:
    """The database went away (restart, failover, network) or no connection was free in time: the
    request's transaction was rolled back whole, so the caller may simply try again."""
    if isinstance(error, sa_exc.DBAPIError) and not (
            error.connection_invalidated or isinstance(error, sa_exc.OperationalError)):
        return _handle_unexpected(error)  # a programming or data error: a bug, not an outage
    if str(getattr(getattr(error, "orig", None), "sqlstate", None) or "").startswith(_ROLLED_BACK_FOR_ANOTHER):
        # The database is fine: it rolled this transaction back for another one's sake. What the
        # other did may change what this one should do, so the caller reads again, not just retries.
        logger.warning("transaction rolled back for a concurrent one in %s %s: %s", flask.request.method,
                       flask.request.path, type(error.orig).__name__)
        return problem_response(409, "concurrent_change", detail=CONCURRENT_CHANGE_DETAIL)
    logger.warning("database unavailable in %s %s: %s", flask.request.method, flask.request.path,
                   type(getattr(error, "orig", None) or error).__name__)
    return problem_response(503, "database_unavailable", detail=DATABASE_UNAVAILABLE_DETAIL,
                            headers=[("Retry-After", str(DATABASE_RETRY_AFTER))])


def register_error_handlers(app: flask.Flask) -> None:
    """Handlers for everything but HTTPException, which ProblemApi handles."""
    app.register_error_handler(ProblemError, _handle_problem_error)
    app.register_error_handler(ma.ValidationError, _handle_validation_error)
    app.register_error_handler(sa_exc.DBAPIError, _handle_database_unavailable)
    app.register_error_handler(sa_exc.TimeoutError, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)
