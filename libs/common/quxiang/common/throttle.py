"""Counting failures per key within a window and locking a key that reached its limit: the one way
a service slows down guessing (accounts: passwords and activation codes; signing: a unit trying
考生号 and names until one matches).

A service keeps the counts in a table of its own (``failure_table``) and holds one
``FailureCounter`` over it. The caller decides what a key is, what its limit is and what a lock
answers; the counter only counts, locks and forgets.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quxiang.common.db import conflict_insert, dialect_name


def failure_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("key", String(200), primary_key=True),
        Column("failures", Integer, nullable=False),
        Column("window_started_at", DateTime(timezone=True), nullable=False),
        Column("locked_until", DateTime(timezone=True)),
    )


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every time here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class FailureCounter:
    """Failures per key in a ``window``; a key reaching its limit is locked for ``lockout``. One in
    ``prune_one_in`` failures also sweeps out the keys whose window and lock are over, so guesses at
    made-up keys do not grow the table without end."""

    def __init__(self, table: Table, window: timedelta, lockout: timedelta, prune_one_in: int = 100) -> None:
        self.table, self.window, self.lockout, self.prune_one_in = table, window, lockout, prune_one_in

    def locked_for(self, session: Session | Connection, keys: Iterable[str], now: datetime | None = None) -> int:
        """The longest remaining lock among ``keys``, in whole seconds (0: none is locked)."""
        now = now or datetime.now(UTC)
        rows = session.execute(select(self.table.c.locked_until).where(
            self.table.c.key.in_(list(keys)), self.table.c.locked_until.is_not(None))).scalars()
        longest = max(((_utc(until) - now).total_seconds() for until in rows), default=0.0)
        return math.ceil(longest) if longest > 0 else 0

    def count_failure(self, session: Session, key: str, limit: int, now: datetime | None = None) -> int:
        """One more failure for ``key`` (locked once it reaches ``limit``); the count in the window."""
        now = now or datetime.now(UTC)
        if secrets.randbelow(self.prune_one_in) == 0:
            self.prune(session, now)
        row = self._locked_row(session, key, now)
        window_started = _utc(row.window_started_at)
        if window_started + self.window <= now:
            failures, window_started = 1, now  # the window passed: start counting afresh
        else:
            failures = row.failures + 1
        locked_until = now + self.lockout if failures >= limit else None
        session.execute(update(self.table).where(self.table.c.key == key).values(
            failures=failures, window_started_at=window_started, locked_until=locked_until))
        return failures

    def give_back(self, session: Session, key: str, limit: int) -> None:
        """An attempt counted ahead turned out right: the key gets it back, and its lock if only
        attempts under way had reached the limit."""
        row = session.execute(select(self.table).where(self.table.c.key == key).with_for_update()).first()
        if row is None or row.failures <= 0:
            return
        failures = row.failures - 1
        session.execute(update(self.table).where(self.table.c.key == key).values(
            failures=failures, locked_until=row.locked_until if failures >= limit else None))

    def reset(self, session: Session, key: str) -> None:
        session.execute(delete(self.table).where(self.table.c.key == key))

    def prune(self, session: Session, now: datetime | None = None) -> None:
        """The keys whose window passed and that are not locked out, gone; those another request holds
        are left (SKIP LOCKED on PostgreSQL): it is counting them, and two logins whose sweeps each
        waited for the key the other held deadlocked."""
        now = now or datetime.now(UTC)
        stale = select(self.table.c.key).where(
            self.table.c.window_started_at <= now - self.window,
            or_(self.table.c.locked_until.is_(None), self.table.c.locked_until <= now))
        if dialect_name(session) == "postgresql":
            stale = stale.with_for_update(skip_locked=True)
        session.execute(delete(self.table).where(self.table.c.key.in_(stale)))

    def _locked_row(self, session: Session, key: str, now: datetime) -> Any:
        """The key's row, made if missing, locked to the end of the transaction, in one statement: two
        first failures at once must not fail on the primary key, and a row found but deleted by another
        request's ``prune`` or ``reset`` before a separate lock took it would leave nothing to lock."""
        statement = conflict_insert(session, self.table).values(key=key, failures=0, window_started_at=now)
        return session.execute(statement.on_conflict_do_update(
            index_elements=["key"], set_={"key": statement.excluded.key}).returning(self.table)).one()
