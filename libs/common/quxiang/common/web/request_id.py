"""X-Request-ID: accepted from the caller (gateway, other service) or minted, and made the
correlation id of everything the request does: its log lines, the events it records, its errors.

This is WSGI middleware rather than before/teardown_request hooks so the id is set before Flask
runs anything (including the request-context setup and every hook) and is reset in a ``finally``
no matter how the request ends. Bodies streamed by a generator are produced after it returns and
so run without the id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import flask

from quxiang.common.context import new_id, request_context

__all__ = ["HEADER", "RequestIdMiddleware", "install_request_id", "sanitize_request_id"]

HEADER = "X-Request-ID"
_ENVIRON_HEADER = "HTTP_X_REQUEST_ID"
ENVIRON_KEY = "quxiang.request_id"

# A caller-chosen id lands in log lines and event envelopes: refuse anything that could forge log
# structure (newlines, quotes) or bloat every row it is copied into.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def sanitize_request_id(value: str | None) -> str:
    """``value`` if it is a sane token (1..128 of ``[A-Za-z0-9._-]``), else a new uuid4 hex."""
    if value and _SANE.fullmatch(value):
        return value
    return new_id()


class RequestIdMiddleware:
    """Sets the request id in ``quxiang.common.context`` for the duration of the WSGI call."""

    def __init__(self, wsgi_app: WSGIApp) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = sanitize_request_id(environ.get(_ENVIRON_HEADER))
        environ[ENVIRON_KEY] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Set here, not in after_request, so responses that bypass Flask's hooks carry it too.
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        with request_context(request_id):
            return self.wsgi_app(environ, start_with_id)


def install_request_id(app: flask.Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
