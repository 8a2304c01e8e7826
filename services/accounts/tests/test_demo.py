"""The demo data: created through the use cases (events recorded), idempotent, and usable."""

from __future__ import annotations

import io
from collections import Counter

from quxiang.accounts.adapters import repository
from quxiang.accounts.entrypoints import cli
from quxiang.accounts.entrypoints.demo import DEMO_PASSWORD, run_demo
from quxiang.accounts.service.passwords import verify_password
from quxiang.common.auth.principal import Role

from .helpers import auth, events


def test_the_demo_runs_twice_to_the_same_state_and_its_province_user_can_work(client, service, config, capsys):
    out = io.StringIO()
    logins = run_demo(config, out=out)
    first = Counter(e["type"] for e in events(service))
    assert first["accounts.school.created"] == 3 and first["accounts.department.created"] == 6
    assert first["accounts.user.created"] == 1 + 1 + 3 + 6 + 1  # admin, province, schools, departments, employer
    assert first["accounts.employer.registered"] == 1
    assert first["accounts.module.enabled"] == 2
    assert first["accounts.school.agreement_type_set"] == 3

    assert cli.main(["demo"], config=config) == 0  # the same through `qx-accounts demo`
    again = io.StringIO()
    assert run_demo(config, out=again, migrate=False) == logins
    assert again.getvalue() == out.getvalue()
    assert Counter(e["type"] for e in events(service)) == first
    table = out.getvalue().splitlines()[3:]
    assert [line.split()[2] for line in table] == [x.username for x in logins]

    roles = Counter(x.role for x in logins)
    assert roles == {Role.ADMIN: 1, Role.PROVINCE: 1, Role.SCHOOL: 3, Role.DEPARTMENT: 6, Role.EMPLOYER: 1}
    with service.unit_of_work() as uow:
        users = {x.username: repository.get_user(uow.session, repository.get_user_by_username(
            uow.session, x.username).id) for x in logins}
    assert all(u is not None and u.role is x.role for x, u in zip(logins, users.values(), strict=True))
    assert all(verify_password(u.password_hash, DEMO_PASSWORD) for u in users.values())
    assert len({frozenset(users[s].permissions.items()) for s in ("demo-zsu", "demo-scut", "demo-scnu")}) == 3
    assert DEMO_PASSWORD in out.getvalue() and "demo-zsu-cs" in capsys.readouterr().out

    headers = auth(service, users["demo-gd"])
    accounts = client.get("/school-accounts", headers=headers).get_json()
    assert {a["username"] for a in accounts["items"]} == {"demo-zsu", "demo-scut", "demo-scnu"}
    modules = client.get("/provinces/44/modules", headers=headers).get_json()["modules"]
    assert {m["module"]: m["enabled"] for m in modules} == {"employment": True, "archive": True, "hukou": False}
    schools = client.get("/schools", headers=headers).get_json()["items"]
    assert {s["code"]: s["agreement_type"] for s in schools} == {
        "10558": "three_party", "10561": "three_party", "10574": "two_party"}
    departments = client.get("/department-accounts", headers=auth(service, users["demo-zsu"])).get_json()
    assert {a["username"] for a in departments["items"]} == {"demo-zsu-cs", "demo-zsu-law"}
