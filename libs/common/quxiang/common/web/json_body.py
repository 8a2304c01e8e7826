"""Every request body is JSON or an upload, and well-formed, before any view reads it.

Without this, each way of reading a body failed its own way: a JSON body sent as text/plain or as a
form (curl's default) read as "no body", so a login answered that the username was missing and a
fault setting was reset to its defaults; a view reading ``get_json(silent=True)`` took a truncated
body for an empty one and submitted the saved draft instead; and a body nested a thousand levels
deep made the JSON parser recurse out of the stack (a 500 on every service, before any login).
Now such a request gets 415 ``unsupported_media_type`` or 400 ``invalid_json``, naming the problem.
"""

from __future__ import annotations

import json
from typing import Any

import flask

from quxiang.common.web.errors import problem_response

__all__ = ["MAX_DEPTH", "install_json_body_check", "nesting_depth"]

MAX_DEPTH = 32  # arrays and objects inside each other; the deepest body any endpoint takes is 4
_UPLOADS = frozenset({"multipart/form-data"})


def nesting_depth(value: Any) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar: 0), without recursion; only the
    containers are walked."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _has_body(request: flask.Request) -> bool:
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _check_body() -> flask.Response | None:
    request = flask.request
    if request.routing_exception is not None or not _has_body(request):
        return None  # no such route, or method: that answer (404, 405) comes first
    if request.mimetype in _UPLOADS:
        return None
    if not request.is_json:
        return problem_response(415, "unsupported_media_type", detail=_NOT_JSON_TYPE)
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None  # an empty JSON body: the view decides whether it needs one
    try:
        value = json.loads(raw)
    except RecursionError:
        return _invalid(_TOO_DEEP)
    except ValueError:
        return _invalid(_NOT_JSON)
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return None  # too few brackets to nest too deep: no walk (nearly every body)
    return _invalid(_TOO_DEEP) if nesting_depth(value) > MAX_DEPTH else None


_NOT_JSON = "请求体不是有效的 JSON"
_NOT_JSON_TYPE = "请求体须为 JSON（Content-Type: application/json）或上传文件（multipart/form-data）"
_TOO_DEEP = f"JSON 嵌套过深（最多 {MAX_DEPTH} 层）"


def _invalid(reason: str) -> flask.Response:
    return problem_response(400, "invalid_json", detail=reason, errors={"_body": [reason]})


def install_json_body_check(app: flask.Flask) -> None:
    app.before_request(_check_body)
