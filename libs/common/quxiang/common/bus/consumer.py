"""The consumer runtime: event in, handler in a unit of work, inbox row, commit, then ack.

The inbox row (consumer, event id) is written in the handler's own transaction, so a message that
comes again (after a crash, a reconnect, a relay republishing) finds it and is acked without
running the handler twice. Failures are retried with growing delays, then dead-lettered with the
error attached; events that cannot be decoded are dead-lettered at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from prometheus_client import Counter as PromCounter
from prometheus_client import Histogram
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from quxiang.common.bus.backoff import Backoff
from quxiang.common.bus.outbox import UnitOfWork, make_session_factory, pg_text_array
from quxiang.common.bus.tables import inbox
from quxiang.common.bus.transport import (
    Ack,
    DeadLetter,
    Delivery,
    Outcome,
    QueueSpec,
    Retry,
    Transport,
    TransportError,
)
from quxiang.common.config import Config
from quxiang.common.context import event_context
from quxiang.common.events import Catalogue, Event, EventError
from quxiang.common.events import catalogue as default_catalogue
from quxiang.common.pii import redact_identity_numbers

log = logging.getLogger(__name__)

Handler = Callable[[Event, UnitOfWork], None]
H = TypeVar("H", bound=Handler)

LOCK_ORDER = "qx_lock_order"


def locks_first(key: Callable[[Event], str]) -> Callable[[H], H]:
    """Declare the row a handler locks first, by a key read from the event (a graduate's id, say).
    A batch applies its events sorted by that key, stably (one key's events keep their order), so
    two consumers' batches take the same rows in the same order instead of deadlocking on each
    other (each deadlock cost the batch's transaction and a second of handling one by one)."""
    def declare(handler: H) -> H:
        setattr(handler, LOCK_ORDER, key)
        return handler
    return declare


def _graduate_of(event: Event) -> str:
    return str(event.data.get("graduate_id") or "")


# The common case: a handler that locks the graduate's rows first (roster, agreements, registrations).
locks_graduate_first = locks_first(_graduate_of)


def _school_of(event: Event) -> str:
    return str(event.data.get("school_code") or "")


# A handler that locks the school's row first (a directory's copy, a school's feed counter).
locks_school_first = locks_first(_school_of)


def in_lock_order(events: list[Event], handlers: Mapping[str, Handler]) -> list[Event]:
    """``events`` in the order their handlers' declared keys give (see ``locks_first``); as they
    came when no handler declares one. Events whose handler declares none go first, in order."""
    keys = [getattr(handlers[event.type], LOCK_ORDER, None) for event in events]
    if not any(keys):
        return events
    def rank(i: int) -> tuple[int, str, int]:
        key = keys[i]
        return (0, "", i) if key is None else (1, key(events[i]), i)
    return [events[i] for i in sorted(range(len(events)), key=rank)]

HANDLED = PromCounter("qx_consumer_messages_total", "Messages settled by consumers", ["consumer", "outcome"])
LAG = Histogram("qx_consumer_lag_seconds", "From an event's occurrence to its handling", ["consumer"],
                buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
INBOX_RETENTION = timedelta(days=30)
PRUNE_EVERY = 3600.0


class ConsumerRuntime:
    def __init__(self, name: str, handlers: Mapping[str, Handler], engine: Engine, transport: Transport,
                 config: Config, producer: str, catalogue: Catalogue = default_catalogue) -> None:
        if not handlers:
            raise ValueError(f"consumer {name!r} has no handlers")
        self.name = name
        self.handlers = dict(handlers)
        self.engine = engine
        self.transport = transport
        self.config = config
        self.catalogue = catalogue
        self.spec = QueueSpec.for_consumer(name, sorted(self.handlers), config)
        self._session_factory = make_session_factory(engine)
        # Label lookups once, not per message.
        self._lag = LAG.labels(name)
        self._handled = {kind: HANDLED.labels(name, kind.__name__.lower()) for kind in (Ack, Retry, DeadLetter)}
        self._producer = producer
        self._last_prune = 0.0

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory, self._producer, self.config.outbox_partitions, self.catalogue)

    # -- messages ----------------------------------------------------------------------------
    def handle(self, delivery: Delivery) -> Outcome:
        return self.handle_batch([delivery])[0]

    def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Decide each delivery's outcome. Valid events are handled together in one transaction;
        if that transaction fails they are handled again one by one, so one bad message never
        takes the others' retries or their place in the dead-letter queue."""
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        ready: list[tuple[int, Event]] = []
        for index, delivery in enumerate(deliveries):
            decoded = self._decode(delivery)
            if isinstance(decoded, Event):
                ready.append((index, decoded))
            else:
                outcomes[index] = decoded
        if len(ready) > 1:
            try:
                for index, outcome in zip((i for i, _ in ready), self._handle_together([e for _, e in ready]),
                                          strict=True):
                    outcomes[index] = outcome
                ready = []
            except Exception as exc:  # noqa: BLE001 - retried one by one below, where it is reported
                log.info("consumer %s: batch of %d failed (%s); handling one by one", self.name, len(ready),
                         _describe(exc))
        for index, event in ready:
            outcomes[index] = self._handle_one(deliveries[index], event)
        for kind, count in Counter(type(o) for o in outcomes).items():
            self._handled[kind].inc(count)
        self._maybe_prune()
        return [o for o in outcomes if o is not None]

    def _decode(self, delivery: Delivery) -> Event | Outcome:
        try:
            event = self.catalogue.decode(delivery.body)
        except EventError as exc:
            log.error("consumer %s: dead-lettering message %s: %s", self.name, delivery.message_id, exc)
            return DeadLetter(redact_identity_numbers(f"{exc.reason}: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a message no check foresaw must not stop the consumer
            error = redact_identity_numbers(f"undecodable: {_describe(exc)}")
            log.error("consumer %s: dead-lettering message %s: %s", self.name, delivery.message_id, error)
            return DeadLetter(error)
        if event.type not in self.handlers:
            return DeadLetter(f"no_handler: consumer {self.name} has no handler for {event.type}")
        self._lag.observe(max(0.0, (datetime.now(UTC) - event.occurred_at).total_seconds()))
        return event

    def _handle_together(self, events: list[Event]) -> list[Outcome]:
        with self.unit_of_work() as uow:
            claimed = claim_inbox(uow.session, self.name, events)
            outcomes: list[Outcome] = []
            fresh = []
            for event in events:
                if event.event_id in claimed:
                    claimed.discard(event.event_id)  # the same event twice in one batch: once only
                    fresh.append(event)
                    outcomes.append(Ack())
                else:
                    outcomes.append(Ack(duplicate=True))
            for event in in_lock_order(fresh, self.handlers):
                with event_context(event.event_id, event.correlation_id):
                    self.handlers[event.type](event, uow)
            uow.commit()
        return outcomes

    def _handle_one(self, delivery: Delivery, event: Event) -> Outcome:
        handler = self.handlers[event.type]
        try:
            with event_context(event.event_id, event.correlation_id), self.unit_of_work() as uow:
                if not claim_inbox(uow.session, self.name, [event]):
                    return Ack(duplicate=True)
                handler(event, uow)
                uow.commit()
        except IntegrityError as exc:
            try:
                if self._already_handled(event):
                    return Ack(duplicate=True)  # a concurrent delivery of the same event won the race
            except DBAPIError as lookup:  # the database went away in between: its fault, not the message's
                return Retry(tier=0, error=_describe(lookup), counts=False)
            return self._failure(delivery, event, exc)
        except DBAPIError as exc:
            if exc.connection_invalidated or not self._database_reachable():
                # The database's fault, not the message's: wait, and don't spend its retries.
                log.warning("consumer %s: database unavailable, event %s will come again", self.name,
                            event.event_id)
                return Retry(tier=0, error=_describe(exc), counts=False)
            return self._failure(delivery, event, exc)
        except Exception as exc:  # noqa: BLE001 - any handler error is the message's failure
            return self._failure(delivery, event, exc)
        return Ack()

    def _failure(self, delivery: Delivery, event: Event, exc: BaseException) -> Outcome:
        failures = delivery.attempt + 1
        log.exception("consumer %s: handler failed on %s %s (failure %d of %d)", self.name, event.type,
                      event.event_id, failures, self.spec.max_attempts, exc_info=exc)
        error = _describe(exc)
        if failures >= self.spec.max_attempts:
            return DeadLetter(error)
        return Retry(tier=failures - 1, error=error)

    def _already_handled(self, event: Event) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(inbox.c.event_id).where(
                inbox.c.consumer == self.name, inbox.c.event_id == event.event_id)).first() is not None

    def _database_reachable(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except DBAPIError:
            return False

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(inbox).where(inbox.c.consumer == self.name,
                                                 inbox.c.processed_at < datetime.now(UTC) - INBOX_RETENTION))
        except DBAPIError as exc:  # housekeeping: the next hour will do
            log.warning("consumer %s: pruning the inbox failed: %s", self.name, _describe(exc))

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; reconnects with backoff whenever the broker goes away."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                self.transport.declare_consumer(self.spec)
                backoff.reset()
                self.transport.consume(self.spec, self.handle_batch, stop)
            except TransportError as exc:
                delay = backoff.next()
                log.warning("consumer %s: %s; reconnecting in %.1fs", self.name, exc, delay)
                stop.wait(delay)
            except Exception:  # a bug met once must not end the consumer for good
                # The unacknowledged deliveries go back to the queue with the channel; the queue's
                # delivery limit dead-letters a message that keeps doing this.
                delay = backoff.next()
                log.exception("consumer %s: unexpected error; starting again in %.1fs", self.name, delay)
                self._drop_connection()
                stop.wait(delay)
        self.transport.close()

    def _drop_connection(self) -> None:
        try:
            self.transport.close()
        except Exception:  # already broken: the next consume connects afresh
            log.debug("consumer %s: closing the broken connection failed", self.name, exc_info=True)


def claim_inbox(session: Session, consumer: str, events: Sequence[Event]) -> set[str]:
    """Write the inbox rows of ``events``; the ids returned are those this consumer had not handled.

    One statement: INSERT .. ON CONFLICT DO NOTHING RETURNING. A concurrent transaction holding the
    same row makes it wait, then skip the row if that one committed: never both."""
    if not events:
        return set()
    now = datetime.now(UTC)
    unique = {e.event_id: e.type for e in events}
    if session.get_bind().dialect.name == "postgresql":
        # Arrays as two parameters: a short statement the driver caches and prepares, whatever the
        # batch size (a long multi-row VALUES text is parsed again on every call).
        result = session.execute(_PG_CLAIM, {"consumer": consumer, "now": now, "ids": pg_text_array(list(unique)),
                                             "types": pg_text_array(list(unique.values()))})
        return set(result.scalars())
    statement = sqlite_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    rows = [{"consumer": consumer, "event_id": i, "event_type": t, "processed_at": now} for i, t in unique.items()]
    return set(session.execute(statement, rows).scalars())


_PG_CLAIM = text(
    "INSERT INTO inbox (consumer, event_id, event_type, processed_at) "
    "SELECT :consumer, e.id, e.type, :now "
    "FROM unnest(CAST(:ids AS varchar[]), CAST(:types AS varchar[])) AS e(id, type) "
    "ON CONFLICT DO NOTHING RETURNING event_id")


def _describe(exc: BaseException) -> str:
    return redact_identity_numbers(f"{type(exc).__name__}: {exc}")[:2000]


