"""The service's own settings, read from ``config.extra`` (the QX_* environment variables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from quxiang.common.config import ConfigError
from quxiang.sync_gateway.adapters.broker_admin import DEFAULT_ADMIN_URL
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
    feed: FeedSettings = field(default_factory=lambda: FeedSettings())


@dataclass(frozen=True)
class FeedSettings:
    """The school feed (docs/feed.md)."""

    exchange: str = "qx.feed"
    queue_prefix: str = "qx.feed.school"
    user_prefix: str = "qx-feed-"             # broker users are global to RabbitMQ, not per vhost
    admin_url: str = DEFAULT_ADMIN_URL         # the RabbitMQ management API
    webhook_max_attempts: int = 8
    webhook_backoff: float = 30.0             # seconds before the second attempt, doubling
    webhook_backoff_max: float = 3600.0
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False       # True: URLs on loopback/private addresses (tests, intranets)


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


def load_settings(extra: Mapping[str, str], http_port: int = 8000) -> SyncSettings:
    """``http_port``: `make run`'s, where its ems-sim answers unless QX_EMS_URL says otherwise."""
    return SyncSettings(
        ems_url=extra.get("QX_EMS_URL") or DEFAULT_URL.replace(":8000/", f":{http_port}/"),
        concurrency=int(_number(extra, "QX_SYNC_CONCURRENCY", 32, int)),
        batch_size=min(500, int(_number(extra, "QX_SYNC_BATCH", 50, int))),
        lanes=int(_number(extra, "QX_SYNC_LANES", 3, int)),
        max_attempts=int(_number(extra, "QX_SYNC_MAX_ATTEMPTS", 10, int)),
        reconcile_interval=_number(extra, "QX_SYNC_RECONCILE_INTERVAL", 3600.0, float),
        probe_interval=_number(extra, "QX_SYNC_PROBE_INTERVAL", 1.0, float),
        feed=FeedSettings(
            exchange=extra.get("QX_FEED_EXCHANGE") or "qx.feed",
            queue_prefix=extra.get("QX_FEED_QUEUE_PREFIX") or "qx.feed.school",
            user_prefix=extra.get("QX_FEED_USER_PREFIX") or "qx-feed-",
            admin_url=extra.get("QX_BROKER_ADMIN_URL") or DEFAULT_ADMIN_URL,
            webhook_max_attempts=int(_number(extra, "QX_FEED_WEBHOOK_MAX_ATTEMPTS", 8, int)),
            webhook_backoff=_number(extra, "QX_FEED_WEBHOOK_BACKOFF", 30.0, float),
            webhook_backoff_max=_number(extra, "QX_FEED_WEBHOOK_BACKOFF_MAX", 3600.0, float),
            webhook_timeout=_number(extra, "QX_FEED_WEBHOOK_TIMEOUT", 10.0, float),
            webhook_allow_private=(extra.get("QX_FEED_WEBHOOK_ALLOW_PRIVATE") or "false").lower()
            in ("1", "true", "yes"),
        ),
    )
