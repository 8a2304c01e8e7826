"""The roster import's write against a database that changed after validation: a 考生号 taken by
another import meanwhile is a 409, the job is failed and nothing of the file is written."""

from __future__ import annotations

import uuid

from sqlalchemy import func, insert, select

from quxiang.common.bus.tables import outbox
from quxiang.records.adapters import repository
from quxiang.records.adapters.tables import graduates, import_jobs
from quxiang.records.service import roster_import

from .roster_data import csv_file, row, upload


def test_a_number_taken_between_validation_and_writing_is_a_conflict(client, service, world, monkeypatch):
    world.school()
    world.department(code="01")
    validate = roster_import._validate

    def validate_then_another_import_writes(*args, **kwargs):
        checked = validate(*args, **kwargs)
        stamp = repository.now()
        with service.engine.begin() as conn:
            conn.execute(insert(graduates).values(
                id=str(uuid.uuid4()), school_code="10561", exam_number=row(2)["考生号"], name="别人", gender="M",
                identity_number_encrypted="x:y", identity_number_hash="x:z", department_id="d", major_code="0809",
                major_name="m", education_level="31", origin_region="440106", graduation_year=2026, version=1,
                created_at=stamp, updated_at=stamp))
        return checked

    monkeypatch.setattr(roster_import, "_validate", validate_then_another_import_writes)
    response = upload(client, world.school_user(), csv_file([row(1), row(2), row(3)]))
    assert response.status_code == 409, response.get_json()
    with service.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(graduates)).scalar_one() == 1  # the other one only
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 0
        assert conn.execute(select(import_jobs.c.status)).scalar_one() == "failed"


def test_a_graduate_changed_by_an_overlapping_import_is_a_conflict_not_a_second_update(client, service, world,
                                                                                       monkeypatch):
    # Import B starts and finishes while import A is between its read and its write: both would
    # write version 2 of the same graduate with different names, and every copy downstream keep
    # whichever event came first. A is refused instead, and writes nothing.
    world.school()
    world.department(code="01")
    assert upload(client, world.school_user(), csv_file([row(1), row(2)])).status_code == 201
    validate = roster_import._validate
    state = {"inner": False}

    def validate_while_another_import_runs(*args, **kwargs):
        checked = validate(*args, **kwargs)
        if not state["inner"]:
            state["inner"] = True
            inner = upload(client, world.school_user(), csv_file([row(1, **{"姓名": "改名乙"}), row(2)]))
            assert inner.status_code == 201, inner.get_json()
        return checked

    monkeypatch.setattr(roster_import, "_validate", validate_while_another_import_runs)
    changed = csv_file([row(1, **{"姓名": "改名甲"}), row(2, **{"姓名": "改名丙"})])
    response = upload(client, world.school_user(), changed)
    assert response.status_code == 409, response.get_json()
    with service.engine.connect() as conn:
        names = dict(conn.execute(select(graduates.c.exam_number, graduates.c.name)).all())
        versions = set(conn.execute(select(graduates.c.version)).scalars())
        updates = list(conn.execute(select(outbox.c.subject, outbox.c.sequence)
                                    .where(outbox.c.event_type == "records.graduate.updated")))
        statuses = sorted(conn.execute(select(import_jobs.c.status)).scalars())
    assert names == {row(1)["考生号"]: "改名乙", row(2)["考生号"]: row(2)["姓名"]}  # B's, nothing of A
    assert versions == {1, 2}
    assert len(updates) == 1 and len(set(updates)) == 1
    assert statuses == ["failed", "succeeded", "succeeded"]


def test_an_import_that_changes_graduates_nobody_else_touched_still_writes(client, service, world):
    world.school()
    world.department(code="01")
    assert upload(client, world.school_user(), csv_file([row(1), row(2)])).status_code == 201
    again = upload(client, world.school_user(), csv_file([row(1, **{"姓名": "改名"}), row(2, **{"姓名": "又改"})]))
    assert again.status_code == 201, again.get_json()
    with service.engine.connect() as conn:
        assert set(conn.execute(select(graduates.c.version)).scalars()) == {2}
