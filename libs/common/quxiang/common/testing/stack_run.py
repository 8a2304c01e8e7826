"""An isolated multi-process stack for one run (its own databases, vhost or names, free ports) and
a small HTTP client for its gateway: shared by the end-to-end test (tests/e2e) and the API
benchmark (bench/bench_api.py), which both drive the stack only over HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from quxiang.common.stack import StackSettings

SERVICES = ("accounts", "records", "signing", "stats", "sync-gateway", "ems-sim")
DEMO_PASSWORD = "Demo2026!"  # noqa: S105 - the documented demo password of the demo logins


def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``check`` until it answers something truthy; the last answer is in the failure."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except AssertionError as exc:  # a check may assert on a response to explain itself
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}; last: {last!r}"[:2000])
        time.sleep(0.25)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def with_vhost(base_url: str, vhost: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path="/" + quote(vhost, safe="")))


def isolated_settings(directory: Path, run: str, label: str, database_url_for: Callable[[str], str],
                      broker_base_url: str, own_vhost: bool, broker_url: str | None = None,
                      web_workers: int = 1, env: dict[str, str] | None = None) -> StackSettings:
    """Settings of a stack of its own: databases ``qx_<label>_<run>_<service>`` (``database_url_for``
    turns a database name into a URL), the vhost ``qx-<label>-<run>`` when it may make one (else
    ``broker_url`` with exchange and queue names of the run), free ports."""
    ports = free_ports(len(SERVICES) + 1)
    return StackSettings(
        directory=directory,
        gateway_port=ports[0],
        service_ports=dict(zip(SERVICES, ports[1:], strict=True)),
        database_url_template=database_url_for(f"qx_{label}_{run}_{{service}}"),
        broker_url=with_vhost(broker_base_url, f"qx-{label}-{run}") if own_vhost else (broker_url or broker_base_url),
        web_workers=web_workers,
        env={"QX_EXCHANGE": f"qx_{label}_{run}.events", "QX_QUEUE_PREFIX": f"qx_{label}_{run}",
             "QX_LOG_LEVEL": "INFO", "QX_RELAY_IDLE_WAIT": "0.2", **(env or {})},
    )


class Gateway:
    """HTTP to a stack (through nginx, or one service's gunicorn for set-up that the gateway's
    login limit would slow down)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, token: str | None = None, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text[:1000])
        return response.json() if response.content else None

    def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        return self.ok("POST", "/api/accounts/auth/login", json={"username": username, "password": password})[
            "access_token"]
