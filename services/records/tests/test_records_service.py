import pytest

from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import database_url, make_test_config
from quxiang.common.testing.service_checks import (
    assert_migrations_round_trip,
    assert_service_boots,
    assert_step_matches_the_tables,
)
from quxiang.records.adapters.tables import BY_NAME_INDEX, ON_ROSTER_INDEX, RECENT_INDEX, SEARCH_INDEXES, metadata
from quxiang.records.bootstrap import SERVICE


def _list_indexes(database: str) -> set[str]:
    """What 0009 and 0010 add: the search indexes on PostgreSQL only, the list by name and the
    registrations most recently changed first on both."""
    return {BY_NAME_INDEX, RECENT_INDEX, *(SEARCH_INDEXES if database == "postgresql" else ())}


def test_boots_on_the_embedded_default(tmp_path):
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0004", metadata) == {
        AUTH_RECENT_INDEX, ON_ROSTER_INDEX, *_list_indexes(database)}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_roster_withdrawal_step_comes_and_goes(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0005", metadata) == {ON_ROSTER_INDEX,
                                                                                   *_list_indexes(database)}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_approved_once_is_filled_from_the_history_on_upgrade(database, request, tmp_path):
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import column, insert, select, table

    from quxiang.common.db import make_engine
    from quxiang.common.migrations import alembic_config, upgrade
    from quxiang.records.adapters.tables import registration_history, registrations

    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0006", metadata) == _list_indexes(database)
    command.downgrade(alembic_config(SERVICE, url), "0006")
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            for rid, status, actions in (("r-approved", "school_review", ("submit", "school_approve", "submit")),
                                         ("r-never", "school_rejected", ("submit", "school_reject"))):
                # the table as it was at 0006: without the new column
                before = table("registrations", *(column(c) for c in (
                    "id", "graduate_id", "module", "school_code", "department_id", "status", "version",
                    "created_at", "updated_at")))
                conn.execute(insert(before).values(
                    id=rid, graduate_id="g-" + rid, module="archive", school_code="10558", department_id="d",
                    status=status, version=len(actions), created_at=now, updated_at=now))
                for version, action in enumerate(actions, start=1):
                    conn.execute(insert(registration_history).values(
                        id=f"{rid}-{version}", registration_id=rid, version=version, action=action, level="school",
                        actor_id="u", actor_role="school", status=status, at=now))
        upgrade(config, SERVICE)
        with engine.connect() as conn:
            found = dict(conn.execute(select(registrations.c.id, registrations.c.approved_once)).all())
        assert found == {"r-approved": True, "r-never": False}
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_list_search_indexes_come_and_go_with_their_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0008", metadata) == _list_indexes(database)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_registrations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0009", metadata) == {RECENT_INDEX}
