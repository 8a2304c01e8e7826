"""The archive and hukou lists (图7): every graduate in scope with its registration (or none yet),
filtered, searched, sorted, paged, or streamed whole for an export."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection, Row

from quxiang.common.db import (
    LIKE_ESCAPE,
    PAGE_LIMIT,
    PAGE_OFFSET,
    ListStatements,
    contains_pattern,
    keys_nulls_last,
    sort_order,
)
from quxiang.common.text_search import search_params, searched
from quxiang.records.adapters.repository import Bind
from quxiang.records.adapters.tables import (
    SEARCHED_CODES,
    SEARCHED_NAMES,
    departments,
    graduates,
    registrations,
    schools,
)

NONE_STATUS = "none"

# Sort keys the API accepts -> columns; ties are broken by 考生号, which is unique.
SORT_COLUMNS = {
    "exam_number": graduates.c.exam_number,
    "name": graduates.c.name,
    "school": graduates.c.school_code,
    "department": departments.c.code,  # as signing's lists sort 院系: by code
    "major": graduates.c.major_code,
    "education_level": graduates.c.education_level,
    "origin_region": graduates.c.origin_region,
    "status": func.coalesce(registrations.c.status, NONE_STATUS),
    "transfer_type": registrations.c.transfer_type,
    "updated_at": registrations.c.updated_at,
}
# Sorts by a registration's column an index serves (tables.RECENT_INDEX), whose pages are found in two
# parts, graduates with a registration and those without (db.keys_nulls_last): a province's list by
# 更新时间 sorted every graduate in the province for each page.
_APART = frozenset({"updated_at"})
# Only for a list filtered by its scope and the registration's own columns: one narrowed by the
# school or department, or by the graduate's columns (专业, 学历, 生源地, 届别, a search), is sorted
# as before, quickly (20 ms for a school), where walking the province's registrations in time order
# to the few that match read most of them (250 ms to a school's first 20; 100 -> 430 ms for a 专业
# and 学历 that 669 of 200,000 graduates have).
_BROAD = frozenset({"module", "province", "status", "transfer_type", "no_registration"})
# Nor deep in the list: each part reads to the page's depth, which costs as much as sorting the
# province at about 30,000 rows (at 510,000 graduates: 490 against 800 ms at 10,000, 790 against 890
# at 20,000, 1,180 against 1,070 at 40,000).
_APART_DEPTH = 20_000


@dataclass(frozen=True)
class ListFilter:
    module: str
    province: str | None = None           # a province user's province
    school_code: str | None = None
    department_id: str | None = None
    major: str | None = None              # 专业代码, or part of the name
    education_level: str | None = None
    status: str | None = None             # a registration status, or "none"
    transfer_type: str | None = None
    origin_region: str | None = None      # a code or its prefix (44 = 广东省, 4401 = 广州市)
    graduation_year: int | None = None
    q: str | None = None                  # part of the name, 考生号 or 学号
    identity_hashes: Sequence[str] = ()   # q was an identity number: its hashes under every key
    sort: str = "exam_number"
    descending: bool = False


_like = contains_pattern


_JOINED = (graduates.join(schools, schools.c.code == graduates.c.school_code)
           .outerjoin(departments, departments.c.id == graduates.c.department_id)
           .outerjoin(registrations, and_(registrations.c.graduate_id == graduates.c.id,
                                          registrations.c.module == bindparam("module"))))
_ROW_COLUMNS = (
    graduates.c.id, graduates.c.exam_number, graduates.c.student_number, graduates.c.name,
    graduates.c.school_code, schools.c.name.label("school_name"), graduates.c.department_id,
    departments.c.name.label("department_name"), graduates.c.major_code, graduates.c.major_name,
    graduates.c.education_level, graduates.c.origin_region, graduates.c.graduation_year,
    graduates.c.identity_number_encrypted, registrations.c.id.label("registration_id"),
    registrations.c.status, registrations.c.transfer_type, registrations.c.receiving_unit,
    registrations.c.receiving_department, registrations.c.address, registrations.c.postcode,
    registrations.c.recipient, registrations.c.phone, registrations.c.transfer_number,
    registrations.c.submitted_at, registrations.c.decided_at, registrations.c.updated_at,
    # a school approval stands while a change is in review (as the events' approval_stands)
    func.coalesce(registrations.c.approved_once, False).label("approval_stands"))
# The filters compared for equality, by parameter name.
_EQUAL = {"province": schools.c.province, "school_code": graduates.c.school_code,
          "department_id": graduates.c.department_id, "education_level": graduates.c.education_level,
          "status": registrations.c.status, "transfer_type": registrations.c.transfer_type,
          "region": graduates.c.origin_region, "graduation_year": graduates.c.graduation_year}


def _params(f: ListFilter) -> dict[str, Any]:
    """The filter's values by parameter name, only those that apply: the names present are the
    statement's shape, the values its parameters."""
    params: dict[str, Any] = {"module": f.module}
    params.update({name: getattr(f, name) for name in ("province", "school_code", "department_id",
                                                       "education_level", "transfer_type", "graduation_year")
                   if getattr(f, name)})
    if f.major:
        params.update(major_code=f.major.upper(), major_like=_like(f.major))
    if f.status == NONE_STATUS:
        params["no_registration"] = True  # a shape only: no value is bound
    elif f.status:
        params["status"] = f.status
    if f.origin_region:
        params.update(_region_params(f.origin_region))
    if f.identity_hashes:
        params["identity_hashes"] = list(f.identity_hashes)
    elif f.q:
        params.update(search_params(f.q))
    return params


def _region_params(code: str) -> dict[str, str]:
    """A province (440000 or 44) or a city (440100 or 4401) takes every region within it."""
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    elif len(code) == 6 and code.endswith("00"):
        code = code[:4]
    if len(code) < 6:
        return {"region_prefix": code + "%"}
    return {"region": code}


def _conditions(names: frozenset[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [column == bindparam(name) for name, column in _EQUAL.items()
                                             if name in names]
    conditions.append(graduates.c.withdrawn_at.is_(None))  # 移出生源: in no list
    if "major_code" in names:
        conditions.append(or_(graduates.c.major_code == bindparam("major_code"),
                              graduates.c.major_name.ilike(bindparam("major_like"), escape=LIKE_ESCAPE)))
    if "no_registration" in names:
        # On the join column: PostgreSQL then plans an anti-join and estimates it (on registrations.id
        # it guessed one row, and read the schools once per graduate: 4.5 ms against 1.1 for 3,000).
        conditions.append(registrations.c.graduate_id.is_(None))
    if "region_prefix" in names:
        conditions.append(graduates.c.origin_region.like(bindparam("region_prefix")))
    if "identity_hashes" in names:
        conditions.append(graduates.c.identity_number_hash.in_(bindparam("identity_hashes", expanding=True)))
    if "q" in names:
        # ILIKE: 学号 s000001 finds S000001 on PostgreSQL as it always did on SQLite. Each through its
        # index on PostgreSQL (tables.SEARCH_INDEXES): 1.3 s -> 3 ms for a province of 510,000.
        conditions.append(searched(SEARCHED_NAMES, SEARCHED_CODES))
    return conditions


@functools.lru_cache(maxsize=512)
def _statements(names: frozenset[str], sort: str, descending: bool, apart: bool = False) -> ListStatements:
    """``apart``: the page found in two parts (``keys_nulls_last``), where the sort allows it."""
    conditions = _conditions(names)
    key = SORT_COLUMNS[sort]
    order = [sort_order(key, descending, graduates)]
    if sort != "exam_number":
        order.append(graduates.c.exam_number.asc())
    read = select(*_ROW_COLUMNS).select_from(_JOINED).order_by(*order)
    matching = select(graduates.c.id).select_from(_JOINED).where(*conditions)
    counted = select(func.count()).select_from(matching.subquery())
    keys = None
    if apart and sort in _APART and names <= _BROAD:
        keys = keys_nulls_last(matching, key, descending, [graduates.c.exam_number], PAGE_OFFSET, PAGE_LIMIT,
                               joined_by=registrations.c.graduate_id)
    return ListStatements.of(counted, read, conditions, graduates.c.id, keys)


def _shaped(f: ListFilter, offset: int | None = None) -> tuple[ListStatements, dict[str, Any]]:
    params = _params(f)
    statements = _statements(frozenset(params), f.sort, f.descending, offset is not None and offset < _APART_DEPTH)
    params.pop("no_registration", None)
    return statements, params


def page(bind: Bind, f: ListFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    statements, params = _shaped(f, offset)
    return statements.page_of(bind, params, offset, limit)


def stream(conn: Connection, f: ListFilter, batch: int = 2000) -> Iterator[Row]:
    """Every row, fetched in batches through a server-side cursor: memory stays flat however many."""
    statements, params = _shaped(f)
    yield from statements.stream(conn, params, batch)
