"""Event handlers of stats: the directory (schools, departments, modules, agreement types, settings)
and the graduates' figures (roster, agreements, destination registrations, archive and hukou).

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits their writes
with the inbox row, and the counter changes of a whole batch are summed and written once just
before that commit (adapters.store.add_deltas). Every handler keeps the newest by the event's
sequence, so a replay or an out-of-order delivery leaves the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.common.bus.consumer import Handler, locks_graduate_first, locks_school_first
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import accounts, destinations, records, signing
from quxiang.common.events import Event
from quxiang.stats.adapters import metrics, store
from quxiang.stats.domain.model import Aggregate
from quxiang.stats.service import ingest

DIRECTORY_CONSUMER = "stats.directory"
GRADUATES_CONSUMER = "stats.graduates"


@locks_school_first  # a batch takes the schools' rows in one order: two batches never cross
def on_school_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.upsert_school(uow.session, data["school_code"], data["name"], data["province"])


@locks_school_first
def on_department_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.upsert_department(uow.session, data["department_id"], data["school_code"], data["code"], data["name"])


def on_module_enabled(event: Event, uow: UnitOfWork) -> None:
    store.enable_module(uow.session, event.data["province"], event.data["module"])


@locks_school_first
def on_agreement_type_set(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.set_agreement_type(uow.session, data["school_code"], data["province"], data["agreement_type"],
                             event.sequence)


@locks_school_first
def on_settings_updated(event: Event, uow: UnitOfWork) -> None:
    """网签设置 (signing) and 档案/户口设置 (records): completed or not, newest by the settings' version."""
    data = event.data
    store.set_settings(uow.session, data["school_code"], data["module"], data["completed"], event.sequence)


# Both lock the graduate's row first: a batch takes its graduates in id order, so two consumers'
# batches of the same graduates wait for each other instead of deadlocking.
@locks_graduate_first
def on_graduate(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    ingest.apply_roster(uow.session, data["graduate_id"], event.sequence, data["school_code"],
                        data.get("department_id"), data.get("education_level"), data["graduation_year"],
                        event.occurred_at, withdrawn=event.type == records.GRADUATE_WITHDRAWN)
    metrics.observe(GRADUATES_CONSUMER, event.occurred_at)


@locks_graduate_first
def on_aggregate(event: Event, uow: UnitOfWork) -> None:
    """Any change of an agreement, destination registration or archive/hukou registration: what
    counts is the status it carries (data.status), not the event's name."""
    data = event.data
    aggregate = Aggregate(event.subject, ingest.kind_of(event.type), data["status"], data.get("destination_code"),
                          bool(data.get("approval_stands")))
    ingest.apply_aggregate(uow.session, aggregate, data["graduate_id"], event.sequence, event.occurred_at)
    metrics.observe(GRADUATES_CONSUMER, event.occurred_at)


_AGGREGATE_TYPES = (
    signing.AGREEMENT_INVITED, signing.AGREEMENT_ACCEPTED, signing.AGREEMENT_DECLINED, signing.AGREEMENT_EXPIRED,
    signing.AGREEMENT_WITHDRAWN, signing.AGREEMENT_DEPARTMENT_APPROVED, signing.AGREEMENT_REJECTED,
    signing.AGREEMENT_APPROVED, signing.AGREEMENT_APPLIED, signing.AGREEMENT_APPLICATION_ADVANCED,
    signing.AGREEMENT_APPLICATION_APPROVED, signing.AGREEMENT_APPLICATION_REJECTED, signing.AGREEMENT_REGISTERED,
    signing.AGREEMENT_SUBMITTED, signing.AGREEMENT_VOID_REQUESTED, signing.AGREEMENT_VOID_REJECTED,
    signing.AGREEMENT_VOIDED, signing.AGREEMENT_TERMINATED,
    destinations.DESTINATION_SUBMITTED, destinations.DESTINATION_DEPARTMENT_APPROVED,
    destinations.DESTINATION_APPROVED, destinations.DESTINATION_REJECTED, destinations.DESTINATION_VOID_REQUESTED,
    destinations.DESTINATION_VOID_REJECTED, destinations.DESTINATION_VOIDED,
    *records.REGISTRATION_EVENTS.values(),
)

DIRECTORY_HANDLERS: Mapping[str, Handler] = {
    accounts.SCHOOL_CREATED: on_school_created,
    accounts.DEPARTMENT_CREATED: on_department_created,
    accounts.MODULE_ENABLED: on_module_enabled,
    accounts.AGREEMENT_TYPE_SET: on_agreement_type_set,
    signing.SCHOOL_SETTINGS_UPDATED: on_settings_updated,
    records.SCHOOL_SETTINGS_UPDATED: on_settings_updated,
}
GRADUATE_HANDLERS: Mapping[str, Handler] = {
    records.GRADUATE_REGISTERED: on_graduate,
    records.GRADUATE_UPDATED: on_graduate,
    records.GRADUATE_WITHDRAWN: on_graduate,
    **dict.fromkeys(_AGGREGATE_TYPES, on_aggregate),
}
HANDLERS: Mapping[str, Handler] = {**DIRECTORY_HANDLERS, **GRADUATE_HANDLERS}


def consumers() -> dict[str, Mapping[str, Handler]]:
    return {DIRECTORY_CONSUMER: DIRECTORY_HANDLERS, GRADUATES_CONSUMER: GRADUATE_HANDLERS}
