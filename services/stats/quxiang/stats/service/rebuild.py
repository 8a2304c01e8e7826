"""``qx-stats rebuild``: recompute the read model and repair what drifted.

In one transaction, with the read model's tables locked against the consumers (they wait; the
views keep answering): optionally replay an event log into emptied graduate and aggregate tables;
recompute each graduate's standing from its aggregates; recompute every counter by a GROUP BY over
the graduates; compare with the counters as they were; write the recomputed ones. The report says
how many graduates and counter rows differed. ``fix=False`` reports and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, text, update
from sqlalchemy.orm import Session

from quxiang.common.bus.consumer import Handler
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.events import Event
from quxiang.stats.adapters import recompute, store
from quxiang.stats.adapters.tables import aggregates, counters, destination_counters, graduates, school_counters
from quxiang.stats.domain.model import COUNTER_COLUMNS, standing
from quxiang.stats.service.context import Stats

SAMPLES = 20


@dataclass
class RebuildReport:
    replayed: int = 0
    graduates: int = 0
    graduates_fixed: int = 0
    counter_rows: int = 0
    counter_rows_fixed: int = 0
    school_rows: int = 0
    school_rows_fixed: int = 0
    destination_rows: int = 0
    destination_rows_fixed: int = 0
    fixed: bool = True
    source: str = ""
    samples: list[str] = field(default_factory=list)
    # graduates counted under schools the read model does not know (their directory events never
    # came): no figure of the province shows them; only accounts announcing the directory again helps
    unknown_schools: dict[str, int] = field(default_factory=dict)

    @property
    def drift(self) -> int:
        return self.graduates_fixed + self.counter_rows_fixed + self.school_rows_fixed + self.destination_rows_fixed

    def lines(self) -> list[str]:
        verb = "fixed" if self.fixed else "found (not fixed: dry run)"
        first = (f"loaded {self.replayed} rows from {self.source}" if self.source else
                 f"replayed {self.replayed} events" if self.replayed else "no replay: from the stored aggregates")
        out = [first,
               f"graduates checked {self.graduates}, standing drift {verb}: {self.graduates_fixed}",
               f"counter rows {self.counter_rows}, drift {verb}: {self.counter_rows_fixed}",
               f"school counter rows {self.school_rows}, drift {verb}: {self.school_rows_fixed}",
               f"destination counter rows {self.destination_rows}, drift {verb}: {self.destination_rows_fixed}"]
        if self.unknown_schools:
            listed = ", ".join(f"{code} ({n} graduate(s))" for code, n in sorted(self.unknown_schools.items()))
            out.append(f"schools the read model does not know, left out of every province's figures: {listed}; "
                       "run qx-accounts republish-directory (and qx-records / qx-signing republish-settings)")
        return out + [f"  {s}" for s in self.samples]


def rebuild(stats: Stats, events: Iterable[Event] | None = None, *, fix: bool = True, page: int = 5000,
            handlers: Mapping[str, Handler] | None = None,
            load: Callable[[Session], int] | None = None, source: str = "") -> RebuildReport:
    """``events`` (with the consumers' ``handlers``): replay them instead of trusting the stored
    aggregates; events of other types are skipped, an event id seen twice counts once."""
    if events is not None and handlers is None:
        raise ValueError("replaying events needs the consumers' handlers")
    report = RebuildReport(fixed=fix, source=source if load is not None else "")
    with stats.unit_of_work() as uow:
        session = uow.session
        _lock(session)
        before, dbefore = recompute.stored_counters(session)
        sbefore = recompute.stored_school_counters(session)
        reloaded = events is not None or load is not None
        if reloaded:
            recompute.keep_standings(session)
        if events is not None:
            report.replayed = _replay(uow, events, handlers or {})
        elif load is not None:
            for t in (aggregates, graduates, counters, school_counters, destination_counters):
                session.execute(delete(t))
            report.replayed = load(session)
        _fix_standings(session, report, page)
        if reloaded:  # the reload recomputed every standing: the drift is against the rows before it
            report.graduates_fixed, samples = recompute.standings_changed(session, SAMPLES)
            report.samples[:0] = samples
            del report.samples[SAMPLES:]
        after, dafter = recompute.counters_from_graduates(session)
        report.counter_rows, report.destination_rows = len(after), len(dafter)
        report.unknown_schools = recompute.unknown_schools(session)
        safter = recompute.school_rows(after)
        report.school_rows = len(safter)
        report.counter_rows_fixed = _diff(before, after, report, "counters")
        report.school_rows_fixed = _diff(sbefore, safter, report, "school counters")
        report.destination_rows_fixed = _diff(dbefore, dafter, report, "destinations")
        store.discard_pending(session)
        if fix:
            recompute.replace_counters(session, after, dafter)
            uow.commit()
        else:
            uow.rollback()
    return report


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.name for t in (graduates, aggregates, counters, school_counters, destination_counters))
        session.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))


def _replay(uow: UnitOfWork, events: Iterable[Event], handlers: Mapping[str, Handler]) -> int:
    session = uow.session
    for t in (aggregates, graduates, counters, school_counters, destination_counters):
        session.execute(delete(t))
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen or event.type not in handlers:
            continue
        seen.add(event.event_id)
        handlers[event.type](event, uow)
    return len(seen)


def _fix_standings(session: Session, report: RebuildReport, page: int) -> None:
    now = datetime.now(UTC)
    stmt = (update(graduates).where(graduates.c.id == bindparam("gid"))
            .values(employment=bindparam("employment"), archive=bindparam("archive"), hukou=bindparam("hukou"),
                    destination_code=bindparam("destination_code"), updated_at=now))
    for rows, found in recompute.graduate_pages(session, page):
        fixes = []
        for row in rows:
            report.graduates += 1
            expected = standing(found.get(row.id, ()))
            if store.graduate_of(row).standing != expected:
                fixes.append({"gid": row.id, **store.standing_values(expected)})
                if len(report.samples) < SAMPLES:
                    report.samples.append(f"graduate {row.id}: {row.employment}/{row.archive}/{row.hukou} -> "
                                          f"{expected.employment}/{expected.archive}/{expected.hukou}")
        if fixes:
            session.execute(stmt, fixes)
        report.graduates_fixed += len(fixes)


def _diff(before: Mapping[object, object], after: Mapping[object, object], report: RebuildReport, what: str) -> int:
    differing = [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    for k in sorted(differing, key=str)[: max(0, SAMPLES - len(report.samples))]:
        report.samples.append(f"{what} {k}: {_short(before.get(k))} -> {_short(after.get(k))}")
    return len(differing)


def _short(values: object) -> object:
    if isinstance(values, dict):
        return {c: values[c] for c in COUNTER_COLUMNS if values.get(c)} or 0
    return values or 0
