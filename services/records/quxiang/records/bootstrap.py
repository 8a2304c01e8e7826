"""Composition root of the records service: its app, its consumers, its migrations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, request

import quxiang.common.contracts  # noqa: F401 - the event types records publishes and consumes
from quxiang.common.auth import KeySet
from quxiang.common.bus.outbox import make_session_factory
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.service import ServiceDefinition, build_app
from quxiang.common.web import add_readiness_check
from quxiang.common.web.errors import problem_response
from quxiang.records.adapters import reencryption
from quxiang.records.adapters.crypto import KEY_ENV, OLD_KEYS_ENV, InvalidKey, cipher_from_environment
from quxiang.records.entrypoints import consumers, registration_api, roster_api, snapshot_api
from quxiang.records.entrypoints.context import EXTENSION_KEY
from quxiang.records.service.context import Records

NAME = "records"
logger = logging.getLogger(__name__)


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
    keys_check = identity_keys_check(service)
    add_readiness_check(app, "identity_keys", keys_check)
    app.register_error_handler(InvalidKey, _key_unavailable)

    @app.before_request
    def _no_writes_under_a_wrong_key() -> Response | None:
        # Encrypting and hashing never fail under a key of their own: an import would write numbers
        # no configured key of the platform reads, and match none of the stored ones.
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        try:
            keys_check()
        except RuntimeError as exc:
            return _key_unavailable(InvalidKey(str(exc)))
        return None

    return app


def identity_keys_check(service: Records) -> Callable[[], None]:
    """Not ready while graduates are stored under a key that is not configured (a re-created secret,
    a mistyped key, a new checkout's generated key): every read of them would fail. Checked until
    it passes once per process: later rows are written under the current key, and keys change only
    with a restart."""
    passed = False

    def check() -> None:
        nonlocal passed
        if passed:
            return
        unreadable = reencryption.unreadable_by_key(service.engine, service.cipher)
        if unreadable:
            counts = ", ".join(f"{kid}: {n}" for kid, n in sorted(unreadable.items()))
            raise RuntimeError(f"graduates under identity-number keys that are not configured ({counts}): set "
                               f"{KEY_ENV} to the platform's key, or list the old one in {OLD_KEYS_ENV} "
                               "(docs/operations.md)")
        passed = True

    return check


def _key_unavailable(error: InvalidKey) -> Response:
    logger.error("identity number unreadable: %s", error)  # key ids only, never a number
    return problem_response(503, "identity_key_unavailable", "Service Unavailable",
                            "身份证号密钥配置有误，暂时无法读取生源信息，请联系运维人员")


SERVICE = ServiceDefinition(
    name=NAME,
    create_app=create_app,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=consumers.consumers,
)
