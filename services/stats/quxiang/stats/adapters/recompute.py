"""The read model computed the slow way, from the per-graduate table: what the counters must equal.
Used by ``qx-stats rebuild`` (and, per province, as the benchmark's baseline)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, column, delete, func, insert, literal, or_, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from quxiang.stats.adapters.queries import Filter
from quxiang.stats.adapters.store import aggregate_of
from quxiang.stats.adapters.tables import (
    aggregates,
    counters,
    destination_counters,
    graduates,
    school_counters,
    schools,
)
from quxiang.stats.domain.model import COUNTER_COLUMNS, MODULES, Aggregate, CounterKey

Bind = Session | Connection
CounterRows = dict[CounterKey, dict[str, int]]
DestinationRows = dict[tuple[CounterKey, str], int]
SchoolRows = dict[tuple[str, str, int], dict[str, int]]


def _figure_sums() -> list[ColumnElement[Any]]:
    cols: list[ColumnElement[Any]] = [func.count().label("total")]
    for m in MODULES:
        for state in ("registered", "review"):
            cols.append(func.sum(case((graduates.c[m.value] == state, 1), else_=0)).label(f"{m.value}_{state}"))
    return cols


def _key_columns() -> list[ColumnElement[Any]]:
    g = graduates.c
    return [g.school_code, func.coalesce(g.department_id, literal("")).label("department_id"),
            func.coalesce(g.education_level, literal("")).label("education_level"), g.graduation_year]


def _key(row: Row) -> CounterKey:
    return CounterKey(row.school_code, row.department_id, row.education_level, int(row.graduation_year))


def counters_from_graduates(bind: Bind) -> tuple[CounterRows, DestinationRows]:
    """GROUP BY over every graduate in the roster."""
    keys = _key_columns()
    in_roster = and_(graduates.c.roster_sequence > 0, graduates.c.withdrawn.is_(False))
    rows = bind.execute(select(*keys, *_figure_sums()).where(in_roster).group_by(*keys))
    out = {_key(r): {c: int(getattr(r, c) or 0) for c in COUNTER_COLUMNS} for r in rows}
    drows = bind.execute(select(*keys, graduates.c.destination_code, func.count().label("n"))
                         .where(in_roster, graduates.c.employment == "registered",
                                graduates.c.destination_code.is_not(None))
                         .group_by(*keys, graduates.c.destination_code))
    return out, {(_key(r), r.destination_code): int(r.n) for r in drows}


def stored_counters(bind: Bind) -> tuple[CounterRows, DestinationRows]:
    """The counters as the consumers left them (rows that are all zero are as good as absent)."""
    out = {}
    for r in bind.execute(select(counters)):
        values = {c: int(getattr(r, c)) for c in COUNTER_COLUMNS}
        if any(values.values()):
            out[_key(r)] = values
    drows = {(_key(r), r.destination_code): int(r.count) for r in bind.execute(select(destination_counters))
             if r.count}
    return out, drows


def school_rows(rows: CounterRows) -> SchoolRows:
    """The per-school roll-up of department-level counter rows."""
    out: SchoolRows = {}
    for k, v in rows.items():
        into = out.setdefault((k.school_code, k.education_level, k.graduation_year), dict.fromkeys(COUNTER_COLUMNS, 0))
        for c in COUNTER_COLUMNS:
            into[c] += v.get(c, 0)
    return {k: v for k, v in out.items() if any(v.values())}


def stored_school_counters(bind: Bind) -> SchoolRows:
    out = {}
    for r in bind.execute(select(school_counters)):
        values = {c: int(getattr(r, c)) for c in COUNTER_COLUMNS}
        if any(values.values()):
            out[(r.school_code, r.education_level, int(r.graduation_year))] = values
    return out


def replace_counters(bind: Bind, rows: CounterRows, drows: DestinationRows, chunk: int = 5000) -> None:
    """Replace all counters (department level, school roll-up, destinations) by these."""
    for table in (counters, school_counters, destination_counters):
        bind.execute(delete(table))
    values = [{**_key_values(k), **v} for k, v in rows.items()]
    for i in range(0, len(values), chunk):
        bind.execute(insert(counters), values[i:i + chunk])
    svalues = [{"school_code": s, "education_level": lvl, "graduation_year": y, **v}
               for (s, lvl, y), v in school_rows(rows).items()]
    for i in range(0, len(svalues), chunk):
        bind.execute(insert(school_counters), svalues[i:i + chunk])
    dvalues = [{**_key_values(k), "destination_code": code, "count": n} for (k, code), n in drows.items()]
    for i in range(0, len(dvalues), chunk):
        bind.execute(insert(destination_counters), dvalues[i:i + chunk])


def _key_values(key: CounterKey) -> dict[str, Any]:
    return {"school_code": key.school_code, "department_id": key.department_id,
            "education_level": key.education_level, "graduation_year": key.graduation_year}


def graduate_pages(bind: Bind, size: int) -> Iterator[tuple[Sequence[Row], Mapping[str, list[Aggregate]]]]:
    """Every graduate in id order, a page at a time, with its aggregates."""
    last = ""
    while True:
        page = bind.execute(select(graduates).where(graduates.c.id > last).order_by(graduates.c.id).limit(size)).all()
        if not page:
            return
        ids = [r.id for r in page]
        found: dict[str, list[Aggregate]] = {}
        for r in bind.execute(select(aggregates).where(aggregates.c.graduate_id.in_(ids))):
            found.setdefault(r.graduate_id, []).append(aggregate_of(r))
        yield page, found
        last = ids[-1]


def province_sums_by_school(conn: Connection, f: Filter) -> dict[str, dict[str, int]]:
    """The baseline: the province view's figures by a GROUP BY over every graduate's state."""
    g = graduates.c
    query = (select(g.school_code, *_figure_sums())
             .where(g.roster_sequence > 0, g.withdrawn.is_(False), g.school_code.in_(select(schools.c.code)
                                                             .where(schools.c.province == f.province)))
             .group_by(g.school_code))
    if f.graduation_year is not None:
        query = query.where(g.graduation_year == f.graduation_year)
    if f.education_level is not None:
        query = query.where(g.education_level == f.education_level)
    return {r.school_code: {c: int(getattr(r, c) or 0) for c in COUNTER_COLUMNS} for r in conn.execute(query)}


def unknown_schools(bind: Bind) -> dict[str, int]:
    """Schools with graduates on the roster that ``stat_schools`` does not hold, with how many."""
    rows = bind.execute(select(graduates.c.school_code, func.count())
                        .where(graduates.c.roster_sequence > 0, graduates.c.withdrawn.is_(False),
                               graduates.c.school_code.not_in(select(schools.c.code)))
                        .group_by(graduates.c.school_code)).all()
    return {str(code): int(n) for code, n in rows}


# --- standings before a reload (rebuild --from-services, or a replay) -----------------------------
# The reload empties stat_graduates and applies the sources' rows as events, so each graduate's
# standing is already recomputed when the rebuild checks it; the drift is what changed against the
# rows as they were. They are kept in a temporary table (a province's graduates would not fit in
# memory), which goes with the transaction.

_BEFORE = "stat_standings_before"
_STANDING = ("employment", "archive", "hukou", "destination_code")


def keep_standings(session: Session) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {_BEFORE}"))
    # constant names only: nothing of the request or the data goes into this statement
    session.execute(text(f"CREATE TEMPORARY TABLE {_BEFORE} AS SELECT id, {', '.join(_STANDING)} "  # noqa: S608
                         f"FROM {graduates.name}"))


def standings_changed(session: Session, samples: int) -> tuple[int, list[str]]:
    """How many graduates' standing differs from the kept one (a graduate only on one side counts),
    with up to ``samples`` of them described. Drops the kept table."""
    before = table_clause(_BEFORE, *(column(c) for c in ("id", *_STANDING)))
    now = graduates.c
    differs = or_(*(now[c].is_distinct_from(before.c[c]) for c in _STANDING))
    changed = (select(now.id, *(before.c[c] for c in _STANDING), *(now[c] for c in _STANDING))
               .select_from(graduates.outerjoin(before, before.c.id == now.id))
               .where(or_(before.c.id.is_(None), differs)))
    gone = select(before.c.id).select_from(before.outerjoin(graduates, now.id == before.c.id)).where(now.id.is_(None))
    rows = session.execute(changed.order_by(now.id)).all()
    missing = session.execute(gone.order_by(before.c.id)).scalars().all()
    described = [f"graduate {r[0]}: {'/'.join(str(v) for v in r[1:4])} -> {'/'.join(str(v) for v in r[5:8])}"
                 for r in rows[:samples]]
    described += [f"graduate {gid}: no longer in the sources" for gid in missing[: max(0, samples - len(described))]]
    session.execute(text(f"DROP TABLE IF EXISTS {_BEFORE}"))
    return len(rows) + len(missing), described
