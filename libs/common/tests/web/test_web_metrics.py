from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import flask
import pytest
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from quxiang.common.web import register_collector
from quxiang.common.web.metrics import mark_process_dead

ROUTE = "/registrations/<int:registration_id>"


@pytest.fixture(autouse=True)
def single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # The in-process tests check the default registry; the multi-process case runs in subprocesses.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def unique_service() -> str:
    # Metrics are process-global; a fresh service label isolates this test's series.
    return f"svc_{uuid.uuid4().hex[:8]}"


def test_request_is_observed_under_its_route_template(make_app: Callable[..., flask.Flask]) -> None:
    service = unique_service()
    client = make_app(service=service).test_client()
    client.get("/registrations/7")
    client.get("/registrations/8")
    labels = {"service": service, "method": "GET", "route": ROUTE, "status": "200"}
    assert REGISTRY.get_sample_value("qx_http_request_duration_seconds_count", labels) == 2
    assert REGISTRY.get_sample_value("qx_http_requests_total", labels) == 2

    text = client.get("/metrics").get_data(as_text=True)
    assert f'qx_http_request_duration_seconds_bucket{{le="+Inf",method="GET",route="{ROUTE}"' in text
    assert "/registrations/7" not in text


def test_errors_and_unmatched_paths_are_labelled_boundedly(make_app: Callable[..., flask.Flask]) -> None:
    service = unique_service()
    client = make_app(service=service).test_client()
    client.get("/registrations/boom")
    client.get(f"/random/{uuid.uuid4().hex}")
    client.open("/registrations/1", method="BREW")
    sample = REGISTRY.get_sample_value
    assert sample("qx_http_requests_total",
                  {"service": service, "method": "GET", "route": "/registrations/boom", "status": "500"}) == 1
    assert sample("qx_http_requests_total",
                  {"service": service, "method": "GET", "route": "<unmatched>", "status": "404"}) == 1
    assert sample("qx_http_requests_total",
                  {"service": service, "method": "OTHER", "route": "<unmatched>", "status": "405"}) == 1


def test_metrics_content_type(client: flask.testing.FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")


class Backlog:
    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("qx_outbox_backlog", "Unsent outbox rows.", value=5)


class Broken:
    def collect(self) -> Iterator[Metric]:
        raise RuntimeError("database is down")


def test_registered_collectors_are_included(make_app: Callable[..., flask.Flask]) -> None:
    app = make_app()
    register_collector(app, Backlog())
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert "qx_outbox_backlog 5.0" in text
    # Only the app it was registered on shows it.
    assert "qx_outbox_backlog" not in make_app().test_client().get("/metrics").get_data(as_text=True)


def test_failing_collector_does_not_break_the_scrape(make_app: Callable[..., flask.Flask]) -> None:
    app = make_app()
    register_collector(app, Broken())
    register_collector(app, Backlog())
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "qx_outbox_backlog 5.0" in text
    assert "qx_http_request_duration_seconds" in text


def test_mark_process_dead_is_a_no_op_without_multiprocess_dir() -> None:
    mark_process_dead(os.getpid())


WORKER = textwrap.dedent(
    """
    import os, sys
    from prometheus_client.core import GaugeMetricFamily
    from quxiang.common.config import load_config
    from quxiang.common.web import create_app, register_collector
    from quxiang.common.web.metrics import mark_process_dead

    class Backlog:
        def collect(self):
            yield GaugeMetricFamily("qx_outbox_backlog", "Unsent outbox rows.", value=3)

    app = create_app("mp", load_config("mp", {"QX_DATA_DIR": sys.argv[1]}), configure_logs=False)
    register_collector(app, Backlog())
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[3] == "scrape":
        mark_process_dead(int(sys.argv[4]))
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    else:
        sys.stdout.write(str(os.getpid()))
    """
)


def test_multiprocess_mode_aggregates_workers(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}

    def worker(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path), *args],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # Two "workers" one after the other: the first has exited when the second is scraped, as with
    # a gunicorn worker that was recycled.
    first_pid = worker("2", "exit")
    text = worker("3", "scrape", first_pid)

    assert list(metrics_dir.glob("*.db")), "multi-process mode should write value files"
    labels = 'method="GET",route="/healthz",service="mp",status="200"'
    assert f"qx_http_requests_total{{{labels}}} 5.0" in text
    assert f"qx_http_request_duration_seconds_count{{{labels}}} 5.0" in text
    assert "qx_outbox_backlog 3.0" in text
    # Per-process collectors of the default registry are not meaningful across workers.
    assert "process_cpu_seconds_total" not in text
