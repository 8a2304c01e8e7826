"""The row rules as a pure function (no database, no Flask)."""

from __future__ import annotations

import datetime as dt

from quxiang.records.domain.roster import RosterChecker, RosterRow, missing_columns

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
    assert [(e.column, e.reason) for e in errors] == [("身份证号", "出生年份2023与毕业年份2026不符（毕业时不足14岁）")]
    assert isinstance(checker().check(2, row(1, 身份证号=make_identity_number("44010620120101001"))), RosterRow)
