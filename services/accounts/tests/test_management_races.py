"""Two requests creating the same school, department or account at once: both pass the existence
check, one insert wins, the other answers 409 like the check would (not 500), and no log holds
the statement's parameters (a new account's password hash)."""

from __future__ import annotations

import logging
import threading

import pytest

from quxiang.accounts.service import management
from quxiang.common.auth.principal import Role

from .helpers import auth


def _race(app, monkeypatch, check, send):
    real = getattr(management.repository, check)
    barrier = threading.Barrier(2, timeout=10)

    def checked(*args, **kwargs):
        found = real(*args, **kwargs)
        barrier.wait()  # both requests have checked before either inserts
        return found

    monkeypatch.setattr(management.repository, check, checked)
    answers = []
    workers = [threading.Thread(target=lambda: answers.append(send(app.test_client()))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)
    return sorted(answers, key=lambda a: a.status_code)


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_one_username_created_twice_at_once(app, service, seed, monkeypatch, caplog):
    seed.school("10558", "中山大学", "44")
    headers = auth(service, seed.user(Role.PROVINCE, username="gd-prov", province="44"))
    body = {"school_code": "10558", "username": "zsu-jyzx", "display_name": "就业中心", "password": "Passw0rd!"}
    with caplog.at_level(logging.DEBUG):
        answers = _race(app, monkeypatch, "get_user_by_username",
                        lambda c: c.post("/school-accounts", json=body, headers=headers))
    assert [a.status_code for a in answers] == [201, 409]
    assert answers[1].get_json()["code"] == "username_taken"
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert "$argon2" not in logged


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_one_school_code_created_twice_at_once(app, service, seed, monkeypatch):
    headers = auth(service, seed.user(Role.PROVINCE, username="gd-prov", province="44"))
    answers = _race(app, monkeypatch, "get_school",
                    lambda c: c.post("/schools", json={"code": "10559", "name": "暨南大学", "province": "44"},
                                     headers=headers))
    assert [a.status_code for a in answers] == [201, 409]
    assert answers[1].get_json()["code"] == "school_exists"


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_one_department_code_created_twice_at_once(app, service, seed, monkeypatch):
    seed.school("10558", "中山大学", "44")
    headers = auth(service, seed.user(Role.SCHOOL, username="zsu", province="44", school="10558"))
    answers = _race(app, monkeypatch, "get_department_by_code",
                    lambda c: c.post("/schools/10558/departments", json={"code": "01", "name": "计算机学院"},
                                     headers=headers))
    assert [a.status_code for a in answers] == [201, 409]
    assert answers[1].get_json()["code"] == "department_exists"
