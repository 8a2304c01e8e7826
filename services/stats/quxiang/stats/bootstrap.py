"""Composition root of the stats service: its app, its consumers, its migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import quxiang.common.contracts  # noqa: F401 - the event types stats consumes
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition, build_app
from quxiang.stats.entrypoints import consumers, stats_api
from quxiang.stats.entrypoints.context import EXTENSION_KEY
from quxiang.stats.service.context import Stats

NAME = "stats"


def build_stats(config: Config) -> Stats:
    engine = make_engine(config.database_url_for(NAME))
    return Stats(config=config, engine=engine, session_factory=make_session_factory(engine))


def create_app(config: Config, keys: KeySet | None = None) -> Flask:
    """The app; ``keys`` replaces the accounts JWKS (tests sign their own tokens)."""
    service = build_stats(config)
    app = build_app(NAME, config, engine=service.engine, keys=keys, blueprints=[stats_api.blueprint],
                    api_title="数据统计 stats")
    app.extensions[EXTENSION_KEY] = service
    return app


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=consumers.consumers,
)
