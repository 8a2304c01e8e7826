"""Event handlers of records: the local copy of accounts' schools, departments and the modules each
province switched on, and which graduates signing holds records of (so that none of them is taken
off the roster).

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits the
handler's writes together with the inbox row that makes a redelivery a no-op. The handlers are
upserts, so a replay or an out-of-order delivery leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.common.bus.consumer import Handler, locks_graduate_first
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.accounts import DEPARTMENT_CREATED, MODULE_ENABLED, SCHOOL_CREATED
from quxiang.common.contracts.destinations import DESTINATION_EVENTS
from quxiang.common.contracts.signing import AGREEMENT_EVENTS, INVITATION_EVENTS
from quxiang.common.events import Event
from quxiang.records.adapters import registration_store, repository
from quxiang.records.service import withdrawal

ORGANISATIONS_CONSUMER = "records.organisations"
SIGNING_RECORDS_CONSUMER = "records.signing_records"
# Every agreement event but an invitation's own, and every destination registration event.
SIGNING_RECORD_EVENTS = (*(t for t in AGREEMENT_EVENTS if t not in INVITATION_EVENTS), *DESTINATION_EVENTS)


def on_school_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    repository.upsert_school(uow.session, data["school_code"], data["name"], data["province"])


def on_department_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    repository.upsert_department(uow.session, data["department_id"], data["school_code"], data["code"],
                                 data["name"])


def on_module_enabled(event: Event, uow: UnitOfWork) -> None:
    """A province switched a module on: its graduates may use it once their school's settings are done."""
    registration_store.enable_module(uow.session, event.data["province"], event.data["module"], event.occurred_at)


@locks_graduate_first
def on_signing_record(event: Event, uow: UnitOfWork) -> None:
    """Signing holds a record of the graduate: it may no longer be taken off the roster, and if it was
    in the moment before (the event was on its way), it is put back."""
    graduate_id = event.data["graduate_id"]
    withdrawal.note_signing_record(uow, graduate_id, event.type, event.occurred_at)


def consumers() -> dict[str, Mapping[str, Handler]]:
    return {ORGANISATIONS_CONSUMER: {SCHOOL_CREATED: on_school_created,
                                     DEPARTMENT_CREATED: on_department_created,
                                     MODULE_ENABLED: on_module_enabled},
            SIGNING_RECORDS_CONSUMER: dict.fromkeys(SIGNING_RECORD_EVENTS, on_signing_record)}
