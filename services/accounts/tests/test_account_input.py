"""What an account's username and password may be: no all-digit username for a staff account (it is
a graduate's 考生号: that graduate could then never get an account), and no password that is mostly
spaces or holds the username; refused before anything is written."""

from __future__ import annotations

from quxiang.accounts.service.passwords import password_problem

from .helpers import auth, events
from .test_employers import registration
from .test_management import field_errors, gd, new_school_account  # noqa: F401


def test_an_all_digit_username_is_refused_as_for_employers(client, service, gd):  # noqa: F811
    answer = new_school_account(client, auth(service, gd["province"]), username="26440100000001")
    assert answer.status_code == 422 and field_errors(answer) == {"username"}
    assert "全为数字" in str(answer.get_json()["errors"]["username"])
    assert events(service, "accounts.user.created") == []


def test_weak_passwords_are_refused(client, service, gd):  # noqa: F811
    headers = auth(service, gd["province"])
    for username, password, reason in (("zsu-a", "a1      ", "空格不计"), ("zsu12345", "zsu12345", "用户名"),
                                       ("zsu-c", "x-ZSU-C-2026", "用户名")):
        answer = new_school_account(client, headers, username=username, password=password)
        assert answer.status_code == 422, (password, answer.get_json())
        assert reason in answer.get_json()["detail"] + str(answer.get_json().get("errors")), answer.get_json()
    assert events(service, "accounts.user.created") == []
    assert new_school_account(client, headers, username="zsu-d", password="Passw0rd with spaces").status_code == 201


def test_the_password_rules():
    assert password_problem("a1" + " " * 6) is not None
    assert password_problem("abcdefg1") is None and password_problem("abc defg1") is None
    assert password_problem("12345678") == password_problem("abcdefgh") == "密码须同时包含字母和数字"
    assert password_problem("Zhang2026san", "zhang2026") == "密码不能包含用户名"
    assert password_problem("Zhang2026san", "li2026") is None


def test_an_employer_or_graduate_password_holding_the_username_is_refused(client):
    answer = client.post("/employers", json=registration(username="gz-demo-unit", password="gz-demo-unit-1"))
    assert answer.status_code == 422 and "password" in answer.get_json()["errors"], answer.get_json()
    activation = client.post("/graduates/activate", json={"exam_number": "26440100000001", "activation_code": "x",
                                                          "password": "a26440100000001"})
    assert activation.status_code == 422 and "password" in activation.get_json()["errors"], activation.get_json()
