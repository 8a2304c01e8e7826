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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import Flask, jsonify
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


def _index(services: Sequence[str]) -> Flask:
    index = Flask(__name__, static_folder=None)
    index.json.ensure_ascii = False  # type: ignore[attr-defined]

    @index.get("/")
    def home():  # noqa: ANN202
        return jsonify({
            "platform": "去向 Quxiang — 毕业去向登记与网上签约平台",
            "services": {name: {"api": f"/api/{name}/", "docs": f"/api/{name}/docs",
                                "openapi": f"/api/{name}/openapi.json", "health": f"/api/{name}/readyz"}
                         for name in services},
        })

    return index


def build_suite(base: Config, migrate: bool = True) -> Suite:
    definitions = discover_services()
    mounts = {}
    suite = Suite(app=DispatcherMiddleware(_index(list(definitions))))
    for name, definition in definitions.items():
        config = load_config(name)
        if migrate:
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
    try:
        run_simple(base.http_host, base.http_port, suite.app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
