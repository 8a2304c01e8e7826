"""Prometheus metrics: request latency and count per route, plus collectors services add.

Under gunicorn each worker is a process with its own counters, so a scrape answered by one worker
would show a fraction of the traffic. With ``PROMETHEUS_MULTIPROC_DIR`` set (before the first import
of prometheus_client: it picks its storage at import time), every worker writes its values to files
in that folder and /metrics aggregates the files. The folder must be emptied when gunicorn starts.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "REQUESTS",
    "REQUEST_DURATION",
    "child_exit",
    "install_metrics",
    "mark_process_dead",
    "register_collector",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
EXTENSION_KEY = "qx.metrics_collectors"
_SERVICE_KEY = "qx.metrics_service"
_START_KEY = "quxiang.request_started"
_LABELS = ("service", "method", "route", "status")
# Methods outside this set share one label value: the method is client-chosen and any string
# would otherwise create a new time series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "<unmatched>"

logger = logging.getLogger(__name__)

# Module-level because prometheus_client allows one metric per name in a process (several apps in
# one process, as in tests, share them and tell themselves apart by the service label).
REQUEST_DURATION = Histogram(
    "qx_http_request_duration_seconds",
    "Time to produce an HTTP response, by route template.",
    _LABELS,
)
REQUESTS = Counter("qx_http_requests", "HTTP requests served, by route template.", _LABELS)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def mark_process_dead(pid: int) -> None:
    """Clean up a dead worker's live-gauge files; call from gunicorn's ``child_exit`` hook."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)


def child_exit(server: Any, worker: Any) -> None:
    """Ready-made gunicorn hook: ``child_exit = quxiang.common.web.metrics.child_exit``."""
    mark_process_dead(worker.pid)


def register_collector(app: flask.Flask, collector: Collector) -> None:
    """Include ``collector`` in this app's /metrics output.

    For values computed at scrape time (e.g. an outbox backlog read from the database): any one
    worker can compute them, so they stay correct in multi-process mode without gauge files.
    """
    app.extensions.setdefault(EXTENSION_KEY, []).append(collector)


class _Guarded(Collector):
    """Runs a service collector so that its failure (database down) costs its metrics only,
    not the whole scrape, which is exactly when the other metrics matter."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.collector.collect())
        except Exception:
            logger.exception("metrics collector %r failed", self.collector)
            return []


class _DefaultRegistry(Collector):
    """The process's default registry as a collector, so it can share a scrape registry."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def scrape_registry(app: flask.Flask) -> CollectorRegistry:
    """A fresh registry with what this app's /metrics shows."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())
    for collector in app.extensions.get(EXTENSION_KEY, []):
        registry.register(_Guarded(collector))
    return registry


def _metrics_view() -> flask.Response:
    body = generate_latest(scrape_registry(flask.current_app))
    return flask.Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _start_timer() -> None:
    flask.request.environ[_START_KEY] = time.perf_counter()


def _observe(response: flask.Response) -> flask.Response:
    started = flask.request.environ.get(_START_KEY)
    if started is None:
        return response
    rule = flask.request.url_rule
    method = flask.request.method if flask.request.method in _METHODS else "OTHER"
    labels = (
        flask.current_app.extensions.get(_SERVICE_KEY, flask.current_app.name),
        method,
        # The rule ("/registrations/<id>"), never the path: one series per route, not per id.
        rule.rule if rule is not None else UNMATCHED_ROUTE,
        str(response.status_code),
    )
    REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)
    REQUESTS.labels(*labels).inc()
    return response


def install_metrics(app: flask.Flask, service: str) -> None:
    """Time every request and serve GET /metrics."""
    app.extensions[_SERVICE_KEY] = service
    app.extensions.setdefault(EXTENSION_KEY, [])
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "qx_metrics", _metrics_view, methods=["GET"])
