"""Logins, refreshes and activations that overlap a change of the account, and guesses sent in
parallel: a token issued while the password, the rights or the account changed must not outlive
the change, and the throttle's limits hold for attempts made all at once."""

from __future__ import annotations

import threading
import time

import pytest

from quxiang.accounts.adapters import repository
from quxiang.accounts.service import auth, management, provisioning, throttle
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope

from .helpers import apply_revocations
from .test_activation import deliver, issued_codes, roster_event

PASSWORD = "Passw0rd!"
PROVINCE = Principal("prov-1", Role.PROVINCE, Scope(province="44"))
NO_RIGHTS = {Module.EMPLOYMENT: Access.NONE, Module.ARCHIVE: Access.NONE, Module.HUKOU: Access.NONE}


def _login_while(client, monkeypatch, change):
    """Log in as zsu; ``change`` runs, committed, while the password is being checked."""
    real, fired = auth.verify_password, []

    def verify(hashed, password):
        valid = real(hashed, password)
        if not fired:
            fired.append(True)
            change()
        return valid

    monkeypatch.setattr(auth, "verify_password", verify)
    answer = client.post("/auth/login", json={"username": "zsu", "password": PASSWORD})
    monkeypatch.setattr(auth, "verify_password", real)
    return answer


def _bearer(answer):
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def test_a_login_checked_against_a_password_changed_meanwhile_is_refused(client, seed, service, monkeypatch):
    user = seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")

    def change_password():
        with service.unit_of_work() as uow:
            auth.change_password(uow, user.id, PASSWORD, "NewPassw0rd!", "10.0.0.9")

    answer = _login_while(client, monkeypatch, change_password)
    assert answer.status_code == 401, answer.get_json()
    assert client.post("/auth/login", json={"username": "zsu", "password": "NewPassw0rd!"}).status_code == 200


def test_a_login_overlapping_a_disable_gets_no_token(client, seed, service, monkeypatch):
    seed.school()
    user = seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    answer = _login_while(client, monkeypatch,
                          lambda: management.disable_account(service, PROVINCE, Role.SCHOOL, user.id))
    assert answer.status_code == 401, answer.get_json()


def test_a_login_overlapping_a_permission_change_carries_the_new_rights(client, seed, service, monkeypatch):
    seed.school()
    user = seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    answer = _login_while(client, monkeypatch,
                          lambda: management.change_permissions(service, PROVINCE, Role.SCHOOL, user.id, NO_RIGHTS))
    assert answer.status_code == 200
    apply_revocations(service)
    who = client.get("/whoami", headers=_bearer(answer))
    assert who.status_code == 200 and who.get_json()["permissions"]["employment"] == "none", who.get_json()


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_a_refresh_overlapping_a_permission_change_does_not_keep_the_old_rights(client, seed, service,
                                                                                monkeypatch):
    seed.school()
    user = seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    tokens = client.post("/auth/login", json={"username": "zsu", "password": PASSWORD}).get_json()
    real_get, changes = repository.get_user, []

    def get_user(bind, user_id, **kwargs):
        found = real_get(bind, user_id, **kwargs)
        if not changes:  # the province changes the rights while this refresh is under way
            change = threading.Thread(target=management.change_permissions,
                                      args=(service, PROVINCE, Role.SCHOOL, user.id, NO_RIGHTS))
            change.start()
            changes.append(change)
            time.sleep(0.5)
        return found

    monkeypatch.setattr(auth.repository, "get_user", get_user)
    answer = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    monkeypatch.setattr(auth.repository, "get_user", real_get)
    changes[0].join(10)
    assert not changes[0].is_alive()
    apply_revocations(service)
    if answer.status_code == 200:
        who = client.get("/whoami", headers=_bearer(answer))
        assert who.status_code == 401 or who.get_json()["permissions"]["employment"] == "none", who.get_json()
    else:
        assert answer.status_code == 401


def _all_at_once(count, send):
    barrier, statuses = threading.Barrier(count), []

    def run(index):
        barrier.wait()
        statuses.append(send(index))

    workers = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return statuses


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_guesses_sent_all_at_once_are_checked_no_more_than_the_limit(app, seed, monkeypatch):
    seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: (time.sleep(0.3), real(h, p))[1])  # argon2's time

    def guess(index):
        return app.test_client().post("/auth/login", json={"username": "zsu", "password": f"guess{index}xx"},
                                      environ_base={"REMOTE_ADDR": f"10.1.0.{index}"}).status_code

    statuses = _all_at_once(12, guess)
    assert statuses.count(401) <= throttle.ACCOUNT_LIMIT, sorted(statuses)
    assert sorted(set(statuses)) == [401, 429], sorted(statuses)


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_activation_codes_guessed_all_at_once_are_checked_no_more_than_the_limit(app, client, service, config,
                                                                               seed, monkeypatch):
    seed.school("10558", province="44")
    deliver(service, config, roster_event())
    issued_codes(client, seed)
    real = provisioning._code_matches
    monkeypatch.setattr(provisioning, "_code_matches", lambda h, c: (time.sleep(0.1), real(h, c))[1])

    def guess(index):
        return app.test_client().post("/graduates/activate", environ_base={"REMOTE_ADDR": f"10.2.0.{index}"}, json={
            "exam_number": "24440101110001", "activation_code": "WRONG234", "password": "N3w-secret"}).status_code

    statuses = _all_at_once(12, guess)
    assert statuses.count(400) <= provisioning.ACTIVATION_LIMIT, sorted(statuses)


def test_a_right_password_gives_the_address_its_attempt_back(client, seed, service):
    seed.user(Role.SCHOOL, username="zsu", province="44", school="10558")
    address = {"REMOTE_ADDR": "10.3.0.1"}
    for index in range(throttle.ADDRESS_LIMIT - 1):  # other accounts each time: the address's budget only
        assert client.post("/auth/login", json={"username": f"nobody{index}", "password": "x" * 9},
                           environ_base=address).status_code == 401
    for _ in range(3):  # each success reserves the address's last attempt and gives it back
        assert client.post("/auth/login", json={"username": "zsu", "password": PASSWORD},
                           environ_base=address).status_code == 200
    assert client.post("/auth/login", json={"username": "nobody", "password": "x" * 9},
                       environ_base=address).status_code == 401  # the 20th failure: now locked
    assert client.post("/auth/login", json={"username": "zsu", "password": PASSWORD},
                       environ_base=address).status_code == 429
