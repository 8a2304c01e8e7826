"""The lists the province, schools and departments read (图6): online signing (the employer's
invitations and the graduate's offline applications, as the guide's 在线签约管理 holds both),
supplementary registrations (补登), terminations and destination registrations. Each is
filtered, searched, sorted, paged, or streamed whole for an export; every row carries the graduate's
columns (masked identity number only: signing never has the full one)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, FromClause, bindparam, func, or_, select
from sqlalchemy.engine import Connection, Row

from quxiang.common.db import LIKE_ESCAPE, ListStatements, contains_pattern, sort_order
from quxiang.common.text_search import search_params, searched_through
from quxiang.signing.adapters.destination_tables import DESTINATION_UNIT
from quxiang.signing.adapters.destination_tables import destination_registrations as destinations
from quxiang.signing.adapters.store import Bind
from quxiang.signing.adapters.tables import UNIT_NAME, agreements, departments, graduates, schools, terminations


class Kind(StrEnum):
    ONLINE = "online"                    # 在线签约管理: flows online and offline (the e-agreement applied for)
    SUPPLEMENTARY = "supplementary"      # 补登管理: paper agreements registered afterwards
    TERMINATIONS = "terminations"        # 解约管理
    DESTINATIONS = "destinations"        # 去向登记管理


# The guide (§5): 在线签约管理 shows "线上签约、毕业生申请电子就业协议进行的线下签约",
# 补登管理 "签订纸质就业协议书补充登记".
FLOWS: Mapping[Kind, tuple[str, ...]] = {Kind.ONLINE: ("online", "offline"), Kind.SUPPLEMENTARY: ("supplementary",)}


_GRADUATE_SORTS: dict[str, ColumnElement] = {
    "name": graduates.c.name, "exam_number": graduates.c.exam_number, "student_number": graduates.c.student_number,
    "department": departments.c.code, "major": graduates.c.major_code,  # codes: no collation differences
}


@dataclass(frozen=True)
class Source:
    """One list: its table joined to the graduate, school and department, the columns scope and
    filters apply to, what ``q`` searches, the sort keys and the unique tie-breaker."""

    table: FromClause
    joined: FromClause
    school_code: ColumnElement
    department_id: ColumnElement
    education_level: ColumnElement
    graduation_year: ColumnElement
    status: ColumnElement
    names: tuple[ColumnElement, ...]      # what q searches: names (part of them) ...
    codes: tuple[ColumnElement, ...]      # ... and codes (text_search)
    sorts: Mapping[str, ColumnElement]
    tie: ColumnElement
    columns: tuple[ColumnElement, ...]


def _with_graduate(base: FromClause, school_code: ColumnElement, department_id: ColumnElement,
                   graduate_id: ColumnElement) -> FromClause:
    return (base.join(schools, schools.c.code == school_code)
            .outerjoin(departments, departments.c.id == department_id)
            .outerjoin(graduates, graduates.c.id == graduate_id))


_GRADUATE_COLUMNS = (graduates.c.exam_number, graduates.c.student_number, graduates.c.name,
                     graduates.c.major_code, graduates.c.major_name, graduates.c.identity_number_masked,
                     schools.c.name.label("school_name"), departments.c.name.label("department_name"))
_CODES = (graduates.c.exam_number, graduates.c.student_number)

_AGREEMENTS = Source(
    table=agreements,
    joined=_with_graduate(agreements, agreements.c.school_code, agreements.c.department_id, agreements.c.graduate_id),
    school_code=agreements.c.school_code, department_id=agreements.c.department_id,
    education_level=agreements.c.education_level, graduation_year=agreements.c.graduation_year,
    status=agreements.c.status,
    names=(graduates.c.name, UNIT_NAME), codes=(*_CODES, agreements.c.number),
    sorts={**_GRADUATE_SORTS, "school": agreements.c.school_code, "education_level": agreements.c.education_level,
           "number": agreements.c.number, "unit_name": UNIT_NAME, "status": agreements.c.status,
           "initiator": agreements.c.initiator, "flow": agreements.c.flow, "created_at": agreements.c.created_at,
           "updated_at": agreements.c.updated_at},
    tie=agreements.c.number,
    columns=(agreements.c.id, agreements.c.number, agreements.c.flow, agreements.c.initiator,
             agreements.c.agreement_type, agreements.c.status, agreements.c.graduate_id, agreements.c.school_code,
             agreements.c.department_id, agreements.c.education_level, agreements.c.graduation_year,
             agreements.c.employer_id, UNIT_NAME.label("unit_name"), agreements.c.created_at,
             agreements.c.updated_at, *_GRADUATE_COLUMNS),
)

_TERMINATIONS = Source(
    table=terminations,
    joined=_with_graduate(terminations.join(agreements, agreements.c.id == terminations.c.agreement_id),
                          terminations.c.school_code, terminations.c.department_id, terminations.c.graduate_id),
    school_code=terminations.c.school_code, department_id=terminations.c.department_id,
    education_level=agreements.c.education_level, graduation_year=agreements.c.graduation_year,
    status=terminations.c.status,
    names=(graduates.c.name, UNIT_NAME), codes=(*_CODES, agreements.c.number),
    sorts={**_GRADUATE_SORTS, "school": terminations.c.school_code, "education_level": agreements.c.education_level,
           "number": agreements.c.number, "unit_name": UNIT_NAME, "status": terminations.c.status,
           "initiator": agreements.c.initiator, "mode": terminations.c.mode,
           "requested_by": terminations.c.requested_by, "created_at": terminations.c.created_at,
           "updated_at": terminations.c.updated_at},
    tie=terminations.c.id,
    columns=(terminations.c.id, terminations.c.agreement_id, terminations.c.mode, terminations.c.requested_by,
             terminations.c.status, terminations.c.graduate_id, terminations.c.school_code,
             terminations.c.department_id, terminations.c.created_at, terminations.c.updated_at,
             agreements.c.number, agreements.c.flow, agreements.c.initiator, agreements.c.agreement_type,
             agreements.c.status.label("agreement_status"), agreements.c.education_level,
             agreements.c.graduation_year, UNIT_NAME.label("unit_name"), *_GRADUATE_COLUMNS),
)

_DESTINATIONS = Source(
    table=destinations,
    joined=_with_graduate(destinations, destinations.c.school_code, destinations.c.department_id,
                          destinations.c.graduate_id),
    school_code=destinations.c.school_code, department_id=destinations.c.department_id,
    education_level=destinations.c.education_level, graduation_year=destinations.c.graduation_year,
    status=destinations.c.status,
    names=(graduates.c.name, DESTINATION_UNIT), codes=_CODES,
    sorts={**_GRADUATE_SORTS, "school": destinations.c.school_code, "education_level": destinations.c.education_level,
           "destination_code": destinations.c.destination_code, "unit_name": DESTINATION_UNIT,
           "status": destinations.c.status, "submitted_at": destinations.c.submitted_at,
           "updated_at": destinations.c.updated_at},
    tie=destinations.c.id,
    columns=(destinations.c.id, destinations.c.graduate_id, destinations.c.school_code,
             destinations.c.department_id, destinations.c.education_level, destinations.c.graduation_year,
             destinations.c.status, destinations.c.destination_code, DESTINATION_UNIT.label("unit_name"),
             destinations.c.submitted_at, destinations.c.decided_at, destinations.c.updated_at, *_GRADUATE_COLUMNS),
)

SOURCES: Mapping[Kind, Source] = {Kind.ONLINE: _AGREEMENTS, Kind.SUPPLEMENTARY: _AGREEMENTS,
                                  Kind.TERMINATIONS: _TERMINATIONS, Kind.DESTINATIONS: _DESTINATIONS}
SORT_KEYS: Mapping[Kind, tuple[str, ...]] = {kind: tuple(sorted(source.sorts)) for kind, source in SOURCES.items()}
DEFAULT_SORT = "updated_at"


@dataclass(frozen=True)
class ListFilter:
    kind: Kind
    province: str | None = None           # a province user's province
    school_code: str | None = None
    department_id: str | None = None
    major: str | None = None              # 专业代码, or part of the name
    education_level: str | None = None
    status: str | None = None
    initiator: str | None = None          # the agreement's 签约发起方 (agreements and terminations)
    graduation_year: int | None = None
    flow: str | None = None               # online list: online or offline
    mode: str | None = None               # terminations: online or offline
    requested_by: str | None = None       # terminations: graduate or employer
    destination_codes: Sequence[str] = ()  # destinations: a category and its sub-categories
    q: str | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True


_like = contains_pattern


# The filters compared for equality, by parameter name; the rest are built below.
_EQUAL = ("province", "school_code", "department_id", "education_level", "graduation_year", "status")


def _params(f: ListFilter) -> dict[str, Any]:
    """The filter's values by parameter name, only those that apply: the names present are the
    statement's shape, the values its parameters."""
    params: dict[str, Any] = {name: getattr(f, name) for name in _EQUAL if getattr(f, name)}
    if f.major:
        params.update(major_code=f.major.upper(), major_like=_like(f.major))
    if f.q:
        params.update(search_params(f.q))
    if f.kind is Kind.DESTINATIONS:
        if f.destination_codes:
            params["destination_codes"] = list(f.destination_codes)
    else:
        params.update({name: value for name, value in (("initiator", f.initiator), ("flow", f.flow)) if value})
    if f.kind is Kind.TERMINATIONS:
        params.update({name: value for name, value in (("mode", f.mode), ("requested_by", f.requested_by)) if value})
    return params


def _conditions(kind: Kind, names: frozenset[str]) -> list[ColumnElement[bool]]:
    source = SOURCES[kind]
    equal = {"province": schools.c.province, "school_code": source.school_code,
             "department_id": source.department_id, "education_level": source.education_level,
             "graduation_year": source.graduation_year, "status": source.status,
             "initiator": agreements.c.initiator, "flow": agreements.c.flow,
             "mode": terminations.c.mode, "requested_by": terminations.c.requested_by}
    conditions: list[ColumnElement[bool]] = [column == bindparam(name) for name, column in equal.items()
                                             if name in names]
    if "major_code" in names:
        conditions.append(or_(graduates.c.major_code == bindparam("major_code"),
                              graduates.c.major_name.ilike(bindparam("major_like"), escape=LIKE_ESCAPE)))
    if "q" in names:
        # Letter case aside on every database; each column through its index on PostgreSQL (a
        # province's agreements searched in ms where one OR over the joined tables read them all).
        conditions.append(searched_through(source.tie, source.joined, source.names, source.codes))
    if kind in FLOWS:
        # Each flow spelt out, not IN (...): an IN list is expanded into the SQL text at every
        # execution, a tenth of a list request's CPU here, for values that never change.
        conditions.append(or_(*(agreements.c.flow == flow for flow in FLOWS[kind])))
    if kind is Kind.DESTINATIONS:
        conditions.append(destinations.c.status != "draft")  # not registered until submitted
        if "destination_codes" in names:
            conditions.append(destinations.c.destination_code.in_(bindparam("destination_codes", expanding=True)))
    return conditions


# Built once per shape: the list, the filters given, the sort (see ListStatements).
@functools.lru_cache(maxsize=512)
def _statements(kind: Kind, names: frozenset[str], sort: str, descending: bool) -> ListStatements:
    source = SOURCES[kind]
    conditions = _conditions(kind, names)
    key = source.sorts[sort]
    read = (select(*source.columns).select_from(source.joined)
            .order_by(sort_order(key, descending, source.table), source.tie.asc()))
    return ListStatements.of(select(func.count()).select_from(source.joined).where(*conditions), read, conditions,
                             source.tie)


def _shaped(f: ListFilter) -> tuple[ListStatements, dict[str, Any]]:
    params = _params(f)
    return _statements(f.kind, frozenset(params), f.sort, f.descending), params


def page(bind: Bind, f: ListFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    statements, params = _shaped(f)
    return statements.page_of(bind, params, offset, limit)


def stream(conn: Connection, f: ListFilter, batch: int = 2000) -> Iterator[Row]:
    """Every row, fetched in batches through a server-side cursor: memory stays flat however many."""
    statements, params = _shaped(f)
    yield from statements.stream(conn, params, batch)
