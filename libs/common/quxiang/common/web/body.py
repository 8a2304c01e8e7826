"""Reading the rest of a request body the app did not read, before the answer goes out.

A request refused before its body is read (401, 403, 404, 413 from a check on the headers) would
otherwise leave the body unread: gunicorn then closes the connection while the gateway is still
sending it, and nginx turns the service's answer into a 502. Reading what is left (up to
``DRAIN_LIMIT``, the largest body the gateway lets through, with room) lets the caller see the real
answer. Bodies larger than the limit are not read on: the connection is closed, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import flask
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import LimitedStream

__all__ = ["DRAIN_LIMIT", "DrainUnreadBody", "install_body_drain"]

DRAIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 64 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length > 0 else None


class DrainUnreadBody:
    """WSGI middleware: the body is read through a stream that counts, and what the app left is
    read and dropped when the app returns (before the server sends the answer)."""

    def __init__(self, wsgi_app: WSGIApp, limit: int = DRAIN_LIMIT) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = _content_length(environ)
        if environ.get("wsgi.input_terminated"):
            # The server's stream ends at the body's end (gunicorn always; werkzeug for chunked
            # bodies): read it until it says so, without passing the limit.
            stream = environ["wsgi.input"]
            budget = self.limit if length is None else min(length, self.limit)
        elif length is None or length > self.limit:
            return self.wsgi_app(environ, start_response)
        else:
            # A raw socket stream would block past the body: count what the app reads.
            stream = environ["wsgi.input"] = LimitedStream(environ["wsgi.input"], length)
            budget = length
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            _drain(stream, budget)


def _drain(stream: Any, budget: int) -> None:
    try:
        while budget > 0:
            chunk = stream.read(min(_CHUNK, budget))
            if not chunk:
                return
            budget -= len(chunk)
    except (ClientDisconnected, OSError):  # the caller went away: nothing left to protect
        pass


def install_body_drain(app: flask.Flask) -> None:
    app.wsgi_app = DrainUnreadBody(app.wsgi_app)  # type: ignore[method-assign]
