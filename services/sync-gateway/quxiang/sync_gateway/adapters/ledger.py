"""Reading and writing the sync ledger.

``apply`` runs inside the consumer's transaction (no HTTP there); ``claim`` and ``settle`` are the
worker's two short transactions around its HTTP calls: a claimed row carries a lease (a token and an
expiry), so no two workers deliver one slot at once and a slot's writes reach the EMS in order, and
a result is written only by the lease's holder and only as far as it is still true (a newer desired
version that arrived meanwhile stays pending).
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quxiang.common.db import conflict_insert, dialect_name
from quxiang.sync_gateway.adapters.tables import FAILED, PENDING, SYNCED, sync_graduates, sync_records, sync_schools
from quxiang.sync_gateway.domain.ordering import Held, merged_anchor, supersedes
from quxiang.sync_gateway.domain.records import DESTINATION, Desired

NOTIFY_CHANNEL = "qx_sync"
Bind = Session | Connection


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every time in the ledger is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _postgres(bind: Bind) -> bool:
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    return dialect.name == "postgresql"


# ``apply``'s statements, built once: it runs for every event the consumer takes, and building an
# upsert of twenty columns cost more than running it.
_HELD = (select(sync_records.c.id, sync_records.c.aggregate_id, sync_records.c.sequence, sync_records.c.anchor_at)
         .where(sync_records.c.exam_number == bindparam("exam_number"), sync_records.c.kind == bindparam("kind"))
         .with_for_update())
_SUPERSEDE = (update(sync_records).where(sync_records.c.id == bindparam("row_id"))
              .values(version=sync_records.c.version + 1))  # the record's columns come as parameters


# Whether an INSERT wrote its row is read from RETURNING: SQLAlchemy reports an INSERT's rowcount as
# -1 (true) unless asked to keep it, which made a first insert that lost its race look like a win.
@functools.cache
def _first_insert(dialect: str) -> Any:
    return (conflict_insert(dialect, sync_records).on_conflict_do_nothing(index_elements=["exam_number", "kind"])
            .returning(sync_records.c.id))


def _held_row(bind: Bind, exam_number: str, kind: str) -> Any:
    return bind.execute(_HELD, {"exam_number": exam_number, "kind": kind}).first()


def apply(bind: Bind, desired: Desired, now: datetime) -> bool:
    """Make ``desired`` the slot's record if it is newer than what the slot holds (domain.ordering);
    return whether it did. The slot is locked for the rest of the transaction. The graduate's name and
    department are the roster's as sync-gateway last heard them (``record_graduate``), not the event's."""
    desired = _with_roster(bind, desired)
    row = _held_row(bind, desired.exam_number, desired.kind)
    if row is None:
        values = _desired_values(desired, desired.anchor_at, now)
        inserted = bind.execute(_first_insert(dialect_name(bind)), {"version": 1, "created_at": now, **values})
        if inserted.first() is not None:
            _notify(bind)
            return True
        row = _held_row(bind, desired.exam_number, desired.kind)  # a concurrent first insert won
    held = Held(row.aggregate_id, row.sequence, utc(row.anchor_at))  # type: ignore[arg-type]
    if not supersedes(held, desired.aggregate_id, desired.sequence, desired.anchor_at):
        return False
    anchor = merged_anchor(held, desired.aggregate_id, desired.anchor_at)
    bind.execute(_SUPERSEDE, {"row_id": row.id, **_desired_values(desired, anchor, now)})
    _notify(bind)
    return True


# --- the roster's names ----------------------------------------------------------------------------

# Read under a share lock: a roster correction (``record_graduate``) holds the row's lock from its
# upsert to its commit, so either it waits for this transaction's ledger row and corrects it, or this
# transaction waits for the correction and reads the corrected name.
_ROSTER = (select(sync_graduates.c.name, sync_graduates.c.department_id, sync_graduates.c.graduation_year,
                  sync_graduates.c.education_level, sync_graduates.c.roster_sequence)
           .where(sync_graduates.c.graduate_id == bindparam("graduate_id")).with_for_update(read=True))
# The slot's rows locked in id order before they change, the order ``settle`` writes a round in (the
# two deadlocked otherwise).
_LOCK_SLOTS = (select(sync_records.c.id).where(sync_records.c.exam_number == bindparam("exam"))
               .order_by(sync_records.c.id).with_for_update())
# Whether a ledger row names the graduate otherwise than the roster now does (name, 毕业年份, 学历层次).
# A new name of None keeps each row's own (``fill_cohort`` of a placeholder, whose name may be behind).
_NEW_NAME = func.coalesce(bindparam("new_name", type_=String), sync_records.c.name)
_WHO_DIFFERS = or_(sync_records.c.name != _NEW_NAME,
                   sync_records.c.graduation_year.is_distinct_from(bindparam("new_year", type_=Integer)),
                   sync_records.c.education_level.is_distinct_from(bindparam("new_level")))
_NEW_WHO = {"name": _NEW_NAME, "graduation_year": bindparam("new_year", type_=Integer),
            "education_level": bindparam("new_level")}
# Destination records go to the EMS again with the new name, year or level: the platform owns them
# there (the lock rule), so nobody else can correct them.
_CORRECT_NAME = (update(sync_records)
                 .where(sync_records.c.exam_number == bindparam("exam"),
                        sync_records.c.graduate_id == bindparam("graduate"),
                        sync_records.c.kind == DESTINATION, _WHO_DIFFERS)
                 .values(**_NEW_WHO, version=sync_records.c.version + 1,
                         key_round=sync_records.c.key_round + 1, status=PENDING, attempts=0, last_error=None,
                         failed_at=None, next_attempt_at=bindparam("now"), updated_at=bindparam("now"),
                         pending_since=bindparam("now")))
# Archive and hukou records stay editable in the EMS, and sending the whole record again would undo
# an EMS user's edit: the ledger takes the name (what a pending delivery sends), and reconciliation
# re-sends a synced one the EMS still holds as the platform's, leaving one edited there as it is.
_RENAME_EDITABLE = (update(sync_records)
                    .where(sync_records.c.exam_number == bindparam("exam"),
                           sync_records.c.graduate_id == bindparam("graduate"),
                           sync_records.c.kind != DESTINATION, _WHO_DIFFERS)
                    # another body needs another key: the EMS refuses a key used with a different body
                    # (422), and an attempt with the old name may have landed on the old key
                    .values(**_NEW_WHO, key_round=sync_records.c.key_round + 1,
                            recheck_after=bindparam("now")))
_CORRECT_DEPARTMENT = (update(sync_records)
                       .where(sync_records.c.exam_number == bindparam("exam"),
                              sync_records.c.graduate_id == bindparam("graduate"),
                              sync_records.c.department_id.is_distinct_from(bindparam("new_department")))
                       .values(department_id=bindparam("new_department")))


@functools.cache
def _roster_placeholder(dialect: str) -> Any:
    return conflict_insert(dialect, sync_graduates).on_conflict_do_nothing(index_elements=["graduate_id"])


@functools.cache
def _roster_upsert(dialect: str) -> Any:
    statement = conflict_insert(dialect, sync_graduates)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["graduate_id"],
        set_={"exam_number": excluded.exam_number, "school_code": excluded.school_code, "name": excluded.name,
              "department_id": excluded.department_id, "graduation_year": excluded.graduation_year,
              "education_level": excluded.education_level, "roster_sequence": excluded.roster_sequence},
        where=sync_graduates.c.roster_sequence < excluded.roster_sequence).returning(sync_graduates.c.graduate_id)


def _with_roster(bind: Bind, desired: Desired) -> Desired:
    row = bind.execute(_ROSTER, {"graduate_id": desired.graduate_id}).first()
    if row is None:
        # Not heard of yet (its roster event is on another queue): the event's name holds the place,
        # under the same lock a later roster event takes.
        bind.execute(_roster_placeholder(dialect_name(bind)), {
            "graduate_id": desired.graduate_id, "exam_number": desired.exam_number,
            "school_code": desired.school_code, "name": desired.name, "department_id": desired.department_id,
            "graduation_year": desired.graduation_year, "education_level": desired.education_level,
            "roster_sequence": 0})
        row = bind.execute(_ROSTER, {"graduate_id": desired.graduate_id}).first()
    # A placeholder (version 0: made from an event, or from the ledger by migration 0007) is only the
    # lock's row; the event's own name is newer than it may be.
    if row.roster_sequence == 0 or ((row.name, row.graduation_year, row.education_level, row.department_id)
                                    == (*desired.who, desired.department_id)):
        return desired
    if desired.roster_version is not None and desired.roster_version > row.roster_sequence:
        # records named the graduate as a newer roster version than this copy has heard of (its roster
        # event is still on the way): the event's name is the newer one
        return desired
    if row.graduation_year is None:  # heard of before the copy kept the cohort (0009): the event's holds
        return dataclasses.replace(desired, name=row.name, department_id=row.department_id)
    return dataclasses.replace(desired, name=row.name, department_id=row.department_id,
                               graduation_year=row.graduation_year, education_level=row.education_level)


@dataclass(frozen=True)
class RosterEntry:
    """A graduate as records' roster events describe it (``records.graduate.registered|updated``)."""

    graduate_id: str
    exam_number: str
    school_code: str
    name: str
    department_id: str | None
    sequence: int  # the roster row's version
    graduation_year: int | None = None
    education_level: str | None = None


def record_graduate(bind: Bind, entry: RosterEntry, now: datetime) -> int:
    """Keep the roster's newest name, 毕业年份, 学历层次 and department of a graduate; a new name, year
    or level goes to the EMS again on the graduate's destination record (a new version under a new
    key) and into the ledger's archive and hukou records (see ``_RENAME_EDITABLE``), a department only
    changes the ledger's scope. A stale or repeated event changes nothing. Returns how many records go
    to the EMS again."""
    upserted = bind.execute(_roster_upsert(dialect_name(bind)), {
        "graduate_id": entry.graduate_id, "exam_number": entry.exam_number, "school_code": entry.school_code,
        "name": entry.name, "department_id": entry.department_id, "graduation_year": entry.graduation_year,
        "education_level": entry.education_level, "roster_sequence": entry.sequence}).first()
    if upserted is None:
        return 0
    keys = {"exam": entry.exam_number, "graduate": entry.graduate_id}
    if not bind.execute(_LOCK_SLOTS, {"exam": entry.exam_number}).all():
        return 0  # nothing mirrored yet (a first registration): later records take the name from here
    bind.execute(_CORRECT_DEPARTMENT, {**keys, "new_department": entry.department_id})
    return _correct_who(bind, keys, entry.name, entry.graduation_year, entry.education_level, now)


def _correct_who(bind: Bind, keys: dict[str, str], name: str | None, year: int | None, level: str | None,
                 now: datetime) -> int:
    who = {"new_name": name, "new_year": year, "new_level": level, "now": now}
    bind.execute(_RENAME_EDITABLE, {**keys, **who})
    corrected = bind.execute(_CORRECT_NAME, {**keys, **who}).rowcount
    if corrected:
        _notify(bind)
    return corrected


_UNDATED_ROSTER = (select(sync_graduates.c.exam_number, sync_graduates.c.name, sync_graduates.c.roster_sequence).where(
    sync_graduates.c.graduate_id == bindparam("graduate_id"), sync_graduates.c.graduation_year.is_(None))
    .with_for_update())


def fill_cohort(bind: Bind, graduate_id: str, graduation_year: int, education_level: str | None,
                now: datetime) -> int | None:
    """A graduate the ledger heard of before it kept 毕业年份 and 学历层次 (migration 0009), given them
    from records' roster: the copy takes them and the mirrored records go to the EMS again as a
    roster correction does. A graduate whose copy has a year already is left alone (a roster event
    since is newer than any snapshot read before it). Returns how many destination records go again
    (archive and hukou ones are compared with the EMS first, see ``_RENAME_EDITABLE``), None when the
    graduate needed nothing."""
    row = bind.execute(_UNDATED_ROSTER, {"graduate_id": graduate_id}).first()
    if row is None:
        return None
    bind.execute(update(sync_graduates).where(sync_graduates.c.graduate_id == graduate_id)
                 .values(graduation_year=graduation_year, education_level=education_level))
    keys = {"exam": row.exam_number, "graduate": graduate_id}
    bind.execute(_LOCK_SLOTS, {"exam": row.exam_number}).all()
    # A placeholder's name is the event's that made it, which a later event's may have overtaken on
    # the ledger rows (``_with_roster``): only the year and level are the roster's here.
    name = row.name if row.roster_sequence else None
    return _correct_who(bind, keys, name, graduation_year, education_level, now)


def _desired_values(desired: Desired, anchor: datetime, now: datetime) -> dict[str, Any]:
    return {"exam_number": desired.exam_number, "kind": desired.kind, "graduate_id": desired.graduate_id,
            "name": desired.name, "school_code": desired.school_code, "department_id": desired.department_id,
            "graduation_year": desired.graduation_year, "education_level": desired.education_level,
            "aggregate_id": desired.aggregate_id, "sequence": desired.sequence, "anchor_at": anchor,
            "event_id": desired.event_id, "event_type": desired.event_type, "occurred_at": desired.occurred_at,
            "record": desired.record, "key_round": 0, "status": PENDING, "attempts": 0, "last_error": None,
            "pending_since": desired.occurred_at,
            "next_attempt_at": now, "updated_at": now, "failed_at": None}


def _notify(bind: Bind) -> None:
    """Wake the workers at commit (PostgreSQL folds the notifications of a transaction into one)."""
    if _postgres(bind):
        bind.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


# --- the worker ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    exam_number: str
    kind: str
    school_code: str
    name: str
    record: dict[str, Any]
    version: int
    idempotency_key: str
    occurred_at: datetime
    attempts: int
    lease: str
    pending_since: datetime | None = None  # since when this version waits (None: since occurred_at)
    graduation_year: int | None = None
    education_level: str | None = None


def idempotency_key(event_id: str, key_round: int) -> str:
    """The source event's id; a re-sync by reconciliation needs a new write, so it adds its round."""
    return event_id if not key_round else f"{event_id}.r{key_round}"


# The worker's statements, built once: a worker claims and settles several times a second, and
# building the claim (a locking subquery, twelve columns returned) cost more than running it.
_DUE = (select(sync_records.c.id)
        .where(sync_records.c.status == PENDING, sync_records.c.next_attempt_at <= bindparam("now"),
               or_(sync_records.c.leased_until.is_(None), sync_records.c.leased_until < bindparam("now")))
        .order_by(sync_records.c.next_attempt_at).limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True))
_CLAIM = (update(sync_records).where(sync_records.c.id.in_(_DUE.scalar_subquery()))
          .values(lease=bindparam("lease"), leased_until=bindparam("leased_until"))
          .returning(sync_records.c.id, sync_records.c.exam_number, sync_records.c.kind,
                     sync_records.c.school_code, sync_records.c.name, sync_records.c.record,
                     sync_records.c.version, sync_records.c.event_id, sync_records.c.key_round,
                     sync_records.c.occurred_at, sync_records.c.attempts, sync_records.c.next_attempt_at,
                     sync_records.c.pending_since, sync_records.c.graduation_year,
                     sync_records.c.education_level))


def claim(engine: Engine, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Claimed]:
    """Lease up to ``limit`` due pending rows (oldest due first). PostgreSQL skips rows another
    worker has locked; SQLite's one writer serializes claims anyway."""
    now = now or datetime.now(UTC)
    lease = str(uuid.uuid4())
    with engine.begin() as conn:  # one statement: the due rows are locked, leased and read at once
        rows = conn.execute(_CLAIM, {"now": now, "limit": limit, "lease": lease,
                                     "leased_until": now + timedelta(seconds=lease_seconds)}).all()
    rows.sort(key=lambda r: (utc(r.next_attempt_at), r.id))
    return [Claimed(r.id, r.exam_number, r.kind, r.school_code, r.name, r.record, r.version,
                    idempotency_key(r.event_id, r.key_round), utc(r.occurred_at), r.attempts, lease,  # type: ignore[arg-type]
                    utc(r.pending_since), r.graduation_year, r.education_level)
            for r in rows]


@dataclass(frozen=True)
class Settlement:
    claimed: Claimed
    status: str                  # synced, pending (retry later), failed
    at: datetime
    error: str | None = None
    next_attempt_at: datetime | None = None
    write: str | None = None
    lag_ms: int | None = None
    counted: bool = True                 # the attempt counts toward the limit (a throttled one does not)
    hold_until: datetime | None = None   # in doubt: no attempt of the slot before then


_SYNCED = (update(sync_records)
           .where(sync_records.c.id == bindparam("b_id"), sync_records.c.lease == bindparam("b_lease"),
                  sync_records.c.version == bindparam("b_version"))
           .values(status=SYNCED, attempts=bindparam("b_attempts"), last_error=None, updated_at=bindparam("b_at"),
                   lease=None, leased_until=None, synced_at=bindparam("b_at"), synced_version=bindparam("b_version"),
                   ems_write=bindparam("b_write"), lag_ms=bindparam("b_lag")))
# Still leased by this round: not updated, a newer version came meanwhile (it stays pending).
# The round's rows locked in id order first, the order a roster correction locks a graduate's rows in
# (``_LOCK_SLOTS``): taken as the updates come, the two deadlocked.
_LOCK_ROUND = (select(sync_records.c.id).where(sync_records.c.id.in_(bindparam("ids", expanding=True)))
               .order_by(sync_records.c.id).with_for_update())
_STILL_LEASED = select(sync_records.c.id).where(sync_records.c.id.in_(bindparam("ids", expanding=True)),
                                                sync_records.c.lease.in_(bindparam("leases", expanding=True)))
# Written by the executemany: released, synced at this round's time (a lost lease: neither).
_WRITTEN = (select(func.count()).select_from(sync_records)
            .where(sync_records.c.id.in_(bindparam("ids", expanding=True)),
                   sync_records.c.synced_at.in_(bindparam("ats", expanding=True)), sync_records.c.lease.is_(None)))
_MINE = and_(sync_records.c.id == bindparam("b_id"), sync_records.c.lease == bindparam("b_lease"))
# A synced row whose slot got a newer version meanwhile: released, the version it delivered noted.
_SYNCED_OLDER = (update(sync_records).where(_MINE)
                 .values(lease=None, leased_until=None, synced_at=bindparam("b_at"),
                         synced_version=bindparam("b_version"), ems_write=bindparam("b_write"),
                         lag_ms=bindparam("b_lag")))
_UNSYNCED = (update(sync_records).where(_MINE, sync_records.c.version == bindparam("b_version"))
             .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), last_error=bindparam("b_error"),
                     updated_at=bindparam("b_at"), next_attempt_at=bindparam("b_next"),
                     failed_at=bindparam("b_failed_at"), lease=None, leased_until=bindparam("b_hold")))
# Released; an attempt in doubt keeps the slot held (``leased_until``) until it can no longer land.
_RELEASE = update(sync_records).where(_MINE).values(lease=None, leased_until=bindparam("b_hold"))


def settle(engine: Engine, settlements: Iterable[Settlement]) -> int:
    """Write the results of a round in one transaction; return how many still held their lease.
    The synced rows (nearly all of them) in one executemany, which is all a usual round runs; the rest,
    and a synced row whose slot got a newer version meanwhile, row by row."""
    settlements = list(settlements)
    synced = [s for s in settlements if s.status == SYNCED]
    written = 0
    held: set[int] = set()
    with engine.begin() as conn:
        if settlements and _postgres(conn):
            conn.execute(_LOCK_ROUND, {"ids": [s.claimed.id for s in settlements]}).all()
        if synced:
            updated = conn.execute(_SYNCED, [
                {"b_id": s.claimed.id, "b_lease": s.claimed.lease, "b_version": s.claimed.version,
                 "b_attempts": s.claimed.attempts + 1, "b_at": s.at, "b_write": s.write, "b_lag": s.lag_ms}
                for s in synced]).rowcount
            if conn.dialect.supports_sane_multi_rowcount and updated == len(synced):
                written += updated  # the usual round: every row still leased at the version sent
            else:
                held = set(conn.execute(_STILL_LEASED, {"ids": [s.claimed.id for s in synced],
                                                        "leases": list({s.claimed.lease for s in synced})}).scalars())
                released = [s.claimed.id for s in synced if s.claimed.id not in held]
                if released:
                    written += conn.execute(_WRITTEN, {"ids": released,
                                                       "ats": list({s.at for s in synced})}).scalar_one()
        for s in settlements:
            c = s.claimed
            mine = {"b_id": c.id, "b_lease": c.lease}
            if s.status == SYNCED:
                if c.id in held:
                    written += conn.execute(_SYNCED_OLDER, {**mine, "b_at": s.at, "b_version": c.version,
                                                            "b_write": s.write, "b_lag": s.lag_ms}).rowcount
                continue
            done = conn.execute(_UNSYNCED, {
                **mine, "b_version": c.version, "b_status": s.status, "b_attempts": c.attempts + s.counted,
                "b_error": s.error, "b_at": s.at, "b_next": s.next_attempt_at or s.at,
                "b_failed_at": s.at if s.status == FAILED else None, "b_hold": s.hold_until}).rowcount
            written += done or conn.execute(_RELEASE, {**mine, "b_hold": s.hold_until}).rowcount
    return written


# --- operators -----------------------------------------------------------------------------------

def retry_failed(engine: Engine, ids: Sequence[int] | None = None, schools: Sequence[str] | None = None,
                 now: datetime | None = None, kinds: Sequence[str] | None = None) -> int:
    """Failed rows back to pending with a fresh budget and a fresh idempotency key (the row may have
    changed since its key was used, say its name, and the EMS refuses a key with another body);
    ``ids`` / ``schools`` / ``kinds`` narrow it."""
    now = now or datetime.now(UTC)
    condition = [sync_records.c.status == FAILED]
    if ids is not None:
        condition.append(sync_records.c.id.in_(list(ids)))
    if schools is not None:
        condition.append(sync_records.c.school_code.in_(list(schools)))
    if kinds is not None:
        condition.append(sync_records.c.kind.in_(list(kinds)))
    with engine.begin() as conn:
        count = conn.execute(update(sync_records).where(*condition).values(
            status=PENDING, attempts=0, key_round=sync_records.c.key_round + 1, next_attempt_at=now, updated_at=now,
            failed_at=None, pending_since=now)).rowcount
        if count:
            _notify(conn)
    return count


def resync(conn: Connection, row_id: int, now: datetime) -> bool:
    """Reconciliation found the EMS differing from a synced record: deliver it again under a new key."""
    done = conn.execute(update(sync_records).where(sync_records.c.id == row_id, sync_records.c.status == SYNCED)
                        .values(status=PENDING, key_round=sync_records.c.key_round + 1, attempts=0,
                                next_attempt_at=now, updated_at=now, last_error="reconciliation: drift",
                                pending_since=now)).rowcount
    if done:
        _notify(conn)
    return bool(done)


# --- renamed archive and hukou records ------------------------------------------------------------

def due_rechecks(bind: Bind, now: datetime, limit: int) -> list[Any]:
    """Synced archive and hukou rows whose graduate was renamed (or given another year or level),
    oldest first."""
    return bind.execute(select(sync_records.c.id, sync_records.c.exam_number, sync_records.c.kind,
                               sync_records.c.record, sync_records.c.name, sync_records.c.graduation_year,
                               sync_records.c.education_level)
                        .where(sync_records.c.recheck_after <= now, sync_records.c.status == SYNCED)
                        .order_by(sync_records.c.recheck_after).limit(limit)).all()


def rechecked(bind: Bind, row_id: int, checked_at: datetime) -> None:
    """Done with the row's recheck, unless it was renamed again since ``checked_at``'s round began."""
    bind.execute(update(sync_records).where(sync_records.c.id == row_id, sync_records.c.recheck_after <= checked_at)
                 .values(recheck_after=None))


def get_record(bind: Bind, row_id: int) -> Any:
    return bind.execute(select(sync_records).where(sync_records.c.id == row_id)).first()


def upsert_school(bind: Bind, code: str, name: str, province: str) -> None:
    statement = conflict_insert(bind, sync_schools).values(code=code, name=name, province=province)
    bind.execute(statement.on_conflict_do_update(index_elements=["code"], set_={"name": name, "province": province}))


def schools_of_province(bind: Bind, province: str) -> dict[str, str]:
    rows = bind.execute(select(sync_schools.c.code, sync_schools.c.name).where(sync_schools.c.province == province))
    return {r.code: r.name for r in rows}


def school_name(bind: Bind, school_code: str) -> str | None:
    return bind.execute(select(sync_schools.c.name).where(sync_schools.c.code == school_code)).scalar()


def province_of(bind: Bind, school_code: str) -> str | None:
    return bind.execute(select(sync_schools.c.province).where(sync_schools.c.code == school_code)).scalar()


def counts(bind: Bind) -> dict[str, int]:
    rows = bind.execute(select(sync_records.c.status, func.count()).group_by(sync_records.c.status))
    return {status: count for status, count in rows}


def insert_rows(bind: Bind, rows: list[dict[str, Any]]) -> None:
    """Tests and benchmarks: ledger rows as they are."""
    bind.execute(insert(sync_records), rows)
