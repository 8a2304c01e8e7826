"""Composition root of the signing service: its app, its consumers, its jobs, its migrations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Flask

import quxiang.common.contracts  # noqa: F401 - the event types signing publishes and consumes
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.jobs import ScheduledJob
from quxiang.common.service import ServiceDefinition, build_app
from quxiang.signing.entrypoints import (
    agreement_flows_api,
    consumers,
    destination_api,
    documents_api,
    lists_api,
    online_api,
    snapshot_api,
    termination_api,
)
from quxiang.signing.entrypoints.context import EXTENSION_KEY
from quxiang.signing.service import documents, online
from quxiang.signing.service.context import Signing

NAME = "signing"
RENDER_INTERVAL = 1.0  # seconds between rounds of rendering approved agreements' PDFs
EXPIRY_INTERVAL = 60.0  # seconds; a late answer is refused even between two rounds


def build_signing(config: Config) -> Signing:
    engine = make_engine(config.database_url_for(NAME))
    return Signing(config=config, engine=engine, session_factory=make_session_factory(engine))


def create_app(config: Config, keys: KeySet | None = None) -> Flask:
    """The app; ``keys`` replaces the accounts JWKS (tests sign their own tokens)."""
    service = build_signing(config)
    app = build_app(NAME, config, engine=service.engine, keys=keys,
                    blueprints=[online_api.blueprint, documents_api.blueprint, agreement_flows_api.blueprint,
                                termination_api.blueprint, destination_api.blueprint, lists_api.blueprint,
                                snapshot_api.blueprint],
                    api_title="网上签约 signing")
    app.extensions[EXTENSION_KEY] = service
    return app


def jobs(config: Config) -> Sequence[ScheduledJob]:
    service = build_signing(config)
    return [ScheduledJob("expire-invitations", EXPIRY_INTERVAL, lambda: online.expire_due(service)),
            ScheduledJob("render-documents", RENDER_INTERVAL, lambda: documents.render_pending(service.engine))]


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=consumers.consumers,
    jobs=jobs,
)
