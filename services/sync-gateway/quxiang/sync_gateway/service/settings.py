"""The service's own settings, read from ``config.extra`` (the QX_* environment variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from quxiang.common.config import ConfigError
from quxiang.sync_gateway.adapters.ems_client import DEFAULT_URL


@dataclass(frozen=True)
class SyncSettings:
    ems_url: str = DEFAULT_URL
    concurrency: int = 32             # deliveries (requests) in flight per worker
    batch_size: int = 50              # records per request (POST /batch); 1: one PUT per record
    lanes: int = 3                    # delivery rounds side by side per worker
    max_attempts: int = 10            # the retry budget, then the record is parked as failed
    reconcile_interval: float = 3600.0
    probe_interval: float = 1.0       # seconds between the breaker's probes while the EMS is down


def _number(extra: Mapping[str, str], name: str, default: float, cast: type) -> float:
    raw = extra.get(name)
    if raw in (None, ""):
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw}")
    return value


def load_settings(extra: Mapping[str, str]) -> SyncSettings:
    return SyncSettings(
        ems_url=extra.get("QX_EMS_URL") or DEFAULT_URL,
        concurrency=int(_number(extra, "QX_SYNC_CONCURRENCY", 32, int)),
        batch_size=min(500, int(_number(extra, "QX_SYNC_BATCH", 50, int))),
        lanes=int(_number(extra, "QX_SYNC_LANES", 3, int)),
        max_attempts=int(_number(extra, "QX_SYNC_MAX_ATTEMPTS", 10, int)),
        reconcile_interval=_number(extra, "QX_SYNC_RECONCILE_INTERVAL", 3600.0, float),
        probe_interval=_number(extra, "QX_SYNC_PROBE_INTERVAL", 1.0, float),
    )
