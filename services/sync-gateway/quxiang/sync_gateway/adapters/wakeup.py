"""Waking an idle worker: LISTEN on the ledger's channel on PostgreSQL (the consumer's transaction
notifies at commit), a short poll on SQLite."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from quxiang.common.db import NotificationListener
from quxiang.sync_gateway.adapters.ledger import NOTIFY_CHANNEL

SQLITE_POLL = 0.05


class Wakeup:
    def __init__(self, engine: Engine) -> None:
        self._listener = (NotificationListener(engine, NOTIFY_CHANNEL) if engine.dialect.name == "postgresql"
                          else None)

    def wait(self, timeout: float) -> bool:
        """True if woken by a notification within ``timeout`` seconds."""
        if timeout <= 0:
            return False
        if self._listener is None:
            time.sleep(min(timeout, SQLITE_POLL))
            return False
        return self._listener.wait(timeout)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
