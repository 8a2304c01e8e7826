"""The row rules as a pure function (no database, no Flask)."""

from __future__ import annotations

import datetime as dt

from quxiang.common.pii import identity_numbers_in
from quxiang.records.domain.roster import RosterChecker, RosterRow, RowError, missing_columns

from .roster_data import identity, row


def checker():
    return RosterChecker(departments={"01": "dep-1"}, education_levels=frozenset({"31", "11"}),
                         today=dt.date(2026, 6, 1))


def test_a_valid_row_is_normalised():
    checked = checker().check(2, row(1, 性别="女", 身份证号=identity(1, male=False).lower(), 专业代码="080901k"))
    assert isinstance(checked, RosterRow)
    assert (checked.gender, checked.department_id, checked.major_code) == ("F", "dep-1", "080901K")


def test_all_errors_of_a_row_are_reported_together():
    errors = checker().check(5, row(1, 考生号="", 学历="99", 院系="09", 毕业年份="26", 邮箱="nope"))
    assert {(e.row, e.column) for e in errors} == {(5, "考生号"), (5, "学历"), (5, "院系"), (5, "毕业年份"),
                                                  (5, "邮箱")}


def test_no_reason_contains_the_identity_number():
    bad = identity(1)[:17] + "0"
    errors = checker().check(2, row(1, 身份证号=bad if bad != identity(1) else identity(1)[:17] + "1"))
    assert errors and all(identity(1)[:17] not in e.reason for e in errors)


def test_missing_columns():
    assert [e.column for e in missing_columns(["考生号", "姓名"])] == ["性别", "身份证号", "院系", "专业代码",
                                                                      "专业名称", "学历", "生源所在地", "毕业年份"]


def test_a_birth_year_too_late_for_the_graduation_year_is_refused():
    from quxiang.common.validators import make_identity_number

    born_2023 = make_identity_number("44010620230101001")
    errors = checker().check(2, row(1, 身份证号=born_2023))
    assert [(e.column, e.reason) for e in errors] == [("身份证号", "出生日期与毕业年份2026不符（毕业时不足14岁），"
                                                                   "请核对身份证号和毕业年份")]
    assert "2023" not in errors[0].reason  # digits 7-10 of the number
    assert isinstance(checker().check(2, row(1, 身份证号=make_identity_number("44010620120101001"))), RosterRow)


def test_short_codes_are_named_in_the_reason():
    errors = checker().check(2, row(1, 院系="09", 学历="99"))
    assert {(e.column, e.reason) for e in errors} == {("院系", "院系代码 09 不是本校的院系"),
                                                      ("学历", "未知的学历代码 99")}


def test_a_shifted_row_does_not_echo_an_identity_number_in_the_code_cells():
    """A stray comma shifts the number into 院系 (or 学历): the reason says the cell is no code."""
    number = identity(7)
    errors = checker().check(2, row(1, 院系=number, 学历=number))
    reasons = {e.column: e.reason for e in errors}
    assert set(reasons) == {"院系", "学历"}
    assert all(number not in r and number[6:14] not in r and not identity_numbers_in(r) for r in reasons.values())
    assert "错列" in reasons["院系"] and "错列" in reasons["学历"]
    phone = checker().check(2, row(1, 院系="13800138000"))  # a phone number is no code either
    assert [e.reason for e in phone] == ["院系代码不是本校的院系（该单元格不像代码，请检查本行是否因多余的逗号而错列）"]


def test_every_reason_is_masked_whoever_wrote_it():
    """The service's checks name 考生号 already on the roster; whatever a reason holds, no full number."""
    number = identity(3)
    error = RowError(2, "身份证号", f"已登记在本校2026届考生号 {number} 名下")
    assert number not in error.reason and identity_numbers_in(error.reason) == []
    assert error.to_dict()["reason"].endswith(" 名下")
    mistyped = number[:17] + ("0" if number[17] != "0" else "1")  # 18 digits, wrong check: masked as well
    assert mistyped not in RowError(2, "院系", f"院系代码 {mistyped}").reason


def test_an_identity_number_is_refused_as_exam_or_student_number():
    number = identity(5)
    errors = checker().check(2, row(1, 考生号=number, 学号=number.lower()))
    assert isinstance(errors, list)
    reasons = {(e.column, e.reason) for e in errors}
    assert reasons == {("考生号", "考生号不能使用身份证号"), ("学号", "学号不能使用身份证号")}
    other = identity(9)  # another person's number is refused the same
    assert {e.column for e in checker().check(3, row(2, 学号=other))} == {"学号"}
    # 18 characters that are no valid identity number stay a valid 学号 (and a 14-digit 考生号 as ever)
    not_a_number = other[:17] + ("0" if other[17] != "0" else "1")
    assert isinstance(checker().check(4, row(3, 学号=not_a_number)), RosterRow)
