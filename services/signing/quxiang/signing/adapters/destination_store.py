"""Reading and writing destination registrations through a session or a connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Row

from quxiang.signing.adapters.destination_tables import destination_registrations as registrations
from quxiang.signing.adapters.store import Bind
from quxiang.signing.adapters.tables import graduates

# The graduate has a destination (no agreement may be accepted meanwhile) in these states.
CURRENT_STATUSES = ("department_review", "school_review", "approved", "void_review")


def get_registration(bind: Bind, registration_id: str, *, for_update: bool = False) -> Row | None:
    query = select(registrations).where(registrations.c.id == registration_id)
    return bind.execute(query.with_for_update() if for_update else query).first()


def open_registration(bind: Bind, graduate_id: str, *, for_update: bool = False) -> Row | None:
    """The graduate's registration that is not voided (at most one), whatever its state."""
    query = select(registrations).where(registrations.c.graduate_id == graduate_id,
                                        registrations.c.status != "voided")
    return bind.execute(query.with_for_update() if for_update else query).first()


def voided_registrations(bind: Bind, graduate_id: str) -> list[Row]:
    query = (select(registrations.c.id, registrations.c.destination_code, registrations.c.voided_at)
             .where(registrations.c.graduate_id == graduate_id, registrations.c.status == "voided")
             .order_by(registrations.c.created_at))
    return list(bind.execute(query))


# Run by every acceptance, built once (the statuses spelled out: an IN list is expanded at every execution).
_CURRENT = select(registrations).where(registrations.c.graduate_id == bindparam("graduate_id"),
                                       or_(*(registrations.c.status == status for status in CURRENT_STATUSES)))
_LOCK_GRADUATE = select(graduates.c.id).where(graduates.c.id == bindparam("graduate_id")).with_for_update()


def current_destination(bind: Bind, graduate_id: str) -> Row | None:
    """The graduate's submitted, approved or void-requested registration, if any: while it exists
    the graduate may not accept an agreement."""
    return bind.execute(_CURRENT, {"graduate_id": graduate_id}).first()


def lock_graduate(bind: Bind, graduate_id: str) -> None:
    """Serialises a graduate's submissions and acceptances (a no-op on SQLite, whose writers are
    serial anyway): take it before checking the other side's rule."""
    bind.execute(_LOCK_GRADUATE, {"graduate_id": graduate_id})


def insert_registration(bind: Bind, values: dict[str, Any]) -> None:
    bind.execute(insert(registrations).values(**values))


def update_registration(bind: Bind, registration_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on the version: False if another transaction changed it first."""
    return bind.execute(update(registrations).where(registrations.c.id == registration_id,
                                                    registrations.c.version == expected_version)
                        .values(**values)).rowcount == 1
