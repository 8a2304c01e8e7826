"""The read side: sums over the counters (never over the graduates), per school of a province or
per department of a school, and the destination counts, with the views' filters."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, func, select
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


_FILTERS = ("school_code", "department_id", "education_level", "graduation_year")


def _params(f: Filter, names: Sequence[str] = _FILTERS) -> dict[str, object]:
    """The filter's values by parameter name, only those set: the names are the statement's shape."""
    return {name: getattr(f, name) for name in names if getattr(f, name) is not None}


def _conditions(table: object, names: frozenset[str]) -> list[ColumnElement[bool]]:
    c = table.c  # type: ignore[attr-defined]
    return [c[name] == bindparam(name) for name in _FILTERS if name in names]


def _sums(table: object = counters) -> list[ColumnElement[int]]:
    c = table.c  # type: ignore[attr-defined]
    return [func.coalesce(func.sum(c[name]), 0).label(name) for name in COUNTER_COLUMNS]


# The statements below are built once per shape (which filters are set): building the sums of
# every counter column and the statement's cache key took a third of a statistics request's CPU.
@functools.lru_cache(maxsize=64)
def _province_rows(names: frozenset[str]) -> Select:
    t = school_counters
    joined = schools.outerjoin(t, and_(t.c.school_code == schools.c.code, *_conditions(t, names)))
    return (select(schools.c.code, schools.c.name, schools.c.agreement_type, schools.c.employment_settings,
                   schools.c.archive_settings, schools.c.hukou_settings, *_sums(t))
            .select_from(joined).where(schools.c.province == bindparam("province"))
            .group_by(schools.c.code, schools.c.name, schools.c.agreement_type, schools.c.employment_settings,
                      schools.c.archive_settings, schools.c.hukou_settings)
            .order_by(schools.c.code))


def province_rows(conn: Connection, f: Filter) -> list[tuple[Row, dict[str, int]]]:
    """Each school of ``f.province`` (schools without graduates too), ordered by code, with its sums:
    one statement that finds the schools by their province index and sums their per-school counters
    (a few rows per school, by the primary key). Its text depends only on which filters are set, so
    the driver prepares it once and the server plans it once per connection."""
    params = _params(f, ("education_level", "graduation_year"))
    query = _province_rows(frozenset(params))
    return [(r, {c: int(getattr(r, c)) for c in COUNTER_COLUMNS})
            for r in conn.execute(query, {**params, "province": f.province})]


@functools.lru_cache(maxsize=64)
def _department_rows(names: frozenset[str]) -> Select:
    return (select(counters.c.department_id, *_sums()).where(*_conditions(counters, names))
            .group_by(counters.c.department_id))


def department_rows(conn: Connection, f: Filter) -> Sequence[Row]:
    """Sums per department id of ``f.school_code``."""
    params = _params(f)
    return conn.execute(_department_rows(frozenset(params)), params).all()


# Looked up on every statistics request: built once.
_DEPARTMENTS_OF = select(departments).where(departments.c.school_code == bindparam("school_code")).order_by(
    departments.c.code)
_DEPARTMENT = select(departments).where(departments.c.id == bindparam("department_id"))
_SCHOOL = select(schools).where(schools.c.code == bindparam("code"))
_MODULES_OF = select(province_modules.c.module).where(province_modules.c.province == bindparam("province"))


def departments_of(conn: Connection, school_code: str) -> Sequence[Row]:
    return conn.execute(_DEPARTMENTS_OF, {"school_code": school_code}).all()


def department(conn: Connection, department_id: str) -> Row | None:
    return conn.execute(_DEPARTMENT, {"department_id": department_id}).first()


def school(conn: Connection, code: str) -> Row | None:
    return conn.execute(_SCHOOL, {"code": code}).first()


def modules_of(conn: Connection, province: str) -> set[str]:
    return set(conn.execute(_MODULES_OF, {"province": province}).scalars())


def _in_province(table: object) -> ColumnElement[bool]:
    c = table.c  # type: ignore[attr-defined]
    return c.school_code.in_(select(schools.c.code).where(schools.c.province == bindparam("province")))


@functools.lru_cache(maxsize=64)
def _totals(by_department: bool, names: frozenset[str]) -> Select:
    t = counters if by_department else school_counters
    query = select(*_sums(t)).where(*_conditions(t, names))
    return query.where(_in_province(t)) if "province" in names else query


def totals(conn: Connection, f: Filter) -> dict[str, int]:
    params = _params(f, ("province", *_FILTERS))
    return dict(conn.execute(_totals(f.department_id is not None, frozenset(params)), params).one()._mapping)


@functools.lru_cache(maxsize=64)
def _destination_counts(names: frozenset[str]) -> Select:
    t = destination_counters
    query = (select(t.c.destination_code, func.sum(t.c.count)).where(*_conditions(t, names))
             .group_by(t.c.destination_code))
    return query.where(_in_province(t)) if "province" in names else query


def destination_counts(conn: Connection, f: Filter) -> dict[str, int]:
    params = _params(f, ("province", *_FILTERS))
    return {code: int(n) for code, n in conn.execute(_destination_counts(frozenset(params)), params) if n}
