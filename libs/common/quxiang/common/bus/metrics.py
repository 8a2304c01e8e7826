"""Prometheus figures of the outbox, read from the database at scrape time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from quxiang.common.bus.tables import outbox

log = logging.getLogger(__name__)


class OutboxCollector(Collector):
    """qx_outbox_backlog and qx_outbox_oldest_age_seconds: how much is waiting, and for how long."""

    def __init__(self, engine: Engine, service: str) -> None:
        self.engine = engine
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))).one()
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)  # SQLite drops the zone
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        backlog = GaugeMetricFamily("qx_outbox_backlog", "Outbox rows not yet published", labels=["service"])
        backlog.add_metric([self.service], count)
        yield backlog
        oldest_age = GaugeMetricFamily("qx_outbox_oldest_age_seconds", "Age of the oldest unpublished row",
                                       labels=["service"])
        oldest_age.add_metric([self.service], age)
        yield oldest_age
