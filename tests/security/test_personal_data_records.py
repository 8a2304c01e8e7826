"""Identity numbers where records let them through before the privacy review: a graduate's 信息确认
note, the roster import's row errors, the free text of archive and hukou registrations and of a
withdrawal, and a 学号 or 考生号 that is an identity number. Each test failed before its fix."""

from __future__ import annotations

import io
import json

import openpyxl
from security_scenario import IDENTITY_NUMBERS, ROSTER_HEADER
from security_world import new_id, permissions
from sqlalchemy import text

from quxiang.common.auth.principal import Access, Principal, Role, Scope
from quxiang.common.pii import identity_numbers_in, mask_identity_number
from quxiang.common.validators import make_identity_number


def _h(world, principal):
    return {"Authorization": f"Bearer {world.token(principal, ttl=3600)}"}


def _graduate(world, key="graduate"):
    return _h(world, Principal(new_id(), Role.GRADUATE, Scope(province="44", school="10558", graduate=world.ids[key])))


def _department(world):
    return _h(world, Principal(new_id(), Role.DEPARTMENT,
                               Scope(province="44", school="10558", department=world.ids["department"]),
                               permissions(Access.READ)))


def _school(world):
    return _h(world, Principal(new_id(), Role.SCHOOL, Scope(province="44", school="10558"), permissions(Access.WRITE)))


def _province(world):
    return _h(world, Principal(new_id(), Role.PROVINCE, Scope(province="44")))


def _import(world, rows: str):
    return world.client("records").post("/schools/10558/roster/imports", headers=_school(world),
                                        content_type="multipart/form-data",
                                        data={"file": (io.BytesIO((ROSTER_HEADER + rows).encode()), "r.csv")})


def _stored_errors(world, job_id: str) -> str:
    with world.services["records"].engine.connect() as conn:  # the job keeps its errors at rest, unencrypted
        return json.dumps(conn.execute(text("select errors from import_jobs where id = :id"), {"id": job_id}).scalar(),
                          ensure_ascii=False)


# --- 1. the 信息确认 note -----------------------------------------------------------------------


def test_confirmation_note_is_masked_for_callers_shown_masked_numbers(world):
    records = world.client("records")
    typed = IDENTITY_NUMBERS[1]
    note = f"身份证号有误，正确的是{typed}"   # the most common thing a graduate flags
    graduate = _graduate(world)
    r = records.put(f"/graduates/{world.ids['graduate']}/confirmation", headers=graduate,
                    json={"status": "flagged", "note": note})
    try:
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["note"] == note  # the graduate reads its own note as written
        listed = records.get("/schools/10558/roster/confirmations?status=flagged", headers=_department(world))
        detail = records.get(f"/graduates/{world.ids['graduate']}", headers=_department(world))
        assert detail.get_json()["identity_number_masked"] is True   # the department may not see full numbers ...
        leaks = {"list": identity_numbers_in(listed.get_data(as_text=True)),
                 "detail": identity_numbers_in(detail.get_data(as_text=True))}
        assert leaks == {"list": [], "detail": []}, leaks            # ... nor in the note
        masked = f"身份证号有误，正确的是{mask_identity_number(typed)}"
        assert detail.get_json()["confirmation"]["note"] == masked
        assert {i["note"] for i in listed.get_json()["items"] if i["graduate_id"] == world.ids["graduate"]} == {masked}
        # the school's list is a list (never audited): masked as well; its audited detail view shows the note
        school_list = records.get("/schools/10558/roster/confirmations?status=flagged", headers=_school(world))
        assert identity_numbers_in(school_list.get_data(as_text=True)) == []
        school_detail = records.get(f"/graduates/{world.ids['graduate']}", headers=_school(world)).get_json()
        assert school_detail["identity_number_masked"] is False and school_detail["confirmation"]["note"] == note
    finally:  # the world's graduate as it was: its data confirmed, no note left for the other tests
        records.put(f"/graduates/{world.ids['graduate']}/confirmation", headers=graduate, json={"status": "confirmed"})


# --- 2. the roster import's row errors ---------------------------------------------------------------


def test_roster_import_errors_never_echo_an_identity_number(world):
    """A CSV row with one unquoted comma (a foreign student's "Smith, John") shifts every later cell
    right: the identity number lands in 院系 (and another row has one in 学历)."""
    number, other = IDENTITY_NUMBERS[2], IDENTITY_NUMBERS[3]
    shifted = f"2644019900099,S99,Smith, John,男,{number},080901,计算机科学与技术,31,440106,2026,,\n"
    level = f"2644019900098,S98,学生98,男,{other},CS,080901,计算机科学与技术,{other},440106,2026,,\n"
    typo = "2644019900096,S96,学生96,男,{},XYZ,080901,计算机科学与技术,77,440106,2026,,\n".format(
        make_identity_number("44010620030307111"))
    r = _import(world, shifted + level + typo)
    assert r.status_code == 422, r.get_data(as_text=True)
    job_id = r.get_json()["job_id"]
    status = world.client("records").get(f"/schools/10558/roster/imports/{job_id}", headers=_school(world))
    found = {"answer": identity_numbers_in(r.get_data(as_text=True)),
             "job": identity_numbers_in(status.get_data(as_text=True)),
             "stored": identity_numbers_in(_stored_errors(world, job_id))}
    assert found == {"answer": [], "job": [], "stored": []}, found
    reasons = {(e["row"], e["column"]): e["reason"] for e in r.get_json()["row_errors"]}
    assert "错列" in reasons[(2, "院系")] and "错列" in reasons[(3, "学历")]  # what to look for instead
    assert reasons[(4, "院系")] == "院系代码 XYZ 不是本校的院系"            # a short code is still named
    assert reasons[(4, "学历")] == "未知的学历代码 77"


def test_roster_import_errors_do_not_show_birth_date_digits(world):
    young = make_identity_number(IDENTITY_NUMBERS[0][:6] + "20200101001")
    r = _import(world, f"2644019900097,S97,学生97,男,{young},CS,080901,计算机科学与技术,31,440106,2026,,\n")
    assert r.status_code == 422, r.get_data(as_text=True)
    reasons = [e["reason"] for e in r.get_json()["row_errors"]]
    assert reasons == ["出生日期与毕业年份2026不符（毕业时不足14岁），请核对身份证号和毕业年份"], reasons
    assert not any("2020" in reason for reason in reasons)  # digits 7-10 of the number


# --- 3. identity numbers typed into free text -------------------------------------------------------


def test_typed_identity_number_masked_in_archive_list_detail_and_export(world):
    records = world.client("records")
    typed = IDENTITY_NUMBERS[2]
    graduate, law = _graduate(world, "law_graduate"), world.ids["law_graduate"]
    r = records.post(f"/graduates/{law}/archive/submit", headers=graduate,
                     json={"transfer_type": "origin", "address": f"广州市越秀区某街2号（户主{typed}）",
                           "receiving_unit": f"广州市人才中心{typed}", "postcode": "510000",
                           "recipient": f"李四（身份证{typed}）", "phone": "020-12345678"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert identity_numbers_in(r.get_data(as_text=True)) == []  # the answer is a detail too
    assert r.get_json()["transfer"]["recipient"] == f"李四（身份证{mask_identity_number(typed)}）"
    reason = f"收件人不能写身份证号（{typed}），请改正"
    reviewed = records.post(f"/graduates/{law}/archive/reviews", headers=_school(world),
                            json={"decision": "reject", "reason": reason})
    assert reviewed.status_code == 200, reviewed.get_data(as_text=True)
    world.pump()
    events = [json.dumps(e, ensure_ascii=False) for e in world.events if e["type"].startswith("records.archive")]
    assert not any(identity_numbers_in(e) for e in events)   # the events mask it (FreeText) ...
    listed = records.get("/archive/registrations?page_size=100", headers=_province(world)).get_data(as_text=True)
    export = records.get("/archive/registrations/export.xlsx", headers=_school(world))
    book = openpyxl.load_workbook(io.BytesIO(export.data), read_only=True)
    cells = " ".join(str(v) for s in book.worksheets for row in s.iter_rows(values_only=True) for v in row if v)
    detail = records.get(f"/graduates/{law}/archive", headers=_school(world))
    own = records.get(f"/graduates/{law}/archive", headers=graduate)
    found = {"list": identity_numbers_in(listed), "export": identity_numbers_in(cells),
             "detail": identity_numbers_in(detail.get_data(as_text=True)),
             "graduate's detail": identity_numbers_in(own.get_data(as_text=True))}
    assert found == {"list": [], "export": [], "detail": [], "graduate's detail": []}, found  # ... and so do these
    assert mask_identity_number(typed) in cells                  # the typed text is still there, masked
    history = detail.get_json()["history"]
    masked_reason = f"收件人不能写身份证号（{mask_identity_number(typed)}），请改正"
    assert [h["reason"] for h in history if h["reason"]] == [masked_reason]


def test_typed_identity_number_masked_in_the_withdrawal_reason(world):
    records, school = world.client("records"), _school(world)
    number = make_identity_number("44010620030307091")  # a graduate of its own: taken off the roster below
    exam = "2644019900095"
    assert _import(world, f"{exam},S95,学生95,男,{number},CS,080901,计算机科学与技术,31,440106,2026,,\n"
                   ).status_code == 201
    world.pump()
    graduate_id = records.get(f"/schools/10558/graduates?q={exam}", headers=school).get_json()["items"][0]["id"]
    reason = f"重复导入，与身份证{number}的另一条记录为同一人"
    r = records.post(f"/schools/10558/graduates/{graduate_id}/withdrawal", headers=school, json={"reason": reason})
    assert r.status_code == 200, r.get_data(as_text=True)
    world.pump()
    listed = records.get("/schools/10558/graduates?withdrawn=true&page_size=100", headers=school)
    department = records.get("/schools/10558/graduates?withdrawn=true&page_size=100", headers=_department(world))
    found = {"answer": identity_numbers_in(r.get_data(as_text=True)),
             "school's list": identity_numbers_in(listed.get_data(as_text=True)),
             "department's list": identity_numbers_in(department.get_data(as_text=True))}
    assert found == {"answer": [], "school's list": [], "department's list": []}, found
    withdrawn = {g["id"]: g["withdrawn"]["reason"] for g in listed.get_json()["items"]}
    assert withdrawn[graduate_id] == f"重复导入，与身份证{mask_identity_number(number)}的另一条记录为同一人"


# --- 4. an identity number as 学号 or 考生号 ---------------------------------------------------------


def test_roster_refuses_identity_numbers_as_student_or_exam_numbers(world):
    number = make_identity_number("44010620030307051")
    before = len(world.events)
    r = _import(world, f"{number},{number},学生51,男,{number},CS,080901,计算机科学与技术,31,440106,2026,,\n")
    world.pump()
    assert r.status_code == 422, r.get_data(as_text=True)
    assert {(e["column"], e["reason"]) for e in r.get_json()["row_errors"]} == {
        ("考生号", "考生号不能使用身份证号"), ("学号", "学号不能使用身份证号")}
    assert identity_numbers_in(r.get_data(as_text=True)) == []  # the refusal does not repeat the value
    assert not any(number in json.dumps(e, ensure_ascii=False) for e in world.events[before:])  # nothing published
    # the 学号 alone, another person's number as well
    other = make_identity_number("44010620030307071")
    r = _import(world, f"2644019900094,{other},学生94,男,{number},CS,080901,计算机科学与技术,31,440106,2026,,\n")
    assert r.status_code == 422, r.get_data(as_text=True)
    assert [(e["column"], e["reason"]) for e in r.get_json()["row_errors"]] == [("学号", "学号不能使用身份证号")]
