"""Consumers of the school settings events: whether each school completed its settings per module.

records owns the archive and hukou settings (``records.school_settings.updated``), signing the
signing settings (``signing.school_settings.updated``, module employment). accounts keeps the latest
reported state per (school, module) for the province's 功能设置 screen.

Idempotent twice over: the consumer runtime's inbox drops a redelivered event, and the handler keeps
a row's event sequence so an older event arriving after a newer one changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from quxiang.accounts.service.settings import record_school_settings
from quxiang.common.bus.consumer import Handler
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import records, signing
from quxiang.common.events import Event

CONSUMER = "accounts.school_settings"


def on_school_settings_updated(event: Event, uow: UnitOfWork) -> None:
    record_school_settings(uow, school_code=event.data["school_code"], module=event.data["module"],
                           completed=bool(event.data["completed"]), sequence=event.sequence,
                           occurred_at=event.occurred_at)


HANDLERS: Mapping[str, Handler] = {
    records.SCHOOL_SETTINGS_UPDATED: on_school_settings_updated,
    signing.SCHOOL_SETTINGS_UPDATED: on_school_settings_updated,
}


def consumers() -> dict[str, Mapping[str, Handler]]:
    """This module's consumers, for ``ServiceDefinition(consumers=...)``."""
    return {CONSUMER: HANDLERS}
