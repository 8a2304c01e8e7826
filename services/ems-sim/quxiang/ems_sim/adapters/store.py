"""Reading and writing records and idempotency keys on a connection inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from quxiang.common.db import conflict_insert
from quxiang.ems_sim.adapters.tables import TABLES, idempotency_keys
from quxiang.ems_sim.domain.records import Kind


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    # SQLite gives back the naive UTC wall time it stored.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _row(row: Any) -> dict[str, Any]:
    record = dict(row._mapping)
    record["updated_at"] = _utc(record["updated_at"])
    return record


def get_record(conn: Connection, kind: Kind, exam_number: str, *, for_update: bool = False) -> dict[str, Any] | None:
    table = TABLES[kind]
    query = select(table).where(table.c.exam_number == exam_number)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _row(row) if row else None


def insert_record(conn: Connection, kind: Kind, exam_number: str, values: Mapping[str, Any]) -> None:
    conn.execute(insert(TABLES[kind]).values(exam_number=exam_number, **values))


def update_record(conn: Connection, kind: Kind, exam_number: str, values: Mapping[str, Any]) -> None:
    table = TABLES[kind]
    conn.execute(update(table).where(table.c.exam_number == exam_number).values(**values))


def delete_record(conn: Connection, kind: Kind, exam_number: str) -> bool:
    table = TABLES[kind]
    return conn.execute(delete(table).where(table.c.exam_number == exam_number)).rowcount > 0


def page_records(conn: Connection, kind: Kind, *, school_code: str | None, updated_since: datetime | None,
                 after: str | None, limit: int, graduation_year: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` records in exam-number order, after the exam number ``after``."""
    table = TABLES[kind]
    query = select(table).order_by(table.c.exam_number).limit(limit)
    if school_code is not None:
        query = query.where(table.c.school_code == school_code)
    if graduation_year is not None:
        query = query.where(table.c.graduation_year == graduation_year)
    if updated_since is not None:
        # As UTC: SQLite keeps the wall clock of a value and drops its zone, and stored values are UTC.
        query = query.where(table.c.updated_at >= updated_since.astimezone(UTC))
    if after is not None:
        query = query.where(table.c.exam_number > after)
    return [_row(row) for row in conn.execute(query)]


@dataclass(frozen=True)
class StoredKey:
    fingerprint: str
    status: int
    body: str


def find_key(conn: Connection, key: str) -> StoredKey | None:
    row = conn.execute(select(idempotency_keys.c.fingerprint, idempotency_keys.c.status, idempotency_keys.c.body)
                       .where(idempotency_keys.c.key == key)).first()
    return StoredKey(row.fingerprint, row.status, row.body) if row else None


def claim_key(conn: Connection, key: str, fingerprint: str) -> None:
    """Insert the key first: a concurrent request with the same key waits on it, then fails unique."""
    conn.execute(insert(idempotency_keys).values(key=key, fingerprint=fingerprint, created_at=now()))


def find_keys(conn: Connection, keys: list[str]) -> dict[str, StoredKey]:
    """The stored keys among ``keys``, in one statement (the batch endpoint)."""
    if not keys:
        return {}
    rows = conn.execute(select(idempotency_keys.c.key, idempotency_keys.c.fingerprint, idempotency_keys.c.status,
                               idempotency_keys.c.body).where(idempotency_keys.c.key.in_(keys)))
    return {row.key: StoredKey(row.fingerprint, row.status, row.body) for row in rows}


def claim_key_if_new(conn: Connection, key: str, fingerprint: str) -> bool:
    """Insert the key unless it exists; False if it does (a concurrent holder is waited for first: a
    unique insert blocks until the other transaction ends). No error, so no savepoint is needed."""
    statement = conflict_insert(conn, idempotency_keys).values(key=key, fingerprint=fingerprint, created_at=now())
    statement = statement.on_conflict_do_nothing(index_elements=["key"]).returning(idempotency_keys.c.key)
    return conn.execute(statement).first() is not None  # rowcount is not reliable here (-1 on psycopg)


def complete_key(conn: Connection, key: str, status: int, body: str) -> None:
    conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key).values(status=status, body=body))
