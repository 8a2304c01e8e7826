"""Fixtures of the browser tests: the whole suite on PostgreSQL and RabbitMQ (its own databases,
exchange and queues), served like the gateway serves it (the console at ``/``, the APIs at
``/api/<service>/``) by a werkzeug server in a thread, and a headless Chromium."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from quxiang.common.config import load_config
from quxiang.common.service import discover_services
from quxiang.common.suite import build_suite
from quxiang.common.testing.infra import require_infra

sys.path.insert(0, str(Path(__file__).parent))
from console_browser import Browser, chromium_missing

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "var" / "artifacts" / "browser"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def console_url(monkeypatch, tmp_path, postgres, rabbitmq) -> Iterator[str]:
    prefix = f"qx_t_{uuid.uuid4().hex[:8]}"
    template = postgres.url_for(prefix + "_{service}")
    port = _free_port()  # the services fetch accounts' public keys over HTTP, as in production
    for key, value in {"QX_JWKS_URL": f"http://127.0.0.1:{port}/api/accounts/.well-known/jwks.json",
                       "QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": rabbitmq.url,
                       "QX_DATABASE_URL_TEMPLATE": template, "QX_EXCHANGE": f"{prefix}.events",
                       "QX_QUEUE_PREFIX": prefix, "QX_DEMO_DATA": "true", "QX_CONSOLE_ROOT": str(REPO / "console"),
                       "QX_RELAY_IDLE_WAIT": "0.2", "QX_LOG_JSON": "false", "QX_LOG_LEVEL": "WARNING"}.items():
        monkeypatch.setenv(key, value)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    server = None
    try:
        suite = build_suite(load_config("quxiang"))
        threads = suite.start_workers(stop)
        server = make_server("127.0.0.1", port, suite.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            server.shutdown()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        for name in discover_services():
            postgres.drop_database(template.format(service=name.replace("-", "_")))


@pytest.fixture
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def chromium() -> None:
    """Before the suite starts: without Chromium there is nothing to drive."""
    missing = chromium_missing()
    if missing:
        if require_infra():
            pytest.fail(f"REQUIRE_INFRA=1 and {missing}", pytrace=False)
        pytest.skip(f"INFRA MISSING: Chromium ({missing}; `make test` installs them)")


@pytest.fixture
def browser(chromium: None, console_url: str, artifacts: Path) -> Iterator[Browser]:
    session = Browser(console_url, artifacts / "downloads")
    try:
        yield session
    finally:
        session.close()
