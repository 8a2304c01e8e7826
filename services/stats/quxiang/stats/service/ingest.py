"""Applying events to the read model. Each graduate's row is locked while its event is applied; an
event whose sequence is not newer than what is known of its aggregate (the roster row, an agreement,
a registration) changes nothing, and the counters move only by the difference between the
graduate's figures before and after: redeliveries, duplicates and events out of order leave the
counters as they would be had each aggregate's latest event come alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from quxiang.stats.adapters import store
from quxiang.stats.domain.model import Aggregate, CounterKey, Graduate, Kind, deltas, standing


def apply_roster(session: Session, graduate_id: str, sequence: int, school_code: str, department_id: str | None,
                 education_level: str | None, graduation_year: int, at: datetime, *, withdrawn: bool = False) -> bool:
    """records.graduate.registered/updated/withdrawn: the graduate's roster dimensions, and whether it
    is off the roster (then counted nowhere). Answers whether the read model changed."""
    row = store.lock_graduate(session, graduate_id)
    if row.roster_sequence >= sequence:
        return False
    before = store.graduate_of(row)
    key = None if withdrawn else CounterKey(school_code, department_id or "", education_level or "", graduation_year)
    after = replace(before, key=key)
    store.update_graduate(session, graduate_id, {
        "roster_sequence": sequence, "school_code": school_code, "department_id": department_id,
        "education_level": education_level, "graduation_year": graduation_year, "withdrawn": withdrawn}, at)
    store.add_deltas(session, deltas(before, after))
    return True


def apply_aggregate(session: Session, aggregate: Aggregate, graduate_id: str, sequence: int, at: datetime) -> bool:
    """An agreement, destination registration or archive/hukou registration changed: keep its
    newest status and recompute the graduate's standing. Answers whether the read model changed."""
    row = store.lock_graduate(session, graduate_id)
    known = {a.id: (a, seq) for a, seq in store.graduate_aggregates(session, graduate_id)}
    current = known.get(aggregate.id)
    if current is not None and current[1] >= sequence:
        return False
    store.put_aggregate(session, aggregate, graduate_id, sequence, exists=current is not None)
    known[aggregate.id] = (aggregate, sequence)
    before = store.graduate_of(row)
    after = Graduate(before.key, standing(a for a, _ in known.values()))
    if after.standing != before.standing:
        store.update_graduate(session, graduate_id, store.standing_values(after.standing), at)
        store.add_deltas(session, deltas(before, after))
    return True


KIND_OF_PREFIX = {"signing.agreement.": Kind.AGREEMENT, "signing.destination.": Kind.DESTINATION,
                  "records.archive.": Kind.ARCHIVE, "records.hukou.": Kind.HUKOU}


def kind_of(event_type: str) -> Kind:
    for prefix, kind in KIND_OF_PREFIX.items():
        if event_type.startswith(prefix):
            return kind
    raise ValueError(f"not an aggregate event of the read model: {event_type}")
