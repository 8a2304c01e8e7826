"""Importing a school's roster file: validate the whole file, then write it in one transaction.

Two streaming passes over the uploaded file (spooled to disk by the caller):
1. validation: every row through ``RosterChecker`` plus the checks that need the database (a 考生号
   of another school, an identity number already held by another 考生号 of this school). The job's
   ``processed`` figure is committed every ``PROGRESS_EVERY`` rows in its own short transaction, so
   ``GET .../imports/<id>`` shows progress. Any error: the job is ``rejected`` with the errors (at
   most ``MAX_ERRORS``) and nothing is written.
2. writing, in one transaction: new 考生号 inserted (version 1), changed rows updated (version + 1),
   unchanged rows untouched; one ``records.graduate.registered`` per new or changed graduate
   (sequence = version). Rows and outbox rows go to the database in batches, not held to the end.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from quxiang.common.auth.principal import Principal
from quxiang.common.bus.outbox import outbox_row, write_rows
from quxiang.common.contracts.records import GRADUATE_REGISTERED
from quxiang.common.reference import education_levels
from quxiang.records.adapters import repository
from quxiang.records.adapters.repository import COMPARED, Existing
from quxiang.records.adapters.roster_files import open_rows
from quxiang.records.domain.roster import RosterChecker, RosterRow, RowError, missing_columns
from quxiang.records.service.context import Records

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1000
BATCH = 1000
MAX_ERRORS = 1000


class RosterRejected(Exception):
    def __init__(self, job_id: str, errors: list[RowError], total_errors: int) -> None:
        super().__init__(f"roster rejected: {total_errors} error(s)")
        self.job_id = job_id
        self.errors = errors
        self.total_errors = total_errors


class RosterConflict(Exception):
    """The database changed between validation and writing (a concurrent import)."""

    def __init__(self, job_id: str) -> None:
        super().__init__("concurrent roster change")
        self.job_id = job_id


@dataclass(frozen=True)
class ImportResult:
    job_id: str
    total: int
    created: int
    updated: int
    unchanged: int


@dataclass
class _Errors:
    kept: list[RowError]
    total: int = 0

    def add(self, errors: list[RowError]) -> None:
        self.total += len(errors)
        room = MAX_ERRORS - len(self.kept)
        if room > 0:
            self.kept.extend(errors[:room])


def start_job(service: Records, actor: Principal, school_code: str, filename: str | None) -> str:
    job_id = str(uuid.uuid4())
    with service.engine.begin() as conn:
        repository.create_job(conn, job_id, school_code, filename, actor.user_id)
    return job_id


def import_roster(service: Records, actor: Principal, school_code: str, job_id: str, path: Path,
                  kind: str) -> ImportResult:
    """Validate then write ``path`` (CSV or XLSX) as ``school_code``'s roster; see the module docs."""
    with service.engine.connect() as conn:
        departments = repository.department_codes(conn, school_code)
        existing = repository.existing_graduates(conn, school_code)
    holders = {e.identity_hash: exam for exam, e in existing.items()}
    try:
        total = _validate(service, school_code, job_id, path, kind, departments, existing, holders)
        result = _write(service, school_code, job_id, path, kind, departments, existing, total)
    except RosterRejected as exc:
        _finish(service, job_id, status="rejected", error_count=exc.total_errors,
                errors=[e.to_dict() for e in exc.errors])
        raise
    except IntegrityError as exc:
        _finish(service, job_id, status="failed", error_count=0, errors=None)
        raise RosterConflict(job_id) from exc
    except Exception:
        _finish(service, job_id, status="failed", error_count=0, errors=None)
        raise
    logger.info("roster import %s of school %s: %d rows, %d new, %d changed, %d unchanged", job_id, school_code,
                result.total, result.created, result.updated, result.unchanged)
    return result


def _finish(service: Records, job_id: str, **values: Any) -> None:
    with service.engine.begin() as conn:
        repository.update_job(conn, job_id, **values)


def _checker(departments: dict[str, str]) -> RosterChecker:
    return RosterChecker(departments=departments, education_levels=frozenset(education_levels().codes()))


def _validate(service: Records, school_code: str, job_id: str, path: Path, kind: str,
              departments: dict[str, str], existing: dict[str, Existing], holders: dict[str, str]) -> int:
    checker = _checker(departments)
    errors = _Errors(kept=[])
    total = 0
    pending: list[RosterRow] = []  # rows whose 考生号 is new to this school: checked against others in batches
    with open_rows(path, kind) as (header, rows):
        errors.add(missing_columns(header))
        if errors.total:
            raise RosterRejected(job_id, errors.kept, errors.total)
        for number, cells in rows:
            total += 1
            checked = checker.check(number, cells)
            if isinstance(checked, list):
                errors.add(checked)
            else:
                errors.add(_identity_conflicts(service, checked, holders))
                if checked.exam_number not in existing:
                    pending.append(checked)
            if len(pending) >= BATCH:
                errors.add(_taken_elsewhere(service, school_code, pending))
                pending = []
            if total % PROGRESS_EVERY == 0:
                _finish(service, job_id, processed=total)
    errors.add(_taken_elsewhere(service, school_code, pending))
    if errors.total:
        _finish(service, job_id, processed=total, total=total)
        raise RosterRejected(job_id, errors.kept, errors.total)
    _finish(service, job_id, processed=total, total=total, status="writing")
    return total


def _identity_conflicts(service: Records, row: RosterRow, holders: dict[str, str]) -> list[RowError]:
    for digest in service.cipher.digests(row.identity_number):
        holder = holders.get(digest)
        if holder is not None and holder != row.exam_number:
            return [RowError(row.row, "身份证号", f"已登记在本校考生号 {holder} 名下")]
    return []


def _taken_elsewhere(service: Records, school_code: str, rows: list[RosterRow]) -> list[RowError]:
    with service.engine.connect() as conn:
        taken = repository.exam_numbers_elsewhere(conn, school_code, [r.exam_number for r in rows])
    return [RowError(r.row, "考生号", "已属于其他学校的生源") for r in rows if r.exam_number in taken]


def _write(service: Records, school_code: str, job_id: str, path: Path, kind: str, departments: dict[str, str],
           existing: dict[str, Existing], total: int) -> ImportResult:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with service.unit_of_work() as uow, open_rows(path, kind) as (_, rows):
        for inserts, updates, events in _batches(service, school_code, _valid_rows(departments, rows), existing,
                                                 counts):
            repository.insert_graduates(uow.session, inserts)
            repository.update_graduates(uow.session, updates)
            write_rows(uow.session, [outbox_row(uow.catalogue.new_event(
                GRADUATE_REGISTERED, subject=data["graduate_id"], sequence=sequence, data=data,
                producer=uow.producer), uow.partitions) for sequence, data in events])
        repository.update_job(uow.session, job_id, status="succeeded", **counts)
        uow.commit()
    return ImportResult(job_id=job_id, total=total, **counts)


def _valid_rows(departments: dict[str, str], rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[RosterRow]:
    checker = _checker(departments)
    for number, cells in rows:
        checked = checker.check(number, cells)
        if isinstance(checked, list):  # the file was validated a moment ago: it cannot change on disk
            raise RuntimeError(f"row {number} became invalid between validation and writing")
        yield checked


Batch = tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]


def _batches(service: Records, school_code: str, rows: Iterator[RosterRow], existing: dict[str, Existing],
             counts: dict[str, int]) -> Iterator[Batch]:
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        values = _values(row)
        known = existing.get(row.exam_number)
        if known is None:
            graduate_id = str(uuid.uuid4())
            stamp = repository.now()
            inserts.append({"id": graduate_id, "school_code": school_code, "exam_number": row.exam_number,
                            **values, **_identity(service, row), "version": 1, "created_at": stamp,
                            "updated_at": stamp})
            events.append((1, _event_data(graduate_id, school_code, row)))
            counts["created"] += 1
        elif _changed(service, known, row, values):
            updates.append({"b_id": known.id, **values, **_identity(service, row), "version": known.version + 1,
                            "updated_at": repository.now()})
            events.append((known.version + 1, _event_data(known.id, school_code, row)))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        if len(inserts) + len(updates) >= BATCH:
            yield inserts, updates, events
            inserts, updates, events = [], [], []
    if inserts or updates:
        yield inserts, updates, events


def _values(row: RosterRow) -> dict[str, Any]:
    return {c: getattr(row, c) for c in COMPARED}


def _identity(service: Records, row: RosterRow) -> dict[str, str]:
    return {"identity_number_encrypted": service.cipher.encrypt(row.identity_number),
            "identity_number_hash": service.cipher.digest(row.identity_number)}


def _changed(service: Records, known: Existing, row: RosterRow, values: dict[str, Any]) -> bool:
    if tuple(values[c] for c in COMPARED) != known.values:
        return True
    return known.identity_hash not in service.cipher.digests(row.identity_number)


def _event_data(graduate_id: str, school_code: str, row: RosterRow) -> dict[str, Any]:
    """The GRADUATE_REGISTERED payload: never the identity number."""
    return {"graduate_id": graduate_id, "exam_number": row.exam_number, "student_number": row.student_number,
            "name": row.name, "school_code": school_code, "department_id": row.department_id,
            "education_level": row.education_level, "graduation_year": row.graduation_year}
