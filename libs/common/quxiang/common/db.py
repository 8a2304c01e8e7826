"""Engines, the one way every service opens its database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so the embedded mode's threads share it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below issues BEGIN itself
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN so two
        # threads never both read and then fail to upgrade.
        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class NotificationListener:
    """LISTEN on a PostgreSQL channel, so an idle loop (a relay, a sync worker) wakes as soon as a
    transaction that notifies commits. Its own autocommit connection, reopened after an error."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self._conn: Any = None

    def wait(self, timeout: float) -> bool:
        """True if a notification came within ``timeout`` (or the connection was just opened, when
        something may have been missed); False on timeout or when the database is unavailable."""
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {self.channel}")
                return True  # rows may have come while not listening: look once more
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error:
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
