"""Composition root of the sync-gateway service: its app, its consumers, its jobs, its migrations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

import quxiang.common.contracts  # noqa: F401 - the event types sync-gateway consumes
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.jobs import ScheduledJob
from quxiang.common.service import PROBE_ENGINE_KEY, ServiceDefinition, build_app
from quxiang.common.web import register_collector
from quxiang.sync_gateway.adapters.metrics import LedgerCollector
from quxiang.sync_gateway.entrypoints import consumers, feed_api, sync_api
from quxiang.sync_gateway.entrypoints.context import EXTENSION_KEY
from quxiang.sync_gateway.service.context import Gateway

if TYPE_CHECKING:
    from quxiang.sync_gateway.service.reconcile import ReconcileReport

NAME = "sync-gateway"
DELIVERY_ROUND = 5.0   # seconds one round of the delivery job runs (it waits for work inside)
FEED_INTERVAL = 0.25   # seconds between rounds of the feed's publishing and webhook jobs
RECHECK_INTERVAL = 5.0  # seconds between looks at the renamed graduates' archive and hukou records


def build_gateway(config: Config) -> Gateway:
    engine = make_engine(config.database_url_for(NAME))
    return Gateway.build(config, engine, make_session_factory(engine))


def create_app(config: Config, keys: KeySet | None = None) -> Flask:
    """The app; ``keys`` replaces the accounts JWKS (tests sign their own tokens)."""
    service = build_gateway(config)
    app = build_app(NAME, config, engine=service.engine, keys=keys, blueprints=[sync_api.blueprint, feed_api.blueprint],
                    api_title="数据同步 sync-gateway")
    app.extensions[EXTENSION_KEY] = service
    register_collector(app, LedgerCollector(app.extensions[PROBE_ENGINE_KEY]))
    return app


def jobs(config: Config) -> Sequence[ScheduledJob]:
    from quxiang.sync_gateway.service.feed import FeedRelay, WebhookSender
    from quxiang.sync_gateway.service.reconcile import recheck_renamed, reconcile
    from quxiang.sync_gateway.service.worker import SyncWorker

    service = build_gateway(config)
    worker = SyncWorker(service)
    feed_relay = FeedRelay(service)
    webhooks = WebhookSender(service)
    return [ScheduledJob("deliver", 0.01, lambda: worker.run_for(DELIVERY_ROUND)),
            ScheduledJob("reconcile", service.settings.reconcile_interval,
                         lambda: " ".join(reconcile(service).lines())),
            ScheduledJob("recheck-renamed", RECHECK_INTERVAL,
                         lambda: _rechecked(recheck_renamed(service))),
            ScheduledJob("feed-publish", FEED_INTERVAL, lambda: _quiet(feed_relay.publish_round())),
            ScheduledJob("feed-webhooks", FEED_INTERVAL, lambda: _quiet(webhooks.deliver_round()))]


def _rechecked(report: ReconcileReport) -> str | None:
    return " ".join(report.lines()) if report.checked or report.errors else None


def _quiet(count: int) -> str | None:
    return f"{count} sent" if count else None


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=consumers.consumers,
    jobs=jobs,
)
