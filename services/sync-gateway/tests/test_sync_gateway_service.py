import pytest

from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import make_test_config
from quxiang.common.testing.service_checks import (
    assert_migrations_round_trip,
    assert_service_boots,
    assert_step_matches_the_tables,
)
from quxiang.sync_gateway.adapters.tables import metadata
from quxiang.sync_gateway.bootstrap import SERVICE


def test_boots_on_the_embedded_default(tmp_path):
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_unsynced_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path}/db.sqlite"
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0004", metadata) == \
        {"ix_sync_records_unsynced", AUTH_RECENT_INDEX}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path}/db.sqlite"
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0005", metadata) == {AUTH_RECENT_INDEX}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_graduate_directory_starts_from_the_ledger(database, request, tmp_path):
    """Step 0007 on a ledger in use: one placeholder per graduate with the name of its newest row, so a
    roster correction after the upgrade reaches records mirrored before it."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import select

    from quxiang.common.db import make_engine
    from quxiang.common.migrations import alembic_config, upgrade
    from quxiang.sync_gateway.adapters.ledger import insert_rows
    from quxiang.sync_gateway.adapters.tables import sync_graduates

    url = request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path}/db.sqlite"
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    upgrade(config, SERVICE)
    command.downgrade(alembic_config(SERVICE, url), "0006")
    now = datetime.now(UTC)

    def row(exam, kind, name, department):
        return {"exam_number": exam, "kind": kind, "graduate_id": f"g-{exam}", "name": name, "school_code": "10558",
                "department_id": department, "aggregate_id": "a", "sequence": 1, "anchor_at": now,
                "event_id": f"e-{exam}-{kind}", "event_type": "t", "occurred_at": now, "record": {}, "version": 1,
                "key_round": 0, "status": "synced", "attempts": 0, "next_attempt_at": now, "created_at": now,
                "updated_at": now}

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            insert_rows(conn, [row("1", "destination", "甲", "d1"), row("1", "archive", "甲乙", "d2"),
                               row("2", "hukou", "丙", None)])
        upgrade(config, SERVICE)
        with engine.connect() as conn:
            held = {r.graduate_id: (r.exam_number, r.name, r.department_id, r.roster_sequence)
                    for r in conn.execute(select(sync_graduates))}
    finally:
        engine.dispose()
    assert held == {"g-1": ("1", "甲乙", "d2", 0), "g-2": ("2", "丙", None, 0)}
