"""Liveness (/healthz) and readiness (/readyz) probes.

Liveness never looks at dependencies: a database outage must not make the orchestrator restart
every replica. Readiness runs the checks, all of them, so the response names every failing one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import flask

from quxiang.common.config import Config
from quxiang.common.db import reading
from quxiang.common.pii import redact_identity_numbers
from quxiang.common.web.errors import problem_response

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "ReadinessCheck",
    "add_readiness_check",
    "broker_check",
    "database_check",
    "describe_failure",
    "health_blueprint",
]

ReadinessCheck = Callable[[], None]

EXTENSION_KEY = "qx.readiness_checks"
_MAX_MESSAGE = 200
# user:password@ in any URL a driver chose to put in its error message.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")

logger = logging.getLogger(__name__)


def describe_failure(exc: BaseException) -> str:
    """A one-line, secret-free description of why a check failed, for the probe response."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver error; its text is the useful part
    source = orig if isinstance(orig, BaseException) else exc
    lines = str(source).strip().splitlines()
    text = lines[0] if lines else ""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    text = redact_identity_numbers(text)
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    name = type(source).__name__
    return f"{name}: {text}" if text else name


def database_check(engine: Engine) -> ReadinessCheck:
    """A check that runs ``SELECT 1`` on ``engine`` (via its pool, as the views would)."""
    from sqlalchemy import text

    def check() -> None:
        with reading(engine) as connection:
            connection.execute(text("SELECT 1"))

    return check


def broker_check(config: Config) -> ReadinessCheck:
    """A check that opens and closes a connection to the broker; always passes for the embedded bus."""

    def check() -> None:
        if config.embedded_bus:
            # The embedded bus lives in the service's own process and files: nothing to reach.
            return
        from kombu import Connection

        connection = Connection(config.broker_url, connect_timeout=2)
        try:
            # interval_start=0: one immediate retry. Sleeping between attempts would only push the
            # probe past the orchestrator's timeout, which reports the same failure less clearly.
            connection.ensure_connection(max_retries=1, interval_start=0)
        finally:
            connection.release()

    return check


def add_readiness_check(app: flask.Flask, name: str, check: ReadinessCheck) -> None:
    """Add (or replace) a named readiness check after the app was created."""
    app.extensions.setdefault(EXTENSION_KEY, {})[name] = check


def _healthz() -> flask.Response:
    return flask.jsonify(status="ok")


def _readyz() -> flask.Response:
    checks: Mapping[str, ReadinessCheck] = flask.current_app.extensions.get(EXTENSION_KEY, {})
    results: dict[str, str] = {}
    failed: list[str] = []
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", and is reported
            message = describe_failure(exc)
            # Warning without traceback: probes run every few seconds and the cause is in the message.
            logger.warning("readiness check %s failed: %s", name, message)
            results[name] = message
            failed.append(name)
        else:
            results[name] = "ok"
    if failed:
        return problem_response(
            503, "not_ready", "Service Unavailable", "Failing readiness checks: " + ", ".join(failed),
            checks=results, failed=failed,
        )
    return flask.jsonify(status="ready", checks=results)


def health_blueprint() -> flask.Blueprint:
    """A plain Flask blueprint (kept out of the OpenAPI document: probes are not API)."""
    bp = flask.Blueprint("qx_health", __name__)
    bp.add_url_rule("/healthz", "healthz", _healthz, methods=["GET"])
    bp.add_url_rule("/readyz", "readyz", _readyz, methods=["GET"])
    return bp
