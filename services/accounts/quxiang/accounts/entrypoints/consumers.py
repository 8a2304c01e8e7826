"""Event handlers of accounts: translations of other services' events into use cases.

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits the
handler's writes together with the inbox row that makes a redelivery a no-op.
"""

from __future__ import annotations

from quxiang.accounts.service.provisioning import RosterEntry, provision_graduate
from quxiang.common.bus.consumer import locks_first
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.records import GRADUATE_REGISTERED, GRADUATE_UPDATED, GRADUATE_WITHDRAWN
from quxiang.common.events import Event

ROSTER_CONSUMER = "accounts.roster"


def _exam_number_of(event: Event) -> str:
    return str(event.data.get("exam_number") or "")


# A batch takes its graduates' activation codes (then accounts) in 考生号 order, the order issuing a
# school's codes locks them in: in arrival order the two deadlocked, and the school's issue failed.
@locks_first(_exam_number_of)
def on_graduate_registered(event: Event, uow: UnitOfWork) -> None:
    """A roster row was imported, changed, taken off the roster or put back in records: the graduate's
    account exists once, follows the row, and cannot log in while the graduate is off the roster."""
    data = event.data
    provision_graduate(uow, RosterEntry(graduate_id=data["graduate_id"], exam_number=data["exam_number"],
                                        name=data["name"], school_code=data["school_code"],
                                        department_id=data.get("department_id"), sequence=event.sequence,
                                        withdrawn=event.type == GRADUATE_WITHDRAWN))


ROSTER_EVENTS = (GRADUATE_REGISTERED, GRADUATE_UPDATED, GRADUATE_WITHDRAWN)

__all__ = ["GRADUATE_REGISTERED", "ROSTER_CONSUMER", "ROSTER_EVENTS", "on_graduate_registered"]
