"""The roster import streams its rows to the database in chunks: every chunk boundary keeps every
row, new and changed, and one event each."""

from __future__ import annotations

from sqlalchemy import select

from quxiang.common.bus import bulk
from quxiang.common.contracts.records import GRADUATE_REGISTERED, GRADUATE_UPDATED
from quxiang.records.adapters import roster_writer
from quxiang.records.adapters.tables import graduates

from .roster_data import csv_file, identity, row, upload


def test_small_chunks_write_every_row_and_event(client, service, world, monkeypatch):
    world.school()
    world.department(code="01")
    monkeypatch.setattr(bulk, "COPY_CHUNK", 2)
    monkeypatch.setattr(bulk, "BATCH", 2)
    monkeypatch.setattr(roster_writer, "BATCH", 2)
    monkeypatch.setattr(roster_writer, "LOOKUP_BATCH", 2)
    monkeypatch.setattr(roster_writer, "PG_LOOKUP_BATCH", 2)
    first = upload(client, world.school_user(), csv_file([row(i) for i in range(1, 6)]))
    assert first.get_json()["created"] == 5, first.get_json()
    second = upload(client, world.school_user(),
                    csv_file([row(i, 姓名=f"新{i}") for i in range(1, 6)] + [row(i) for i in range(6, 9)]))
    assert (second.get_json()["created"], second.get_json()["updated"]) == (3, 5), second.get_json()
    with service.engine.connect() as conn:
        stored = conn.execute(select(graduates.c.exam_number, graduates.c.name, graduates.c.version,
                                     graduates.c.identity_number_encrypted).order_by(graduates.c.exam_number)).all()
    assert [(r.name, r.version) for r in stored] == [(f"新{i}", 2) for i in range(1, 6)] + [(f"学生{i}", 1)
                                                                                          for i in range(6, 9)]
    assert [service.cipher.decrypt(r.identity_number_encrypted) for r in stored] == [identity(i) for i in range(1, 9)]
    assert len(world.events(GRADUATE_REGISTERED)) == 8
    updates = world.events(GRADUATE_UPDATED)
    assert sorted(e["data"]["name"] for e in updates) == [f"新{i}" for i in range(1, 6)]
    assert {e["sequence"] for e in updates} == {2}
