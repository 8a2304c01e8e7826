"""The read side: sums over the counters (never over the graduates), per school of a province or
per department of a school, and the destination counts, with the views' filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from quxiang.stats.adapters.tables import (
    counters,
    departments,
    destination_counters,
    province_modules,
    school_counters,
    schools,
)
from quxiang.stats.domain.model import COUNTER_COLUMNS


@dataclass(frozen=True)
class Filter:
    """What a view is narrowed to; None: everything within the caller's scope."""

    province: str | None = None
    school_code: str | None = None
    department_id: str | None = None
    education_level: str | None = None
    graduation_year: int | None = None


def _conditions(table: object, f: Filter) -> list[ColumnElement[bool]]:
    c = table.c  # type: ignore[attr-defined]
    out = []
    if f.school_code is not None:
        out.append(c.school_code == f.school_code)
    if f.department_id is not None:
        out.append(c.department_id == f.department_id)
    if f.education_level is not None:
        out.append(c.education_level == f.education_level)
    if f.graduation_year is not None:
        out.append(c.graduation_year == f.graduation_year)
    return out


def _sums(table: object = counters) -> list[ColumnElement[int]]:
    c = table.c  # type: ignore[attr-defined]
    return [func.coalesce(func.sum(c[name]), 0).label(name) for name in COUNTER_COLUMNS]


def province_rows(conn: Connection, f: Filter) -> list[tuple[Row, dict[str, int]]]:
    """Each school of ``f.province`` (schools without graduates too), ordered by code, with its sums:
    one statement that finds the schools by their province index and sums their per-school counters
    (a few rows per school, by the primary key). Its text depends only on which filters are set, so
    the driver prepares it once and the server plans it once per connection."""
    t = school_counters
    joined = schools.outerjoin(t, and_(t.c.school_code == schools.c.code,
                                       *_conditions(t, Filter(education_level=f.education_level,
                                                              graduation_year=f.graduation_year))))
    query = (select(schools.c.code, schools.c.name, schools.c.agreement_type, schools.c.employment_settings,
                    schools.c.archive_settings, schools.c.hukou_settings, *_sums(t))
             .select_from(joined).where(schools.c.province == f.province)
             .group_by(schools.c.code, schools.c.name, schools.c.agreement_type, schools.c.employment_settings,
                       schools.c.archive_settings, schools.c.hukou_settings)
             .order_by(schools.c.code))
    return [(r, {c: int(getattr(r, c)) for c in COUNTER_COLUMNS}) for r in conn.execute(query)]


def department_rows(conn: Connection, f: Filter) -> Sequence[Row]:
    """Sums per department id of ``f.school_code``."""
    query = (select(counters.c.department_id, *_sums()).where(*_conditions(counters, f))
             .group_by(counters.c.department_id))
    return conn.execute(query).all()


def departments_of(conn: Connection, school_code: str) -> Sequence[Row]:
    return conn.execute(select(departments).where(departments.c.school_code == school_code)
                        .order_by(departments.c.code)).all()


def department(conn: Connection, department_id: str) -> Row | None:
    return conn.execute(select(departments).where(departments.c.id == department_id)).first()


def school(conn: Connection, code: str) -> Row | None:
    return conn.execute(select(schools).where(schools.c.code == code)).first()


def modules_of(conn: Connection, province: str) -> set[str]:
    return set(conn.execute(select(province_modules.c.module).where(province_modules.c.province == province))
               .scalars())


def totals(conn: Connection, f: Filter) -> dict[str, int]:
    t = counters if f.department_id is not None else school_counters
    query = select(*_sums(t)).where(*_conditions(t, f))
    if f.province is not None:
        query = query.where(t.c.school_code.in_(select(schools.c.code).where(schools.c.province == f.province)))
    return dict(conn.execute(query).one()._mapping)


def destination_counts(conn: Connection, f: Filter) -> dict[str, int]:
    t = destination_counters
    query = (select(t.c.destination_code, func.sum(t.c.count)).where(*_conditions(t, f))
             .group_by(t.c.destination_code))
    if f.province is not None:
        query = query.where(t.c.school_code.in_(select(schools.c.code).where(schools.c.province == f.province)))
    return {code: int(n) for code, n in conn.execute(query) if n}
