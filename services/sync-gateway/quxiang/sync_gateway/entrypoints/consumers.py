"""Event handlers of sync-gateway: the approved, terminated and voided agreements and destination
registrations and the approved archive and hukou registrations become the ledger's desired records
(the worker delivers them); accounts' new schools give the province of each school; the school feed
(``sync-gateway.feed``) records every event that concerns a school as that school's feed entry.

Handlers get the consumer runtime's unit of work and do not commit: the runtime commits the ledger
rows with the inbox row. No HTTP happens here.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.common.bus.consumer import Handler, locks_graduate_first, locks_school_first
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import accounts, records
from quxiang.common.events import Event
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.domain.feed import FEED_EVENT_TYPES
from quxiang.sync_gateway.domain.records import EVENT_TYPES
from quxiang.sync_gateway.service import feed, ingest

EMS_CONSUMER = "sync-gateway.ems"
DIRECTORY_CONSUMER = "sync-gateway.directory"
FEED_CONSUMER = "sync-gateway.feed"


# Both take a graduate's roster and ledger rows: two batches take graduates in one order.
@locks_graduate_first
def on_mirrored(event: Event, uow: UnitOfWork) -> None:
    ingest.apply_event(uow.session, event)


@locks_school_first  # the school's feed counter: a batch takes the schools in one order
def on_feed_event(event: Event, uow: UnitOfWork) -> None:
    feed.record_event(uow.session, event)


@locks_graduate_first
def on_roster_event(event: Event, uow: UnitOfWork) -> None:
    ingest.apply_roster_event(uow.session, event)


def on_school_created(event: Event, uow: UnitOfWork) -> None:
    data = event.data
    ledger.upsert_school(uow.session, data["school_code"], data["name"], data["province"])


EMS_HANDLERS: Mapping[str, Handler] = dict.fromkeys(EVENT_TYPES, on_mirrored)
DIRECTORY_HANDLERS: Mapping[str, Handler] = {accounts.SCHOOL_CREATED: on_school_created,
                                              records.GRADUATE_REGISTERED: on_roster_event,
                                              records.GRADUATE_UPDATED: on_roster_event,
                                              records.GRADUATE_WITHDRAWN: on_roster_event}
FEED_HANDLERS: Mapping[str, Handler] = dict.fromkeys(FEED_EVENT_TYPES, on_feed_event)
HANDLERS: Mapping[str, Handler] = {**EMS_HANDLERS, **DIRECTORY_HANDLERS}


def consumers() -> dict[str, Mapping[str, Handler]]:
    return {EMS_CONSUMER: EMS_HANDLERS, DIRECTORY_CONSUMER: DIRECTORY_HANDLERS, FEED_CONSUMER: FEED_HANDLERS}
