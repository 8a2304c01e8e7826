from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import flask
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from quxiang.common.config import Config, load_config
from quxiang.common.web import PROBLEM_CONTENT_TYPE, add_readiness_check, broker_check, database_check
from quxiang.common.web.health import describe_failure


def failing(message: str) -> Callable[[], None]:
    def check() -> None:
        raise ConnectionError(message)

    return check


def passing() -> None:
    return None


def test_healthz_is_always_ok(make_app: Callable[..., flask.Flask]) -> None:
    client = make_app(readiness_checks={"db": failing("down")}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_passing_checks(make_app: Callable[..., flask.Flask]) -> None:
    client = make_app(readiness_checks={"database": passing, "broker": passing}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_names_every_failing_check(make_app: Callable[..., flask.Flask]) -> None:
    app = make_app(readiness_checks={"database": failing("connection refused"), "cache": passing})
    add_readiness_check(app, "broker", failing("no route to host"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM_CONTENT_TYPE
    body = response.get_json(force=True)
    assert body["code"] == "not_ready"
    assert body["failed"] == ["database", "broker"]
    assert body["checks"] == {
        "database": "ConnectionError: connection refused",
        "cache": "ok",
        "broker": "ConnectionError: no route to host",
    }
    assert "database" in body["detail"] and "broker" in body["detail"]


def test_readyz_does_not_leak_credentials(make_app: Callable[..., flask.Flask]) -> None:
    check = failing("cannot reach postgresql://qx:s3cret@db.internal:5432/qx_demo\nmore lines")
    client = make_app(readiness_checks={"database": check}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "s3cret" not in text and "more lines" not in text
    assert "postgresql://***@db.internal" in text


def test_describe_failure_uses_the_driver_error_and_truncates() -> None:
    assert describe_failure(ValueError("x" * 500)).endswith("…")
    assert len(describe_failure(ValueError("x" * 500))) < 230
    assert describe_failure(ValueError()) == "ValueError"


def test_database_check_on_sqlite(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ok.db'}")
    database_check(engine)()  # does not raise
    engine.dispose()


def test_database_check_broken_sqlite(tmp_path: Path, make_app: Callable[..., flask.Flask]) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    check = database_check(engine)
    with pytest.raises(sa.exc.OperationalError):
        check()
    client: FlaskClient = make_app(readiness_checks={"database": check}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json(force=True)
    assert body["checks"]["database"] == "OperationalError: unable to open database file"
    assert "SELECT" not in body["checks"]["database"]


def test_broker_check_embedded_is_ok(config: Config) -> None:
    assert config.embedded_bus
    broker_check(config)()


def test_broker_check_unreachable_broker(tmp_path: Path, make_app: Callable[..., flask.Flask]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port was free a moment ago and nothing listens on it now: the connection is refused.
    config = load_config("demo", {"QX_DATA_DIR": str(tmp_path),
                                  "QX_BROKER_URL": f"amqp://qx:t0psecret@127.0.0.1:{port}//"})
    check = broker_check(config)
    with pytest.raises(Exception):  # noqa: B017 - kombu's exact class depends on the transport
        check()
    response = make_app(readiness_checks={"broker": check}).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json(force=True)
    assert body["failed"] == ["broker"]
    assert "t0psecret" not in response.get_data(as_text=True)
