"""``qx-accounts republish-directory``: every school, department, module switched on and agreement
type announced again as the events that first announced them, at their current versions (so each
consumer, keeping the newest, fills only what its copy lost)."""

from __future__ import annotations

from quxiang.accounts.entrypoints import cli
from quxiang.common.auth.principal import Role
from quxiang.common.validators import make_credit_code

from .helpers import auth, events

DIRECTORY = ("accounts.school.created", "accounts.department.created", "accounts.module.enabled",
             "accounts.school.agreement_type_set")


def _newest(recorded):
    """The last event of each (type, subject), without its envelope's id and time."""
    newest = {}
    for e in recorded:
        if e["type"] in DIRECTORY:
            newest[(e["type"], e["subject"])] = (e["sequence"], e["data"])
    return newest


def test_the_directory_is_announced_again_as_it_stands(client, service, seed, config, capsys):
    admin = auth(service, seed.user(Role.ADMIN))
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    schools = (("10558", "中山大学", "44"), ("10561", "华南理工大学", "44"), ("10001", "北京大学", "11"))
    for code, name, province in schools:
        assert client.post("/schools", json={"code": code, "name": name, "province": province},
                           headers=admin).status_code == 201
    school = auth(service, seed.user(Role.SCHOOL, province="44", school="10558"))
    for code, name in (("CS", "计算机学院"), ("LAW", "法学院")):
        assert client.post("/schools/10558/departments", json={"code": code, "name": name},
                           headers=school).status_code == 201
    assert client.post("/provinces/44/modules/employment/enable", json={"agreement_type": "three_party"},
                       headers=gd).status_code == 200
    assert client.put("/schools/10558/agreement-type", json={"agreement_type": "two_party"},
                      headers=gd).status_code == 200  # a second agreement type
    before = _newest(events(service))

    assert cli.main(["republish-directory"], config=config) == 0
    assert capsys.readouterr().out.strip() == ("announced again: 3 school(s), 2 department(s), 1 module switch(es), "
                                               "2 agreement type(s), 0 unit(s) (0 stopped)")
    recorded = events(service)
    again = _newest(recorded[len(recorded) - (3 + 2 + 1 + 2):])
    assert again == before  # the same subjects, sequences and data: the newest as it stands
    assert again[("accounts.school.agreement_type_set", "10558")][0] == 3  # created, then two types set

    assert cli.main(["republish-directory", "--province", "11"], config=config) == 0
    assert capsys.readouterr().out.strip() == ("announced again: 1 school(s), 0 department(s), 0 module switch(es), "
                                               "0 agreement type(s), 0 unit(s) (0 stopped)")


def test_units_and_their_stops_are_announced_again(client, service, seed, config, capsys):
    """A signing copy restored from a dump (or one upgraded past its stopped units) learns every unit,
    and which are stopped, at the versions they have now; a province's run announces its own units."""
    from .test_employer_oversight import registration
    units = []
    for credit_code, region, username in ((make_credit_code("91440101MA5TQT0X7"), "440106", "gz-hr"),
                                          (make_credit_code("91110105MA01QAT11"), "110105", "bj-hr")):
        answer = client.post("/employers", json=registration(credit_code=credit_code, region=region,
                                                              name=f"单位{username}", username=username))
        assert answer.status_code == 201, answer.get_json()
        units.append(answer.get_json()["employer"]["id"])
    gd = auth(service, seed.user(Role.PROVINCE, province="44"))
    assert client.post(f"/employer-accounts/{units[0]}/disable", headers=gd).status_code == 200
    [stop] = [e for e in events(service) if e["type"] == "accounts.user.disabled"]

    assert cli.main(["republish-directory"], config=config) == 0
    assert capsys.readouterr().out.strip().endswith("2 unit(s) (1 stopped)")
    recorded = events(service)
    again = recorded[-3:]
    assert {(e["type"], e["subject"]) for e in again} >= {("accounts.employer.updated", units[0]),
                                                          ("accounts.employer.updated", units[1])}
    [stopped_again] = [e for e in again if e["type"] == "accounts.user.disabled"]
    assert (stopped_again["subject"], stopped_again["sequence"]) == (stop["subject"], stop["sequence"])
    assert stopped_again["data"] == {**stop["data"], "disabled_by": "44"}  # who stopped it, as kept
    assert cli.main(["republish-directory", "--province", "11"], config=config) == 0
    assert capsys.readouterr().out.strip().endswith("1 unit(s) (0 stopped)")
