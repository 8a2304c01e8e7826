import datetime as dt

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from quxiang.common.db import make_engine
from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import database_url, make_test_config
from quxiang.common.testing.service_checks import (
    assert_migrations_round_trip,
    assert_service_boots,
    assert_step_matches_the_tables,
)
from quxiang.signing.adapters.destination_tables import DESTINATIONS_RECENT_INDEXES
from quxiang.signing.adapters.tables import (
    RECENT_INDEXES,
    STATUS_WIDTH,
    TERMINATIONS_GRADUATE_INDEX,
    agreements,
    metadata,
)
from quxiang.signing.bootstrap import SERVICE

LOOKUP_INDEXES = {"ix_signing_graduates_exam_number", "ix_agreement_documents_due"}


def test_boots_on_the_embedded_default(tmp_path):
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)



@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_lookup_indexes_come_and_go_with_their_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    removed = assert_step_matches_the_tables(SERVICE, config, "0007", metadata)
    assert removed == LOOKUP_INDEXES | {AUTH_RECENT_INDEX} | _search_indexes(database)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0008", metadata) == {AUTH_RECENT_INDEX,
                                                                                   *_search_indexes(database)}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_status_columns_widen_with_their_step_and_keep_the_one_held_agreement_index(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    # Down to 0009 and up again: the tables match the definitions, the partial unique index included.
    assert assert_step_matches_the_tables(SERVICE, config, "0009", metadata) == _search_indexes(database)
    engine = make_engine(url)
    try:
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("agreements")}
        assert columns["status"].length == STATUS_WIDTH
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("agreements")}
        held = [i for i in indexes.values() if i["unique"] and i["column_names"] == ["graduate_id"]]
        assert held, indexes
        with engine.begin() as conn:
            row = {"flow": "offline", "initiator": "graduate", "agreement_type": "three_party",
                   "status": "application_department_review", "graduate_id": "g1", "school_code": "10558",
                   "graduation_year": 2026, "unit": {}, "terms": {}, "version": 1, "audit_position": 0,
                   "audit_hash": "0" * 64,
                   "created_at": dt.datetime.now(dt.UTC), "updated_at": dt.datetime.now(dt.UTC)}
            conn.execute(agreements.insert(), {**row, "id": "a1", "number": "n1",
                                               "status": "application_department_rejected"})
            conn.execute(agreements.insert(), {**row, "id": "a2", "number": "n2"})
        with pytest.raises(IntegrityError), engine.begin() as conn:  # a second held agreement
            conn.execute(agreements.insert(), {**row, "id": "a3", "number": "n3", "status": "approved"})
    finally:
        engine.dispose()


def test_every_status_fits_its_column():
    from quxiang.signing.domain import destination, online, termination

    for status in (*online.Status, *termination.Status, *destination.Status):
        assert len(status.value) <= STATUS_WIDTH, status

_RECENT = {*(name for names in RECENT_INDEXES.values() for name in names), *DESTINATIONS_RECENT_INDEXES}


def _search_indexes(database: str) -> set[str]:
    """What 0015, 0016 and 0017 add: the lists' search indexes on PostgreSQL, the terminations' by
    graduate and the lists' most-recent-first on both."""
    from quxiang.signing.adapters.destination_tables import DESTINATION_UNIT_INDEX
    from quxiang.signing.adapters.tables import SEARCH_INDEXES

    if database != "postgresql":
        return {TERMINATIONS_GRADUATE_INDEX, *_RECENT}
    return {TERMINATIONS_GRADUATE_INDEX, DESTINATION_UNIT_INDEX, *_RECENT,
            *(name for names in SEARCH_INDEXES.values() for name in names)}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_list_search_indexes_come_and_go_with_their_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0014", metadata) == _search_indexes(database)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_terminations_graduate_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0015", metadata) == {TERMINATIONS_GRADUATE_INDEX,
                                                                                   *_RECENT}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_first_indexes_come_and_go_with_their_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0016", metadata) == _RECENT
