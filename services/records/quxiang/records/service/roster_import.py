"""Importing a school's roster file: validate the whole file, then write it in one transaction.

1. validation, one streaming pass over the uploaded file (spooled to disk by the caller): every row
   through ``RosterChecker`` plus the checks that need the database (a 考生号 of another school, an
   identity number already held by another 考生号 of this school). The job's ``processed`` figure is
   committed in its own short transaction every ``PROGRESS_EVERY`` rows, at most once per
   ``PROGRESS_SECONDS``, so ``GET .../imports/<id>`` shows progress. Any error: the job is
   ``rejected`` with the errors (at most ``MAX_ERRORS``) and nothing is written. The valid rows are
   kept, normalised, as small tuples (``RosterRow``): the write does not read or check the file again.
2. writing, in one transaction: new 考生号 inserted (version 1), changed rows updated (version + 1),
   unchanged rows and those of graduates taken off the roster (移出生源) untouched; one event per
   new (``records.graduate.registered``) or changed (``records.graduate.updated``) graduate,
   sequence = version. Rows and outbox rows are streamed to
   the database (COPY on PostgreSQL, see ``adapters.roster_writer`` and ``quxiang.common.bus.bulk``).
   Identity numbers are encrypted (current key) and hashed only for rows that are written.
"""

from __future__ import annotations

import logging
import operator
import time
import uuid
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from quxiang.common.auth.principal import Principal
from quxiang.common.bus.bulk import TrustedEvents, copy_events, uuid4_strings
from quxiang.common.contracts.records import GRADUATE_REGISTERED, GRADUATE_UPDATED
from quxiang.common.db import reading, serialize_on
from quxiang.common.pii import mask_identity_number
from quxiang.common.reference import education_levels
from quxiang.common.times import china_today
from quxiang.records.adapters import repository, roster_writer
from quxiang.records.adapters.repository import Existing
from quxiang.records.adapters.roster_files import open_cells
from quxiang.records.domain.roster import RosterChecker, RosterRow, RowError, cells_in_order, missing_columns
from quxiang.records.service.context import Records

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 1000    # rows between looks at the clock
ANALYZE_AFTER_ROWS = 1000  # an import writing at least this many rows refreshes the planner's statistics
PROGRESS_SECONDS = 0.5   # at most one progress commit per this many seconds
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
    withdrawn: int = 0  # rows of graduates taken off the roster, left as they are


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
                  kind: str, *, confirm_year_changes: bool = False) -> ImportResult:
    """Validate then write ``path`` (CSV or XLSX) as ``school_code``'s roster; see the module docs.
    A row that moves a graduate to another graduation year is an error unless ``confirm_year_changes``:
    the year decides which season's lists and figures the graduate (and its agreements) count in, and a
    file of one cohort that holds a student of another (a repeater, an old master file) must not move
    him by accident."""
    with reading(service.engine) as conn:
        departments = repository.department_codes(conn, school_code)
        existing = repository.existing_graduates(conn, school_code)
    # A withdrawn row holds its identity number no more: a school that imported a student under a
    # wrong 考生号 takes that row off the roster and imports the right one. A row holds it for its own
    # graduation year only: the 本科 graduate of 2024 is this school's 硕士 of 2027 under a new 考生号.
    holders = {(e.identity_hash, e.values[YEAR]): exam for exam, e in existing.items() if not e.withdrawn}
    try:
        rows, total = _validate(service, school_code, job_id, path, kind, departments, existing, holders,
                                confirm_year_changes)
        result = _write(service, school_code, job_id, rows, existing, total, holders)
    except RosterRejected as exc:
        _finish(service, job_id, status="rejected", error_count=exc.total_errors,
                errors=[e.to_dict() for e in exc.errors])
        raise
    except (IntegrityError, roster_writer.StaleRows) as exc:  # another import or edit got there first
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
    return RosterChecker(departments=departments, education_levels=frozenset(education_levels().codes()),
                         today=china_today())


def _validate(service: Records, school_code: str, job_id: str, path: Path, kind: str,
              departments: dict[str, str], existing: dict[str, Existing],
              holders: dict[tuple[str, int], str], confirm_year_changes: bool) -> tuple[list[RosterRow], int]:
    """Every row checked; the valid rows, normalised, for the write (no second reading of the file)."""
    checker = _checker(departments)
    errors = _Errors(kept=[])
    total = 0
    kept: list[RosterRow] = []
    new: list[tuple[str, int]] = []  # (考生号, row) new to this school: checked against other schools' at the end
    last_progress = time.monotonic()
    with open_cells(path, kind) as (header, rows):
        errors.add(missing_columns(header))
        if errors.total:
            raise RosterRejected(job_id, errors.kept, errors.total)
        ordered = cells_in_order(header)
        check = checker.check_values
        for number, cells in rows:
            total += 1
            checked = check(number, ordered(cells))
            if isinstance(checked, list):
                errors.add(checked)
                kept = []  # the file is rejected: its rows are no longer needed
            else:
                if holders:
                    errors.add(_identity_conflicts(service, checked, holders))
                known = existing.get(checked.exam_number)
                if known is None:
                    new.append((checked.exam_number, number))
                elif not confirm_year_changes and not known.withdrawn \
                        and known.values[YEAR] != checked.graduation_year:
                    errors.add([_year_change_refused(checked, known.values[YEAR])])
                if not errors.total:
                    kept.append(checked)
            if total % PROGRESS_EVERY == 0 and time.monotonic() - last_progress >= PROGRESS_SECONDS:
                _finish(service, job_id, processed=total)
                last_progress = time.monotonic()
    errors.add(_taken_elsewhere(service, school_code, new))
    if errors.total:
        _finish(service, job_id, processed=total, total=total)
        raise RosterRejected(job_id, errors.kept, errors.total)
    _finish(service, job_id, processed=total, total=total, status="writing")
    return kept, total


def _identity_conflicts(service: Records, row: RosterRow, holders: dict[tuple[str, int], str]) -> list[RowError]:
    for digest in service.cipher.digests(row.identity_number):
        holder = holders.get((digest, row.graduation_year))
        if holder is not None and holder != row.exam_number:
            return [RowError(row.row, "身份证号", f"已登记在本校{row.graduation_year}届考生号 {holder} 名下")]
    return []


def _year_change_refused(row: RosterRow, year: int) -> RowError:
    return RowError(row.row, "毕业年份", f"该生已登记为{year}届，文件中为{row.graduation_year}届；"
                                      "确需改届别（如延期毕业）请选择“确认修改毕业年份”后重新导入")


def _taken_elsewhere(service: Records, school_code: str, rows: list[tuple[str, int]]) -> list[RowError]:
    with reading(service.engine) as conn:
        taken = roster_writer.exam_numbers_elsewhere(conn, school_code, [exam for exam, _ in rows])
    return [RowError(row, "考生号", "已属于其他学校的生源") for exam, row in rows if exam in taken]


def _write(service: Records, school_code: str, job_id: str, rows: list[RosterRow], existing: dict[str, Existing],
           total: int, holders: dict[tuple[str, int], str]) -> ImportResult:
    """One transaction: new graduates, changed ones, one event each, the job's outcome. The roster
    held (``repository.roster_lock``) and its identity numbers' holders read again: another import
    or a graduate put back since ``holders`` were read may hold a number this file brings."""
    new: list[RosterRow] = []
    changed: list[tuple[RosterRow, Existing]] = []
    cipher = service.cipher
    withdrawn = 0
    notices: list[dict[str, Any]] = []
    for row in rows:
        known = existing.get(row.exam_number)
        if known is None:
            new.append(row)
        elif known.withdrawn:
            withdrawn += 1  # 移出生源: the school puts the graduate back itself, not a file it imports again
            notices.append(RowError(row.row, "考生号", f"{row.exam_number} 已移出生源，本行未导入；如需恢复，"
                                                    "请在生源列表的“已移出”中恢复后再导入").to_dict())
        elif _compared(row) != known.values or not cipher.matches(known.identity_hash,
                                                                                          row.identity_number):
            changed.append((row, known))
            if known.values[YEAR] != row.graduation_year:
                notices.append(RowError(row.row, "毕业年份", f"{row.exam_number} 由{known.values[YEAR]}届改为"
                                                         f"{row.graduation_year}届").to_dict())
    unchanged = len(rows) - len(new) - len(changed) - withdrawn
    stamp = repository.now()
    new_ids = uuid4_strings(len(new))
    with service.unit_of_work() as uow:
        conn = uow.session.connection()
        serialize_on(conn, repository.roster_lock(school_code))
        now_held = repository.identity_holders(conn, school_code)
        if now_held != holders:
            errors = _Errors(kept=[])
            for row in (*new, *(row for row, _ in changed)):
                errors.add(_identity_conflicts(service, row, now_held))
            if errors.total:
                raise RosterRejected(job_id, errors.kept, errors.total)
        roster_writer.insert_graduates(conn, (
            (graduate_id, school_code, row.exam_number, *_values(row),
             cipher.encrypt(row.identity_number), cipher.digest(row.identity_number), 1, stamp, stamp)
            for graduate_id, row in zip(new_ids, new, strict=True)))
        roster_writer.update_graduates(conn, (
            (known.id, *_values(row), cipher.encrypt(row.identity_number),
             cipher.digest(row.identity_number), known.version + 1, stamp)
            for row, known in changed))
        registered = TrustedEvents(GRADUATE_REGISTERED, producer=uow.producer, partitions=uow.partitions,
                                   catalogue=uow.catalogue, occurred_at=stamp)
        updated = TrustedEvents(GRADUATE_UPDATED, producer=uow.producer, partitions=uow.partitions,
                                catalogue=uow.catalogue, occurred_at=stamp)
        school = _json(school_code)
        copy_events(uow.session, registered, ((graduate_id, 1, _event_json(graduate_id, school, row))
                                              for graduate_id, row in zip(new_ids, new, strict=True)))
        copy_events(uow.session, updated, ((known.id, known.version + 1, _event_json(known.id, school, row))
                                           for row, known in changed))
        repository.update_job(conn, job_id, status="succeeded", created=len(new), updated=len(changed),
                              unchanged=unchanged, withdrawn=withdrawn, notices=notices[:MAX_ERRORS] or None)
        uow.commit()
    if len(new) + len(changed) >= ANALYZE_AFTER_ROWS:
        # The planner's row counts for graduates would otherwise stay those of before the import until
        # autovacuum gets round to it (a minute or more, never where it is switched off): meanwhile the
        # 图7 lists of this school take nested loops planned for a handful of rows.
        with service.engine.begin() as conn:
            roster_writer.refresh_statistics(conn)
    return ImportResult(job_id=job_id, total=total, created=len(new), updated=len(changed), unchanged=unchanged,
                        withdrawn=withdrawn)


# A row's values as tuples: repository.COMPARED (what a re-import compares) and roster_writer.VALUES.
_compared = operator.itemgetter(*(RosterRow._fields.index(c) for c in repository.COMPARED))
_values = operator.itemgetter(*(RosterRow._fields.index(c) for c in roster_writer.VALUES))
YEAR = repository.COMPARED.index("graduation_year")  # in Existing.values


def _event_json(graduate_id: str, school_json: str, row: RosterRow) -> str:
    """The GRADUATE_REGISTERED / GRADUATE_UPDATED data as ``Event.to_json`` encodes it: the schema's
    fields in its order (quxiang.common.bus.bulk checks the first event of an import against the
    schema and that encoding). Never the identity number: its mask."""
    return (f'{{"graduate_id":{_json(graduate_id)},"exam_number":{_json(row.exam_number)},'
            f'"student_number":{_json_or_null(row.student_number)},"name":{_json(row.name)},'
            f'"school_code":{school_json},"department_id":{_json(row.department_id)},'
            f'"education_level":{_json(row.education_level)},"graduation_year":{row.graduation_year:d},'
            f'"gender":{_json(row.gender)},"major_code":{_json(row.major_code)},'
            f'"major_name":{_json(row.major_name)},'
            f'"identity_number_masked":{_json(mask_identity_number(row.identity_number))}}}')


_json = encode_basestring  # a str as JSON text, as Event.to_json writes it (no ASCII escaping)


def _json_or_null(value: str | None) -> str:
    return "null" if value is None else _json(value)
