"""Fixtures of the browser tests: the whole suite on PostgreSQL and RabbitMQ (its own databases,
exchange and queues), served like the gateway serves it (the console at ``/``, the APIs at
``/api/<service>/``) by a werkzeug server in a thread, and a headless Chromium."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from quxiang.common.testing.infra import require_infra
from quxiang.common.testing.served_suite import served_suite

sys.path.insert(0, str(Path(__file__).parent))
from console_browser import Browser, chromium_missing

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "var" / "artifacts" / "browser"


@pytest.fixture
def console_url(monkeypatch, tmp_path, postgres, rabbitmq) -> Iterator[str]:
    settings = {"QX_CONSOLE_ROOT": str(REPO / "console"), "QX_RELAY_IDLE_WAIT": "0.2", "QX_LOG_JSON": "false",
                "QX_LOG_LEVEL": "WARNING"}
    with served_suite(monkeypatch, tmp_path, postgres, rabbitmq, settings) as (_, url):
        yield url


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
