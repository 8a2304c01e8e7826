"""Naive timestamps (as SQLite gives them back) are read as UTC; aware ones keep their zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from quxiang.common.times import as_utc, iso_utc


def test_naive_is_utc_and_aware_is_kept():
    assert as_utc(datetime(2026, 7, 1, 8, 30)) == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    china = datetime(2026, 7, 1, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    assert as_utc(china) is china
    assert iso_utc(datetime(2026, 7, 1, 8, 30)) == "2026-07-01T08:30:00+00:00"
    assert iso_utc(china) == "2026-07-01T16:30:00+08:00"
    assert iso_utc(None) is None
