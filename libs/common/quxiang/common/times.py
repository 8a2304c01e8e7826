"""Instants as the services store and answer them. SQLite hands timestamps back without their zone;
every service stores UTC, so a naive value read back is UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# Users' calendar days (deadlines, signing and approval dates, birth dates) are days in China:
# UTC+8 all year, no daylight saving. On a UTC host the server's date is wrong from 00:00 to 08:00.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def as_utc(value: datetime) -> datetime:
    """``value`` with its zone; a naive value (SQLite's) is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 with the zone, for answers and events; None stays None."""
    return None if value is None else as_utc(value).isoformat()


def china_date(value: datetime) -> date:
    """The calendar day in China of an instant (a naive value is UTC)."""
    return as_utc(value).astimezone(CHINA).date()


def china_today() -> date:
    return datetime.now(CHINA).date()


def latest_deadline(today: date | None = None) -> date:
    """The last registration deadline a school may set: the end of next year in China, as far as
    one graduation season reaches (a later one is a slip of the year that would never close)."""
    return date((today or china_today()).year + 1, 12, 31)


def china_display(value: datetime | str | None) -> str | None:
    """An instant (or its ISO text, as the answers carry it) as people in China read it in a
    spreadsheet: ``2026-07-01 07:00:00``, China time, to the second. A UTC day is the wrong day
    for anything done before 08:00."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(instant).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
