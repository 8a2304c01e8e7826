"""Configuration from environment variables.

Every setting is declared once in ``SETTINGS`` with its variable name, default and meaning, so the
loader and the documentation (``python -m quxiang.common.config``) can never disagree. Defaults are
the embedded mode: SQLite files under ``QX_DATA_DIR`` and the in-process bus, no servers needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A variable is set to a value that cannot be used; the message names the variable."""


def _int(value: str) -> int:
    return int(value)


def _float(value: str) -> float:
    return float(value)


def _floats(value: str) -> tuple[float, ...]:
    items = tuple(float(v) for v in value.split(",") if v.strip())
    if not items:
        raise ValueError("empty list")
    return items


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _str(value: str) -> str:
    return value


@dataclass(frozen=True)
class Setting:
    env: str
    attr: str
    default: str
    parse: Callable[[str], Any]
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("QX_DATA_DIR", "data_dir", "./var", _str,
            "Folder for the embedded mode's SQLite files and runtime state."),
    Setting("QX_DATABASE_URL", "database_url", "", _str,
            "SQLAlchemy URL of this service's own database. Empty: "
            "QX_DATABASE_URL_TEMPLATE with {service} filled in."),
    Setting("QX_DATABASE_URL_TEMPLATE", "database_url_template", "", _str,
            "URL with a {service} placeholder, one database per service, for example "
            "postgresql+psycopg://postgres@127.0.0.1:5432/qx_{service}. Empty: "
            "sqlite:///<QX_DATA_DIR>/<service>.db."),
    Setting("QX_BROKER_URL", "broker_url", "embedded", _str,
            "amqp://user:password@host:5672/vhost for RabbitMQ, or 'embedded' for the "
            "in-process bus stored in <QX_DATA_DIR>/bus.db (or QX_EMBEDDED_BUS_URL)."),
    Setting("QX_EMBEDDED_BUS_URL", "embedded_bus_url", "", _str,
            "SQLAlchemy URL where the embedded bus keeps its queues. Empty: "
            "sqlite:///<QX_DATA_DIR>/bus.db."),
    Setting("QX_EXCHANGE", "exchange", "qx.events", _str,
            "Name of the durable topic exchange for domain events."),
    Setting("QX_QUEUE_PREFIX", "queue_prefix", "qx", _str,
            "Prefix of every queue name, so several installations can share a vhost."),
    Setting("QX_BROKER_HEARTBEAT", "broker_heartbeat", "30", _int,
            "AMQP heartbeat in seconds."),
    Setting("QX_BROKER_CONNECT_TIMEOUT", "broker_connect_timeout", "5", _float,
            "Seconds to wait for a broker connection before retrying."),
    Setting("QX_OUTBOX_PARTITIONS", "outbox_partitions", "16", _int,
            "Number of outbox partitions; an aggregate's events always share one, and one "
            "relay at a time publishes a partition."),
    Setting("QX_RELAY_BATCH", "relay_batch", "1000", _int,
            "Outbox rows a relay publishes per batch; all are in flight before it waits for "
            "the broker's confirms."),
    Setting("QX_RELAY_IDLE_WAIT", "relay_idle_wait", "1.0", _float,
            "Longest sleep of an idle relay in seconds; on PostgreSQL a NOTIFY wakes it sooner."),
    Setting("QX_RELAY_CONFIRM_TIMEOUT", "relay_confirm_timeout", "10", _float,
            "Seconds a relay waits for publisher confirms before treating the batch as failed."),
    Setting("QX_RELAY_RETENTION_HOURS", "relay_retention_hours", "168", _float,
            "Sent outbox rows older than this are pruned."),
    Setting("QX_CONSUMER_PREFETCH", "consumer_prefetch", "1000", _int,
            "Unacknowledged messages a consumer may hold. Keep it a few times QX_CONSUMER_BATCH, so "
            "the broker keeps sending while a batch is handled."),
    Setting("QX_CONSUMER_BATCH", "consumer_batch", "250", _int,
            "Most messages a consumer handles in one transaction (what has arrived, up to this)."),
    Setting("QX_CONSUMER_RETRY_DELAYS", "consumer_retry_delays", "1,5,30,120", _floats,
            "Seconds before each retry of a failing message; their count is the number of "
            "retries, after which the message goes to the dead-letter queue."),
    Setting("QX_JWKS_URL", "jwks_url", "http://127.0.0.1:8000/api/accounts/.well-known/jwks.json", _str,
            "Where services fetch the public keys that verify access tokens (the accounts JWKS). "
            "Unset: `make run`'s own, on QX_HTTP_PORT."),
    Setting("QX_JWT_AUDIENCE", "jwt_audience", "quxiang", _str,
            "The audience every access token must name."),
    Setting("QX_DEMO_DATA", "demo_data", "true", _bool,
            "`make run` (the one-process suite) loads each service's demonstration data at start."),
    Setting("QX_HTTP_HOST", "http_host", "127.0.0.1", _str, "Address `make run` listens on."),
    Setting("QX_HTTP_PORT", "http_port", "8000", _int, "Port `make run` listens on."),
    Setting("QX_CONSOLE_ROOT", "console_root", "", _str,
            "Folder of the web console's static files that `make run` serves at `/`. Empty: the "
            "repository's console/ folder (none served when it is missing)."),
    Setting("QX_PROXY_HOPS", "proxy_hops", "0", _int,
            "Reverse proxies in front of the service that each add to X-Forwarded-For (the gateway: 1; "
            "an Ingress before it: 2). The client's address is taken that many hops back: login "
            "throttling per address, logs. 0 (`make run`, no proxy): the connection's own address; "
            "behind a proxy that would make every user one address, and 20 wrong passwords anywhere "
            "would lock all logins."),
    Setting("QX_LOG_LEVEL", "log_level", "INFO", _str, "Logging level."),
    Setting("QX_LOG_JSON", "log_json", "true", _bool,
            "JSON log lines (one object per line) or plain text."),
)


@dataclass(frozen=True)
class Config:
    service: str
    data_dir: Path
    database_url: str
    database_url_template: str
    broker_url: str
    embedded_bus_url: str
    exchange: str
    queue_prefix: str
    broker_heartbeat: int
    broker_connect_timeout: float
    outbox_partitions: int
    relay_batch: int
    relay_idle_wait: float
    relay_confirm_timeout: float
    relay_retention_hours: float
    consumer_prefetch: int
    consumer_batch: int
    consumer_retry_delays: tuple[float, ...]
    jwks_url: str
    jwt_audience: str
    demo_data: bool
    http_host: str
    http_port: int
    console_root: str
    log_level: str
    log_json: bool
    proxy_hops: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_bus(self) -> bool:
        return self.broker_url == "embedded"

    def bus_url(self) -> str:
        """Where the embedded bus keeps its queues (only meaningful in the embedded mode)."""
        return self.embedded_bus_url or f"sqlite:///{self.data_dir / 'bus.db'}"

    def database_url_for(self, service: str) -> str:
        if self.database_url and service == self.service:
            return self.database_url
        if self.database_url_template:
            return self.database_url_template.format(service=service.replace("-", "_"))
        return f"sqlite:///{self.data_dir / (service.replace('-', '_') + '.db')}"


def load_config(service: str = "platform", environ: Mapping[str, str] | None = None) -> Config:
    """Read every setting from ``environ`` (default ``os.environ``); raise ConfigError naming the bad one."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.env, setting.default)
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env}={raw!r} is not valid: {exc}") from None
    values["data_dir"] = Path(values["data_dir"])
    if not env.get("QX_JWKS_URL"):
        # `make run` on another port serves the JWKS there: the default follows QX_HTTP_PORT
        values["jwks_url"] = f"http://127.0.0.1:{values['http_port']}/api/accounts/.well-known/jwks.json"
    _check_positive(values, "outbox_partitions", "relay_batch", "consumer_prefetch", "consumer_batch")
    if values["proxy_hops"] < 0:
        raise ConfigError(f"QX_PROXY_HOPS={values['proxy_hops']} is not valid: a count of proxies, 0 or more")
    template = values["database_url_template"]
    if template and "{service}" not in template:
        raise ConfigError("QX_DATABASE_URL_TEMPLATE must contain {service}")
    if values["broker_url"] != "embedded" and not values["broker_url"].startswith(("amqp://", "amqps://")):
        raise ConfigError("QX_BROKER_URL must be 'embedded' or an amqp:// URL")
    extra = {k: v for k, v in env.items() if k.startswith("QX_")}
    return Config(service=service, extra=extra, **values)


def _check_positive(values: dict[str, Any], *attrs: str) -> None:
    for attr in attrs:
        if values[attr] <= 0:
            env = next(s.env for s in SETTINGS if s.attr == attr)
            raise ConfigError(f"{env} must be positive, got {values[attr]}")


def describe() -> str:
    """The settings as a Markdown table (the source of docs/configuration.md)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| `{s.env}` | `{s.default}` | {s.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe())
