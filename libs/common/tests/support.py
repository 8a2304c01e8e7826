"""Test support for the bus: throwaway event types, an effects table, and subprocess entry points.

Run as a script it becomes a relay or consumer process for the crash tests:
``python support.py relay|consumer MODE`` with the QX_* environment of the test's config.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import marshmallow
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Engine

from quxiang.common.bus.outbox import UnitOfWork, make_session_factory
from quxiang.common.bus.tables import create_bus_tables
from quxiang.common.config import Config
from quxiang.common.events import Catalogue, Event


class ItemData(marshmallow.Schema):
    name = marshmallow.fields.String(required=True)
    n = marshmallow.fields.Integer(load_default=0)
    pad = marshmallow.fields.String(load_default="")


def make_catalogue() -> Catalogue:
    catalogue = Catalogue()
    catalogue.register("test.item.created", ItemData, version=1)
    catalogue.register("test.item.updated", ItemData, version=2)
    return catalogue


CATALOGUE = make_catalogue()
TYPES = ("test.item.created", "test.item.updated")

test_metadata = MetaData()
effects = Table(
    "effects", test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
)


def prepare_database(engine: Engine, config: Config) -> None:
    create_bus_tables(engine, config.outbox_partitions)
    test_metadata.create_all(engine)


def unit_of_work(engine: Engine, config: Config) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), "testsvc", config.outbox_partitions, CATALOGUE)


def produce(engine: Engine, config: Config, subject: str, sequence: int, n: int = 0, pad: str = "") -> Event:
    with unit_of_work(engine, config) as uow:
        event = uow.record("test.item.created", subject=subject, sequence=sequence,
                           data={"name": f"item {subject}", "n": n, "pad": pad})
        uow.commit()
    return event


def effect_handler(event: Event, uow: UnitOfWork) -> None:
    uow.session.execute(insert(effects).values(event_id=event.event_id, subject=event.subject,
                                               sequence=event.sequence))


def effect_counts(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(effects.c.event_id, func.count()).group_by(effects.c.event_id)).all()
    return Counter({event_id: count for event_id, count in rows})


def effects_in_order(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [(r.subject, r.sequence) for r in conn.execute(select(effects).order_by(effects.c.id))]


def _main() -> None:
    from quxiang.common.bus import make_transport
    from quxiang.common.bus.consumer import ConsumerRuntime
    from quxiang.common.bus.relay import Relay
    from quxiang.common.config import load_config
    from quxiang.common.db import make_engine

    role, mode = sys.argv[1], sys.argv[2]
    marker = Path(os.environ["QX_TEST_MARKER"])
    config = load_config("testsvc")
    engine = make_engine(config.database_url)
    transport = make_transport(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    if role == "relay":
        if mode == "die-after-publish":
            original = transport.publish_batch

            def publish_then_die(messages, timeout):
                results = original(messages, timeout)
                if not marker.exists():
                    marker.write_text(str(len(messages)))
                    os.kill(os.getpid(), signal.SIGKILL)  # published, not yet marked sent
                return results

            transport.publish_batch = publish_then_die  # type: ignore[method-assign]
        Relay(engine, transport, config, "testsvc").run(stop)
        return

    def handler(event: Event, uow: UnitOfWork) -> None:
        effect_handler(event, uow)
        uow.session.flush()
        if mode == "die-in-handler" and not marker.exists():
            marker.write_text(event.event_id)
            os.kill(os.getpid(), signal.SIGKILL)  # the effect is written but not committed
        if mode == "slow":
            marker.write_text(event.event_id)
            time.sleep(1.5)  # SIGTERM arrives meanwhile; the message must still be finished

    runtime = ConsumerRuntime("worker", dict.fromkeys(TYPES, handler), engine, transport, config,
                              producer="testsvc", catalogue=CATALOGUE)
    runtime.run(stop)


if __name__ == "__main__":
    _main()
