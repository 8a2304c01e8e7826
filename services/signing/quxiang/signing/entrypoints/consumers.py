"""Event handlers of signing: local copies of what accounts and records announce.

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits their writes
with the inbox row that makes a redelivery a no-op. Each is an upsert, and the versioned ones
(agreement types, roster rows) keep the newest by the event's sequence, so a replay or an
out-of-order delivery leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.common.bus.consumer import Handler, locks_graduate_first
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import accounts, records
from quxiang.common.events import Event
from quxiang.signing.adapters import store
from quxiang.signing.service import online

CONSUMER = "signing.directory"


def on_school_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.upsert_school(uow.session, data["school_code"], data["name"], data["province"])


def on_department_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.upsert_department(uow.session, data["department_id"], data["school_code"], data["code"], data["name"])


def on_module_enabled(event: Event, uow: UnitOfWork) -> None:
    store.enable_module(uow.session, event.data["province"], event.data["module"], event.occurred_at)


def on_agreement_type_set(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.set_agreement_type(uow.session, data["school_code"], data["province"], data["agreement_type"],
                             event.sequence)


def on_employer(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    store.apply_employer(uow.session, {"id": data["employer_id"], "credit_code": data["credit_code"],
                                       "name": data["name"], "nature": data["nature"],
                                       "industry": data["industry"], "region": data["region"],
                                       "address": data.get("address")}, event.sequence)


def on_employer_account(event: Event, uow: UnitOfWork) -> None:
    """A province stopped a unit's account (or let it in again): a stopped unit's open invitations
    close, with the reason, since it can neither answer nor withdraw them, and nothing new is agreed
    with it (see ``online.refuse_if_employer_stopped``). Other accounts' events carry no unit."""
    employer_id = event.data.get("employer_id")
    if not employer_id:
        return
    stopped = event.type == accounts.USER_DISABLED
    invitations = store.open_invitations_of_employer(uow.session, employer_id) if stopped else []
    applied = store.set_employer_stopped(uow.session, employer_id, stopped, event.sequence)
    if applied is None:  # the unit's registration has not reached this copy yet: the runtime tries again
        raise LookupError(f"unit {employer_id} is not known to signing yet")
    if applied and stopped:
        online.close_invitations(uow, invitations, event.occurred_at, reason=online.EMPLOYER_STOPPED)


@locks_graduate_first  # its agreements, then its row: two batches take graduates in one order
def on_graduate(event: Event, uow: UnitOfWork) -> None:
    """A roster row imported, changed, taken off the roster (移出生源: its open invitations close) or
    put back. An event without the identity number's mask leaves the one kept."""
    data = event.data
    withdrawn = event.type == records.GRADUATE_WITHDRAWN
    invitations = store.open_invitations(uow.session, data["graduate_id"]) if withdrawn else []
    values = {
        "id": data["graduate_id"], "school_code": data["school_code"], "exam_number": data["exam_number"],
        "student_number": data.get("student_number"), "name": data["name"], "gender": data.get("gender"),
        "department_id": data.get("department_id"), "major_code": data.get("major_code"),
        "major_name": data.get("major_name"), "education_level": data.get("education_level"),
        "graduation_year": data["graduation_year"], "withdrawn": withdrawn}
    if data.get("identity_number_masked") is not None:
        values["identity_number_masked"] = data["identity_number_masked"]
    if store.apply_graduate(uow.session, values, event.sequence) and withdrawn:
        # Those locked first, then any an invitation committed while this waited for the graduate's
        # row (an invitation share-locks it until its commit, so none can come after this).
        seen = {row.id for row in invitations}
        late = [row for row in store.open_invitations(uow.session, data["graduate_id"]) if row.id not in seen]
        online.close_invitations(uow, [*invitations, *late], event.occurred_at)


HANDLERS: Mapping[str, Handler] = {
    accounts.SCHOOL_CREATED: on_school_created,
    accounts.DEPARTMENT_CREATED: on_department_created,
    accounts.MODULE_ENABLED: on_module_enabled,
    accounts.AGREEMENT_TYPE_SET: on_agreement_type_set,
    accounts.EMPLOYER_REGISTERED: on_employer,
    accounts.EMPLOYER_UPDATED: on_employer,
    accounts.USER_DISABLED: on_employer_account,
    accounts.USER_ENABLED: on_employer_account,
    records.GRADUATE_REGISTERED: on_graduate,
    records.GRADUATE_UPDATED: on_graduate,
    records.GRADUATE_WITHDRAWN: on_graduate,
}


def consumers() -> dict[str, Mapping[str, Handler]]:
    return {CONSUMER: HANDLERS}
