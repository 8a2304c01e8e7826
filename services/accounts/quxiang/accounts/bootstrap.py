"""Composition root of the accounts service: its app, its consumers, its migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import quxiang.common.contracts  # noqa: F401 - the event types accounts records
from quxiang.accounts.adapters.keyring import Keyring
from quxiang.accounts.entrypoints import (
    auth_api,
    employer_oversight_api,
    management_api,
    settings_api,
    settings_consumers,
)
from quxiang.accounts.entrypoints.consumers import ROSTER_CONSUMER, ROSTER_EVENTS, on_graduate_registered
from quxiang.accounts.entrypoints.context import EXTENSION_KEY
from quxiang.accounts.service.context import Accounts
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition, build_app

NAME = "accounts"


def build_accounts(config: Config) -> Accounts:
    engine = make_engine(config.database_url_for(NAME))
    return Accounts(config=config, engine=engine, session_factory=make_session_factory(engine),
                    keyring=Keyring(engine))


def create_app(config: Config) -> Flask:
    service = build_accounts(config)
    # accounts verifies its own tokens from its keyring directly, not over HTTP to itself.
    app = build_app(NAME, config, engine=service.engine, keys=KeySet(service.keyring.jwks, min_refetch=0),
                    blueprints=[auth_api.blueprint, management_api.blueprint, settings_api.blueprint,
                                employer_oversight_api.blueprint],
                    api_title="账号与权限 accounts")
    app.extensions[EXTENSION_KEY] = service
    return app


def load_demo(config: Config) -> None:
    """The demo province, schools, departments, users and settings (``make run`` loads them)."""
    from quxiang.accounts.entrypoints.demo import run_demo  # it needs SERVICE: imported late

    run_demo(config, migrate=False)


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=lambda: {ROSTER_CONSUMER: dict.fromkeys(ROSTER_EVENTS, on_graduate_registered),
                       **settings_consumers.consumers()},
    demo=load_demo,
)
