"""移出生源 reaches accounts: the graduate's login is disabled (its tokens die everywhere) while it is
off the roster, and enabled again when the school puts it back; a login disabled for another reason
stays disabled; an old event handled late changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from quxiang.accounts.adapters import repository
from quxiang.accounts.adapters.tables import users
from quxiang.common.auth.revocation import TOKENS_REVOKED
from quxiang.common.contracts.accounts import USER_DISABLED, USER_ENABLED
from quxiang.common.contracts.records import GRADUATE_UPDATED, GRADUATE_WITHDRAWN
from quxiang.common.events import catalogue

from .test_activation import activate, deliver, issued_codes, recorded, roster_event

EXAM = "24440101110001"


def roster(type_, sequence, graduate_id="g-1"):
    base = roster_event(graduate_id).data
    data = {**base, "reason": "退学"} if type_ == GRADUATE_WITHDRAWN else base
    return catalogue.new_event(type_, subject=graduate_id, sequence=sequence, producer="records", data=data)


def login(client, password="N3w-secret"):
    return client.post("/auth/login", json={"username": EXAM, "password": password})


def disabled(service):
    with service.engine.connect() as conn:
        return conn.execute(select(users.c.disabled).where(users.c.username == EXAM)).scalar_one()


def test_withdrawal_disables_the_login_and_putting_back_enables_it(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event())
    assert activate(client, EXAM, issued_codes(client, seed)[EXAM]).status_code == 200
    tokens = login(client).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/me", headers=headers).status_code == 200

    deliver(service, config, roster(GRADUATE_WITHDRAWN, 2))
    assert disabled(service)
    assert login(client).status_code in (401, 403)
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    [revoked] = recorded(service, TOKENS_REVOKED)
    assert revoked.data["reason"] == "disabled"
    assert recorded(service, USER_DISABLED)[0].data["disabled_by"] == "system"

    deliver(service, config, roster(GRADUATE_WITHDRAWN, 2))  # a redelivery: nothing more
    assert len(recorded(service, USER_DISABLED)) == 1
    deliver(service, config, roster(GRADUATE_UPDATED, 3))
    assert not disabled(service)
    assert login(client).status_code == 200
    assert recorded(service, USER_ENABLED)[0].data["enabled_by"] == "system"


def test_an_older_event_handled_late_does_not_undo_the_withdrawal(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event(), roster(GRADUATE_WITHDRAWN, 3))
    assert disabled(service)
    deliver(service, config, roster(GRADUATE_UPDATED, 2))
    assert disabled(service)
    assert recorded(service, USER_ENABLED) == []


def test_a_graduate_first_heard_of_withdrawn_cannot_log_in(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster(GRADUATE_WITHDRAWN, 2))
    assert disabled(service)
    assert issued_codes(client, seed) == {}  # no code for a graduate off the roster
    deliver(service, config, roster(GRADUATE_UPDATED, 3))
    assert not disabled(service)
    assert activate(client, EXAM, issued_codes(client, seed)[EXAM]).status_code == 200


def test_a_login_disabled_for_another_reason_stays_disabled(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event())
    with service.unit_of_work() as uow:
        user = repository.get_user_by_username(uow.session, EXAM)
        user.disable()
        repository.save_user(uow.session, user)
        uow.commit()
    deliver(service, config, roster(GRADUATE_WITHDRAWN, 2), roster(GRADUATE_UPDATED, 3))
    assert disabled(service)
    assert recorded(service, USER_ENABLED) == [] and recorded(service, USER_DISABLED) == []
