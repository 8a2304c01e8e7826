"""The embedded bus: an in-process transport whose queues are rows in a SQL database.

It gives the embedded mode the guarantees RabbitMQ gives the real one, another way: messages
survive a restart (they are rows), a failing message waits for its retry by ``available_at``
instead of a TTL queue, and dead letters are rows moved to the consumer's ``.dlq`` queue.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from quxiang.common.bus.transport import (
    ATTEMPT_HEADER,
    Ack,
    BatchHandler,
    DeadLetteredMessage,
    Delivery,
    Outcome,
    OutgoingMessage,
    QueueSpec,
    Retry,
    TransportError,
    failure_headers,
)
from quxiang.common.config import Config
from quxiang.common.db import make_engine

VISIBILITY_TIMEOUT = 300.0  # a claimed message returns to the queue if not settled by then

embedded_metadata = MetaData()
binding_table = Table(
    "bus_binding", embedded_metadata,
    Column("queue", String(200), primary_key=True),
    Column("pattern", String(200), primary_key=True),
)
message_table = Table(
    "bus_message", embedded_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(200), nullable=False),
    Column("message_id", String(64)),
    Column("routing_key", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("available_at", Float, nullable=False),
    Column("locked_until", Float),
    Column("redelivered", Integer, nullable=False, default=0),
    Index("ix_bus_message_queue", "queue", "available_at", "id"),
)

_signals: dict[str, threading.Condition] = {}
_signals_lock = threading.Lock()


_engines: dict[str, Engine] = {}


def _engine_for(url: str) -> Engine:
    """One engine per bus file in a process: the relays and consumers share its pool."""
    with _signals_lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
            embedded_metadata.create_all(_engines[url])
        return _engines[url]


def _signal_for(url: str) -> threading.Condition:
    with _signals_lock:
        return _signals.setdefault(url, threading.Condition())


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: '*' is exactly one word, '#' zero or more."""
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


@lru_cache(maxsize=4096)
def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


class EmbeddedTransport:
    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self.url = config.bus_url()
        if engine is not None:
            embedded_metadata.create_all(engine)
        self.engine = engine or _engine_for(self.url)
        self.unrouted_queue = f"{config.queue_prefix}.unrouted"
        self._signal = _signal_for(self.url)

    def close(self) -> None:
        """The engine stays open: other components of the process share the bus."""

    def heartbeat(self) -> None:
        """Nothing to keep alive in-process."""

    def _notify(self) -> None:
        with self._signal:
            self._signal.notify_all()

    # -- publishing --------------------------------------------------------------------------
    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float) -> list[str | None]:
        if not messages:
            return []
        now = time.time()
        try:
            with self.engine.begin() as conn:
                bindings = conn.execute(select(binding_table.c.queue, binding_table.c.pattern)).all()
                rows = []
                for m in messages:
                    queues = {q for q, p in bindings if topic_matches(p, m.routing_key)} or {self.unrouted_queue}
                    for queue in sorted(queues):
                        rows.append({"queue": queue, "message_id": m.message_id, "routing_key": m.routing_key,
                                     "body": m.body, "headers": json.dumps(m.headers), "available_at": now,
                                     "locked_until": None, "redelivered": 0})
                conn.execute(insert(message_table), rows)
        except OperationalError as exc:
            raise TransportError(f"embedded bus unavailable: {exc}") from exc
        self._notify()
        return [None] * len(messages)

    # -- topology ----------------------------------------------------------------------------
    def declare_consumer(self, spec: QueueSpec) -> None:
        with self.engine.begin() as conn:
            have = set(conn.execute(select(binding_table.c.pattern).where(
                binding_table.c.queue == spec.queue)).scalars())
            new = [{"queue": spec.queue, "pattern": p} for p in spec.bindings if p not in have]
            if new:
                conn.execute(insert(binding_table), new)

    # -- consuming ---------------------------------------------------------------------------
    def _claim(self, queue: str, limit: int) -> tuple[list[Delivery], float | None]:
        """Take the oldest available messages; if none, say when the next one becomes available."""
        now = time.time()
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(message_table).where(
                    message_table.c.queue == queue, message_table.c.available_at <= now,
                    (message_table.c.locked_until.is_(None)) | (message_table.c.locked_until < now),
                ).order_by(message_table.c.id).limit(limit)).all()
            if not rows:
                next_at = conn.execute(select(message_table.c.available_at).where(
                    message_table.c.queue == queue).order_by(message_table.c.available_at).limit(1)).scalar()
                return [], next_at
            conn.execute(update(message_table).where(message_table.c.id.in_([r.id for r in rows])).values(
                locked_until=now + VISIBILITY_TIMEOUT, redelivered=1))
        return [Delivery(body=bytes(r.body), headers=json.loads(r.headers), routing_key=r.routing_key,
                         message_id=r.message_id, redelivered=bool(r.redelivered) or r.locked_until is not None,
                         tag=r.id) for r in rows], None

    def consume(self, spec: QueueSpec, handle: BatchHandler, stop: threading.Event) -> None:
        with self.engine.begin() as conn:  # one consumer per queue in-process: earlier claims are stale
            conn.execute(update(message_table).where(message_table.c.queue == spec.queue).values(
                locked_until=None))
        while not stop.is_set():
            try:
                deliveries, next_at = self._claim(spec.queue, self.config.consumer_batch)
            except OperationalError as exc:
                raise TransportError(f"embedded bus unavailable: {exc}") from exc
            if not deliveries:
                wait = 0.5 if next_at is None else max(0.0, min(0.5, next_at - time.time()))
                with self._signal:
                    self._signal.wait(wait)
                continue
            for delivery, outcome in zip(deliveries, handle(deliveries), strict=True):
                self._settle(spec, delivery, outcome)

    def _settle(self, spec: QueueSpec, delivery: Delivery, outcome: Outcome) -> None:
        table = message_table
        with self.engine.begin() as conn:
            if isinstance(outcome, Ack):
                conn.execute(delete(table).where(table.c.id == delivery.tag))
                return
            now = datetime.now(UTC)
            if isinstance(outcome, Retry):
                attempt = delivery.attempt + (1 if outcome.counts else 0)
                headers = failure_headers(delivery.headers, attempt, outcome.error, spec.queue, now)
                values: dict[str, Any] = {"available_at": time.time() + spec.retry_delays[outcome.tier]}
            else:
                headers = failure_headers(delivery.headers, delivery.attempt + 1, outcome.error, spec.queue, now)
                values = {"queue": spec.dead_letter_queue}
            conn.execute(update(table).where(table.c.id == delivery.tag).values(
                headers=json.dumps(headers), locked_until=None, **values))

    # -- dead letters ------------------------------------------------------------------------
    def dead_letters(self, spec: QueueSpec, limit: int) -> list[DeadLetteredMessage]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(message_table).where(
                message_table.c.queue == spec.dead_letter_queue).order_by(message_table.c.id).limit(limit)).all()
        out = []
        for row in rows:
            headers = json.loads(row.headers)
            out.append(DeadLetteredMessage(
                message_id=row.message_id, routing_key=row.routing_key, error=headers.get("x-qx-error"),
                failed_at=headers.get("x-qx-failed-at"), attempts=int(headers.get(ATTEMPT_HEADER, 0)),
                body=bytes(row.body)))
        return out

    def replay_dead_letters(self, spec: QueueSpec, message_ids: Sequence[str] | None, limit: int) -> int:
        with self.engine.begin() as conn:
            query = select(message_table.c.id, message_table.c.headers).where(
                message_table.c.queue == spec.dead_letter_queue)
            if message_ids is not None:
                query = query.where(message_table.c.message_id.in_(list(message_ids)))
            rows = conn.execute(query.order_by(message_table.c.id).limit(limit)).all()
            for row in rows:
                headers = json.loads(row.headers)
                headers[ATTEMPT_HEADER] = 0
                headers["x-qx-replayed-at"] = datetime.now(UTC).isoformat()
                conn.execute(update(message_table).where(message_table.c.id == row.id).values(
                    queue=spec.queue, headers=json.dumps(headers), available_at=time.time(),
                    locked_until=None))
        self._notify()
        return len(rows)

    def queue_depth(self, queue: str) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(message_table.c.id).where(message_table.c.queue == queue)).all())

