"""Reading and writing the records tables through a session or a connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from quxiang.common.db import conflict_insert
from quxiang.common.text_search import searched
from quxiang.records.adapters.tables import (
    SEARCHED_CODES,
    SEARCHED_NAMES,
    departments,
    graduate_confirmations,
    graduates,
    identity_views,
    import_jobs,
    pending_work,
    schools,
    signing_records,
)

Bind = Session | Connection

# The roster columns compared to decide whether a re-imported row changed (identity: by hash).
COMPARED = ("student_number", "name", "gender", "department_id", "major_code", "major_name", "education_level",
            "origin_region", "graduation_year", "phone", "email")


def now() -> datetime:
    return datetime.now(UTC)


# --- schools and departments (the local copy of accounts') ---------------------------------------


def upsert_school(bind: Bind, code: str, name: str, province: str) -> None:
    exists = bind.execute(select(schools.c.code).where(schools.c.code == code)).first()
    if exists:
        bind.execute(update(schools).where(schools.c.code == code).values(name=name, province=province))
    else:
        bind.execute(insert(schools).values(code=code, name=name, province=province))


def upsert_department(bind: Bind, department_id: str, school_code: str, code: str, name: str) -> None:
    exists = bind.execute(select(departments.c.id).where(departments.c.id == department_id)).first()
    if exists:
        bind.execute(update(departments).where(departments.c.id == department_id).values(code=code, name=name))
    else:
        bind.execute(insert(departments).values(id=department_id, school_code=school_code, code=code, name=name))


def get_school(bind: Bind, code: str) -> Row | None:
    return bind.execute(select(schools).where(schools.c.code == code)).first()


def department_codes(bind: Bind, school_code: str) -> dict[str, str]:
    """Department code -> id for one school."""
    query = select(departments.c.code, departments.c.id).where(departments.c.school_code == school_code)
    return {code: id_ for code, id_ in bind.execute(query)}


# --- the roster -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    id: str
    version: int
    identity_hash: str
    values: tuple[Any, ...]  # COMPARED, in order
    withdrawn: bool = False  # 移出生源: a re-import leaves the row as it is


def existing_graduates(bind: Bind, school_code: str) -> dict[str, Existing]:
    """The school's graduates by 考生号, with what a re-import compares."""
    query = select(graduates.c.exam_number, graduates.c.id, graduates.c.version, graduates.c.identity_number_hash,
                   graduates.c.withdrawn_at.is_not(None), *(graduates.c[c] for c in COMPARED)
                   ).where(graduates.c.school_code == school_code)
    return {row[0]: Existing(row[1], row[2], row[3], tuple(row[5:]), bool(row[4])) for row in bind.execute(query)}


def exam_numbers_elsewhere(bind: Bind, school_code: str, exam_numbers: Sequence[str]) -> set[str]:
    if not exam_numbers:
        return set()
    query = select(graduates.c.exam_number).where(graduates.c.exam_number.in_(list(exam_numbers)),
                                                  graduates.c.school_code != school_code)
    return set(bind.execute(query).scalars())


def insert_graduates(bind: Bind, rows: list[dict[str, Any]]) -> None:
    if rows:
        bind.execute(insert(graduates), rows)


def update_graduates(bind: Bind, rows: list[dict[str, Any]]) -> int:
    """Each row: ``b_id`` plus the new values (the same keys in every row, ``version`` the new one),
    written only over the version before it; answers how many rows were written."""
    if not rows:
        return 0
    values = {k: bindparam(k) for k in rows[0] if k != "b_id"}
    statement = update(graduates).where(graduates.c.id == bindparam("b_id"),
                                        graduates.c.version == bindparam("b_before")).values(values)
    # One by one: an executemany's row count is not reliable on every driver.
    return sum(bind.execute(statement, {**row, "b_before": row["version"] - 1}).rowcount for row in rows)


@dataclass(frozen=True)
class GraduateFilter:
    school_code: str
    department_id: str | None = None
    education_level: str | None = None
    q: str | None = None
    withdrawn: bool = False  # the graduates on the roster, or (True) those taken off it
    graduation_year: int | None = None


def _conditions(f: GraduateFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        graduates.c.school_code == f.school_code,
        graduates.c.withdrawn_at.is_not(None) if f.withdrawn else graduates.c.withdrawn_at.is_(None)]
    if f.department_id:
        conditions.append(graduates.c.department_id == f.department_id)
    if f.education_level:
        conditions.append(graduates.c.education_level == f.education_level)
    if f.graduation_year:
        conditions.append(graduates.c.graduation_year == f.graduation_year)
    if f.q:
        conditions.append(searched(SEARCHED_NAMES, SEARCHED_CODES, f.q))
    return conditions


def list_graduates(bind: Bind, f: GraduateFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    """A page of the roster, or of the graduates taken off it (each saying whether signing holds
    records of it: a withdrawn graduate signing recorded something for, which stayed off the roster
    because its identity number is held by another row, is the school's to resolve)."""
    conditions = _conditions(f)
    total = bind.execute(select(func.count()).select_from(graduates).where(*conditions)).scalar_one()
    held = (exists().where(signing_records.c.graduate_id == graduates.c.id) if f.withdrawn
            else literal(False)).label("signing_records_held")
    rows = bind.execute(select(graduates, departments.c.name.label("department_name"), held)
                        .outerjoin(departments, departments.c.id == graduates.c.department_id)
                        .where(*conditions).order_by(graduates.c.exam_number).offset(offset).limit(limit)).all()
    return list(rows), total


# Read on every request about a graduate: built once (building costs more than running it).
_GRADUATE = (select(graduates, departments.c.name.label("department_name"), schools.c.province.label("province"))
             .outerjoin(departments, departments.c.id == graduates.c.department_id)
             .outerjoin(schools, schools.c.code == graduates.c.school_code)
             .where(graduates.c.id == bindparam("graduate_id")))


# A graduate's own step (a submission) shares the row; taking the graduate off the roster locks it,
# so the two never cross.
_GRADUATE_FOR_SHARE = _GRADUATE.with_for_update(read=True, of=graduates)
_GRADUATE_FOR_UPDATE = _GRADUATE.with_for_update(of=graduates)


def get_graduate(bind: Bind, graduate_id: str, *, lock: str | None = None) -> Row | None:
    """One graduate with its department's name and its province; ``lock``: "share" or "update"."""
    statement = {None: _GRADUATE, "share": _GRADUATE_FOR_SHARE, "update": _GRADUATE_FOR_UPDATE}[lock]
    return bind.execute(statement, {"graduate_id": graduate_id}).first()


def set_withdrawal(bind: Bind, graduate_id: str, version: int, *, at: datetime | None, reason: str | None,
                   by: str | None) -> bool:
    """Take the graduate off the roster (``at`` set) or put it back (all None), over ``version``; the
    version moves on. False if the graduate changed meanwhile."""
    written = bind.execute(update(graduates).where(graduates.c.id == graduate_id, graduates.c.version == version)
                           .values(withdrawn_at=at, withdrawn_reason=reason, withdrawn_by=by, version=version + 1,
                                   updated_at=now()))
    if written.rowcount != 1:
        return False
    # The roster data did not change: a confirmation of the version before still holds (信息确认).
    bind.execute(update(graduate_confirmations).where(graduate_confirmations.c.graduate_id == graduate_id,
                                                      graduate_confirmations.c.graduate_version == version)
                 .values(graduate_version=version + 1))
    return True


# pending_work's name while the graduates signing held records of before the upgrade are unknown
SIGNING_RECORDS_BACKFILL = "signing_records_backfill"


def work_pending(bind: Bind, name: str) -> bool:
    return bind.execute(select(pending_work.c.name).where(pending_work.c.name == name)).first() is not None


def work_done(bind: Bind, name: str) -> bool:
    """True if ``name`` was pending."""
    return bind.execute(pending_work.delete().where(pending_work.c.name == name)).rowcount > 0


def roster_lock(school_code: str) -> str:
    """The key (``db.serialize_on``) of changes that decide who holds an identity number on the
    school's roster: an import's write, putting a graduate back. Taken before any graduate's row."""
    return f"records.roster:{school_code}"


def identity_holders(bind: Bind, school_code: str) -> dict[tuple[str, int], str]:
    """The school's graduates on the roster: (stored identity digest, graduation year) -> 考生号."""
    query = select(graduates.c.identity_number_hash, graduates.c.graduation_year, graduates.c.exam_number).where(
        graduates.c.school_code == school_code, graduates.c.withdrawn_at.is_(None))
    return {(digest, year): exam for digest, year, exam in bind.execute(query)}


def identity_holder(bind: Bind, school_code: str, digests: Sequence[str], graduation_year: int,
                    other_than: str) -> str | None:
    """The 考生号 of another graduate of the school on the roster, of the same graduation year, with
    one of ``digests``, if any (one person graduates here once a year at most; in another year again)."""
    return bind.execute(select(graduates.c.exam_number).where(
        graduates.c.school_code == school_code, graduates.c.identity_number_hash.in_(list(digests)),
        graduates.c.graduation_year == graduation_year, graduates.c.id != other_than,
        graduates.c.withdrawn_at.is_(None)).limit(1)).scalar()


def has_signing_records(bind: Bind, graduate_id: str) -> bool:
    return bind.execute(select(signing_records.c.graduate_id)
                        .where(signing_records.c.graduate_id == graduate_id)).first() is not None


def note_signing_record(bind: Bind, graduate_id: str, event_type: str, at: datetime) -> bool:
    """Signing holds something about the graduate; True the first time it is noted (one statement:
    every signing event beyond an invitation passes here)."""
    statement = (conflict_insert(bind, signing_records)
                 .values(graduate_id=graduate_id, event_type=event_type, recorded_at=at)
                 .on_conflict_do_nothing(index_elements=["graduate_id"]).returning(signing_records.c.graduate_id))
    return bind.execute(statement).first() is not None


def add_identity_view(bind: Bind, view_id: str, graduate_id: str, viewer_id: str, viewer_role: str,
                      purpose: str) -> None:
    bind.execute(insert(identity_views).values(id=view_id, graduate_id=graduate_id, viewer_id=viewer_id,
                                               viewer_role=viewer_role, purpose=purpose, viewed_at=now()))


# --- import jobs ----------------------------------------------------------------------------------


def create_job(bind: Bind, job_id: str, school_code: str, filename: str | None, created_by: str) -> None:
    bind.execute(insert(import_jobs).values(
        id=job_id, school_code=school_code, status="validating", filename=(filename or "")[:200] or None,
        total=None, processed=0, created=0, updated=0, unchanged=0, error_count=0, errors=None,
        created_by=created_by, created_at=now(), finished_at=None))


def update_job(bind: Bind, job_id: str, **values: Any) -> None:
    if values.get("status") in {"succeeded", "rejected", "failed"}:
        values.setdefault("finished_at", now())
    bind.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(**values))


def get_job(bind: Bind, job_id: str) -> Row | None:
    return bind.execute(select(import_jobs).where(import_jobs.c.id == job_id)).first()

