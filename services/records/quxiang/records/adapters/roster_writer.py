"""Writing a whole roster in the caller's transaction: COPY on PostgreSQL, batched statements
elsewhere (SQLite, the embedded mode and the tests).

The rows come as tuples in ``INSERT_COLUMNS`` / ``UPDATE_COLUMNS`` order from an iterator, so a
file of a hundred thousand graduates is streamed to the database, never held as statements. On
PostgreSQL new graduates are copied straight into ``graduates``; changed ones are copied into a
temporary table dropped at commit, then applied with one ``UPDATE ... FROM``. A unique violation
(another import took a 考生号 meanwhile) raises SQLAlchemy's ``IntegrityError`` on both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from quxiang.common.bus.bulk import COPY_NULL as NULL
from quxiang.common.bus.bulk import copy_lines, copy_text
from quxiang.records.adapters import repository
from quxiang.records.adapters.tables import graduates

# A row's roster values, in this order, between the id (and school, 考生号) and the identity number.
VALUES: tuple[str, ...] = ("student_number", "name", "gender", "department_id", "major_code", "major_name",
                           "education_level", "origin_region", "graduation_year", "phone", "email")
INSERT_COLUMNS: tuple[str, ...] = (
    "id", "school_code", "exam_number", *VALUES, "identity_number_encrypted", "identity_number_hash",
    "version", "created_at", "updated_at")
UPDATE_COLUMNS: tuple[str, ...] = (
    "id", *VALUES, "identity_number_encrypted", "identity_number_hash", "version", "updated_at")
BATCH = 1000        # rows per statement without COPY
LOOKUP_BATCH = 500  # 考生号 per lookup query on SQLite (bound parameters); PostgreSQL takes one array
PG_LOOKUP_BATCH = 20000


def _postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def exam_numbers_elsewhere(conn: Connection, school_code: str, exam_numbers: Sequence[str]) -> set[str]:
    """Which of ``exam_numbers`` belong to graduates of another school."""
    if not _postgresql(conn):
        taken: set[str] = set()
        for start in range(0, len(exam_numbers), LOOKUP_BATCH):
            taken |= repository.exam_numbers_elsewhere(conn, school_code, exam_numbers[start:start + LOOKUP_BATCH])
        return taken
    numbers = bindparam("numbers", type_=postgresql.ARRAY(String))
    query = select(graduates.c.exam_number).where(graduates.c.exam_number == any_(numbers),
                                                  graduates.c.school_code != school_code)
    taken = set()
    for start in range(0, len(exam_numbers), PG_LOOKUP_BATCH):
        chunk = list(exam_numbers[start:start + PG_LOOKUP_BATCH])
        taken.update(conn.execute(query, {"numbers": chunk}).scalars())
    return taken


def refresh_statistics(conn: Connection) -> None:
    """What the query planner knows of ``graduates`` brought up to date (ANALYZE samples, so it stays
    well under a second however large the table)."""
    conn.execute(text("ANALYZE graduates"))


def insert_graduates(conn: Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert new graduates (tuples in ``INSERT_COLUMNS`` order); returns how many."""
    if _postgresql(conn):
        return copy_lines(conn.connection.driver_connection,
                          f"COPY graduates ({', '.join(INSERT_COLUMNS)}) FROM STDIN", map(_insert_line, rows))
    return _batched(conn, rows, INSERT_COLUMNS, repository.insert_graduates)


class StaleRows(Exception):
    """A graduate changed since the import read it (another import, an edit): its version moved on."""


def update_graduates(conn: Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    """Overwrite changed graduates (tuples in ``UPDATE_COLUMNS`` order, by id, ``version`` the new one);
    returns how many. Each row is written only over the version before its own: if any graduate
    changed since it was read, raises ``StaleRows`` (two overlapping imports would otherwise write
    two different rows under the same version, and every copy downstream keep whichever came first)."""
    if not _postgresql(conn):
        def update(bind: Connection, batch: list[dict[str, Any]]) -> None:
            written = repository.update_graduates(bind, [{"b_id": r.pop("id"), **r} for r in batch])
            if written != len(batch):
                raise StaleRows(f"{len(batch) - written} of {len(batch)} graduates changed meanwhile")
        return _batched(conn, rows, UPDATE_COLUMNS, update)
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE roster_changes ON COMMIT DROP AS "  # noqa: S608 - constant names
                       f"SELECT {', '.join(UPDATE_COLUMNS)} FROM graduates WITH NO DATA")
    count = copy_lines(driver, f"COPY roster_changes ({', '.join(UPDATE_COLUMNS)}) FROM STDIN",
                       map(_update_line, rows))
    if count:
        assignments = ", ".join(f"{c} = c.{c}" for c in UPDATE_COLUMNS if c != "id")
        with driver.cursor() as cursor:
            cursor.execute(f"UPDATE graduates AS g SET {assignments} "  # noqa: S608 - constant names
                           "FROM roster_changes AS c WHERE g.id = c.id AND g.version = c.version - 1")
            if cursor.rowcount != count:
                raise StaleRows(f"{count - cursor.rowcount} of {count} graduates changed meanwhile")
    with driver.cursor() as cursor:
        cursor.execute("DROP TABLE roster_changes")
    return count


def _values_text(v: tuple[Any, ...]) -> str:
    """VALUES (11 items) as COPY text fields; the codes and ids are checked ASCII without specials."""
    student, name, gender, department, major, major_name, level, region, year, phone, email = v
    return (f"{NULL if student is None else copy_text(student)}\t{copy_text(name)}\t{gender}\t"
            f"{copy_text(department)}\t{major}\t{copy_text(major_name)}\t{level}\t{region}\t{year:d}\t"
            f"{NULL if phone is None else copy_text(phone)}\t{NULL if email is None else copy_text(email)}")


def _insert_line(r: tuple[Any, ...]) -> str:
    return (f"{r[0]}\t{copy_text(r[1])}\t{r[2]}\t{_values_text(r[3:14])}\t{r[14]}\t{r[15]}\t{r[16]:d}\t"
            f"{r[17].isoformat()}\t{r[18].isoformat()}")


def _update_line(r: tuple[Any, ...]) -> str:
    return f"{r[0]}\t{_values_text(r[1:12])}\t{r[12]}\t{r[13]}\t{r[14]:d}\t{r[15].isoformat()}"


def _batched(conn: Connection, rows: Iterable[tuple[Any, ...]], columns: tuple[str, ...],
             write: Any) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= BATCH:
            write(conn, batch)
            count += len(batch)
            batch = []
    if batch:
        write(conn, batch)
    return count + len(batch)
