"""移出生源: a school takes a graduate with nothing registered off its roster and may put it back;
the graduate leaves every list, a re-import leaves it alone, the events carry it, and a graduate
signing holds records of is never taken off (and is put back should signing's event come late)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.contracts.destinations import DESTINATION_SUBMITTED
from quxiang.common.contracts.records import GRADUATE_UPDATED, GRADUATE_WITHDRAWN
from quxiang.common.contracts.signing import AGREEMENT_ACCEPTED, AGREEMENT_INVITED
from quxiang.common.events import catalogue
from quxiang.records.adapters.tables import graduates, signing_records
from quxiang.records.bootstrap import SERVICE
from quxiang.records.entrypoints.consumers import SIGNING_RECORDS_CONSUMER

from .roster_data import csv_file, row, upload
from .test_registrations import Scenario


@pytest.fixture
def s(client, world):
    return Scenario(client, world)


def withdraw(s, graduate_id, reason="退学", headers=None, school="10558"):
    return s.client.post(f"/schools/{school}/graduates/{graduate_id}/withdrawal",
                         headers=headers or s.world.school_user(), json={"reason": reason})


def reinstate(s, graduate_id, headers=None):
    return s.client.delete(f"/schools/10558/graduates/{graduate_id}/withdrawal",
                           headers=headers or s.world.school_user())


def roster(s, **params):
    answer = s.client.get("/schools/10558/graduates", headers=s.world.school_user(), query_string=params)
    assert answer.status_code == 200
    return answer.get_json()


def signing_event(s, type_, graduate_id, sequence=1):
    """signing's event of an agreement (or destination registration) of the graduate, delivered to
    records' consumer as the runtime would."""
    handler = SERVICE.all_consumers()[SIGNING_RECORDS_CONSUMER].get(type_)
    if handler is None:
        return False
    data = {"agreement_id": "a-" + graduate_id, "agreement_number": "2026105583100001",
            "agreement_type": "three_party", "initiator": "employer", "status": "department_review",
            "graduate_id": graduate_id, "exam_number": "x", "name": "学生", "school_code": "10558",
            "graduation_year": 2026, "destination_code": "10", "unit_name": "某公司", "credit_code": "9144",
            "unit_nature": "39", "unit_industry": "I", "unit_region": "440106", "position_category": "10"}
    if type_ == DESTINATION_SUBMITTED:
        data = {"registration_id": "d-" + graduate_id, "graduate_id": graduate_id, "exam_number": "x",
                "name": "学生", "school_code": "10558", "graduation_year": 2026, "status": "department_review",
                "destination_code": "01", "fields": {}}
    event = catalogue.new_event(type_, subject=data.get("agreement_id") or data["registration_id"],
                                sequence=sequence, data=data, producer="signing")
    with s.world.service.unit_of_work() as uow:
        handler(event, uow)
        uow.commit()
    return True


def test_withdrawn_graduate_leaves_the_roster_and_comes_back(s):
    answer = withdraw(s, s.g1, reason="  退学  ")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["withdrawn"]["reason"] == "退学" and body["withdrawn"]["at"].endswith("+00:00")
    assert body["identity_number"].count("*") >= 8  # masked, as in every list
    assert {g["id"] for g in roster(s)["items"]} == {s.g2, s.g3}
    listed = roster(s, withdrawn="true")
    assert [g["id"] for g in listed["items"]] == [s.g1] and listed["total"] == 1
    # withdrawing again changes nothing: one event
    assert withdraw(s, s.g1).status_code == 200
    events = s.world.events(GRADUATE_WITHDRAWN)
    assert len(events) == 1
    data = events[0]["data"]
    assert data["graduate_id"] == s.g1 and data["reason"] == "退学" and events[0]["sequence"] == 2
    assert "*" in data["identity_number_masked"]
    assert row(1)["身份证号"] not in str(events[0])

    back = reinstate(s, s.g1)
    assert back.status_code == 200 and back.get_json()["withdrawn"] is None
    assert {g["id"] for g in roster(s)["items"]} == {s.g1, s.g2, s.g3}
    updated = [e for e in s.world.events(GRADUATE_UPDATED) if e["subject"] == s.g1]
    assert [e["sequence"] for e in updated] == [3]
    assert "*" in updated[0]["data"]["identity_number_masked"]
    assert reinstate(s, s.g1).status_code == 200  # on the roster already: nothing more
    assert len([e for e in s.world.events(GRADUATE_UPDATED) if e["subject"] == s.g1]) == 1


def test_withdrawn_graduate_is_in_no_registration_list_and_cannot_act(s):
    s.open("archive")
    assert withdraw(s, s.g1).status_code == 200
    listed = s.client.get("/archive/registrations", headers=s.school()).get_json()
    assert {item["graduate_id"] for item in listed["items"]} == {s.g2, s.g3}
    refused = s.submit(s.g1)
    assert refused.status_code == 409 and refused.get_json()["code"] == "graduate_withdrawn"
    confirm = s.client.put(f"/graduates/{s.g1}/confirmation", headers=s.graduate(s.g1), json={"status": "confirmed"})
    assert confirm.status_code == 409 and confirm.get_json()["code"] == "graduate_withdrawn"
    pending = s.client.get("/schools/10558/roster/confirmations", headers=s.world.school_user(),
                           query_string={"status": "pending"}).get_json()
    assert {item["graduate_id"] for item in pending["items"]} == {s.g2, s.g3}


def test_a_graduate_with_a_submitted_registration_stays(s):
    s.open("archive")
    assert s.client.put(f"/graduates/{s.g1}/archive/draft", headers=s.graduate(s.g1),
                        json={"transfer_type": "employer"}).status_code == 200
    assert withdraw(s, s.g1).status_code == 200  # a draft is nothing registered
    assert reinstate(s, s.g1).status_code == 200
    assert s.submit(s.g2).status_code == 200
    refused = withdraw(s, s.g2)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "graduate_has_records" and refused.get_json()["module"] == "archive"
    assert {g["id"] for g in roster(s)["items"]} >= {s.g2}
    assert s.world.events(GRADUATE_WITHDRAWN) == [e for e in s.world.events(GRADUATE_WITHDRAWN)
                                                  if e["subject"] == s.g1]


def test_a_graduate_signing_holds_records_of_stays(s):
    # an invitation is nothing signed: records does not even listen to it
    assert not signing_event(s, AGREEMENT_INVITED, s.g1)
    assert withdraw(s, s.g1).status_code == 200
    assert reinstate(s, s.g1).status_code == 200
    assert signing_event(s, AGREEMENT_ACCEPTED, s.g1)
    refused = withdraw(s, s.g1)
    assert refused.status_code == 409 and refused.get_json()["module"] == "employment"
    assert signing_event(s, DESTINATION_SUBMITTED, s.g2)
    assert withdraw(s, s.g2).status_code == 409
    assert withdraw(s, s.g3).status_code == 200


def test_signing_record_arriving_after_the_withdrawal_puts_the_graduate_back(s):
    assert withdraw(s, s.g1).status_code == 200
    assert signing_event(s, AGREEMENT_ACCEPTED, s.g1)
    assert {g["id"] for g in roster(s)["items"]} == {s.g1, s.g2, s.g3}
    updated = [e for e in s.world.events(GRADUATE_UPDATED) if e["subject"] == s.g1]
    assert [e["sequence"] for e in updated] == [3]
    assert updated[0]["data"]["identity_number_masked"] is None  # the copies keep theirs
    # a redelivery (or the next event of the agreement) changes nothing more
    assert signing_event(s, AGREEMENT_ACCEPTED, s.g1, sequence=2)
    assert len([e for e in s.world.events(GRADUATE_UPDATED) if e["subject"] == s.g1]) == 1
    with s.world.service.engine.connect() as conn:
        assert conn.execute(select(signing_records.c.graduate_id)).scalars().all() == [s.g1]


def test_reimport_leaves_a_withdrawn_graduate_alone(s, client, world):
    assert withdraw(s, s.g1).status_code == 200
    changed = [row(1, 姓名="改名"), row(2, 姓名="也改名"), row(3, 院系="02")]
    answer = upload(client, world.school_user(), csv_file(changed))
    assert answer.status_code == 201
    job = answer.get_json()
    assert (job["created"], job["updated"], job["unchanged"], job["withdrawn"]) == (0, 1, 1, 1)
    [notice] = job["row_notices"]  # the school learns which row was left alone
    assert (notice["row"], notice["column"]) == (2, "考生号") and row(1)["考生号"] in notice["reason"]
    assert "已移出生源" in notice["reason"]
    with world.service.engine.connect() as conn:
        name, withdrawn_at = conn.execute(select(graduates.c.name, graduates.c.withdrawn_at)
                                          .where(graduates.c.id == s.g1)).one()
    assert name == "学生1" and withdrawn_at is not None
    assert {e["subject"] for e in world.events(GRADUATE_UPDATED)} == {s.g2}


@pytest.mark.parametrize("body, field", [({}, "reason"), ({"reason": "   "}, "reason"),
                                         ({"reason": "退\n学"}, "reason"), ({"reason": "x" * 201}, "reason")])
def test_a_withdrawal_needs_a_reason_on_one_line(s, body, field):
    answer = s.client.post(f"/schools/10558/graduates/{s.g1}/withdrawal", headers=s.world.school_user(), json=body)
    assert answer.status_code == 422
    assert field in str(answer.get_json())
    assert s.world.events(GRADUATE_WITHDRAWN) == []


def test_who_may_withdraw(s, world):
    world.school("10559", name="华南理工大学")
    other_school = world.school_user(school="10559")
    assert withdraw(s, s.g1, headers=other_school).status_code == 403
    assert withdraw(s, s.g1, headers=other_school, school="10559").status_code == 404
    read_only = world.school_user(access=Access.READ)
    assert withdraw(s, s.g1, headers=read_only).status_code == 403
    department = world.headers(Role.DEPARTMENT, {Module.EMPLOYMENT: Access.WRITE}, province="44", school="10558",
                               department=s.cs)
    assert withdraw(s, s.g1, headers=department).status_code == 403
    assert withdraw(s, s.g1, headers=s.province()).status_code == 403
    assert withdraw(s, s.g1, headers=s.graduate(s.g1)).status_code == 403
    assert reinstate(s, s.g1, headers=read_only).status_code == 403
    assert withdraw(s, "no-such-graduate").status_code == 404
    assert s.world.events(GRADUATE_WITHDRAWN) == []




def _pending_backfill(service, pending=True):
    from quxiang.records.adapters.repository import SIGNING_RECORDS_BACKFILL, now
    from quxiang.records.adapters.tables import pending_work

    with service.engine.begin() as conn:
        if pending:
            conn.execute(pending_work.insert().values(name=SIGNING_RECORDS_BACKFILL, since=now()))
        return conn.execute(select(pending_work.c.name)).scalars().all()


def test_after_the_upgrade_no_graduate_is_withdrawn_until_the_backfill(s):
    """signing_records fills from signing's events; what signing held before the upgrade comes from
    its snapshots (qx-records backfill-signing-records), and until then withdrawing waits."""
    from quxiang.records.service.withdrawal import backfill_signing_records

    _pending_backfill(s.world.service)
    refused = withdraw(s, s.g3)
    assert refused.status_code == 503 and refused.get_json()["code"] == "signing_records_pending"
    assert refused.headers["Retry-After"]
    agreements = [{"id": "a1", "graduate_id": s.g1, "status": "approved", "version": 3},
                  {"id": "a2", "graduate_id": s.g3, "status": "invited", "version": 1},
                  {"id": "a3", "graduate_id": s.g3, "status": "expired", "version": 2}]
    destinations = [{"id": "d1", "graduate_id": s.g2, "status": "school_review", "version": 2}]
    assert backfill_signing_records(s.world.service, iter(agreements), iter(destinations)) == (2, 2)
    assert _pending_backfill(s.world.service, pending=False) == []
    # run again (it failed halfway, say): the same two graduates, none of them new
    assert backfill_signing_records(s.world.service, iter(agreements), iter(destinations)) == (2, 0)
    assert withdraw(s, s.g1).status_code == 409 and withdraw(s, s.g2).status_code == 409
    assert withdraw(s, s.g3).status_code == 200  # only invitations: nothing signed


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_upgrading_a_database_with_graduates_waits_for_the_backfill(database, request, tmp_path):
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import insert

    from quxiang.common.db import make_engine
    from quxiang.common.migrations import alembic_config, upgrade
    from quxiang.common.testing.plugin import database_url, make_test_config
    from quxiang.records.adapters.tables import pending_work

    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    upgrade(config, SERVICE)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(pending_work.c.name)).all() == []  # a new database: nothing to wait for
        command.downgrade(alembic_config(SERVICE, url), "0005")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(insert(graduates).values(
                id="g-1", school_code="10558", exam_number="26440100000001", name="学生", gender="M",
                identity_number_encrypted="x", identity_number_hash="k:x", department_id="d", major_code="080901",
                major_name="计算机", education_level="31", origin_region="440106", graduation_year=2026, version=1,
                created_at=now, updated_at=now))
        upgrade(config, SERVICE)
        with engine.connect() as conn:
            assert conn.execute(select(pending_work.c.name)).scalars().all() == ["signing_records_backfill"]
    finally:
        engine.dispose()


def test_the_backfill_command_wants_an_admins_token(capsys):
    from quxiang.records.entrypoints import cli

    assert cli.backfill_signing_records(type("A", (), {"token": None, "signing_url": "http://x"})(), None) == 2
    assert "token" in capsys.readouterr().err
    args = type("A", (), {"token": "not a token", "signing_url": "http://x"})()
    assert cli.backfill_signing_records(args, None) == 2
    assert "token" in capsys.readouterr().err


def test_a_production_records_command_without_its_key_says_so_in_one_line(pg_url, tmp_path, monkeypatch, capsys):
    import dataclasses

    from quxiang.common.testing.plugin import make_test_config
    from quxiang.records.entrypoints import cli

    monkeypatch.delenv("QX_RECORDS_ID_KEY", raising=False)
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    config = dataclasses.replace(config, demo_data=False)  # a production database
    assert cli.main(["backfill-signing-records", "--signing-url", "http://x", "--token", "t"], config=config) == 2
    err = capsys.readouterr().err
    assert err.startswith("records' identity-number key: QX_RECORDS_ID_KEY is empty") and err.count("\n") == 1


def test_a_wrong_exam_number_is_corrected_by_withdrawing_and_importing_again(s, client, world):
    """Imported under a wrong 考生号: the row is taken off the roster, the right 考生号 imported with
    the same identity number; the wrong row cannot come back while the right one holds the number."""
    assert withdraw(s, s.g1, reason="考生号有误").status_code == 200
    right = row(1, 考生号="26440109999999")
    answer = upload(client, world.school_user(), csv_file([right, row(2), row(3, 院系="02")]))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["created"] == 1
    refused = reinstate(s, s.g1)
    assert refused.status_code == 409 and refused.get_json()["code"] == "identity_number_taken"
    assert refused.get_json()["holder"] == "26440109999999"
    assert roster(s, withdrawn="true")["total"] == 1


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_an_import_while_a_graduate_is_put_back_leaves_one_holder_of_its_identity_number(s, client, world, service):
    """The import has read the roster (the wrong row withdrawn) when the school puts that row back:
    its write holds the roster (as putting back does) and reads the holders again, so the right
    考生号 is refused, not imported beside the row put back with the same identity number."""
    import threading
    import time

    from sqlalchemy import func, update

    from quxiang.common.db import serialize_on
    from quxiang.records.adapters.repository import roster_lock

    assert withdraw(s, s.g1, reason="考生号有误").status_code == 200
    right = row(1, 考生号="26440109999999")
    other = client.application.test_client()
    answers = []
    with service.engine.connect() as school:
        serialize_on(school, roster_lock("10558"))  # putting g1 back, as reinstate does
        importing = threading.Thread(target=lambda: answers.append(
            upload(other, world.school_user(), csv_file([right, row(2), row(3, 院系="02")]))))
        importing.start()
        time.sleep(1)  # the import has validated against the roster without g1, and waits to write
        assert answers == []
        school.execute(update(graduates).where(graduates.c.id == s.g1)
                       .values(withdrawn_at=None, withdrawn_reason=None, version=graduates.c.version + 1))
        school.commit()
    importing.join(30)
    assert [a.status_code for a in answers] == [422], [a.get_json() for a in answers]
    assert [e["column"] for e in answers[0].get_json()["row_errors"]] == ["身份证号"]
    assert row(1)["考生号"] in answers[0].get_json()["row_errors"][0]["reason"]
    with service.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(graduates)
                            .where(graduates.c.withdrawn_at.is_(None))).scalar_one() == 3


def test_a_graduate_of_another_year_with_the_same_identity_number_does_not_block_a_reinstatement(s, client, world):
    """The student withdrawn from 2026 is this school's 硕士 of 2029 under a new 考生号: the 2026 row
    may come back (and a late signing event puts it back), since the two rows are of different years."""
    assert withdraw(s, s.g1, reason="延期").status_code == 200
    master = row(1, 考生号="29440106000001", 学历="11", 毕业年份="2029")
    answer = upload(client, world.school_user(), csv_file([master, row(2), row(3, 院系="02")]))
    assert answer.status_code == 201, answer.get_json()
    assert reinstate(s, s.g1).status_code == 200
    assert withdraw(s, s.g1, reason="延期").status_code == 200
    assert signing_event(s, AGREEMENT_ACCEPTED, s.g1)
    assert roster(s, withdrawn="true")["total"] == 0  # put back: nobody else holds the number in 2026


def test_a_late_signing_event_does_not_count_a_corrected_student_twice(s, client, world):
    """The graduate accepted an invitation under the wrong 考生号 just before the school withdrew that
    row and imported the right one: signing's late event notes the record but leaves the row off the
    roster (putting it back would list the student twice); the withdrawn list shows it for the school."""
    assert withdraw(s, s.g1, reason="考生号有误").status_code == 200
    answer = upload(client, world.school_user(), csv_file([row(1, 考生号="26440109999999"), row(2), row(3, 院系="02")]))
    assert answer.status_code == 201, answer.get_json()
    on_roster = roster(s)["total"]
    assert signing_event(s, AGREEMENT_ACCEPTED, s.g1)
    assert roster(s)["total"] == on_roster  # not twice
    [withdrawn] = roster(s, withdrawn="true")["items"]
    assert withdrawn["id"] == s.g1 and withdrawn["withdrawn"]["signing_records"] is True
    detail = client.get(f"/graduates/{s.g1}", headers=world.school_user()).get_json()
    assert detail["withdrawn"]["signing_records"] is True  # the detail says the same
    assert [e for e in s.world.events(GRADUATE_UPDATED) if e["subject"] == s.g1] == []  # not put back
    # the school resolves it: the new row taken off (nothing under it), the old one put back
    new_row = next(g for g in roster(s)["items"] if g["exam_number"] == "26440109999999")
    assert withdraw(s, new_row["id"], reason="重复").status_code == 200
    assert reinstate(s, s.g1).status_code == 200
    assert roster(s)["total"] == on_roster


def test_a_confirmation_outlives_a_withdrawal_and_its_undoing(s):
    assert s.client.put(f"/graduates/{s.g1}/confirmation", headers=s.graduate(s.g1),
                        json={"status": "confirmed"}).status_code == 200
    assert withdraw(s, s.g1).status_code == 200 and reinstate(s, s.g1).status_code == 200
    detail = s.client.get(f"/graduates/{s.g1}", headers=s.world.school_user()).get_json()
    assert detail["confirmation"]["status"] == "confirmed"
    confirmed = s.client.get("/schools/10558/roster/confirmations", headers=s.world.school_user(),
                             query_string={"status": "confirmed"}).get_json()
    assert [item["graduate_id"] for item in confirmed["items"]] == [s.g1]
