"""Instants as the services store and answer them. SQLite hands timestamps back without their zone;
every service stores UTC, so a naive value read back is UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """``value`` with its zone; a naive value (SQLite's) is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 with the zone, for answers and events; None stays None."""
    return None if value is None else as_utc(value).isoformat()
