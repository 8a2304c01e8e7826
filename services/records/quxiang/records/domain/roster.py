"""The roster (生源) file's columns and the rules of one row: pure functions over dicts.

``RosterChecker`` validates a file row by row (the caller streams it) and remembers what it needs
to find duplicates within the file. It never sees a database: the school's departments and the
education level codes are handed to it.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from quxiang.common.pii import redact_identity_numbers
from quxiang.common.reference import is_valid_region
from quxiang.common.times import china_today
from quxiang.common.validators import (
    CONTROL_CHARACTER_REASON,
    CONTROL_CHARACTERS,
    InvalidIdentifier,
    gender_of_identity_number,
    validate_identity_number,
)

# Column header -> attribute; the order is the template's.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("考生号", "exam_number"),
    ("学号", "student_number"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("身份证号", "identity_number"),
    ("院系", "department_code"),
    ("专业代码", "major_code"),
    ("专业名称", "major_name"),
    ("学历", "education_level"),
    ("生源所在地", "origin_region"),
    ("毕业年份", "graduation_year"),
    ("手机号", "phone"),
    ("邮箱", "email"),
)
HEADERS: tuple[str, ...] = tuple(h for h, _ in COLUMNS)
REQUIRED: frozenset[str] = frozenset({"考生号", "姓名", "性别", "身份证号", "院系", "专业代码", "专业名称", "学历",
                                      "生源所在地", "毕业年份"})
GENDERS: Mapping[str, str] = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F"}
MAX_LENGTHS: Mapping[str, int] = {"考生号": 20, "学号": 30, "姓名": 50, "专业名称": 100, "邮箱": 100}

_EXAM_NUMBER = re.compile(r"^[0-9A-Za-z]+$")
_MAJOR_CODE = re.compile(r"^[0-9A-Z]{4,10}$")
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # [0-9]: \d takes full-width digits too
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A reason names a code the file gave (院系, 学历) so the school finds the typo, but only a short
# one without a long run of digits: a row shifted by a stray comma puts an identity number, a phone
# number or a 考生号 into these cells, and a reason is answered and stored as it is.
_ECHO_MAX_LENGTH = 20
_ECHO_MAX_DIGITS = 10
_SHIFTED = "（该单元格不像代码，请检查本行是否因多余的逗号而错列）"
_Bad = Callable[[str, str], None]  # reports an error on a column of the current row


@dataclass(frozen=True)
class RowError:
    row: int      # the spreadsheet's row number: the header is row 1
    column: str   # the column header (a Chinese label, as in the file)
    reason: str   # never contains an identity number: see __post_init__

    def __post_init__(self) -> None:
        # A reason is answered (422, the job's status) and stored unencrypted (import_jobs.errors,
        # .notices), and some name a cell's value or a 考生号 already on the roster: a shifted row or
        # an old row may put an identity number there. Masked here, whichever check wrote the reason.
        # The cautious redaction: 18 digits of a mistyped number are as personal as a valid one.
        object.__setattr__(self, "reason", redact_identity_numbers(self.reason))

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class RosterRow(NamedTuple):
    """One valid roster row, normalised. A tuple: an import keeps every row of a file between
    validating and writing it, so a row must be small and quick to make."""

    row: int
    exam_number: str
    student_number: str | None
    name: str
    gender: str  # M / F
    identity_number: str
    department_code: str
    department_id: str
    major_code: str
    major_name: str
    education_level: str
    origin_region: str
    graduation_year: int
    phone: str | None
    email: str | None


# tuple.__new__ with the values in field order: a NamedTuple's own __new__ is Python code.
_new_row = tuple.__new__
# (position in HEADERS, header, required, maximum length or 0), for the checks every cell gets.
_CELL_RULES = tuple((i, h, h in REQUIRED, MAX_LENGTHS.get(h, 0)) for i, h in enumerate(HEADERS)
                    if h in REQUIRED or h in MAX_LENGTHS)


def cells_in_order(header: Sequence[str]) -> Callable[[list[str]], Sequence[str]]:
    """For a file's header row: a function from a row's cells (stripped, as ``roster_files`` reads
    them) to the cells of ``HEADERS`` in that order, "" for a column the file lacks or a short row.
    A header named twice: its last column, as a dict built from the row would hold. The function
    may append to the list it is given."""
    names = [h.strip() for h in header]
    width = len(names)
    positions = [max((i for i, n in enumerate(names) if n == h), default=width) for h in HEADERS]
    pick = operator.itemgetter(*positions)

    def ordered(cells: list[str]) -> Sequence[str]:
        if len(cells) == width:
            cells.append("")  # what the absent columns point at (the list is the reader's, made for this row)
        else:
            cells = [*cells[:width], *([""] * (width - len(cells))), ""]  # cut or pad
        return pick(cells)

    return ordered


def missing_columns(headers: list[str]) -> list[RowError]:
    """The required columns a header row lacks (each one an error on row 1)."""
    present = {h.strip() for h in headers}
    return [RowError(1, h, "缺少必需的列") for h in HEADERS if h in REQUIRED and h not in present]


# No graduate of a higher-education level is younger at graduation (the youngest are about 15).
YOUNGEST_GRADUATE = 14


@dataclass
class RosterChecker:
    """Validates the rows of one file in order; duplicates are judged across all rows seen."""

    departments: Mapping[str, str]  # department code -> department id, of the importing school
    education_levels: frozenset[str]
    today: dt.date = field(default_factory=china_today)  # the school's day, whatever the server's zone
    _exam_numbers: dict[str, int] = field(default_factory=dict)
    # (identity number, graduation year) -> first row: one person may graduate again in another
    # year (本科 here, then 硕士 here), never twice in one.
    _identity_numbers: dict[tuple[str, int | None], int] = field(default_factory=dict)
    _regions: dict[str, bool] = field(default_factory=dict)  # code -> valid: few codes, many rows
    _shared: dict[str, str] = field(default_factory=dict)    # one copy of each repeated cell value

    def check(self, row_number: int, cells: Mapping[str, str]) -> RosterRow | list[RowError]:
        return self.check_values(row_number, [(cells.get(h) or "").strip() for h in HEADERS])

    def check_values(self, row_number: int, values: Sequence[str]) -> RosterRow | list[RowError]:
        """``check`` for the row's cells in ``HEADERS`` order, stripped (what ``cells_in_order`` gives)."""
        errors: list[RowError] = []

        def bad(column: str, reason: str) -> None:
            errors.append(RowError(row_number, column, reason))

        exam, student, name, gender_cell, identity_cell, department, major_cell, major_name, level, region, \
            year_cell, phone, email = values
        for index, header, required, limit in _CELL_RULES:
            value = values[index]
            if required and not value:
                bad(header, "必填")
            elif limit and len(value) > limit:
                bad(header, f"不能超过{limit}个字符")
        if CONTROL_CHARACTERS.search("".join(values)):  # one search a row; the cells only then
            for header, value in zip(HEADERS, values, strict=True):
                if CONTROL_CHARACTERS.search(value):
                    bad(header, CONTROL_CHARACTER_REASON)

        if exam and not _EXAM_NUMBER.match(exam):
            bad("考生号", "只能包含字母和数字")
        elif _is_identity_number(exam, self.today):
            # 考生号 and 学号 travel unmasked (events, the feed, the EMS, every list): a school that put
            # the identity number there would publish it. The reason does not repeat the value.
            bad("考生号", "考生号不能使用身份证号")
        if _is_identity_number(student, self.today):
            bad("学号", "学号不能使用身份证号")
        gender = GENDERS.get(gender_cell.upper()) if gender_cell else None
        if gender_cell and gender is None:
            bad("性别", "应为“男”或“女”")
        identity = self._identity(identity_cell, gender, bad)
        department_id = self.departments.get(department) if department else None
        if department and department_id is None:
            bad("院系", f"院系代码 {department} 不是本校的院系" if _echoable(department)
                else f"院系代码不是本校的院系{_SHIFTED}")
        major_code = major_cell.upper()
        if major_code and not _MAJOR_CODE.match(major_code):
            bad("专业代码", "应为4到10位数字或大写字母")
        if level and level not in self.education_levels:
            bad("学历", f"未知的学历代码 {level}" if _echoable(level) else f"未知的学历代码{_SHIFTED}")
        if region:
            valid = self._regions.get(region)
            if valid is None:
                valid = self._regions[region] = is_valid_region(region)
            if not valid:
                bad("生源所在地", "应为6位行政区划代码（GB/T 2260）")
        year = self._year(year_cell, bad)
        if identity is not None and year is not None and int(identity[6:10]) > year - YOUNGEST_GRADUATE:
            # A birth year this late is a typo in the number or the year (a 2023 birth, a 2026 graduate).
            # The reason does not name the birth year: it is digits 7-10 of the number.
            bad("身份证号", f"出生日期与毕业年份{year}不符（毕业时不足{YOUNGEST_GRADUATE}岁），"
                          "请核对身份证号和毕业年份")
        if phone and not _PHONE.match(phone):
            bad("手机号", "应为11位手机号码")
        if email and not _EMAIL.match(email):
            bad("邮箱", "邮箱格式不正确")
        self._duplicates(row_number, exam, identity, year, bad)
        if errors:
            return errors
        assert gender is not None and identity is not None and department_id is not None and year is not None
        shared = self._shared.setdefault
        return _new_row(RosterRow, (
            row_number, exam, student or None, name, gender, identity, shared(department, department), department_id,
            shared(major_code, major_code), shared(major_name, major_name), shared(level, level),
            shared(region, region), year, phone or None, email or None))

    def _identity(self, value: str, gender: str | None, bad: _Bad) -> str | None:
        if not value:
            return None
        try:
            number = validate_identity_number(value, today=self.today)
        except InvalidIdentifier as exc:
            bad("身份证号", exc.reason)
            return None
        if gender is not None and gender_of_identity_number(number) != gender:
            bad("身份证号", "与性别不一致")  # the reason check_identity_matches_gender gives
            return None
        return number

    def _year(self, value: str, bad: _Bad) -> int | None:
        if not value:
            return None
        if not (len(value) == 4 and value.isascii() and value.isdigit()):
            bad("毕业年份", "应为4位年份")
            return None
        year = int(value)
        if not 2000 <= year <= self.today.year + 6:
            bad("毕业年份", f"应在2000到{self.today.year + 6}之间")
            return None
        return year

    def _duplicates(self, row_number: int, exam: str, identity: str | None, year: int | None, bad: _Bad) -> None:
        if exam:
            first = self._exam_numbers.setdefault(exam, row_number)
            if first != row_number:
                bad("考生号", f"与第{first}行的考生号重复")
        if identity:
            first = self._identity_numbers.setdefault((identity, year), row_number)
            if first != row_number:
                bad("身份证号", f"与第{first}行的身份证号重复（同一毕业年份）")


def _echoable(value: str) -> bool:
    """Whether a reason may name ``value``: a code, not what may be personal data."""
    return len(value) <= _ECHO_MAX_LENGTH and sum(c.isdigit() for c in value) <= _ECHO_MAX_DIGITS


def _is_identity_number(value: str, today: dt.date) -> bool:
    """Whether a cell holds a valid identity number. Only 18 characters are tried: the common case
    (a 14-digit 考生号, a short 学号) costs a length check, not an exception."""
    if len(value) != 18:
        return False
    try:
        validate_identity_number(value, today=today)
    except InvalidIdentifier:
        return False
    return True
