"""The roster import: every validation rule (422, nothing written), CSV and XLSX, idempotence,
updates, events."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select

from quxiang.common.bus.tables import outbox
from quxiang.common.contracts.records import GRADUATE_REGISTERED, GRADUATE_UPDATED
from quxiang.common.pii import identity_numbers_in
from quxiang.common.validators import make_identity_number
from quxiang.records.adapters.tables import graduates, import_jobs
from quxiang.records.domain.roster import HEADERS
from quxiang.records.service import roster_import

from .roster_data import csv_file, identity, row, upload, xlsx_file


@pytest.fixture
def school(world):
    world.school()
    world.department(code="01", name="计算机学院")
    world.department(code="02", name="数学学院")
    return "10558"


def count(service, table):
    with service.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_valid_csv_is_imported_with_one_event_per_graduate(client, service, world, school):
    response = upload(client, world.school_user(), csv_file([row(1), row(2), row(3, 院系="02", 性别="女",
                                                                                   身份证号=identity(3, male=False))]))
    assert response.status_code == 201, response.get_json()
    job = response.get_json()
    assert (job["status"], job["total"], job["processed"], job["created"]) == ("succeeded", 3, 3, 3)
    assert count(service, graduates) == 3
    events = world.events(GRADUATE_REGISTERED)
    assert len(events) == 3
    assert {e["sequence"] for e in events} == {1}
    assert events[0]["data"]["exam_number"] == row(1)["考生号"]
    assert list(events[0]["data"]) == ["graduate_id", "exam_number", "student_number", "name", "school_code",
                                       "department_id", "education_level", "graduation_year", "gender",
                                       "major_code", "major_name", "identity_number_masked"]
    assert events[2]["data"]["gender"] == "F" and events[0]["data"]["major_name"] == "计算机科学与技术"
    assert events[0]["data"]["identity_number_masked"] == identity(1)[:3] + "*" * 11 + identity(1)[-4:]
    status = client.get(f"/schools/10558/roster/imports/{job['id']}", headers=world.school_user())
    assert status.status_code == 200
    assert status.get_json()["processed"] == 3


def test_a_valid_xlsx_is_imported(client, service, world, school):
    response = upload(client, world.school_user(), xlsx_file([row(1), row(2)]), filename="roster.xlsx")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 2
    assert count(service, graduates) == 2


def test_identity_numbers_are_encrypted_at_rest(service, client, world, school):
    upload(client, world.school_user(), csv_file([row(1)]))
    with service.engine.connect() as conn:
        stored = conn.execute(select(graduates.c.identity_number_encrypted, graduates.c.identity_number_hash)).one()
    assert identity(1) not in stored[0] and identity(1) not in stored[1]
    assert service.cipher.decrypt(stored[0]) == identity(1)


def test_re_import_is_idempotent(client, service, world, school):
    body = csv_file([row(1), row(2), row(3)])
    assert upload(client, world.school_user(), body).status_code == 201
    before = count(service, outbox)
    again = upload(client, world.school_user(), body)
    assert again.status_code == 201
    assert (again.get_json()["created"], again.get_json()["updated"], again.get_json()["unchanged"]) == (0, 0, 3)
    assert count(service, graduates) == 3
    assert count(service, outbox) == before


def test_a_changed_row_is_updated_with_exactly_one_updated_event(client, service, world, school):
    upload(client, world.school_user(), csv_file([row(1), row(2)]))
    registered = world.events(GRADUATE_REGISTERED)
    changed = upload(client, world.school_user(), csv_file([row(1), row(2, 姓名="改名", 院系="02"), row(3)]))
    assert (changed.get_json()["created"], changed.get_json()["updated"], changed.get_json()["unchanged"]) == (1, 1, 1)
    assert len(world.events(GRADUATE_REGISTERED)) == len(registered) + 1  # row 3 only
    [update] = world.events(GRADUATE_UPDATED)
    assert update["sequence"] == 2 and update["data"]["name"] == "改名"
    assert update["subject"] == update["data"]["graduate_id"] == next(
        e["subject"] for e in registered if e["data"]["exam_number"] == row(2)["考生号"])
    with service.engine.connect() as conn:
        version = conn.execute(select(graduates.c.version).where(graduates.c.name == "改名")).scalar_one()
    assert version == 2
    again = upload(client, world.school_user(), csv_file([row(1), row(2, 姓名="改名", 院系="02"), row(3)]))
    assert again.get_json()["unchanged"] == 3 and len(world.events(GRADUATE_UPDATED)) == 1


def test_a_graduation_year_changes_only_when_the_school_confirms_it(client, service, world, school):
    """A 2027 file that holds a 2026 graduate (a repeater, an old master file uploaded again) does not
    move him by accident: the row is refused, naming both years, and nothing is written; confirmed, the
    year changes with one event and the job names the row."""
    assert upload(client, world.school_user(), csv_file([row(1), row(2)])).status_code == 201
    cohort = csv_file([row(1, 毕业年份="2027"), row(2), row(3, 毕业年份="2027")])
    refused = upload(client, world.school_user(), cohort)
    assert refused.status_code == 422
    [error] = refused.get_json()["row_errors"]
    assert (error["row"], error["column"]) == (2, "毕业年份")
    assert "已登记为2026届" in error["reason"] and "2027届" in error["reason"]
    assert count(service, graduates) == 2 and len(world.events(GRADUATE_UPDATED)) == 0
    bad_flag = client.post("/schools/10558/roster/imports", headers=world.school_user(),
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(cohort), "roster.csv"), "confirm_year_changes": "yes"})
    assert bad_flag.status_code == 422 and "confirm_year_changes" in bad_flag.get_json()["errors"]
    confirmed = client.post("/schools/10558/roster/imports", headers=world.school_user(),
                            data={"file": (io.BytesIO(cohort), "roster.csv"), "confirm_year_changes": "true"},
                            content_type="multipart/form-data")
    assert confirmed.status_code == 201, confirmed.get_json()
    job = confirmed.get_json()
    assert (job["created"], job["updated"], job["unchanged"]) == (1, 1, 1)
    assert job["row_notices"] == [{"row": 2, "column": "毕业年份", "reason": f"{row(1)['考生号']} 由2026届改为2027届"}]
    [updated] = world.events(GRADUATE_UPDATED)
    assert updated["data"]["graduation_year"] == 2027
    again = client.get(f"/schools/10558/roster/imports/{job['id']}", headers=world.school_user()).get_json()
    assert again["row_notices"] == job["row_notices"]
    # the same file again changes nothing and needs no confirmation
    quiet = upload(client, world.school_user(), cohort).get_json()
    assert (quiet["updated"], quiet["unchanged"], quiet["row_notices"]) == (0, 3, [])


def test_a_changed_identity_number_is_an_update(client, service, world, school):
    upload(client, world.school_user(), csv_file([row(1)]))
    response = upload(client, world.school_user(), csv_file([row(1, 身份证号=identity(7))]))
    assert response.get_json()["updated"] == 1
    with service.engine.connect() as conn:
        stored = conn.execute(select(graduates.c.identity_number_encrypted, graduates.c.identity_number_hash)).one()
    assert service.cipher.decrypt(stored[0]) == identity(7)
    assert stored[1] == service.cipher.digest(identity(7))
    assert len(world.events(GRADUATE_UPDATED)) == 1


BAD_CHECK_CHAR = identity(1)[:17] + ("0" if identity(1)[17] != "0" else "1")
CASES = [
    pytest.param({"身份证号": BAD_CHECK_CHAR}, "身份证号", "校验码", id="check-char"),
    pytest.param({"身份证号": make_identity_number("44010620001301003")}, "身份证号", "出生日期", id="birth-date"),
    pytest.param({"性别": "女"}, "身份证号", "性别", id="gender-mismatch"),
    pytest.param({"学历": "99"}, "学历", "学历", id="unknown-education"),
    pytest.param({"院系": "77"}, "院系", "院系", id="unknown-department"),
    pytest.param({"生源所在地": "4401"}, "生源所在地", "行政区划", id="bad-region"),
    pytest.param({"姓名": ""}, "姓名", "必填", id="required"),
    pytest.param({"手机号": "12345"}, "手机号", "手机", id="phone"),
]


@pytest.mark.parametrize(("overrides", "column", "reason"), CASES)
def test_each_bad_row_is_listed_and_nothing_written(client, service, world, school, overrides, column, reason):
    response = upload(client, world.school_user(), csv_file([row(1), row(2, **overrides), row(3)]))
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "roster_invalid"
    assert {"row": 3, "column": column} in [{"row": e["row"], "column": e["column"]} for e in body["row_errors"]]
    assert any(reason in e["reason"] for e in body["row_errors"])
    assert count(service, graduates) == 0
    assert count(service, outbox) == 0
    assert not identity_numbers_in(response.get_data(as_text=True))


def test_duplicates_in_the_file_are_listed(client, service, world, school):
    rows = [row(1), row(2, 考生号=row(1)["考生号"]), row(3, 身份证号=identity(1))]
    body = upload(client, world.school_user(), csv_file(rows)).get_json()
    errors = {(e["row"], e["column"]) for e in body["row_errors"]}
    assert {(3, "考生号"), (4, "身份证号")} <= errors
    assert body["total_errors"] == len(body["row_errors"])
    assert count(service, graduates) == 0


def test_one_person_graduates_here_again_in_another_year_under_a_new_exam_number(client, service, world, school):
    """本科 of 2026 here, 硕士 of 2029 here: a new 考生号 with the same identity number is accepted in
    another graduation year (in the file and against the roster), never twice in one."""
    master = row(9, 考生号="29440106000001", 学历="11", 毕业年份="2029", 身份证号=identity(1))
    both = upload(client, world.school_user(), csv_file([row(1), master]))
    assert both.status_code == 201, both.get_json()
    assert both.get_json()["created"] == 2
    again = upload(client, world.school_user(), csv_file([row(8, 考生号="29440106000002", 学历="11",
                                                              毕业年份="2029", 身份证号=identity(1))]))
    assert again.status_code == 422
    [error] = again.get_json()["row_errors"]
    assert (error["column"], error["reason"]) == ("身份证号", "已登记在本校2029届考生号 29440106000001 名下")
    same_year_in_file = upload(client, world.school_user(), csv_file([
        row(5, 毕业年份="2027"), row(6, 毕业年份="2027", 身份证号=identity(5)), row(7, 身份证号=identity(5))]))
    assert {(e["row"], e["column"]) for e in same_year_in_file.get_json()["row_errors"]} == {(3, "身份证号")}
    assert count(service, graduates) == 2


def test_a_missing_required_column_is_reported_on_the_header_row(client, service, world, school):
    headers = [h for h in HEADERS if h != "身份证号"]
    response = upload(client, world.school_user(), csv_file([row(1)], headers=headers))
    assert response.status_code == 422
    assert {"row": 1, "column": "身份证号", "reason": "缺少必需的列"} in response.get_json()["row_errors"]
    assert count(service, graduates) == 0


def test_every_bad_row_is_listed_and_the_job_is_rejected(client, service, world, school):
    rows = [row(i, 学历="99") for i in range(1, 6)]
    body = upload(client, world.school_user(), csv_file(rows)).get_json()
    assert body["total_errors"] == 5 and [e["row"] for e in body["row_errors"]] == [2, 3, 4, 5, 6]
    with service.engine.connect() as conn:
        job = conn.execute(select(import_jobs)).one()
    assert (job.status, job.error_count, job.processed) == ("rejected", 5, 5)


def test_an_exam_number_of_another_school_is_refused(client, service, world, school):
    world.school("10561", "华南理工大学")
    world.department("10561", "01")
    upload(client, world.school_user("10561"), csv_file([row(1)]), school="10561")
    response = upload(client, world.school_user(), csv_file([row(1, 身份证号=identity(9))]))
    assert response.status_code == 422
    assert response.get_json()["row_errors"][0]["column"] == "考生号"


def test_the_events_carry_no_identity_number(client, service, world, school):
    upload(client, world.school_user(), csv_file([row(i) for i in range(1, 6)]))
    upload(client, world.school_user(), csv_file([row(1, 姓名="新名")]))
    with service.engine.connect() as conn:
        payloads = conn.execute(select(outbox.c.payload)).scalars().all()
    assert len(payloads) == 6
    for payload in payloads:
        assert not identity_numbers_in(payload)


def test_import_needs_write_access_and_its_own_school(client, world, school):
    world.school("10561", "华南理工大学")
    body = csv_file([row(1)])
    from quxiang.common.auth.principal import Access
    assert upload(client, world.school_user(access=Access.READ), body).status_code == 403
    assert upload(client, world.school_user("10561"), body).status_code == 403
    assert upload(client, {}, body).status_code == 401


def test_the_template_has_the_header_row(client):
    csv_body = client.get("/roster/template.csv")
    assert csv_body.status_code == 200
    assert csv_body.headers["Content-Type"] == "text/csv; charset=utf-8", "the charset once"
    assert csv_body.get_data().decode("utf-8-sig").strip().split(",") == list(HEADERS)
    template = client.get("/roster/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).active
    assert [c.value for c in sheet[1]] == list(HEADERS)
    # every column text, not only the first row: the 2nd graduate's 身份证号 typed in stays digits
    assert {sheet.column_dimensions[get_column_letter(i)].number_format for i in range(1, len(HEADERS) + 1)} == {"@"}


def test_progress_is_committed_while_validating(client, service, world, school, monkeypatch):
    from quxiang.records.service import roster_import

    seen: list[int] = []
    original = roster_import._finish

    def finish_and_look(svc, job_id, **values):
        original(svc, job_id, **values)
        with service.engine.connect() as conn:  # another connection: only committed values are visible
            seen.append(conn.execute(select(import_jobs.c.processed).where(import_jobs.c.id == job_id)).scalar_one())

    monkeypatch.setattr(roster_import, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(roster_import, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(roster_import, "_finish", finish_and_look)
    assert upload(client, world.school_user(), csv_file([row(i) for i in range(1, 6)])).status_code == 201
    assert seen[:3] == [2, 4, 5]


def test_uploads_above_the_default_body_limit_are_accepted(client, world, school):
    body = csv_file([row(1)]) + b"\r\n" * (6 * 1024 * 1024)  # 12 MB: above the suite's 10 MB default
    response = upload(client, world.school_user(), body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 1


def test_gb18030_csv_from_excel_is_read(client, world, school):
    body = csv_file([row(1)]).decode("utf-8").encode("gb18030")
    response = upload(client, world.school_user(), body)
    assert response.status_code == 201, response.get_json()


def test_a_broken_file_is_a_400_and_writes_nothing(client, service, world, school):
    broken_csv = csv_file([row(1)]) + b"a," + b"x" * 200_000 + b"\n"  # over the csv field size limit
    assert upload(client, world.school_user(), broken_csv).status_code == 400
    assert upload(client, world.school_user(), b"PK\x03\x04garbage", filename="r.xlsx").status_code == 400
    assert count(service, graduates) == 0


@pytest.mark.parametrize("body,filename,says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff\x80" * 64, "roster.xls", ".xls"),  # old binary Excel
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff\x80" * 64, "roster.csv", ".xls"),  # whatever its name
    (csv_file([row(1)]) + b"\xff\xfe\x80\n", "roster.csv", "UTF-8"),  # neither UTF-8 nor GB18030
])
def test_a_file_that_cannot_be_decoded_is_a_400_naming_why(client, service, world, school, body, filename, says):
    response = upload(client, world.school_user(), body, filename=filename)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "unreadable_file"
    assert says in response.get_json()["detail"]
    assert count(service, graduates) == 0


def test_a_control_character_in_a_cell_is_a_row_error_naming_the_column(client, service, world, school):
    body = csv_file([row(1), row(2, **{"姓名": "学\x00生", "专业名称": "计\x07算"})])
    response = upload(client, world.school_user(), body)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["row_errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(3, "姓名"), (3, "专业名称")}
    assert all("控制字符" in e["reason"] for e in errors)
    assert count(service, graduates) == 0
    assert count(service, outbox) == 0


def _planner_rows(service) -> float | None:
    """What the query planner believes ``graduates`` holds (None: never analyzed)."""
    from sqlalchemy import text

    with service.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'graduates'")).scalar_one()
            return None if rows < 0 else rows
        has_stats = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
        if not has_stats:
            return None
        stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'graduates' LIMIT 1")).scalar()
        return float(stat.split()[0]) if stat else None  # each index's row starts with the table's rows


def test_a_large_import_refreshes_the_planner_statistics_and_a_small_one_does_not(
        client, service, world, school, monkeypatch):
    monkeypatch.setattr(roster_import, "ANALYZE_AFTER_ROWS", 3)
    assert upload(client, world.school_user(), csv_file([row(1), row(2)])).status_code == 201
    assert _planner_rows(service) is None
    assert upload(client, world.school_user(), csv_file([row(1), row(2), row(3), row(4), row(5)])).status_code == 201
    assert _planner_rows(service) == 5  # three new rows reached the threshold: ANALYZE saw all five


def test_the_graduation_year_bound_is_chinas_year(client, world, school, monkeypatch):
    """01:00 on New Year's Day in Beijing is still the old year on a UTC server: the import counts
    China's year (it read the server's date, and refused 2033 until 08:00)."""
    monkeypatch.setattr(roster_import, "china_today", lambda: dt.date(2027, 1, 1))
    assert upload(client, world.school_user(), csv_file([row(1, 毕业年份="2033")])).status_code == 201
    late = upload(client, world.school_user(), csv_file([row(2, 毕业年份="2034")]))
    assert late.status_code == 422 and "应在2000到2033之间" in str(late.get_json())


def test_graduates_from_hong_kong_macao_and_taiwan_are_imported(client, world, school):
    # 生源所在地 810000/820000/710000 (GB/T 2260) and a 港澳台居民居住证 number (810000…/830000…)
    rows = [row(1, 生源所在地="810000", 身份证号=make_identity_number("81000020040615001")),
            row(2, 生源所在地="820000", 身份证号=make_identity_number("82000020040615005")),
            row(3, 生源所在地="710000", 身份证号=make_identity_number("83000020040615003"))]
    answer = upload(client, world.school_user(), csv_file(rows))
    assert answer.status_code == 201, answer.get_json()["row_errors"]
    listed = client.get("/schools/10558/graduates", headers=world.school_user()).get_json()["items"]
    assert sorted(g["origin_region"] for g in listed) == ["710000", "810000", "820000"]
    refused = upload(client, world.school_user(), csv_file([row(4, 生源所在地="810100")]))
    assert refused.status_code == 422  # GB/T 2260 does not divide Hong Kong


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_two_imports_at_once_bringing_one_identity_number_under_two_exam_numbers_import_one(client, service, world,
                                                                                           school):
    """Each file is valid against the roster it read; their writes take the roster in turn and the
    second reads the holders again: one 考生号 is imported, the other refused naming it."""
    import threading
    import time

    from quxiang.common.db import serialize_on
    from quxiang.records.adapters.repository import roster_lock

    files = [csv_file([row(1)]), csv_file([row(1, 考生号="26440109999999")])]
    answers = []

    def importing(body):
        answers.append(upload(client.application.test_client(), world.school_user(), body))

    with service.engine.connect() as held:
        serialize_on(held, roster_lock("10558"))
        threads = [threading.Thread(target=importing, args=(body,)) for body in files]
        for thread in threads:
            thread.start()
        time.sleep(1)  # both have validated against an empty roster and wait to write
        assert answers == []
        held.rollback()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [201, 422], [a.get_json() for a in answers]
    refused = next(a for a in answers if a.status_code == 422).get_json()
    assert [e["column"] for e in refused["row_errors"]] == ["身份证号"]
    assert count(service, graduates) == 1
