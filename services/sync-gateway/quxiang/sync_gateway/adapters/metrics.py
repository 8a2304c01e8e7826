"""Metrics of the sync: lag (approval commit to EMS write), deliveries by outcome, records parked as
failed, the breaker; and, read from the ledger at scrape time, the backlog, the failed records and
the age of the oldest pending one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from quxiang.common.db import reading
from quxiang.sync_gateway.adapters.ledger import utc
from quxiang.sync_gateway.adapters.tables import FAILED, PENDING, sync_records
from quxiang.sync_gateway.domain.records import KINDS

LAG = Histogram("qx_sync_lag_seconds", "From the event's recording (the approval's commit) to its write in the EMS",
                ["kind"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
DELIVERIES = Counter("qx_sync_deliveries", "Delivery attempts to the EMS by outcome", ["kind", "outcome"])
PARKED = Counter("qx_sync_failed", "Records parked as failed (retry budget spent or a permanent answer)", ["kind"])
BREAKER_OPEN = Gauge("qx_sync_circuit_open", "1 while the circuit breaker holds deliveries back")
RECONCILED = Counter("qx_sync_reconciliation_drift", "Drifted records found by reconciliation", ["kind", "drift"])


def observe_synced(kind: str, occurred_at: datetime, now: datetime) -> float:
    lag = max(0.0, (now - occurred_at).total_seconds())
    LAG.labels(kind).observe(lag)
    return lag


class LedgerCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily("qx_sync_backlog", "Ledger records waiting for delivery", labels=["kind"])
        failed = GaugeMetricFamily("qx_sync_failed_records", "Ledger records parked as failed", labels=["kind"])
        oldest = GaugeMetricFamily("qx_sync_oldest_pending_age_seconds",
                                   "How long the longest-waiting pending record has waited")
        with reading(self.engine) as conn:
            rows = conn.execute(select(sync_records.c.kind, sync_records.c.status, func.count(),
                                       func.min(func.coalesce(sync_records.c.pending_since,
                                                              sync_records.c.occurred_at)))
                                .where(sync_records.c.status.in_([PENDING, FAILED]))
                                .group_by(sync_records.c.kind, sync_records.c.status)).all()
        first = None
        # Every kind, 0 included: a dashboard shows "no data" for a series that is absent, where the
        # healthy state is "0 failed".
        counts = {(kind, status): 0 for kind in KINDS for status in (PENDING, FAILED)}
        for kind, status, count, earliest in rows:
            counts[(kind, status)] = count
            if status == PENDING and earliest is not None:
                first = min(first, utc(earliest)) if first else utc(earliest)
        for (kind, status), count in counts.items():
            (backlog if status == PENDING else failed).add_metric([kind], count)
        oldest.add_metric([], (datetime.now(UTC) - first).total_seconds() if first else 0.0)
        yield from (backlog, failed, oldest)
