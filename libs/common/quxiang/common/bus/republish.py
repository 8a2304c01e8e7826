"""Announcing a service's current state again (``qx-accounts republish-directory``, ``qx-records
republish-settings``, ``qx-signing republish-settings``): the events that first announced each item,
at the version it has now, with new event ids.

For a consumer whose copy lost something (restored from an older dump, a queue purged, a service
deployed after the items existed): the copies keep the newest version of each item, so one that holds
it already changes nothing and one that misses it gets it. Written in batches, each its own
transaction; running it twice only announces the same again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any

from quxiang.common.bus.outbox import UnitOfWork

BATCH = 500

# (event type, subject, sequence, data)
Announcement = tuple[str, str, int, Mapping[str, Any]]


def record_again(unit_of_work: Callable[[], AbstractContextManager[UnitOfWork]], announcements: Iterable[Announcement],
                 batch: int = BATCH) -> int:
    """Record every announcement in the outbox (the relay publishes them); answers how many."""
    count = 0
    items = iter(announcements)
    while chunk := list(islice(items, batch)):
        with unit_of_work() as uow:
            for type_, subject, sequence, data in chunk:
                uow.record(type_, subject=subject, sequence=sequence, data=dict(data))
            uow.commit()
        count += len(chunk)
    return count
