"""Throughput of the event bus on the real RabbitMQ and PostgreSQL, against raw pika on the same broker.

Three measurements in one run, all with ~1 KB events (the serialized envelope is padded to 1024 bytes)
published persistently into durable quorum queues, like the consumers' queues in production:

(a) raw      pika's BlockingConnection publishing N messages without publisher confirms to a durable
             topic exchange bound to a quorum queue, timed until the queue holds all N. This is the
             ceiling a Python publisher reaches on this broker, and the yardstick for the others.
(b) relay    N events pre-loaded into the outbox of a fresh database (not timed), then a Relay on the
             AmqpTransport (publisher confirms, a batch per transaction) timed until every row is
             marked sent. The price of the outbox's guarantee: nothing is marked sent unconfirmed.
(c) e2e      producers record N events through UnitOfWork (a transaction per --commit-every events)
             while a relay and a ConsumerRuntime run; the consumer's handler writes one row into its
             own database next to its inbox row. Timed from the first commit until the consumer's
             database holds N rows: what a service sees from "recorded" to "handled".

Relative to (a): targets on the reference machine (2 cores) are relay_ratio >= 0.5 and e2e_ratio >= 0.25.

How it is timed: every phase is warmed up first (raw: 1000 messages published and purged; relay: its
publisher connection opened; e2e: one event through the whole pipeline), so connection set-up is not
counted. Completion is watched by polling every 10 ms with one plain psycopg connection and an index-only
question (is a pending row left? max(id) of the consumer's table, then count(*) to confirm), because an
engine checkout (pre-ping) with count(*) costs the 2 cores enough to slow the relay by a fifth.
In (c) the relay, the consumer and the producer run as processes of their own by default, as in production
(qx-relay and qx-consumer are separate processes, producers are web workers); ``--e2e-mode threads`` runs
them as threads of one process instead (about 10% slower here: the GIL is shared).

Everything runs in a vhost of its own (``rabbitmqctl add_vhost``; unique exchange and queue names in the
URL's vhost where rabbitmqctl is not available) and fresh PostgreSQL databases, all removed at the end.
Servers: QX_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/) and QX_BENCH_POSTGRES_URL (a
maintenance database, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Other QX_* settings
(QX_RELAY_BATCH, QX_CONSUMER_PREFETCH, ...) are taken from the environment like a service would.

The last line is machine-readable: ``raw_eps=N relay_eps=N e2e_eps=N relay_ratio=R e2e_ratio=R``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import marshmallow
import pika
import psycopg
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import registry

from quxiang.common.bus.amqp import AmqpTransport
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.outbox import UnitOfWork, make_session_factory, partition_of
from quxiang.common.bus.process import prepare_worker_process
from quxiang.common.bus.relay import Relay
from quxiang.common.bus.tables import create_bus_tables, outbox
from quxiang.common.bus.transport import OutgoingMessage, QueueSpec
from quxiang.common.config import Config, load_config
from quxiang.common.db import make_engine
from quxiang.common.events import Catalogue, Event

log = logging.getLogger("bench_bus")

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUN_ID = uuid.uuid4().hex[:8]
EVENT_TYPE = "bench.item.created"
BODY_SIZE = 1024
SUBJECTS = 1000  # events are spread over this many aggregates, so over every outbox partition
SERVICE = "bench"
CONSUMER = "bench-sink"
QUEUE_TYPE = "quorum"
POLL = 0.01  # seconds between two looks at a queue depth or a row count
PHASE_TIMEOUT = 300.0
RAW_WARM_UP = 1000  # messages raw pika publishes (and purges) before its clock starts


# -- events ------------------------------------------------------------------------------------------

class ItemData(marshmallow.Schema):
    name = marshmallow.fields.String(required=True)
    n = marshmallow.fields.Integer(required=True)
    pad = marshmallow.fields.String(load_default="")


def make_catalogue() -> Catalogue:
    """A private catalogue: the bench's event type never enters the suite's global one."""
    catalogue = Catalogue()
    catalogue.register(EVENT_TYPE, ItemData, version=1, description="benchmark filler")
    return catalogue


def _subject(i: int) -> tuple[str, int]:
    return f"item-{i % SUBJECTS:04d}", i // SUBJECTS + 1


def padding(catalogue: Catalogue) -> str:
    """The ``pad`` that brings a bench event's JSON envelope to BODY_SIZE bytes (±2: sequence digits)."""
    subject, sequence = _subject(0)
    probe = catalogue.new_event(EVENT_TYPE, subject=subject, sequence=sequence, producer=SERVICE,
                                data={"name": "bench item", "n": 0, "pad": ""})
    return "x" * max(0, BODY_SIZE - len(probe.to_json()))


def new_event(catalogue: Catalogue, i: int, pad: str) -> Event:
    subject, sequence = _subject(i)
    return catalogue.new_event(EVENT_TYPE, subject=subject, sequence=sequence, producer=SERVICE,
                               data={"name": "bench item", "n": i, "pad": pad})


# -- the consumer's own table ------------------------------------------------------------------------

effects_metadata = MetaData()
effects = Table(
    "bench_effects", effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
)


class Effect:
    """An ORM entity, as a service's handler would write one."""

    def __init__(self, event_id: str, subject: str, sequence: int) -> None:
        self.event_id, self.subject, self.sequence = event_id, subject, sequence


registry().map_imperatively(Effect, effects)


def record_effect(event: Event, uow: UnitOfWork) -> None:
    """The e2e handler: one row in the consumer's database, in the same transaction as its inbox row.

    Added to the session like any entity of a service; the ORM writes a batch's rows together at
    commit, which is what the consumer's batching is for."""
    uow.session.add(Effect(event.event_id, event.subject, event.sequence))


# -- isolation: a vhost and databases of our own -----------------------------------------------------

def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@dataclass
class BrokerSandbox:
    """A fresh vhost, or (without rabbitmqctl) the URL's vhost and names that only this run uses."""

    base_url: str
    url: str = ""
    vhost: str | None = None
    queues: list[str] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)

    @property
    def isolation(self) -> str:
        return f"vhost {self.vhost}" if self.vhost else "the URL's vhost, with names unique to this run"

    def open(self) -> None:
        self.url = self.base_url
        if urlsplit(self.base_url).hostname not in ("127.0.0.1", "localhost", "::1") or not shutil.which("rabbitmqctl"):
            return
        vhost = f"qx-bench-{RUN_ID}"
        try:
            _rabbitmqctl("add_vhost", vhost)
            self.vhost = vhost
            _rabbitmqctl("set_permissions", "-p", vhost, urlsplit(self.base_url).username or "guest",
                         ".*", ".*", ".*")
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("rabbitmqctl failed (%s); isolating by names instead", exc)
            self.close()
            return
        self.url = _with_path(self.base_url, "/" + quote(vhost, safe=""))

    def name(self, label: str) -> str:
        """An exchange or queue name; unique per run when the vhost is shared."""
        return f"bench.{label}" if self.vhost else f"bench.{RUN_ID}.{label}"

    def track(self, config: Config, spec: QueueSpec | None = None) -> None:
        """Remember what AmqpTransport declares for ``config`` (and a consumer), to delete it later."""
        self.exchanges += [config.exchange, f"{config.exchange}.direct", f"{config.exchange}.unrouted"]
        self.queues.append(f"{config.queue_prefix}.unrouted")
        if spec is not None:
            self.queues += [spec.queue, spec.dead_letter_queue]
            self.queues += [spec.retry_queue(t) for t in range(len(spec.retry_delays))]

    def delete_queues(self, *names: str) -> None:
        with pika_channel(self.url) as channel:
            for name in names:
                channel.queue_delete(name)

    def close(self) -> None:
        if self.vhost is not None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                _rabbitmqctl("delete_vhost", self.vhost)
            self.vhost = None
            return
        if not self.url:
            return
        with contextlib.suppress(pika.exceptions.AMQPError, OSError), pika_channel(self.url) as channel:
            for queue in self.queues:
                channel.queue_delete(queue)
            for exchange in reversed(self.exchanges):
                channel.exchange_delete(exchange)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=True)


@contextlib.contextmanager
def pika_channel(url: str) -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        yield connection.channel()
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):
            connection.close()


@dataclass
class PostgresSandbox:
    admin_url: str  # SQLAlchemy URL of a maintenance database
    created: list[str] = field(default_factory=list)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.admin_url), autocommit=True, connect_timeout=5)

    def checkpoint(self) -> None:
        with self._admin() as conn:
            conn.execute("CHECKPOINT")

    def create(self, label: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"qx_bench_{RUN_ID}_{label}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_path(self.admin_url, f"/{name}")

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        try:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as exc:
            log.warning("could not drop database %s: %s", name, exc)
            return
        self.created.remove(name)

    def close(self) -> None:
        for name in reversed(self.created):
            self.drop(_with_path(self.admin_url, f"/{name}"))


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy_url(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def bench_config(broker_url: str, database_url: str, exchange: str, prefix: str, relay_batch: int | None) -> Config:
    """The service configuration a phase runs with: the process's QX_* settings, pointed at the sandbox."""
    env = {k: v for k, v in os.environ.items() if k.startswith("QX_") and not k.startswith("QX_BENCH_")}
    env.update(QX_BROKER_URL=broker_url, QX_DATABASE_URL=database_url, QX_EXCHANGE=exchange,
               QX_QUEUE_PREFIX=prefix)
    if relay_batch is not None:
        env["QX_RELAY_BATCH"] = str(relay_batch)
    return load_config(SERVICE, env)


# -- measuring ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    name: str
    events: int
    seconds: float
    note: str = ""

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PHASE_TIMEOUT,
               alive: Callable[[], bool] = lambda: True) -> float:
    """Poll ``condition``; return the monotonic time at which it was first seen true."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        if not alive():
            raise RuntimeError(f"a worker died while waiting for {what}")
        time.sleep(POLL)


class Probe:
    """One autocommit connection asking PostgreSQL for one number: cheap enough to poll every POLL seconds
    (an engine's checkout pings first, and a count(*) over thousands of rows costs a millisecond or more of
    the CPU the measured code needs)."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(_conninfo(url), autocommit=True, connect_timeout=5)

    def number(self, sql: str) -> int:
        row = self._conn.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        self._conn.close()


PENDING_ANY = "SELECT count(*) FROM (SELECT 1 FROM outbox WHERE sent_at IS NULL LIMIT 1) AS pending"
EFFECTS_MAX_ID = "SELECT max(id) FROM bench_effects"
EFFECTS_COUNT = "SELECT count(*) FROM bench_effects"
EFFECTS_DISTINCT = "SELECT count(DISTINCT event_id) FROM bench_effects"


def wait_for_rows(probe: Probe, target: int, what: str, timeout: float = PHASE_TIMEOUT,
                  alive: Callable[[], bool] = lambda: True) -> float:
    """The moment the consumer's table holds ``target`` rows: max(id) is an index look-up, cheap to poll;
    count(*) confirms (ids of rolled-back inserts leave gaps)."""
    wait_until(lambda: probe.number(EFFECTS_MAX_ID) >= target, what, timeout, alive)
    return wait_until(lambda: probe.number(EFFECTS_COUNT) >= target, what, timeout, alive)


def median_of(rounds: int, measure: Callable[[int], Result]) -> Result:
    """Run ``measure`` ``rounds`` times; the median round, its note telling the spread."""
    results = sorted((_announce(measure(r)) for r in range(rounds)), key=lambda r: r.seconds)
    middle = results[len(results) // 2]
    if rounds == 1:
        return middle
    spread = f"median of {rounds} rounds ({results[-1].eps:,.0f}-{results[0].eps:,.0f} ev/s)"
    return Result(middle.name, middle.events, middle.seconds, f"{middle.note}; {spread}")


def queue_depth(channel: Any, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


# -- (a) raw pika ------------------------------------------------------------------------------------

def bench_raw(broker: BrokerSandbox, bodies: list[tuple[str, str, bytes]], round_no: int = 0) -> Result:
    """Raw pika, no confirms, persistent, into a quorum queue; timed until the queue holds them all."""
    exchange, queue = broker.name(f"raw{round_no}"), broker.name(f"raw{round_no}.q")
    broker.exchanges.append(exchange)
    broker.queues.append(queue)
    with pika_channel(broker.url) as channel:
        channel.exchange_declare(exchange, "topic", durable=True)
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": QUEUE_TYPE})
        channel.queue_bind(queue, exchange, EVENT_TYPE)
        # Warm up like the relay's phase does (a new vhost's first queue starts slowly), then empty it.
        _publish_raw(channel, exchange, bodies[:RAW_WARM_UP])
        wait_until(lambda: queue_depth(channel, queue) >= len(bodies[:RAW_WARM_UP]), "the raw warm-up")
        channel.queue_purge(queue)
        gc.collect()
        started = time.monotonic()
        _publish_raw(channel, exchange, bodies)
        published = time.monotonic()
        arrived = wait_until(lambda: queue_depth(channel, queue) >= len(bodies), "the raw queue to fill")
        channel.queue_delete(queue)
    return Result("raw pika", len(bodies), arrived - started,
                  f"no confirms; publish calls {published - started:.2f}s")


def _publish_raw(channel: Any, exchange: str, bodies: list[tuple[str, str, bytes]]) -> None:
    """The same properties the relay sends: persistent, content type, message id."""
    for event_id, _subject, body in bodies:
        channel.basic_publish(exchange, EVENT_TYPE, body, pika.BasicProperties(
            delivery_mode=2, content_type="application/json", message_id=event_id))


# -- (b) the relay -----------------------------------------------------------------------------------

def preload(engine: Engine, config: Config, events: list[Event]) -> None:
    """The outbox rows ``record`` would write for ``events``, inserted in bulk."""
    rows = [{"event_id": e.event_id, "event_type": e.type, "subject": e.subject, "sequence": e.sequence,
             "partition": partition_of(e.subject, config.outbox_partitions), "payload": e.to_json().decode(),
             "created_at": e.occurred_at, "attempts": 0} for e in events]
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(outbox), rows[start:start + 2000])
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE outbox")


def warm_up(transport: AmqpTransport, config: Config) -> None:
    """Open the relay's publisher connection before the clock starts (the message goes to the unrouted queue)."""
    result = transport.publish_batch([OutgoingMessage("bench.warmup.ping", b"{}", str(uuid.uuid4()))],
                                     timeout=config.relay_confirm_timeout)
    if result != [None]:
        raise RuntimeError(f"warm-up publish failed: {result}")


def bench_relay(broker: BrokerSandbox, pg: PostgresSandbox, events: list[Event], relay_batch: int | None,
                round_no: int = 0) -> Result:
    """A Relay draining a pre-loaded outbox (fresh database each round) into a consumer's quorum queue."""
    label = f"relay{round_no}"
    config = bench_config(broker.url, pg.create(label), broker.name(label), broker.name(label), relay_batch)
    sink = QueueSpec.for_consumer(CONSUMER, [EVENT_TYPE], config)
    broker.track(config, sink)
    engine = make_engine(config.database_url)
    try:
        create_bus_tables(engine, config.outbox_partitions)
        preload(engine, config, events)
        transport = AmqpTransport(config)
        transport.declare_consumer(sink)  # a real quorum queue bound to the type, so messages are routed
        relay = Relay(engine, transport, config, SERVICE)
        relay.prepare()
        warm_up(transport, config)
        probe = Probe(config.database_url)
        gc.collect()
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)
        started = time.monotonic()
        thread.start()
        try:
            done = wait_until(lambda: probe.number(PENDING_ANY) == 0, "the outbox to drain", alive=thread.is_alive)
        finally:
            stop.set()
            thread.join(timeout=30)
            probe.close()
        with pika_channel(broker.url) as channel:
            routed = queue_depth(channel, sink.queue)
        if routed != len(events):
            raise RuntimeError(f"the sink queue holds {routed} messages, expected {len(events)}")
        broker.delete_queues(sink.queue)
    finally:
        engine.dispose()
        # Gone before the next round, so autovacuum does not clean up this round's updates meanwhile.
        pg.drop(config.database_url)
    return Result("relay", len(events), done - started, f"batch {config.relay_batch}, confirms")


# -- (c) end to end ----------------------------------------------------------------------------------

def produce(engine: Engine, config: Config, catalogue: Catalogue, count: int, commit_every: int,
            first: int = 0) -> tuple[float, float]:
    """Record events ``first``..``first+count-1`` through UnitOfWork; monotonic times of the first and last commit."""
    factory = make_session_factory(engine)
    pad = padding(catalogue)
    first_commit = last_commit = 0.0
    for start in range(first, first + count, commit_every):
        with UnitOfWork(factory, SERVICE, config.outbox_partitions, catalogue) as uow:
            for i in range(start, min(start + commit_every, first + count)):
                subject, sequence = _subject(i)
                uow.record(EVENT_TYPE, subject=subject, sequence=sequence,
                           data={"name": "bench item", "n": i, "pad": pad})
            uow.commit()
        last_commit = time.monotonic()
        first_commit = first_commit or last_commit
    return first_commit, last_commit


def make_runtime(config: Config, consumer_url: str, catalogue: Catalogue) -> ConsumerRuntime:
    engine = make_engine(consumer_url)
    return ConsumerRuntime(CONSUMER, {EVENT_TYPE: record_effect}, engine, AmqpTransport(config), config,
                           producer=SERVICE, catalogue=catalogue)


def _threading_stop(stop: Any) -> threading.Event:
    """A threading.Event that follows a multiprocessing.Event (the library waits on threading's API)."""
    local = threading.Event()

    def follow() -> None:
        stop.wait()
        local.set()

    threading.Thread(target=follow, daemon=True).start()
    return local


def relay_process(config: Config, stop: Any) -> None:
    """What ``qx-relay`` runs."""
    logging.basicConfig(level=logging.WARNING)
    prepare_worker_process()
    engine = make_engine(config.database_url)
    Relay(engine, AmqpTransport(config), config, SERVICE).run(_threading_stop(stop))


def consumer_process(config: Config, consumer_url: str, stop: Any) -> None:
    """What ``qx-consumer`` runs."""
    logging.basicConfig(level=logging.WARNING)
    prepare_worker_process()
    make_runtime(config, consumer_url, make_catalogue()).run(_threading_stop(stop))


def producer_thread(config: Config, catalogue: Catalogue, commit_every: int, count: int, first: int,
                    times: Any) -> None:
    """A producer with an engine of its own, like a web worker; leaves its first and last commit times."""
    engine = make_engine(config.database_url)
    try:
        times[0], times[1] = produce(engine, config, catalogue, count, commit_every, first)
    finally:
        engine.dispose()


def producer_process(config: Config, commit_every: int, count: int, first: int, times: Any) -> None:
    logging.basicConfig(level=logging.WARNING)
    producer_thread(config, make_catalogue(), commit_every, count, first, times)


class Workers:
    """Relay, consumer and producers as threads of this process or as processes of their own."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._mp = multiprocessing.get_context("spawn")
        self.stop: Any = threading.Event() if mode == "threads" else self._mp.Event()
        self.workers: list[Any] = []

    def start(self, target: Callable[..., None], *args: Any, name: str) -> Any:
        kind = threading.Thread if self.mode == "threads" else self._mp.Process
        worker = kind(target=target, args=args, name=name, daemon=True)
        worker.start()
        self.workers.append(worker)
        return worker

    def shared_times(self) -> Any:
        """Where a producer leaves its first and last commit times."""
        return [0.0, 0.0] if self.mode == "threads" else self._mp.Array("d", 2)

    def alive(self) -> bool:
        """Relay and consumers are all running (producers end by themselves)."""
        return all(w.is_alive() for w in self.workers if not w.name.startswith("producer-"))

    def join_producers(self) -> None:
        for worker in self.workers:
            if worker.name.startswith("producer-"):
                worker.join(timeout=PHASE_TIMEOUT)
                if worker.is_alive() or getattr(worker, "exitcode", 0):
                    raise RuntimeError(f"{worker.name} failed")

    def shutdown(self) -> None:
        self.stop.set()
        for worker in self.workers:
            worker.join(timeout=30)
            if worker.is_alive() and self.mode == "processes":
                worker.terminate()


@dataclass(frozen=True)
class E2eOptions:
    mode: str  # "threads" or "processes"
    producers: int
    consumers: int  # more than one competes for the queue, and an aggregate's order is no longer kept
    commit_every: int


def bench_e2e(broker: BrokerSandbox, pg: PostgresSandbox, count: int, relay_batch: int | None,
              options: E2eOptions) -> Result:
    config = bench_config(broker.url, pg.create("producer"), broker.name("e2e"), broker.name("e2e"), relay_batch)
    consumer_url = pg.create("consumer")
    catalogue = make_catalogue()
    spec = QueueSpec.for_consumer(CONSUMER, [EVENT_TYPE], config)
    broker.track(config, spec)
    producer_engine, consumer_engine = make_engine(config.database_url), make_engine(consumer_url)
    workers = Workers(options.mode)
    probe: Probe | None = None
    try:
        create_bus_tables(producer_engine, config.outbox_partitions)
        create_bus_tables(consumer_engine, config.outbox_partitions)
        effects_metadata.create_all(consumer_engine)
        AmqpTransport(config).declare_consumer(spec)  # before anything is published, as in production
        _start_pipeline(workers, config, consumer_url, catalogue, options.consumers)
        probe = Probe(consumer_url)
        # One event through the whole pipeline first: connections, LISTEN and the consumer are warm.
        produce(producer_engine, config, catalogue, 1, 1, first=count)
        wait_for_rows(probe, 1, "the warm-up event", timeout=60, alive=workers.alive)
        first_commit, last_commit = _run_producers(workers, config, catalogue, count, options)
        done = wait_for_rows(probe, count + 1, "the consumer's rows", alive=workers.alive)
        if probe.number(EFFECTS_DISTINCT) != count + 1:
            raise RuntimeError("the consumer handled an event twice: the inbox let a duplicate through")
        started = first_commit()
        produced = last_commit() - started
    finally:
        if probe is not None:
            probe.close()
        workers.shutdown()
        producer_engine.dispose()
        consumer_engine.dispose()
    note = (f"{options.mode}, {options.producers} producer(s) x {options.commit_every}/commit, "
            f"{options.consumers} consumer(s); producers alone {count / produced if produced > 0 else 0:,.0f} ev/s")
    return Result("end to end", count, done - started, note)


def _start_pipeline(workers: Workers, config: Config, consumer_url: str, catalogue: Catalogue,
                    consumers: int) -> None:
    if workers.mode == "threads":
        engine = make_engine(config.database_url)
        workers.start(Relay(engine, AmqpTransport(config), config, SERVICE).run, workers.stop, name="relay")
        for c in range(consumers):
            workers.start(make_runtime(config, consumer_url, catalogue).run, workers.stop, name=f"consumer-{c}")
    else:
        workers.start(relay_process, config, workers.stop, name="relay")
        for c in range(consumers):
            workers.start(consumer_process, config, consumer_url, workers.stop, name=f"consumer-{c}")


def _run_producers(workers: Workers, config: Config, catalogue: Catalogue, count: int,
                   options: E2eOptions) -> tuple[Callable[[], float], Callable[[], float]]:
    """Run the producers, each with its share of the events; getters for the first and last commit times."""
    n = options.producers
    shares = [count // n + (1 if p < count % n else 0) for p in range(n)]
    starts = [sum(shares[:p]) for p in range(n)]
    times = [workers.shared_times() for _ in shares]
    for p, (share, first) in enumerate(zip(shares, starts, strict=True)):
        if workers.mode == "threads":
            workers.start(producer_thread, config, catalogue, options.commit_every, share, first, times[p],
                          name=f"producer-{p}")
        else:
            workers.start(producer_process, config, options.commit_every, share, first, times[p],
                          name=f"producer-{p}")
    workers.join_producers()
    if not all(t[1] for t in times):
        raise RuntimeError("a producer failed before its last commit")
    return (lambda: min(t[0] for t in times)), (lambda: max(t[1] for t in times))


# -- the run -----------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="events for (a) raw and (b) relay")
    parser.add_argument("--e2e-events", type=int, default=10000, help="events for (c) end to end")
    parser.add_argument("--relay-batch", type=int, default=None,
                        help="override QX_RELAY_BATCH (default: the environment's, else the config default)")
    parser.add_argument("--e2e-mode", choices=("threads", "processes"), default="processes",
                        help="run relay, consumer and producers of (c) as threads or as processes")
    parser.add_argument("--producers", type=int, default=1, help="producers in (c)")
    parser.add_argument("--consumers", type=int, default=1,
                        help="competing ConsumerRuntimes on the queue in (c); more than 1 gives up per-aggregate order")
    parser.add_argument("--commit-every", type=int, default=100, help="events per producer transaction in (c)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of (a) and (b), the median is reported (their short runs are noisy)")
    parser.add_argument("--only", choices=("raw", "relay", "e2e"), action="append",
                        help="run only these phases (repeatable; default all)")
    return parser.parse_args(argv)


TARGETS = {"relay": 0.5, "end to end": 0.25}  # fraction of raw_eps expected on the reference machine


def print_report(results: list[Result], sizes: tuple[int, int], broker: BrokerSandbox) -> None:
    raw = next((r for r in results if r.name == "raw pika"), None)
    print()
    print(f"bus benchmark: events of {sizes[0]}-{sizes[1]} B (JSON envelope), persistent (delivery_mode 2), "
          f"durable {QUEUE_TYPE} queues; broker: {broker.isolation}; {os.cpu_count()} CPUs")
    print(f"{'phase':<12} {'events':>8} {'seconds':>8} {'events/s':>10} {'vs raw':>7} {'target':>7}  notes")
    for r in results:
        ratio = r.eps / raw.eps if raw and raw.eps else None
        target = TARGETS.get(r.name)
        verdict = "-" if target is None or ratio is None else f"{'ok' if ratio >= target else 'MISS'} {target:.2f}"
        print(f"{r.name:<12} {r.events:>8} {r.seconds:>8.2f} {r.eps:>10,.0f} "
              f"{'-' if ratio is None else f'{ratio:.2f}':>7} {verdict:>7}  {r.note}")
    print()


def final_line(results: list[Result]) -> str:
    eps = {r.name: r.eps for r in results}
    raw, relay, e2e = eps.get("raw pika", 0.0), eps.get("relay", 0.0), eps.get("end to end", 0.0)

    def ratio(value: float) -> str:
        return f"{value / raw:.2f}" if raw else "0.00"

    return (f"raw_eps={raw:.0f} relay_eps={relay:.0f} e2e_eps={e2e:.0f} "
            f"relay_ratio={ratio(relay)} e2e_ratio={ratio(e2e)}")


def run(args: argparse.Namespace) -> list[Result]:
    phases = set(args.only or ("raw", "relay", "e2e"))
    broker = BrokerSandbox(os.environ.get("QX_BENCH_AMQP_URL", DEFAULT_AMQP))
    pg = PostgresSandbox(_sqlalchemy_url(os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)))
    results: list[Result] = []
    try:
        broker.open()
        catalogue = make_catalogue()
        pad = padding(catalogue)
        events = [new_event(catalogue, i, pad) for i in range(args.events)]
        lengths = [len(e.to_json()) for e in events]
        sizes = (min(lengths), max(lengths))
        print(f"events of {sizes[0]}-{sizes[1]} B; broker: {broker.isolation}", file=sys.stderr)
        if "raw" in phases:
            bodies = [(e.event_id, e.subject, e.to_json()) for e in events]
            settle(pg)
            results.append(median_of(args.rounds, lambda r: bench_raw(broker, bodies, r)))
        if "relay" in phases:
            settle(pg)
            results.append(median_of(args.rounds, lambda r: bench_relay(broker, pg, events, args.relay_batch, r)))
        if "e2e" in phases:
            settle(pg)
            options = E2eOptions(args.e2e_mode, args.producers, args.consumers, args.commit_every)
            results.append(_announce(bench_e2e(broker, pg, args.e2e_events, args.relay_batch, options)))
        print_report(results, sizes, broker)
    finally:
        broker.close()
        pg.close()
    return results


def settle(pg: PostgresSandbox, seconds: float = 3.0) -> None:
    """Let the previous phase's aftermath pass before the next is timed: PostgreSQL writes its
    dirty pages out (CHECKPOINT) and the broker finishes deleting queues and compacting logs.
    Without it the phase that comes last pays for the ones before it."""
    pg.checkpoint()
    time.sleep(seconds)


def _announce(result: Result) -> Result:
    print(f"{result.name}: {result.events} events in {result.seconds:.2f}s = {result.eps:,.0f} events/s",
          file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM unwinds like Ctrl-C, so the vhost and the databases are removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = run(parse_args(argv))
    print(final_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
