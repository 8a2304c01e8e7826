"""Graduate accounts from roster events, activation codes handed out once, activation."""

from __future__ import annotations

from sqlalchemy import select

from quxiang.accounts.adapters import credentials, repository
from quxiang.accounts.adapters.tables import activation_codes, users
from quxiang.accounts.bootstrap import SERVICE
from quxiang.accounts.service.provisioning import CODE_ALPHABET, CODE_LENGTH
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import Ack, Delivery
from quxiang.common.contracts.accounts import GRADUATE_ACTIVATED, USER_CREATED
from quxiang.common.contracts.records import GRADUATE_REGISTERED
from quxiang.common.events import catalogue

PASSWORD = "Passw0rd!"


def roster_event(graduate_id="g-1", exam_number="24440101110001", name="张三", school_code="10558",
                 department_id="d-cs"):
    return catalogue.new_event(GRADUATE_REGISTERED, subject=graduate_id, sequence=1, producer="records", data={
        "graduate_id": graduate_id, "exam_number": exam_number, "student_number": "2021001", "name": name,
        "school_code": school_code, "department_id": department_id, "education_level": "31",
        "graduation_year": 2025})


def deliver(service, config, *events):
    """Through the consumer the bootstrap declares, with its inbox, as the bus would."""
    runtime = ConsumerRuntime("accounts.roster", SERVICE.all_consumers()["accounts.roster"], service.engine,
                              None, config, producer="accounts")
    return runtime.handle_batch([Delivery(body=e.to_json(), headers={}, routing_key=e.type, message_id=e.event_id,
                                          redelivered=False) for e in events])


def graduate_rows(service):
    with service.unit_of_work() as uow:
        return uow.session.execute(select(users).where(users.c.role == "graduate").order_by(users.c.username)).all()


def recorded(service, event_type):
    with service.unit_of_work() as uow:
        return [catalogue.decode(p) for p in uow.session.execute(
            select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id)).scalars()]


def school_headers(client, seed, school="10558", province="44", employment=Access.WRITE):
    user = seed.user(Role.SCHOOL, province=province, school=school)
    if employment is not Access.WRITE:
        user.permissions = {**user.permissions, Module.EMPLOYMENT: employment}
        with seed.service.unit_of_work() as uow:
            repository.save_user(uow.session, user)
            uow.commit()
    tokens = client.post("/auth/login", json={"username": user.username, "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def issue(client, headers, school="10558", **query):
    return client.post(f"/schools/{school}/activation-codes/issue", headers=headers, query_string=query)


def issued_codes(client, seed):
    issued = issue(client, school_headers(client, seed)).get_json()["codes"]
    return {c["exam_number"]: c["activation_code"] for c in issued}


def activate(client, exam_number, code, password="N3w-secret", address="127.0.0.1"):
    return client.post("/graduates/activate", environ_base={"REMOTE_ADDR": address},
                       json={"exam_number": exam_number, "activation_code": code, "password": password})


def test_a_roster_row_provisions_one_graduate_account_whatever_the_redeliveries(client, service, config, seed):
    seed.school("10558", province="44")
    event = roster_event()
    assert all(isinstance(o, Ack) for o in deliver(service, config, event))
    assert deliver(service, config, event) == [Ack(duplicate=True)]
    reimport = roster_event(name="张三丰", department_id="d-math")  # the same graduate, a new event
    assert deliver(service, config, reimport, roster_event()) == [Ack(), Ack()]

    [row] = graduate_rows(service)
    assert (row.username, row.display_name, row.province, row.school, row.department, row.graduate) == (
        "24440101110001", "张三", "44", "10558", "d-cs", "g-1")  # the last delivery's data wins
    assert row.password_hash is None and row.perm_employment is None
    with service.unit_of_work() as uow:
        [code] = uow.session.execute(select(activation_codes)).all()
    assert code.user_id == row.id and code.issued_at is None and code.code_hash.startswith("$argon2id$")
    [created] = recorded(service, USER_CREATED)
    assert created.data["graduate"] == "g-1" and created.data["role"] == "graduate"
    # No password: the account cannot log in before activation.
    answer = client.post("/auth/login", json={"username": "24440101110001", "password": PASSWORD})
    assert answer.status_code == 401


def test_a_graduate_of_a_school_accounts_does_not_know_yet_has_no_province(service, config):
    deliver(service, config, roster_event(school_code="99999"))
    [row] = graduate_rows(service)
    assert row.school == "99999" and row.province is None


def test_a_corrected_exam_number_follows_before_activation(service, config):
    deliver(service, config, roster_event(exam_number="24440101110009"))
    deliver(service, config, roster_event(exam_number="24440101110001"))
    [row] = graduate_rows(service)
    assert row.username == "24440101110001"
    with service.unit_of_work() as uow:
        assert credentials.get_activation_by_exam_number(uow.session, "24440101110001").graduate == "g-1"


def test_the_school_gets_each_code_once(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event("g-1", "24440101110001"), roster_event("g-2", "24440101110002"))
    headers = school_headers(client, seed)

    first = issue(client, headers)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert body["remaining"] == 0 and body["school_code"] == "10558"
    assert [c["exam_number"] for c in body["codes"]] == ["24440101110001", "24440101110002"]
    for code in body["codes"]:
        assert len(code["activation_code"]) == CODE_LENGTH and set(code["activation_code"]) <= set(CODE_ALPHABET)
        assert code["name"] == "张三" and code["department_id"] == "d-cs"
    with service.unit_of_work() as uow:
        stored = uow.session.execute(select(activation_codes.c.code_hash)).scalars().all()
    assert not {c["activation_code"] for c in body["codes"]} & set(stored)

    assert issue(client, headers).get_json() == {"school_code": "10558", "codes": [], "remaining": 0}
    deliver(service, config, roster_event("g-3", "24440101110003"), roster_event("g-1", "24440101110001"))
    assert [c["graduate_id"] for c in issue(client, headers).get_json()["codes"]] == ["g-3"]


def test_codes_are_issued_in_batches(client, service, config, seed):
    deliver(service, config, *(roster_event(f"g-{n}", f"2444010111000{n}") for n in range(3)))
    headers = school_headers(client, seed)
    first = issue(client, headers, limit=2).get_json()
    assert len(first["codes"]) == 2 and first["remaining"] == 1
    second = issue(client, headers, limit=2).get_json()
    assert len(second["codes"]) == 1 and second["remaining"] == 0
    assert issue(client, headers, limit=0).status_code == 422


def test_only_the_school_s_own_writers_may_issue(client, service, config, seed):
    deliver(service, config, roster_event())
    other_school = issue(client, school_headers(client, seed, school="10559"))
    assert other_school.status_code == 403 and other_school.get_json()["code"] == "out_of_scope"
    read_only = issue(client, school_headers(client, seed, employment=Access.READ))
    assert read_only.status_code == 403 and read_only.get_json()["code"] == "module_forbidden"
    province = seed.user(Role.PROVINCE, province="44")
    tokens = client.post("/auth/login", json={"username": province.username, "password": PASSWORD}).get_json()
    as_province = issue(client, {"Authorization": f"Bearer {tokens['access_token']}"})
    assert as_province.status_code == 403 and as_province.get_json()["code"] == "role_forbidden"
    assert issue(client, {}).status_code == 401
    # None of them got, or used up, the code.
    assert issue(client, school_headers(client, seed)).get_json()["remaining"] == 0


def test_activation_sets_the_password_once(client, service, config, seed):
    seed.school("10558", province="44")
    deliver(service, config, roster_event(), roster_event("g-2", "24440101110002"))
    codes = issued_codes(client, seed)
    code = codes["24440101110001"]
    assert client.post("/auth/login", json={"username": "24440101110001", "password": "N3w-secret"}).status_code == 401

    wrong = activate(client, "24440101110001", codes["24440101110002"])
    unknown = activate(client, "24440101119999", code)
    assert (wrong.status_code, unknown.status_code) == (400, 400)
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"] == "考生号或激活码错误"
    assert wrong.get_json()["code"] == unknown.get_json()["code"] == "invalid_activation"
    weak = activate(client, "24440101110001", code, password="12345678")
    assert weak.status_code == 422 and "password" in weak.get_json()["errors"]

    done = activate(client, "24440101110001", f" {code[:4].lower()}-{code[4:]} ")  # as typed from paper
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["username"] == "24440101110001"
    tokens = client.post("/auth/login", json={"username": "24440101110001", "password": "N3w-secret"}).get_json()
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert me["role"] == "graduate" and me["scope"] == {"province": "44", "school": "10558", "department": "d-cs",
                                                        "graduate": "g-1"}
    [activated] = recorded(service, GRADUATE_ACTIVATED)
    assert activated.data == {"user_id": me["id"], "graduate": "g-1", "school": "10558"}
    assert activated.sequence == 2

    used = activate(client, "24440101110001", code, password="An0ther-one")
    assert used.status_code == 409 and used.get_json()["code"] == "activation_code_used"
    # A wrong code for an activated graduate is just wrong: no hint that it activated.
    assert activate(client, "24440101110001", codes["24440101110002"]).status_code == 400
    # The second graduate's code is untouched by all this.
    assert activate(client, "24440101110002", codes["24440101110002"]).status_code == 200


def test_a_code_not_handed_out_yet_does_not_activate(client, service, config):
    deliver(service, config, roster_event())
    answer = activate(client, "24440101110001", "ABCDEFGH")
    assert answer.status_code == 400 and answer.get_json()["code"] == "invalid_activation"


def test_guessing_codes_is_throttled_per_exam_number_and_address(client, service, config, seed):
    deliver(service, config, roster_event(), roster_event("g-2", "24440101110002"))
    codes = issued_codes(client, seed)
    for _ in range(5):
        assert activate(client, "24440101110001", "WRONG234").status_code == 400
    locked = activate(client, "24440101110001", codes["24440101110001"])
    assert locked.status_code == 429 and locked.get_json()["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0
    # Another graduate from the same address is not locked by it.
    assert activate(client, "24440101110002", codes["24440101110002"]).status_code == 200

    for n in range(20):
        activate(client, f"2444010111{n:04d}", "WRONG234", address="10.0.0.9")
    spraying = activate(client, "24440101110001", codes["24440101110001"], address="10.0.0.9")
    assert spraying.status_code == 429
