"""The whole suite in the test's process, served over HTTP the way the gateway lays it out.

For tests that need every service at once (the browser tests, cross-service scenarios): each
service on a PostgreSQL database of its own, an exchange and queues of its own on the run's vhost,
relays and consumers in threads, and a werkzeug server on a free port, because the services fetch
accounts' public keys over HTTP as in production. Everything is stopped and dropped afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from quxiang.common.config import load_config
from quxiang.common.service import discover_services
from quxiang.common.suite import Suite, build_suite
from quxiang.common.testing.infra import Postgres, RabbitMQ
from quxiang.common.testing.stack_run import free_ports

__all__ = ["served_suite"]


@contextmanager
def served_suite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres: Postgres, rabbitmq: RabbitMQ,
                 settings: Mapping[str, str] | None = None) -> Iterator[tuple[Suite, str]]:
    """The suite with demo data and its base URL (APIs at ``/api/<service>/``); ``settings`` are
    more QX_* variables for this suite."""
    prefix = f"qx_t_{uuid.uuid4().hex[:8]}"
    template = postgres.url_for(prefix + "_{service}")
    port = free_ports(1)[0]
    environment = {"QX_JWKS_URL": f"http://127.0.0.1:{port}/api/accounts/.well-known/jwks.json",
                   "QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": rabbitmq.url,
                   "QX_DATABASE_URL_TEMPLATE": template, "QX_EXCHANGE": f"{prefix}.events",
                   "QX_QUEUE_PREFIX": prefix, "QX_DEMO_DATA": "true", **(settings or {})}
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    server = None
    try:
        suite = build_suite(load_config("quxiang"))
        threads = suite.start_workers(stop)
        server = make_server("127.0.0.1", port, suite.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield suite, f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            server.shutdown()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        for name in discover_services():
            postgres.drop_database(template.format(service=name.replace("-", "_")))
