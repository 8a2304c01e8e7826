"""The whole suite in one process: ``make run``.

Every installed service is mounted under ``/api/<service>/`` with its relay and consumers running
as threads beside the web server. On the defaults that is the embedded mode (SQLite files and the
in-process bus under QX_DATA_DIR); QX_DATABASE_URL_TEMPLATE and QX_BROKER_URL switch it to
PostgreSQL and RabbitMQ. In production each piece runs as its own process instead (gunicorn,
``qx-relay``, ``qx-consumer``).
"""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, jsonify, send_from_directory
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from quxiang.common.bus import make_transport
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.process import prepare_worker_process
from quxiang.common.bus.relay import Relay
from quxiang.common.config import Config, load_config
from quxiang.common.db import make_engine
from quxiang.common.jobs import run_periodically
from quxiang.common.logging import configure_logging
from quxiang.common.migrations import upgrade
from quxiang.common.service import discover_services

log = logging.getLogger(__name__)


@dataclass
class Suite:
    app: DispatcherMiddleware
    workers: list[tuple[str, Callable[[threading.Event], None]]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def start_workers(self, stop: threading.Event) -> list[threading.Thread]:
        threads = [threading.Thread(target=run, args=(stop,), name=name, daemon=True) for name, run in self.workers]
        for thread in threads:
            thread.start()
        return threads


def console_root(base: Config) -> Path | None:
    """The web console's folder: QX_CONSOLE_ROOT, else the repository's console/ when it exists."""
    if base.console_root:
        return Path(base.console_root).resolve()
    default = Path(__file__).resolve().parents[4] / "console"
    return default if (default / "index.html").is_file() else None


def _problem(status: int, title: str, code: str, detail: str) -> tuple[Response, int]:
    body = jsonify({"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail,
                    "request_id": uuid.uuid4().hex})
    body.headers["Content-Type"] = "application/problem+json"
    return body, status


def _front(services: Sequence[str], console: Path | None) -> Flask:
    """What is not a service: the JSON index at ``/api/`` and the console's static files at ``/``.

    The console is a single-page app, so any other path that is not a file answers its index.html
    (the nginx gateway does the same with ``try_files``)."""
    front = Flask(__name__, static_folder=None)
    front.json.ensure_ascii = False  # type: ignore[attr-defined]

    def index() -> Response:
        return jsonify({
            "platform": "去向 Quxiang — 毕业去向登记与网上签约平台",
            "console": "/" if console else None,
            "services": {name: {"docs": f"/api/{name}/docs",
                                "openapi": f"/api/{name}/openapi.json", "health": f"/api/{name}/readyz"}
                         for name in services},
        })

    front.add_url_rule("/api/", "api_index", index)
    front.add_url_rule("/api", "api_index_bare", index)

    # Every method: a POST to a path no service has is as unknown as a GET (not werkzeug's HTML 405).
    @front.route("/api/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    def unknown_api(rest: str) -> tuple[Response, int]:
        return _problem(404, "Not Found", "not_found", f"没有这个接口：/api/{rest}")

    @front.errorhandler(405)
    def wrong_method(error: Exception) -> tuple[Response, int]:  # PUT / and the like
        return _problem(405, "Method Not Allowed", "method_not_allowed", "该地址不支持此请求方法")

    if console is None:
        front.add_url_rule("/", "home", index)
        return front

    @front.get("/")
    @front.get("/<path:path>")
    def console_file(path: str = "index.html") -> Response:
        target = (console / path).resolve()
        if not target.is_relative_to(console):
            path = "index.html"
        elif not target.is_file():
            if Path(path).suffix:  # a missing asset is a 404, not the page
                return Response("not found", status=404, mimetype="text/plain")
            path = "index.html"  # a route of the single-page app
        # no-cache: the files change with a deploy and have no hashed names, so always revalidate
        response = send_from_directory(console, path, max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return response

    return front


def build_suite(base: Config, migrate: bool = True) -> Suite:
    definitions = discover_services()
    mounts = {}
    suite = Suite(app=DispatcherMiddleware(_front(list(definitions), console_root(base))))
    for name, definition in definitions.items():
        config = load_config(name)
        if migrate:
            # labelled with the service it migrates (create_app below labels its own logs after)
            configure_logging(config.log_level, config.log_json, name)
            upgrade(config, definition)
            if config.demo_data and definition.demo is not None:
                definition.demo(config)
        mounts[f"/api/{name}"] = definition.create_app(config)
        engine = make_engine(config.database_url_for(name))
        suite.workers.append((f"relay-{name}", Relay(engine, make_transport(config), config, name).run))
        for consumer, handlers in definition.all_consumers().items():
            runtime = ConsumerRuntime(consumer, handlers, engine, make_transport(config), config, producer=name)
            # Every queue exists before any relay publishes: an event published before its
            # consumer's queue is bound would go to the unrouted queue instead.
            runtime.transport.declare_consumer(runtime.spec)
            suite.workers.append((f"consumer-{consumer}", runtime.run))
        for job in definition.jobs(config):
            suite.workers.append((f"job-{name}-{job.name}", functools.partial(run_periodically, job)))
        suite.services.append(name)
    suite.app.mounts.update(mounts)
    return suite


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="quxiang", description="Run every installed Quxiang service in one process.")
    parser.add_argument("--migrate-only", action="store_true", help="bring every database up to date and exit")
    args = parser.parse_args(argv)
    base = load_config("quxiang")
    suite = build_suite(base)
    configure_logging(base.log_level, base.log_json, "quxiang")
    if args.migrate_only:
        log.info("migrated: %s", ", ".join(suite.services))
        return
    prepare_worker_process()  # the relays and consumers run in this process
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    threads = suite.start_workers(stop)
    mode = "embedded (SQLite + in-process bus)" if base.embedded_bus else "RabbitMQ"
    log.info("Quxiang on http://%s:%d/ — %s; services: %s", base.http_host, base.http_port, mode,
             ", ".join(suite.services) or "none")
    console = console_root(base)
    if console is not None:
        log.info("Console (web UI) on http://%s:%d/ (from %s); the API index at /api/.%s", base.http_host,
                 base.http_port, console, " Demo logins: the table above." if base.demo_data else "")
    try:
        run_simple(base.http_host, base.http_port, suite.app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
