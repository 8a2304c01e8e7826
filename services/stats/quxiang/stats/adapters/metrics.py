"""Freshness of the read model: how long after it happened each event reached the counters."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Gauge, Histogram

LAG = Histogram("qx_stats_event_lag_seconds", "From an event's occurrence to its application to the read model",
                ["consumer"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600))
LAST_LAG = Gauge("qx_stats_lag_seconds", "Lag of the last event applied to the read model (now - occurred_at)",
                 ["consumer"])
LAST_EVENT = Gauge("qx_stats_last_event_timestamp_seconds", "occurred_at of the last event applied", ["consumer"])


def observe(consumer: str, occurred_at: datetime) -> None:
    lag = max(0.0, (datetime.now(UTC) - occurred_at).total_seconds())
    LAG.labels(consumer).observe(lag)
    LAST_LAG.labels(consumer).set(lag)
    LAST_EVENT.labels(consumer).set(occurred_at.timestamp())
