"""Checks every service's own tests run: it migrates up and down, boots, answers its probes and
documents its API. One implementation, so the services cannot drift apart."""

from __future__ import annotations

from alembic import command
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Engine

from quxiang.common.auth.revocation import auth_metadata
from quxiang.common.bus.tables import bus_metadata
from quxiang.common.config import Config
from quxiang.common.db import make_engine
from quxiang.common.migrations import alembic_config, schema_differences, upgrade
from quxiang.common.service import ServiceDefinition, discover_services

BUS_TABLES = {"outbox", "outbox_partition", "inbox", "auth_not_before"}


def assert_migrations_round_trip(definition: ServiceDefinition, config: Config) -> None:
    url = config.database_url_for(definition.name)
    upgrade(config, definition)
    engine = make_engine(url)
    try:
        assert BUS_TABLES <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(definition, url), "base")
        assert not BUS_TABLES & set(inspect(engine).get_table_names())
        upgrade(config, definition)
        assert BUS_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def assert_service_boots(definition: ServiceDefinition, config: Config) -> None:
    assert discover_services().get(definition.name) is definition, "not registered as an entry point"
    upgrade(config, definition)
    app = definition.create_app(config)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["info"]["title"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'qx_outbox_backlog{{service="{definition.name}"}} 0.0' in metrics


def assert_step_matches_the_tables(definition: ServiceDefinition, config: Config, revision: str,
                                   tables: MetaData) -> set[str]:
    """Migrate to head, down to ``revision`` and up again: the database then matches ``tables`` (the
    service's table definitions and the shared bus and auth tables) in tables, columns and indexes.
    Answers the indexes the step down removed, so a test can name what the step adds."""
    url = config.database_url_for(definition.name)
    upgrade(config, definition)
    engine = make_engine(url)
    try:
        before = _index_names(engine)
        command.downgrade(alembic_config(definition, url), revision)
        removed = before - _index_names(engine)
        upgrade(config, definition)
        assert _index_names(engine) == before
        with engine.connect() as conn:
            differences = schema_differences(conn, [bus_metadata, auth_metadata, tables])
        assert differences == [], differences
        return removed
    finally:
        engine.dispose()


def _index_names(engine: Engine) -> set[str]:
    found = inspect(engine)
    return {index["name"] for table in found.get_table_names() for index in found.get_indexes(table)}
