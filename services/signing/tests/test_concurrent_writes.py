"""Two consumers or two requests at once on PostgreSQL: signing's local copies keep the newest event
by its sequence (the roster row, the agreement type), first saves of the settings all succeed,
one version each, and a step routed by the settings follows a change made while it ran."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from quxiang.common.contracts import accounts, records
from quxiang.common.events import catalogue
from quxiang.signing.adapters import store
from quxiang.signing.adapters.tables import employers, graduates, school_settings, schools
from quxiang.signing.entrypoints import consumers


def _on_postgresql(service):
    if service.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")


def _in_order(service, newer, older):
    """Two consumer processes: the newer event's transaction writes first and commits while the older
    one's (which already read the row) waits on the row lock."""
    errors: list[BaseException] = []
    read = threading.Event()
    with service.unit_of_work() as first:
        consumers.HANDLERS[newer.type](newer, first)  # writes the row, holds its lock

        def late():
            try:
                with service.unit_of_work() as uow:
                    consumers.HANDLERS[older.type](older, uow)  # reads, then blocks on the update
                    uow.commit()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                read.set()

        thread = threading.Thread(target=late)
        thread.start()
        time.sleep(0.5)  # the older one has read the row and waits for the lock
        first.commit()
    thread.join(10)
    assert errors == []


def test_an_older_roster_event_handled_at_once_with_a_newer_does_not_win(world, service):
    _on_postgresql(service)
    world.school()
    department = world.department()
    graduate_id = world.graduate(1, department)
    base = {"graduate_id": graduate_id, "exam_number": "26440100000001", "school_code": "10558",
            "department_id": department, "education_level": "31", "graduation_year": 2026}
    newer = catalogue.new_event(records.GRADUATE_UPDATED, subject=graduate_id, sequence=3,
                                data={**base, "name": "新名字"}, producer="test")
    older = catalogue.new_event(records.GRADUATE_UPDATED, subject=graduate_id, sequence=2,
                                data={**base, "name": "旧名字"}, producer="test")
    _in_order(service, newer, older)
    with service.engine.connect() as conn:
        row = conn.execute(select(graduates.c.name, graduates.c.sequence).where(graduates.c.id == graduate_id)).one()
    assert (row.name, row.sequence) == ("新名字", 3)


def test_an_older_agreement_type_handled_at_once_with_a_newer_does_not_win(world, service):
    _on_postgresql(service)
    world.school(agreement_type=None)
    world.agreement_type("10558", "three_party", sequence=1)
    data = {"school_code": "10558", "province": "44", "set_by": "p"}
    newer = catalogue.new_event(accounts.AGREEMENT_TYPE_SET, subject="10558", sequence=3,
                                data={**data, "agreement_type": "two_party"}, producer="test")
    older = catalogue.new_event(accounts.AGREEMENT_TYPE_SET, subject="10558", sequence=2,
                                data={**data, "agreement_type": "three_party"}, producer="test")
    _in_order(service, newer, older)
    with service.engine.connect() as conn:
        row = conn.execute(select(schools.c.agreement_type, schools.c.agreement_type_sequence)
                           .where(schools.c.code == "10558")).one()
    assert (row.agreement_type, row.agreement_type_sequence) == ("two_party", 3)


def test_two_first_saves_of_the_signing_settings_at_once(client, world, service):
    _on_postgresql(service)
    world.school()
    headers = world.school_user()
    app = client.application
    barrier = threading.Barrier(4)
    results: list[int] = []

    def save(i):
        c = app.test_client()
        barrier.wait()
        results.append(c.put("/schools/10558/settings", headers=headers,
                             json={"department_review": bool(i % 2), "notice": f"n{i}"}).status_code)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with service.engine.connect() as conn:
        version = conn.execute(select(school_settings.c.version)).scalar()
    assert sorted(results) == [200, 200, 200, 200] and version == 4, (results, version)


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_units_change_applied_while_its_registration_inserts_is_kept(service, config):
    """Two consumers: the registration (version 1) inserts the unit and has not committed when the
    change (version 2) arrives. The change waits for it and then applies; an UPDATE first and an
    INSERT .. DO NOTHING after it found no row, inserted nothing, and lost the change for good."""
    unit = {"id": "e-race", "credit_code": "91440101MA5ABCDE1X", "nature": "10", "industry": "34",
            "region": "440100"}
    registering = service.engine.connect()
    pending = registering.begin()
    store.apply_employer(registering, {**unit, "name": "注册时的名称", "address": None}, 1)

    def change():
        with service.engine.begin() as conn:
            store.apply_employer(conn, {**unit, "name": "修改后的名称", "address": "新地址"}, 2)

    worker = threading.Thread(target=change)
    worker.start()
    time.sleep(0.5)
    pending.commit()
    registering.close()
    worker.join(10)
    with service.engine.begin() as conn:
        kept = conn.execute(select(employers.c.name, employers.c.sequence).where(employers.c.id == "e-race")).one()
        assert tuple(kept) == ("修改后的名称", 2)
        store.apply_employer(conn, {**unit, "name": "注册时的名称", "address": None}, 1)  # redelivered: older
        assert conn.execute(select(employers.c.name).where(employers.c.id == "e-race")).scalar_one() == "修改后的名称"


def _while_department_review_goes_off(service, step):
    """``step`` (a request, in a thread) while the school's change of its settings holds them, as
    put_settings does: the change switches department review off and commits, then the step goes on.
    Read without waiting, the step went to a department review switched off meanwhile, which the
    change's count of pending department reviews had not seen."""
    answers = []
    with service.engine.connect() as school:
        school.execute(select(school_settings.c.version).where(school_settings.c.school_code == "10558")
                       .with_for_update())
        worker = threading.Thread(target=lambda: answers.append(step()))
        worker.start()
        time.sleep(0.5)  # the step has begun and waits for the settings
        assert answers == []
        school.execute(school_settings.update().where(school_settings.c.school_code == "10558")
                       .values(department_review=False))
        school.commit()
    worker.join(10)
    assert [a.status_code for a in answers] == [200], [a.get_json() for a in answers]
    return answers[0].get_json()


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_destination_submitted_while_department_review_goes_off_goes_to_the_school(client, world, service):
    from .test_destinations import Scene

    scene = Scene(client, world)
    assert scene.draft().status_code == 201
    other = client.application.test_client()
    submitted = _while_department_review_goes_off(service, lambda: other.post(
        f"/graduates/{scene.g1}/destination/submit", headers=scene.me()))
    assert submitted["status"] == "school_review"


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_an_invitation_accepted_while_department_review_goes_off_goes_to_the_school(client, world, service):
    from .test_online_signing import Scene

    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    agreement = scene.invite(scene.e1).get_json()["id"]
    other = client.application.test_client()
    accepted = _while_department_review_goes_off(service, lambda: other.post(
        f"/agreements/{agreement}/accept", headers=world.graduate_user(scene.g1)))
    assert accepted["status"] == "school_review"
