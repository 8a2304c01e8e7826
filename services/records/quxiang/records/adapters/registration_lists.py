"""The archive and hukou lists (图7): every graduate in scope with its registration (or none yet),
filtered, searched, sorted, paged, or streamed whole for an export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.engine import Connection, Row

from quxiang.common.db import page_by_key
from quxiang.records.adapters.repository import Bind
from quxiang.records.adapters.tables import departments, graduates, registrations, schools

NONE_STATUS = "none"

# Sort keys the API accepts -> columns; ties are broken by 考生号, which is unique.
SORT_COLUMNS = {
    "exam_number": graduates.c.exam_number,
    "name": graduates.c.name,
    "school": graduates.c.school_code,
    "department": departments.c.name,
    "major": graduates.c.major_code,
    "education_level": graduates.c.education_level,
    "origin_region": graduates.c.origin_region,
    "status": func.coalesce(registrations.c.status, NONE_STATUS),
    "transfer_type": registrations.c.transfer_type,
    "updated_at": registrations.c.updated_at,
}


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


def _like(text: str) -> str:
    return "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"


def _base(f: ListFilter) -> Select:
    joined = (graduates.join(schools, schools.c.code == graduates.c.school_code)
              .outerjoin(departments, departments.c.id == graduates.c.department_id)
              .outerjoin(registrations, and_(registrations.c.graduate_id == graduates.c.id,
                                             registrations.c.module == f.module)))
    return select(graduates.c.id).select_from(joined).where(*_conditions(f))


def _conditions(f: ListFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.province:
        conditions.append(schools.c.province == f.province)
    if f.school_code:
        conditions.append(graduates.c.school_code == f.school_code)
    if f.department_id:
        conditions.append(graduates.c.department_id == f.department_id)
    if f.major:
        conditions.append(or_(graduates.c.major_code == f.major.upper(), graduates.c.major_name.like(_like(f.major))))
    if f.education_level:
        conditions.append(graduates.c.education_level == f.education_level)
    if f.status == NONE_STATUS:
        conditions.append(registrations.c.id.is_(None))
    elif f.status:
        conditions.append(registrations.c.status == f.status)
    if f.transfer_type:
        conditions.append(registrations.c.transfer_type == f.transfer_type)
    if f.origin_region:
        conditions.append(_region_condition(f.origin_region))
    if f.graduation_year:
        conditions.append(graduates.c.graduation_year == f.graduation_year)
    if f.identity_hashes:
        conditions.append(graduates.c.identity_number_hash.in_(list(f.identity_hashes)))
    elif f.q:
        like = _like(f.q)
        conditions.append(or_(graduates.c.name.like(like), graduates.c.exam_number.like(like),
                              graduates.c.student_number.like(like)))
    return conditions


def _region_condition(code: str) -> ColumnElement[bool]:
    """A province (440000 or 44) or a city (440100 or 4401) takes every region within it."""
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    elif len(code) == 6 and code.endswith("00"):
        code = code[:4]
    if len(code) < 6:
        return graduates.c.origin_region.like(code + "%")
    return graduates.c.origin_region == code


def _rows(f: ListFilter) -> Select:
    key = SORT_COLUMNS[f.sort]
    order = [key.desc() if f.descending else key.asc()]
    if f.sort != "exam_number":
        order.append(graduates.c.exam_number.asc())
    return (_base(f).with_only_columns(
        graduates.c.id, graduates.c.exam_number, graduates.c.student_number, graduates.c.name,
        graduates.c.school_code, schools.c.name.label("school_name"), graduates.c.department_id,
        departments.c.name.label("department_name"), graduates.c.major_code, graduates.c.major_name,
        graduates.c.education_level, graduates.c.origin_region, graduates.c.graduation_year,
        graduates.c.identity_number_encrypted, registrations.c.id.label("registration_id"),
        registrations.c.status, registrations.c.transfer_type, registrations.c.receiving_unit,
        registrations.c.receiving_department, registrations.c.address, registrations.c.postcode,
        registrations.c.recipient, registrations.c.phone, registrations.c.transfer_number,
        registrations.c.submitted_at, registrations.c.decided_at, registrations.c.updated_at,
        maintain_column_froms=True)
        .order_by(*order))


def page(bind: Bind, f: ListFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    total = bind.execute(select(func.count()).select_from(_base(f).subquery())).scalar_one()
    return list(bind.execute(page_by_key(_rows(f), graduates.c.id, offset, limit))), total


def stream(conn: Connection, f: ListFilter, batch: int = 2000) -> Iterator[Row]:
    """Every row, fetched in batches through a server-side cursor: memory stays flat however many."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(_rows(f))
    yield from result
