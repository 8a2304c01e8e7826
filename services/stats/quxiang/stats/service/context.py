"""What the use cases need from the outside world, built once by the bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.config import Config

PRODUCER = "stats"


@dataclass
class Stats:
    config: Config
    engine: Engine
    session_factory: sessionmaker[Session]

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, PRODUCER, self.config.outbox_partitions)
