"""The write side of the read model: the local directory (schools, departments, modules), each
graduate's row (locked while its events are applied), the aggregates, and the counter deltas, which
are summed per transaction and written just before the commit, one executemany per table."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from quxiang.common.db import conflict_insert, dialect_name
from quxiang.stats.adapters.tables import (
    COUNTER_KEY,
    SCHOOL_KEY,
    aggregates,
    counters,
    departments,
    destination_counters,
    graduates,
    province_modules,
    school_counters,
    schools,
)
from quxiang.stats.domain.model import (
    COUNTER_COLUMNS,
    Aggregate,
    CounterKey,
    Deltas,
    Graduate,
    Kind,
    Standing,
    State,
)

Bind = Session | Connection
_PENDING = "qx.stats.pending"


# --- the directory --------------------------------------------------------------------------------

def _ensure_school(bind: Bind, code: str, province: str = "") -> None:
    """A placeholder until the school's own event arrives (it fills in the name and province)."""
    bind.execute(conflict_insert(bind, schools).values(code=code, name=code, province=province)
                 .on_conflict_do_nothing(index_elements=["code"]))


def upsert_school(bind: Bind, code: str, name: str, province: str) -> None:
    stmt = conflict_insert(bind, schools).values(code=code, name=name, province=province)
    bind.execute(stmt.on_conflict_do_update(index_elements=["code"], set_={"name": name, "province": province}))


def set_agreement_type(bind: Bind, code: str, province: str, agreement_type: str, sequence: int) -> None:
    """The newest by the event's sequence: a late, older event changes nothing."""
    _ensure_school(bind, code, province)
    bind.execute(update(schools).where(schools.c.code == code, schools.c.agreement_type_sequence < sequence)
                 .values(agreement_type=agreement_type, agreement_type_sequence=sequence))


def set_settings(bind: Bind, code: str, module: str, completed: bool, sequence: int) -> None:
    _ensure_school(bind, code)
    flag, seq = schools.c[f"{module}_settings"], schools.c[f"{module}_settings_sequence"]
    bind.execute(update(schools).where(schools.c.code == code, seq < sequence)
                 .values({flag: completed, seq: sequence}))


def upsert_department(bind: Bind, department_id: str, school_code: str, code: str, name: str) -> None:
    values = {"school_code": school_code, "code": code, "name": name}
    bind.execute(conflict_insert(bind, departments).values(id=department_id, **values)
                 .on_conflict_do_update(index_elements=["id"], set_=values))


def enable_module(bind: Bind, province: str, module: str) -> None:
    bind.execute(conflict_insert(bind, province_modules).values(province=province, module=module)
                 .on_conflict_do_nothing(index_elements=["province", "module"]))


# --- graduates and aggregates ---------------------------------------------------------------------

def lock_graduate(bind: Bind, graduate_id: str) -> Row:
    """The graduate's row, created if new, locked until the commit (one statement): events of one
    graduate handled by two consumers at once are applied one after the other."""
    return bind.execute(_lock_graduate_statement(dialect_name(bind)), {"graduate_id": graduate_id}).one()


# The statements a consumer runs for every event are built once: building one (and its EXCLUDED
# alias) and computing its cache key took about half of the stats consumer's CPU.
@functools.cache
def _lock_graduate_statement(dialect: str) -> Insert:
    stmt = conflict_insert(dialect, graduates).values(id=bindparam("graduate_id"), roster_sequence=0, employment="none",
                                                  archive="none", hukou="none")
    return stmt.on_conflict_do_update(index_elements=["id"], set_={"id": stmt.excluded.id}).returning(*graduates.c)


@functools.cache
def _adding_statement(dialect: str, table: Any, key: tuple[str, ...], columns: tuple[str, ...]) -> Insert:
    """INSERT of a row of counts, or, when its key is there, the counts added to the row's."""
    stmt = conflict_insert(dialect, table)
    return stmt.on_conflict_do_update(index_elements=list(key),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in columns})


def graduate_of(row: Row | Mapping[str, Any]) -> Graduate:
    r = row._mapping if isinstance(row, Row) else row
    key = None
    if r["roster_sequence"] and not r["withdrawn"]:
        key = CounterKey(r["school_code"], r["department_id"] or "", r["education_level"] or "",
                         int(r["graduation_year"]))
    standing = Standing(State(r["employment"]), State(r["archive"]), State(r["hukou"]), r["destination_code"])
    return Graduate(key, standing)


# Built once, like the statements above: they run for every event.
_AGGREGATES_OF = select(aggregates.c.id, aggregates.c.kind, aggregates.c.status, aggregates.c.destination_code,
                        aggregates.c.approval_stands, aggregates.c.sequence
                        ).where(aggregates.c.graduate_id == bindparam("graduate_id"))
_NEW_AGGREGATE = aggregates.insert()
_AGGREGATE_CHANGED = update(aggregates).where(aggregates.c.id == bindparam("aggregate_id"))
_GRADUATE_CHANGED = update(graduates).where(graduates.c.id == bindparam("graduate_key"))


def graduate_aggregates(bind: Bind, graduate_id: str) -> list[tuple[Aggregate, int]]:
    """Every aggregate of the graduate with its sequence."""
    rows = bind.execute(_AGGREGATES_OF, {"graduate_id": graduate_id})
    return [(aggregate_of(r), r.sequence) for r in rows]


def aggregate_of(row: Row) -> Aggregate:
    return Aggregate(row.id, Kind(row.kind), row.status, row.destination_code, bool(row.approval_stands))


def put_aggregate(bind: Bind, aggregate: Aggregate, graduate_id: str, sequence: int, exists: bool) -> None:
    values = {"kind": aggregate.kind.value, "graduate_id": graduate_id, "sequence": sequence,
              "status": aggregate.status, "destination_code": aggregate.destination_code,
              "approval_stands": aggregate.approval_stands}
    if exists:
        bind.execute(_AGGREGATE_CHANGED, {"aggregate_id": aggregate.id, **values})
    else:
        bind.execute(_NEW_AGGREGATE, {"id": aggregate.id, **values})


def update_graduate(bind: Bind, graduate_id: str, values: Mapping[str, Any], at: datetime) -> None:
    """The columns named in ``values`` (the SET follows the names given, so each set of names is
    compiled once)."""
    bind.execute(_GRADUATE_CHANGED, {"graduate_key": graduate_id, **values, "updated_at": at})


def standing_values(standing: Standing) -> dict[str, Any]:
    return {"employment": standing.employment.value, "archive": standing.archive.value,
            "hukou": standing.hukou.value, "destination_code": standing.destination_code}


# --- counters -------------------------------------------------------------------------------------

def add_deltas(session: Session, deltas: Deltas) -> None:
    """Adds to this transaction's pending counter changes; they are written just before the commit."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = Deltas({}, {})
        if not sa_event.contains(session, "before_commit", _flush):
            sa_event.listen(session, "before_commit", _flush)
            sa_event.listen(session, "after_rollback", _discard)
    for key, values in deltas.counters.items():
        row = pending.counters.setdefault(key, {})
        for column, n in values.items():
            row[column] = row.get(column, 0) + n
    for dkey, n in deltas.destinations.items():
        pending.destinations[dkey] = pending.destinations.get(dkey, 0) + n


def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _flush(session: Session) -> None:
    pending: Deltas | None = session.info.pop(_PENDING, None)
    if pending:
        write_deltas(session, pending)


def _key_values(key: CounterKey) -> dict[str, Any]:
    return {"school_code": key.school_code, "department_id": key.department_id,
            "education_level": key.education_level, "graduation_year": key.graduation_year}


def write_deltas(bind: Bind, deltas: Deltas) -> None:
    """Adds ``deltas`` to the counters: one executemany per table, rows in key order (two
    transactions touching the same rows lock them in the same order)."""
    rows = []
    by_school: dict[tuple[str, str, int], dict[str, int]] = {}
    for key, values in sorted(deltas.counters.items(), key=lambda kv: _sort_key(kv[0])):
        if any(values.values()):
            rows.append({**_key_values(key), **{c: values.get(c, 0) for c in COUNTER_COLUMNS}})
            school = by_school.setdefault((key.school_code, key.education_level, key.graduation_year),
                                          dict.fromkeys(COUNTER_COLUMNS, 0))
            for column, n in values.items():
                school[column] += n
    _add(bind, counters, COUNTER_KEY, rows)
    _add(bind, school_counters, SCHOOL_KEY, [
        {"school_code": s, "education_level": lvl, "graduation_year": y, **v}
        for (s, lvl, y), v in sorted(by_school.items()) if any(v.values())])
    drows = [{**_key_values(key), "destination_code": code, "count": n}
             for (key, code), n in sorted(deltas.destinations.items(), key=lambda kv: (*_sort_key(kv[0][0]), kv[0][1]))
             if n]
    _add(bind, destination_counters, (*COUNTER_KEY, "destination_code"), drows, ("count",))


def _add(bind: Bind, table: Any, key: Sequence[str], rows: list[dict[str, Any]],
         columns: tuple[str, ...] = COUNTER_COLUMNS) -> None:
    """Every row (each with the key and every one of ``columns``) added in one executemany, in the
    rows' order."""
    if rows:
        bind.execute(_adding_statement(dialect_name(bind), table, tuple(key), columns), rows)


def _sort_key(key: CounterKey) -> tuple[str, str, str, int]:
    return (key.school_code, key.department_id, key.education_level, key.graduation_year)


def discard_pending(session: Session) -> None:
    """Forget this transaction's pending counter changes (a rebuild writes the counters itself)."""
    _discard(session)
