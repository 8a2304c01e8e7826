"""Waking an idle worker: LISTEN on the ledger's channel on PostgreSQL (the consumer's transaction
notifies at commit), a short poll on SQLite."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from quxiang.sync_gateway.adapters.ledger import NOTIFY_CHANNEL

SQLITE_POLL = 0.05


class Wakeup:
    def __init__(self, engine: Engine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = None

    def wait(self, timeout: float) -> bool:
        """True if woken by a notification within ``timeout`` seconds."""
        if timeout <= 0:
            return False
        if not self.postgres:
            time.sleep(min(timeout, SQLITE_POLL))
            return False
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
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
