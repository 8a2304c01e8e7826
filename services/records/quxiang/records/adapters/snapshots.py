"""Snapshot queries for rebuilding read models elsewhere (stats): the roster's dimensions and the
archive/hukou registrations, each with its version (the sequence its events carry), in pages ordered
by id. ``province`` limits them to that province's schools (the local ``schools`` table); None: all.
Never an identity number. A registration never submitted (a first draft) was never published and is
left out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from quxiang.records.adapters.tables import graduates, registrations, schools

MAX_LIMIT = 1000


def _page(conn: Connection, stmt: Select[Any], id_column: Any, cursor: str | None, limit: int,
          province: str | None, school_column: Any) -> tuple[list[dict[str, Any]], str | None]:
    if province is not None:
        stmt = stmt.where(school_column.in_(select(schools.c.code).where(schools.c.province == province)))
    if cursor:
        stmt = stmt.where(id_column > cursor)
    rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(id_column).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more and rows else None)


def graduate_page(conn: Connection, cursor: str | None, limit: int,
                  province: str | None) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(graduates.c.id, graduates.c.school_code, graduates.c.department_id, graduates.c.education_level,
                  graduates.c.graduation_year, graduates.c.version,
                  graduates.c.withdrawn_at.is_not(None).label("withdrawn"))
    return _page(conn, stmt, graduates.c.id, cursor, limit, province, graduates.c.school_code)


def registration_page(conn: Connection, module: str, cursor: str | None, limit: int,
                      province: str | None) -> tuple[list[dict[str, Any]], str | None]:
    stmt = (select(registrations.c.id, registrations.c.graduate_id, registrations.c.module, registrations.c.status,
                   registrations.c.version, registrations.c.approved_once.label("approval_stands"))
            .where(registrations.c.module == module, registrations.c.submitted_at.is_not(None)))
    return _page(conn, stmt, registrations.c.id, cursor, limit, province, registrations.c.school_code)
