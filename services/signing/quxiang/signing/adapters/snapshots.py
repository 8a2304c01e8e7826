"""Snapshot queries for rebuilding read models elsewhere (stats): agreements and destination
registrations, each with its version (the sequence its events carry), in pages ordered by id.
``province`` limits them to that province's schools (the local ``schools`` table); None: all. A
destination registration never submitted (a first draft) was never published and is left out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal, select
from sqlalchemy.engine import Connection

from quxiang.signing.adapters.destination_tables import destination_registrations
from quxiang.signing.adapters.tables import agreements, schools

MAX_LIMIT = 1000
AGREEMENT_DESTINATION = "10"  # 签就业协议形式就业: what every agreement event carries (service.online)


def _page(conn: Connection, stmt: Select[Any], table: Any, cursor: str | None, limit: int,
          province: str | None) -> tuple[list[dict[str, Any]], str | None]:
    if province is not None:
        stmt = stmt.where(table.c.school_code.in_(select(schools.c.code).where(schools.c.province == province)))
    if cursor:
        stmt = stmt.where(table.c.id > cursor)
    rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(table.c.id).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more and rows else None)


def agreement_page(conn: Connection, cursor: str | None, limit: int,
                   province: str | None) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(agreements.c.id, agreements.c.graduate_id, agreements.c.status, agreements.c.version,
                  literal(AGREEMENT_DESTINATION).label("destination_code"))
    return _page(conn, stmt, agreements, cursor, limit, province)


def destination_page(conn: Connection, cursor: str | None, limit: int,
                     province: str | None) -> tuple[list[dict[str, Any]], str | None]:
    t = destination_registrations
    stmt = (select(t.c.id, t.c.graduate_id, t.c.status, t.c.version, t.c.destination_code)
            .where(t.c.submitted_at.is_not(None)))
    return _page(conn, stmt, t, cursor, limit, province)
