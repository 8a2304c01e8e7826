"""Event handlers of records: the local copy of accounts' schools and departments.

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits the
handler's writes together with the inbox row that makes a redelivery a no-op. Both handlers are
upserts, so a replay or an out-of-order delivery leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.common.bus.consumer import Handler
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.accounts import DEPARTMENT_CREATED, SCHOOL_CREATED
from quxiang.common.events import Event
from quxiang.records.adapters import repository

ORGANISATIONS_CONSUMER = "records.organisations"


def on_school_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    repository.upsert_school(uow.session, data["school_code"], data["name"], data["province"])


def on_department_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    repository.upsert_department(uow.session, data["department_id"], data["school_code"], data["code"],
                                 data["name"])


def consumers() -> dict[str, Mapping[str, Handler]]:
    return {ORGANISATIONS_CONSUMER: {SCHOOL_CREATED: on_school_created,
                                     DEPARTMENT_CREATED: on_department_created}}
