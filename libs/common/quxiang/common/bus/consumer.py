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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter, Histogram
from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from quxiang.common.bus.backoff import Backoff
from quxiang.common.bus.outbox import UnitOfWork, make_session_factory
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

HANDLED = Counter("qx_consumer_messages_total", "Messages settled by consumers", ["consumer", "outcome"])
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
        self._producer = producer
        self._last_prune = 0.0

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory, self._producer, self.config.outbox_partitions, self.catalogue)

    # -- one message -------------------------------------------------------------------------
    def handle(self, delivery: Delivery) -> Outcome:
        outcome = self._handle(delivery)
        HANDLED.labels(self.name, type(outcome).__name__.lower()).inc()
        return outcome

    def _handle(self, delivery: Delivery) -> Outcome:
        try:
            event = self.catalogue.decode(delivery.body)
        except EventError as exc:
            log.error("consumer %s: dead-lettering message %s: %s", self.name, delivery.message_id, exc)
            return DeadLetter(redact_identity_numbers(f"{exc.reason}: {exc}"))
        handler = self.handlers.get(event.type)
        if handler is None:
            return DeadLetter(f"no_handler: consumer {self.name} has no handler for {event.type}")
        LAG.labels(self.name).observe(max(0.0, (datetime.now(UTC) - event.occurred_at).total_seconds()))
        try:
            with event_context(event.event_id, event.correlation_id), self.unit_of_work() as uow:
                if not _claim_inbox(uow.session, self.name, event):
                    return Ack(duplicate=True)
                handler(event, uow)
                uow.commit()
        except IntegrityError as exc:
            if self._already_handled(event):
                return Ack(duplicate=True)  # a concurrent delivery of the same event won the race
            return self._failure(delivery, event, exc)
        except DBAPIError as exc:
            if not self._database_reachable():
                # The database's fault, not the message's: wait, and don't spend its retries.
                log.warning("consumer %s: database unreachable, event %s will come again", self.name,
                            event.event_id)
                return Retry(tier=0, error=_describe(exc), counts=False)
            return self._failure(delivery, event, exc)
        except Exception as exc:  # noqa: BLE001 - any handler error is the message's failure
            return self._failure(delivery, event, exc)
        self._maybe_prune()
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
        with self.engine.begin() as conn:
            conn.execute(delete(inbox).where(inbox.c.consumer == self.name,
                                             inbox.c.processed_at < datetime.now(UTC) - INBOX_RETENTION))

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; reconnects with backoff whenever the broker goes away."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                self.transport.declare_consumer(self.spec)
                backoff.reset()
                self.transport.consume(self.spec, self.handle, stop)
            except TransportError as exc:
                delay = backoff.next()
                log.warning("consumer %s: %s; reconnecting in %.1fs", self.name, exc, delay)
                stop.wait(delay)
        self.transport.close()


def _claim_inbox(session: Session, consumer: str, event: Event) -> bool:
    """Write the inbox row; False if this consumer already handled the event."""
    seen = session.execute(select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id == event.event_id)).first()
    if seen is not None:
        return False
    session.execute(insert(inbox).values(consumer=consumer, event_id=event.event_id, event_type=event.type,
                                         processed_at=datetime.now(UTC)))
    return True


def _describe(exc: BaseException) -> str:
    return redact_identity_numbers(f"{type(exc).__name__}: {exc}")[:2000]


