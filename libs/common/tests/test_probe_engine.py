"""/readyz and /metrics read the database through connections of their own (db.probe_engine): a
requests' pool held by slow requests must not make them wait for it (the orchestrator would take a
busy replica out as if its database were down, and the scrape would see nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from quxiang.common.auth import KeySet
from quxiang.common.auth.revocation import auth_metadata
from quxiang.common.auth.tokens import public_jwk
from quxiang.common.bus.tables import bus_metadata
from quxiang.common.db import make_engine, probe_engine
from quxiang.common.service import PROBE_ENGINE_KEY, build_app
from quxiang.common.testing.plugin import make_test_config
from quxiang.common.web import database_check


def _app(url: str, tmp_path: Path, **pool: int):
    engine = make_engine(url, **pool)
    auth_metadata.create_all(engine)
    bus_metadata.create_all(engine)
    config = make_test_config("testsvc", url, "embedded", tmp_path)
    key = Ed25519PrivateKey.generate()
    app = build_app("testsvc", config, engine=engine, keys=KeySet(lambda: {"keys": [public_jwk(key, "k")]}),
                    configure_logs=False)
    return app, engine


def test_a_held_pool_keeps_neither_readiness_nor_the_metrics_waiting(pg_url: str, tmp_path: Path) -> None:
    # One connection, and a wait for it that outlasts any probe: through this pool, both would fail.
    app, engine = _app(pg_url, tmp_path, pool_size=1, max_overflow=0, pool_timeout=5)
    client = app.test_client()
    try:
        with engine.connect() as held:
            held.execute(text("SELECT 1"))  # a slow request holds the only connection
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.get_json()
            assert ready.get_json()["checks"]["database"] == "ok"
            scraped = client.get("/metrics")
            assert scraped.status_code == 200
            assert "qx_outbox_backlog{" in scraped.get_data(as_text=True)
    finally:
        engine.dispose()


def test_readiness_still_fails_when_the_database_is_gone() -> None:
    # A port nothing listens on: the probe's own connection fails within its connect timeout.
    probes = probe_engine(make_engine("postgresql+psycopg://postgres@127.0.0.1:9/none"))
    assert isinstance(probes.pool, NullPool)
    with pytest.raises(OperationalError, match=r"(?i)connect|refused"):
        database_check(probes)()


def test_the_embedded_default_probes_through_its_own_engine(tmp_path: Path) -> None:
    app, engine = _app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    try:
        assert app.extensions[PROBE_ENGINE_KEY] is engine
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        engine.dispose()
