"""Two requests or two consumers at once on PostgreSQL: a school created while employment is switched
on gets the province's agreement type; an older roster event handled at once with a newer one does
not win; a failed login counted while another request prunes the throttle keeps its count."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from quxiang.accounts.adapters.tables import users
from quxiang.accounts.bootstrap import SERVICE
from quxiang.accounts.domain.model import Department
from quxiang.accounts.service import management, throttle
from quxiang.accounts.service import settings as settings_service
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.transport import Ack, Delivery
from quxiang.common.contracts.records import GRADUATE_UPDATED
from quxiang.common.events import catalogue

from .helpers import auth


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_school_created_while_employment_is_switched_on_gets_the_default_type(app, service, seed, monkeypatch):
    """The switch-on lists the province's schools and pauses before its commit; a school created in
    that pause waits for the switch-on, then takes the province's default. (Without the province's
    lock it read "employment off", the switch-on did not list it, and it never got a type.)"""
    seed.school("10558", "中山大学", "44")
    headers = auth(service, seed.user(Role.PROVINCE, username="gd-prov", province="44"))
    real_codes = settings_service.repository.list_school_codes
    listed = threading.Event()

    def codes(*args, **kwargs):
        found = real_codes(*args, **kwargs)
        listed.set()
        time.sleep(0.5)  # the school is created meanwhile
        return found

    monkeypatch.setattr(settings_service.repository, "list_school_codes", codes)
    answers = {}

    def enable():
        answers["enable"] = app.test_client().post("/provinces/44/modules/employment/enable", headers=headers,
                                                   json={"agreement_type": "three_party"})

    def create():
        listed.wait(10)
        answers["create"] = app.test_client().post("/schools", headers=headers,
                                                   json={"code": "10559", "name": "暨南大学", "province": "44"})

    workers = [threading.Thread(target=enable), threading.Thread(target=create)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    assert answers["enable"].status_code == 200 and answers["create"].status_code == 201
    view = app.test_client().get("/schools/10559", headers=headers).get_json()
    assert view["agreement_type"] == "three_party", view


def _roster(sequence, name):
    return catalogue.new_event(GRADUATE_UPDATED, subject="g-1", sequence=sequence, producer="records", data={
        "graduate_id": "g-1", "exam_number": "24440101110001", "student_number": "2021001", "name": name,
        "school_code": "10558", "department_id": "d-cs", "education_level": "31", "graduation_year": 2025})


def _deliver(service, config, event):
    runtime = ConsumerRuntime("accounts.roster", SERVICE.all_consumers()["accounts.roster"], service.engine,
                              None, config, producer="accounts")
    return runtime.handle_batch([Delivery(body=event.to_json(), headers={}, routing_key=event.type,
                                          message_id=event.event_id, redelivered=False)])


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_an_older_roster_event_handled_at_once_with_a_newer_does_not_win(service, config, seed, monkeypatch):
    seed.school("10558", province="44")
    assert _deliver(service, config, _roster(1, "张三")) == [Ack()]
    from quxiang.accounts.service import provisioning
    real = provisioning._refresh_from_roster
    newer_done = threading.Event()

    def refresh(uow, activation, entry):
        if entry.name == "张三丰":  # the newer event: holds the graduate's rows a moment
            real(uow, activation, entry)
            newer_done.set()
            time.sleep(0.5)
        else:
            real(uow, activation, entry)

    monkeypatch.setattr(provisioning, "_refresh_from_roster", refresh)
    outcomes = []
    newer = threading.Thread(target=lambda: outcomes.append(_deliver(service, config, _roster(3, "张三丰"))))
    newer.start()
    newer_done.wait(10)
    older = threading.Thread(target=lambda: outcomes.append(_deliver(service, config, _roster(2, "张三"))))
    older.start()
    newer.join(20)
    older.join(20)
    assert outcomes == [[Ack()], [Ack()]]
    with service.unit_of_work() as uow:
        name = uow.session.execute(select(users.c.display_name).where(users.c.role == "graduate")).scalar_one()
    assert name == "张三丰"


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_failure_counted_while_its_stale_key_is_pruned(service):
    """The row is found and locked in one statement, and a sweep by another request passes over the
    rows others hold: the count keeps its row (with a separate lock after an insert that did nothing,
    the sweep could delete the row in between and the count failed with a 500), and the sweep does
    not wait for it (two logins whose sweeps each waited for the other's row deadlocked)."""
    now = datetime.now(UTC)
    with service.unit_of_work() as uow:  # an old failure, its window long over
        throttle.record_failure(uow.session, "acct:zsu", 5, now - timedelta(days=2))
        uow.commit()
    pruned = []

    def sweep():
        with service.unit_of_work() as pruning:  # another request's sweep (1 in PRUNE_ONE_IN failures)
            throttle.prune(pruning.session, now)
            pruning.commit()
        pruned.append(True)

    with service.unit_of_work() as failing:
        assert throttle.record_failure(failing.session, "acct:zsu", 5, now) is False
        thread = threading.Thread(target=sweep)
        thread.start()
        thread.join(5)
        assert pruned  # done without waiting for the counted row
        failing.commit()
    with service.unit_of_work() as uow:
        assert throttle.record_failure(uow.session, "acct:zsu", 2, now) is True  # 2 in the window: locked


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_department_account_created_while_the_province_lowers_the_school_is_lowered_too(service, seed,
                                                                                          monkeypatch):
    """A school user's request in flight (its token still says archive read-write) creates a
    department account with archive read-write and pauses after reading the school's rights; the
    province takes archive away from the school meanwhile. The new account must not keep it:
    without the school's lock the province's lowering did not see the uncommitted account."""
    seed.school("10558", "中山大学", "44")
    school_user = seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    with service.unit_of_work() as uow:
        stored = management.repository.get_user(uow.session, school_user.id)
        stored.change_permissions({Module.ARCHIVE: Access.WRITE})
        management.repository.save_user(uow.session, stored)
        department = Department(id="d-cs", school_code="10558", code="CS", name="计算机学院")
        management.repository.add_department(uow.session, department)
        uow.commit()
    province = Principal(user_id="p", role=Role.PROVINCE, scope=Scope(province="44"))
    stale = Principal(user_id=school_user.id, role=Role.SCHOOL, scope=Scope(province="44", school="10558"),
                      permissions={Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.WRITE,
                                   Module.HUKOU: Access.NONE})
    real_accounts = management.repository.accounts_of_school
    checked = threading.Event()

    def accounts(session, school_code, role, **kwargs):
        found = real_accounts(session, school_code, role, **kwargs)
        if threading.current_thread().name == "create" and role is Role.SCHOOL:
            checked.set()
            time.sleep(0.5)  # the province lowers the school meanwhile
        return found

    monkeypatch.setattr(management.repository, "accounts_of_school", accounts)
    made = {}

    def create():
        made["view"] = management.create_account(
            service, stale, Role.DEPARTMENT, username="zsu-cs", display_name="计算机学院", password="Passw0rd!x",
            permissions={Module.ARCHIVE: Access.WRITE}, department_id="d-cs")

    def lower():
        checked.wait(10)
        management.change_permissions(service, province, Role.SCHOOL, school_user.id,
                                      {Module.EMPLOYMENT: Access.WRITE, Module.ARCHIVE: Access.NONE,
                                       Module.HUKOU: Access.NONE})

    workers = [threading.Thread(target=create, name="create"), threading.Thread(target=lower, name="lower")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    with service.engine.connect() as conn:
        archive = conn.execute(select(users.c.perm_archive).where(users.c.username == "zsu-cs")).scalar_one()
    assert made["view"].user.username == "zsu-cs" and archive == "none"


def test_a_roster_batch_takes_its_graduates_in_the_order_issuing_activation_codes_does():
    """Issuing a school's codes locks them in 考生号 order; a roster batch (records' events in the
    order they came) applies them in that order too, so the two never wait on each other in a circle."""
    from quxiang.common.bus.consumer import in_lock_order

    handlers = SERVICE.all_consumers()["accounts.roster"]
    came = [catalogue.new_event(GRADUATE_UPDATED, subject=f"g-{n}", sequence=2, producer="records", data={
        "graduate_id": f"g-{n}", "exam_number": f"2444010111000{n}", "student_number": f"202100{n}", "name": "学生",
        "school_code": "10558", "department_id": "d-cs", "education_level": "31", "graduation_year": 2025})
        for n in (3, 1, 2)]
    assert [e.data["exam_number"][-1] for e in in_lock_order(came, handlers)] == ["1", "2", "3"]


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_the_same_agreement_type_set_twice_at_once_is_recorded_once(app, client, service, seed):
    """Two identical changes of a school's agreement type at once: the second, held until the first
    committed, finds the type already set and records nothing (compared with the type read before
    either wrote, both recorded it)."""
    from quxiang.accounts.service.management import province_lock
    from quxiang.common.contracts.accounts import AGREEMENT_TYPE_SET
    from quxiang.common.db import serialize_on

    from .helpers import events

    admin = auth(service, seed.user(Role.ADMIN))
    gd = auth(service, seed.user(Role.PROVINCE, username="gd-prov", province="44"))
    assert client.post("/schools", json={"code": "10558", "name": "中山大学", "province": "44"},
                       headers=admin).status_code == 201
    assert client.post("/provinces/44/modules/employment/enable", json={"agreement_type": "three_party"},
                       headers=gd).status_code == 200
    answers = []

    def change():
        answers.append(app.test_client().put("/schools/10558/agreement-type", json={"agreement_type": "two_party"},
                                             headers=gd))

    with service.engine.connect() as held:
        serialize_on(held, province_lock("44"))
        both = [threading.Thread(target=change) for _ in range(2)]
        for thread in both:
            thread.start()
        time.sleep(0.5)  # both have read the school and wait
        held.rollback()
    for thread in both:
        thread.join(10)
    assert [a.status_code for a in answers] == [200, 200]
    assert [e["data"]["agreement_type"] for e in events(service, AGREEMENT_TYPE_SET)] == ["three_party",
                                                                                                "two_party"]


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_two_sweeps_each_holding_a_stale_key_the_other_would_delete_do_not_deadlock(service):
    """Two wrong logins at once, each holding its account's stale key, and each sweeping (1 in
    PRUNE_ONE_IN): each sweep deletes the stale keys nobody holds and passes over the other's."""
    now = datetime.now(UTC)
    with service.unit_of_work() as uow:
        for key in ("acct:a", "acct:b", "acct:idle"):
            throttle.record_failure(uow.session, key, 5, now - timedelta(days=2))
        uow.commit()
    barrier = threading.Barrier(2)
    errors = []

    def login(key):
        try:
            with service.unit_of_work() as uow:
                throttle.record_failure(uow.session, key, 5, now)  # holds its key's row
                barrier.wait(5)
                throttle.prune(uow.session, now)
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    both = [threading.Thread(target=login, args=(key,)) for key in ("acct:a", "acct:b")]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(20)
    assert errors == []
    with service.engine.connect() as conn:
        keys = set(conn.execute(select(throttle.login_throttle.c.key)).scalars())
    assert keys == {"acct:a", "acct:b"}  # the idle stale key swept, the counted ones kept
