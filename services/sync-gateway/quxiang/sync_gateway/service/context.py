"""What the use cases need from the outside world, built once by the bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.config import Config
from quxiang.sync_gateway.adapters.ems_client import EmsClient
from quxiang.sync_gateway.service.settings import SyncSettings, load_settings

PRODUCER = "sync-gateway"


@dataclass
class Gateway:
    config: Config
    engine: Engine
    session_factory: sessionmaker[Session]
    settings: SyncSettings

    @classmethod
    def build(cls, config: Config, engine: Engine, session_factory: sessionmaker[Session]) -> Gateway:
        return cls(config, engine, session_factory, load_settings(config.extra, config.http_port))

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, PRODUCER, self.config.outbox_partitions)

    def ems_client(self) -> EmsClient:
        return EmsClient(self.settings.ems_url, pool_size=self.settings.concurrency)
