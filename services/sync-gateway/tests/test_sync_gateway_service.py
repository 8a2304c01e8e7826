import pytest

from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import database_url, make_test_config
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
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0004", metadata) == \
        {"ix_sync_records_unsynced", AUTH_RECENT_INDEX, *STATUS_INDEXES}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0005", metadata) == {AUTH_RECENT_INDEX, *STATUS_INDEXES}


STATUS_INDEXES = ("ix_sync_records_school_status", "ix_sync_records_school_synced")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_status_indexes_come_and_go_with_their_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0009", metadata) == set(STATUS_INDEXES)


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

    url = database_url(request, database, tmp_path)
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


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_placeholder_from_step_0007_does_not_pin_its_name(database, request, tmp_path):
    """0007 fills the directory from the ledger's newest row, which may hold an older name than another
    row (re-mirrored after a correction): the next event's name is sent, not the placeholder's."""
    import uuid
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import select

    from quxiang.common.db import make_engine
    from quxiang.common.events import catalogue
    from quxiang.common.migrations import alembic_config, upgrade
    from quxiang.sync_gateway.adapters import ledger
    from quxiang.sync_gateway.adapters.tables import sync_records
    from quxiang.sync_gateway.domain.records import desired_record

    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    upgrade(config, SERVICE)
    command.downgrade(alembic_config(SERVICE, url), "0006")
    now, exam, agreement_id = datetime.now(UTC), "26440197103", str(uuid.uuid4())

    def row(kind, name):
        return {"exam_number": exam, "kind": kind, "graduate_id": f"g-{exam}", "name": name, "school_code": "10558",
                "department_id": None, "aggregate_id": agreement_id, "sequence": 7, "anchor_at": now,
                "event_id": str(uuid.uuid4()), "event_type": "t", "occurred_at": now, "record": {}, "version": 1,
                "key_round": 0, "status": "synced", "attempts": 0, "next_attempt_at": now, "created_at": now,
                "updated_at": now}

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ledger.insert_rows(conn, [row("destination", "李同學")])  # re-mirrored after the correction
            ledger.insert_rows(conn, [row("archive", "李同学")])      # mirrored before it: the newest id
        upgrade(config, SERVICE)
        data = {"agreement_id": agreement_id, "agreement_number": "1", "graduate_id": f"g-{exam}",
                "exam_number": exam, "name": "李同學", "school_code": "10558", "department_id": None,
                "education_level": "31", "graduation_year": 2026, "agreement_type": "three_party",
                "initiator": "employer", "flow": "online", "status": "terminated", "destination_code": "10",
                "unit_name": "u", "credit_code": "91440106MA59DEMX1X", "unit_nature": "39", "unit_industry": "I65",
                "unit_region": "440106", "position_category": "10", "signing_date": "2026-04-20", "approved_at": None}
        event = catalogue.new_event("signing.agreement.terminated", subject=agreement_id, sequence=9, data=data,
                                    producer="test")
        with engine.begin() as conn:
            ledger.apply(conn, desired_record(event.type, event.event_id, event.subject, event.sequence,
                                              event.occurred_at, event.data), datetime.now(UTC))
        with engine.connect() as conn:
            name = conn.execute(select(sync_records.c.name).where(sync_records.c.kind == "destination")).scalar_one()
    finally:
        engine.dispose()
    assert name == "李同學"
