"""Password login: tokens on success, one answer for every failure, throttling per account and address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from quxiang.accounts.adapters import repository
from quxiang.accounts.adapters.tables import login_throttle, users
from quxiang.accounts.service import throttle
from quxiang.accounts.service.passwords import needs_rehash
from quxiang.common.auth.principal import Role

PASSWORD = "Passw0rd!"


def login(client, username, password=PASSWORD, address="127.0.0.1"):
    return client.post("/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_login_returns_an_access_token_every_service_accepts_and_a_refresh_token(client, seed):
    seed.school()
    user = seed.user(Role.SCHOOL, username="zsu-admin", province="44", school="10558")
    answer = login(client, "zsu-admin")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert len(body["refresh_token"]) >= 40 and body["refresh_expires_in"] == 14 * 24 * 3600
    assert answer.headers["Cache-Control"] == "no-store"

    header = jwt.get_unverified_header(body["access_token"])
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert header["alg"] == "EdDSA" and header["kid"] in kids
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user.id and claims["role"] == "school" and claims["aud"] == "quxiang"
    assert claims["scope"] == {"province": "44", "school": "10558"}
    assert claims["perm"] == {"employment": "write", "archive": "none", "hukou": "none"}
    assert claims["jti"] and claims["exp"] - claims["iat"] == pytest.approx(900, abs=1)

    me = client.get("/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json() == {"id": user.id, "username": "zsu-admin", "role": "school", "role_label": "学校用户",
                             "display_name": "zsu-admin", "scope": {"province": "44", "school": "10558"},
                             "permissions": {"employment": "write", "archive": "none", "hukou": "none"},
                             "disabled": False}
    assert client.get("/whoami", headers=bearer(body["access_token"])).status_code == 200


def test_graduates_and_employers_carry_no_module_permissions(client, seed):
    seed.user(Role.EMPLOYER, username="acme", employer="e-1")
    claims = jwt.decode(login(client, "acme").get_json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "employer" and claims["scope"] == {"employer": "e-1"} and claims["perm"] == {}


def test_every_failure_gets_the_same_answer(client, seed, service):
    seed.user(Role.PROVINCE, username="gd", province="44")
    disabled = seed.user(Role.PROVINCE, username="gd-old", province="44")
    unactivated = seed.user(Role.GRADUATE, username="24440101110001", graduate="g-1")
    with service.unit_of_work() as uow:
        uow.session.execute(update(users).where(users.c.id == disabled.id).values(disabled=True))
        uow.session.execute(update(users).where(users.c.id == unactivated.id).values(password_hash=None))
        uow.commit()
    answers = [login(client, "gd", "wrong-Passw0rd"), login(client, "nobody"), login(client, "gd-old"),
               login(client, "24440101110001"), login(client, "24440101110001", "anything-1")]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 401]
    assert {(a.get_json()["code"], a.get_json()["detail"]) for a in answers} == {
        ("invalid_credentials", "用户名或密码错误")}
    assert "password_hash" not in str(answers[0].get_json())


def test_missing_or_oversized_input_names_the_field(client):
    answer = client.post("/auth/login", json={"username": "gd"})
    assert answer.status_code == 422 and "password" in answer.get_json()["errors"]
    answer = client.post("/auth/login", json={"username": "x" * 65, "password": "p"})
    assert answer.status_code == 422 and "username" in answer.get_json()["errors"]


def test_an_outdated_hash_is_upgraded_at_login(client, seed, service):
    user = seed.user(Role.PROVINCE, username="gd", province="44")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with service.unit_of_work() as uow:
        uow.session.execute(update(users).where(users.c.id == user.id).values(password_hash=weak))
        uow.commit()
    assert login(client, "gd").status_code == 200
    with service.unit_of_work() as uow:
        stored = repository.get_user(uow.session, user.id).password_hash
    assert stored != weak and not needs_rehash(stored)
    assert login(client, "gd").status_code == 200


def test_the_sixth_attempt_on_an_account_is_refused_without_checking_the_password(client, seed):
    seed.user(Role.PROVINCE, username="gd", province="44")
    seed.user(Role.PROVINCE, username="gx", province="45")
    for _ in range(5):
        assert login(client, "gd", "wrong-Passw0rd").status_code == 401
    answer = login(client, "gd")  # the right password, but the account is locked
    assert answer.status_code == 429
    assert answer.get_json()["code"] == "too_many_attempts"
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
    # Only that account: another one from the same address still logs in.
    assert login(client, "gx").status_code == 200


def test_a_success_resets_the_account_count(client, seed):
    seed.user(Role.PROVINCE, username="gd", province="44")
    for _ in range(4):
        assert login(client, "gd", "wrong-Passw0rd").status_code == 401
    assert login(client, "gd").status_code == 200
    for _ in range(4):
        assert login(client, "gd", "wrong-Passw0rd").status_code == 401
    assert login(client, "gd").status_code == 200


def test_an_address_spraying_many_accounts_is_locked_for_all_of_them(client, seed):
    seed.user(Role.PROVINCE, username="gd", province="44")
    for n in range(throttle.ADDRESS_LIMIT):
        assert login(client, f"guess-{n}", "wrong-Passw0rd", address="10.9.8.7").status_code == 401
    refused = login(client, "gd", address="10.9.8.7")
    assert refused.status_code == 429 and refused.get_json()["code"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) > 0
    assert login(client, "gd", address="10.9.8.8").status_code == 200


def test_locks_and_windows_expire(service):
    start = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    with service.unit_of_work() as uow:
        for minute in range(5):
            locked = throttle.record_failure(uow.session, "account:gd", 5, start + timedelta(minutes=minute))
        assert locked
        uow.commit()
    with service.unit_of_work() as uow:
        with pytest.raises(throttle.Throttled) as refused:
            throttle.ensure_not_locked(uow.session, ["account:gd", "address:1.2.3.4"], start + timedelta(minutes=10))
        assert refused.value.retry_after == 9 * 60
        throttle.ensure_not_locked(uow.session, ["account:gd"], start + timedelta(minutes=19, seconds=1))
        # Four failures, then one after the window: counting starts again, no lock.
        for minute in (0, 1, 2, 3, 20):
            assert not throttle.record_failure(uow.session, "account:gx", 5, start + timedelta(minutes=minute))
        uow.commit()
        row = uow.session.execute(select(login_throttle).where(login_throttle.c.key == "account:gx")).one()
        assert row.failures == 1


def test_finished_keys_are_swept(service):
    start = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    with service.unit_of_work() as uow:
        throttle.record_failure(uow.session, "account:old", 5, start)
        for minute in range(5):
            throttle.record_failure(uow.session, "account:locked", 5, start + timedelta(minutes=10 + minute))
        throttle.record_failure(uow.session, "account:recent", 5, start + timedelta(minutes=20))
        throttle.prune(uow.session, start + timedelta(minutes=25))
        uow.commit()
        keys = uow.session.execute(select(login_throttle.c.key).order_by(login_throttle.c.key)).scalars().all()
    assert keys == ["account:locked", "account:recent"]  # the lock lasts until 8:29
