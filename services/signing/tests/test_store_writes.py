"""The signing store's writes, built once and run with parameters, on PostgreSQL and SQLite: the
agreement's compare-and-set update and the agreement number's counter."""

from __future__ import annotations

from sqlalchemy import select

from quxiang.signing.adapters import store
from quxiang.signing.adapters.tables import agreements

from .test_online_signing import Scene


def test_the_update_sets_the_given_columns_only_at_the_expected_version(client, world, service):
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    agreement = scene.invite(scene.e1).get_json()
    with service.engine.begin() as conn:
        assert store.update_agreement(conn, agreement["id"], 2, {"status": "declined", "version": 3}) is False
        assert store.update_agreement(conn, agreement["id"], 1, {"status": "withdrawn", "version": 2}) is True
        assert store.update_agreement(conn, agreement["id"], 1, {"status": "declined", "version": 2}) is False
    with service.engine.connect() as conn:
        row = conn.execute(select(agreements).where(agreements.c.id == agreement["id"])).one()
    assert (row.status, row.version, row.number, row.school_code) == (
        "withdrawn", 2, agreement["number"], "10558")


def test_serials_count_per_year_school_and_level(service):
    with service.engine.begin() as conn:
        drawn = [store.next_serial(conn, 2026, "10558", "31") for _ in range(3)]
        drawn += [store.next_serial(conn, 2026, "10558", "11"), store.next_serial(conn, 2027, "10558", "31"),
                  store.next_serial(conn, 2026, "10561", "31"), store.next_serial(conn, 2026, "10558", "31")]
    assert drawn == [1, 2, 3, 1, 1, 1, 4]
