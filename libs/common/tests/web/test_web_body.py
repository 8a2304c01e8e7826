"""A body the app refused without reading is read before the answer goes out (quxiang.common.web.body)."""

from __future__ import annotations

import io
from typing import Any

import flask
from werkzeug.test import EnvironBuilder

from quxiang.common.web.body import DrainUnreadBody


class CountingInput(io.BytesIO):
    """A server's wsgi.input that says how far it was read."""


def run(wsgi_app: Any, path: str, method: str, body: bytes, content_type: str) -> tuple[str, CountingInput]:
    """Call ``wsgi_app`` as a server would; the status and the server's input stream after the call."""
    environ = EnvironBuilder(path=path, method=method, data=body, content_type=content_type).get_environ()
    server_input = environ["wsgi.input"] = CountingInput(body)
    statuses: list[str] = []
    b"".join(wsgi_app(environ, lambda s, h, e=None: statuses.append(s)))
    return statuses[0], server_input


def test_every_service_app_reads_a_body_it_answered_without_reading(make_app: Any) -> None:
    body = b"x" * 300_000
    status, server_input = run(make_app().wsgi_app, "/no-such-thing", "PUT", body, "application/octet-stream")
    assert status.startswith("404")
    assert server_input.tell() == len(body)


def test_the_servers_input_is_consumed_when_the_app_refuses_before_reading(make_app: Any) -> None:
    body = b"y" * 200_000
    status, server_input = run(make_app().wsgi_app, "/registrations/1", "PUT", body, "application/json")
    assert status.startswith("400")  # not JSON: refused while parsing
    assert server_input.tell() == len(body)


def test_a_refusal_from_a_header_check_leaves_nothing_unread() -> None:
    inner = flask.Flask("refuses")

    @inner.post("/upload")
    def upload() -> Any:  # refuses on the header, never touches the body (like a 401)
        flask.abort(401)

    body = b"z" * 1_000_000
    status, server_input = run(DrainUnreadBody(inner.wsgi_app), "/upload", "POST", body, "application/octet-stream")
    assert status.startswith("401")
    assert server_input.tell() == len(body)


def test_without_the_middleware_the_body_stays_unread() -> None:
    """What the middleware is for: the same refusal leaves the server's input where it was."""
    inner = flask.Flask("refuses")

    @inner.post("/upload")
    def upload() -> Any:
        flask.abort(401)

    status, server_input = run(inner.wsgi_app, "/upload", "POST", b"z" * 1000, "application/octet-stream")
    assert status.startswith("401")
    assert server_input.tell() == 0


def test_bodies_over_the_limit_and_of_unknown_length_on_a_raw_stream_are_left_alone() -> None:
    seen: list[Any] = []

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        start_response("401 UNAUTHORIZED", [])
        return [b""]

    app = DrainUnreadBody(inner, limit=100)
    big = CountingInput(b"a" * 101)
    b"".join(app({"CONTENT_LENGTH": "101", "wsgi.input": big}, lambda *a: None))
    chunked = CountingInput(b"a" * 50)
    b"".join(app({"CONTENT_LENGTH": "", "wsgi.input": chunked}, lambda *a: None))
    assert big.tell() == 0 and chunked.tell() == 0
    assert seen == [big, chunked]  # passed through untouched


def test_a_client_that_goes_away_mid_body_is_not_an_error() -> None:
    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("401 UNAUTHORIZED", [])
        return [b"no"]

    app = DrainUnreadBody(inner)
    short = CountingInput(b"a" * 10)  # promised 1000 bytes, sends 10
    assert b"".join(app({"CONTENT_LENGTH": "1000", "wsgi.input": short}, lambda *a: None)) == b"no"
    assert short.tell() == 10


def test_a_server_stream_that_ends_with_the_body_is_read_to_its_end() -> None:
    """gunicorn sets wsgi.input_terminated: its stream stops at the body's end by itself."""
    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("401 UNAUTHORIZED", [])
        return [b""]

    body = b"q" * 500_000
    server_input = CountingInput(body)
    b"".join(DrainUnreadBody(inner)({"CONTENT_LENGTH": str(len(body)), "wsgi.input": server_input,
                                     "wsgi.input_terminated": True}, lambda *a: None))
    assert server_input.tell() == len(body)
    # chunked (no length): read up to the limit, not past it
    chunked = CountingInput(b"c" * 300)
    b"".join(DrainUnreadBody(inner, limit=100)({"wsgi.input": chunked, "wsgi.input_terminated": True},
                                               lambda *a: None))
    assert chunked.tell() == 100
