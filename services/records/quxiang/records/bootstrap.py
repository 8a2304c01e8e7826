"""Composition root of the records service: its app, its consumers, its migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import quxiang.common.contracts  # noqa: F401 - the event types records publishes and consumes
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition, build_app
from quxiang.records.adapters.crypto import cipher_from_environment
from quxiang.records.entrypoints import consumers, registration_api, roster_api, snapshot_api
from quxiang.records.entrypoints.context import EXTENSION_KEY
from quxiang.records.service.context import Records

NAME = "records"


def build_records(config: Config) -> Records:
    engine = make_engine(config.database_url_for(NAME))
    # A production deployment (no demo data, a database server): the key must be given.
    production = not config.demo_data and engine.dialect.name != "sqlite"
    return Records(config=config, engine=engine, session_factory=make_session_factory(engine),
                   cipher=cipher_from_environment(config.data_dir, key_required=production))


def create_app(config: Config, keys: KeySet | None = None) -> Flask:
    """The app; ``keys`` replaces the accounts JWKS (tests sign their own tokens)."""
    service = build_records(config)
    app = build_app(NAME, config, engine=service.engine, keys=keys,
                    blueprints=[roster_api.blueprint, registration_api.blueprint, snapshot_api.blueprint],
                    api_title="生源与档案户口 records")
    app.extensions[EXTENSION_KEY] = service
    return app


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=consumers.consumers,
)
