"""From an event to the ledger, inside the consumer's transaction (no HTTP here: the worker delivers)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from quxiang.common.events import Event
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.domain.records import desired_record


def apply_event(session: Session, event: Event, now: datetime | None = None) -> bool:
    """Record what the EMS should hold after ``event``; False when a later record is already there."""
    desired = desired_record(event.type, event.event_id, event.subject, event.sequence, event.occurred_at,
                             event.data)
    return ledger.apply(session, desired, now or datetime.now(UTC))


def apply_roster_event(session: Session, event: Event, now: datetime | None = None) -> int:
    """Keep the graduate's name and department as the roster has them; how many mirrored records go to
    the EMS again because the name changed."""
    data = event.data
    entry = ledger.RosterEntry(graduate_id=data["graduate_id"], exam_number=data["exam_number"],
                               school_code=data["school_code"], name=data["name"],
                               department_id=data.get("department_id"), sequence=event.sequence,
                               graduation_year=data.get("graduation_year"),
                               education_level=data.get("education_level"))
    return ledger.record_graduate(session, entry, now or datetime.now(UTC))
