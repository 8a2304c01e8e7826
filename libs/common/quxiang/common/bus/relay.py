"""The relay: publishes committed outbox rows to the broker, in order per aggregate.

A batch runs in one database transaction that holds the row locks of the partitions it
publishes (``FOR UPDATE SKIP LOCKED``), so several relays on one outbox never publish the same
aggregate concurrently. Rows are marked sent only after the broker's confirm; a relay that dies
before marking leaves them pending and they are published again (consumers' inboxes absorb that).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from quxiang.common.bus.backoff import Backoff
from quxiang.common.bus.outbox import NOTIFY_CHANNEL
from quxiang.common.bus.tables import ensure_partitions, outbox, outbox_partition
from quxiang.common.bus.transport import OutgoingMessage, Transport, TransportError
from quxiang.common.config import Config
from quxiang.common.db import NotificationListener, is_postgres
from quxiang.common.times import as_utc

log = logging.getLogger(__name__)

PUBLISHED = Counter("qx_relay_published_total", "Outbox rows published and confirmed", ["service"])
FAILED = Counter("qx_relay_publish_failures_total", "Outbox rows the broker did not confirm", ["service"])
PRUNE_EVERY = 300.0
PRUNE_BATCH = 1000
PARK_FIRST, PARK_MAX = 1.0, 30.0  # seconds a refused subject sits out, doubling per refusal

# Pruning walks the outbox from its oldest row by id, a batch per transaction, and stops at the
# first row created after the cutoff: it reads what it deletes (and the few old rows still unsent),
# not the week of rows kept. ``sent_at`` has no index (each row is updated once by the relay), so a
# DELETE .. WHERE sent_at < cutoff read the whole table every time.
_OLDEST = (select(outbox.c.id, outbox.c.created_at, outbox.c.sent_at).where(outbox.c.id > bindparam("after"))
           .order_by(outbox.c.id).limit(bindparam("batch")))
_DELETE = delete(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class BatchResult:
    sent: int
    failed: int
    full: bool  # the batch was as large as allowed: more rows are probably waiting


class Relay:
    def __init__(self, engine: Engine, transport: Transport, config: Config, service: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.clock = clock
        # Subjects whose oldest pending row the broker refused: left out of the batches for a pause
        # that doubles at each refusal (PARK_FIRST .. PARK_MAX), so that they and the rows held back
        # behind them cannot fill every batch and stop all other aggregates. subject -> (pause, until)
        self._parked: dict[str, tuple[float, float]] = {}
        self.transport = transport
        self.config = config
        self.service = service
        self._listener: NotificationListener | None = (NotificationListener(engine, NOTIFY_CHANNEL)
                                                      if is_postgres(engine) else None)
        self._last_prune = 0.0
        # A batch's statements, built once: with one event per batch (a request's), building them
        # cost more than running them.
        self._lock_partitions = (select(outbox_partition.c.partition).order_by(outbox_partition.c.partition)
                                 .with_for_update(skip_locked=True))
        self._pending = (select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.subject, outbox.c.payload)
                         .where(outbox.c.sent_at.is_(None),
                                outbox.c.partition.in_(bindparam("partitions", expanding=True)))
                         .order_by(outbox.c.id).limit(config.relay_batch))
        self._mark_sent = update(outbox).where(_id_in(engine.dialect.name)).values(sent_at=bindparam("sent_now"))

    def prepare(self) -> None:
        with self.engine.begin() as conn:
            ensure_partitions(conn, self.config.outbox_partitions)

    def publish_batch(self) -> BatchResult:
        """Publish one batch of pending rows of the partitions this relay can lock."""
        with self.engine.begin() as conn:
            partitions = list(conn.execute(self._lock_partitions).scalars())
            if not partitions:
                return BatchResult(0, 0, False)
            rows = conn.execute(self._pending_statement(), {"partitions": partitions}).all()
            if not rows:
                return BatchResult(0, 0, False)
            results = self.transport.publish_batch(
                # No headers: the envelope carries everything, and a header costs every hop a table.
                [OutgoingMessage(routing_key=r.event_type, body=r.payload.encode(), message_id=r.event_id)
                 for r in rows],
                timeout=self.config.relay_confirm_timeout)
            sent, failed = _split_in_order(rows, results)
            self._park(rows, failed)
            now = datetime.now(UTC)
            if sent:
                conn.execute(self._mark_sent, {"ids": sent, "sent_now": now})
            for row_id, error in failed.items():
                conn.execute(update(outbox).where(outbox.c.id == row_id).values(
                    attempts=outbox.c.attempts + 1, last_error=error))
        PUBLISHED.labels(self.service).inc(len(sent))
        if failed:
            FAILED.labels(self.service).inc(len(failed))
        return BatchResult(len(sent), len(failed), len(rows) >= self.config.relay_batch)

    def _pending_statement(self) -> Any:
        now = self.clock()
        # Forgotten once long over: another relay may have published the subject since.
        for subject in [s for s, (_, until) in self._parked.items() if until < now - PARK_MAX]:
            del self._parked[subject]
        waiting = [subject for subject, (_, until) in self._parked.items() if until > now]
        # The usual case, nothing parked: the statement built once.
        return self._pending.where(outbox.c.subject.not_in(waiting)) if waiting else self._pending

    def _park(self, rows: list[Any], failed: dict[int, str]) -> None:
        refused = {row.subject for row in rows if row.id in failed}
        for subject in {row.subject for row in rows} - refused:
            self._parked.pop(subject, None)  # through again
        now = self.clock()
        for subject in refused:
            pause = min(PARK_MAX, self._parked[subject][0] * 2) if subject in self._parked else PARK_FIRST
            self._parked[subject] = (pause, now + pause)

    def prune(self, batch: int = PRUNE_BATCH) -> int:
        """Delete sent rows older than the retention period."""
        cutoff = datetime.now(UTC) - timedelta(hours=self.config.relay_retention_hours)
        deleted, after = 0, 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(_OLDEST, {"after": after, "batch": batch}).all()
                done = [r.id for r in rows if r.sent_at is not None and as_utc(r.sent_at) < cutoff]
                if done:
                    deleted += conn.execute(_DELETE, {"ids": done}).rowcount or 0
            if len(rows) < batch or any(as_utc(r.created_at) >= cutoff for r in rows):
                return deleted
            after = rows[-1].id

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set, surviving broker and database outages."""
        backoff = Backoff()
        prepared = False
        while not stop.is_set():
            try:
                if not prepared:
                    self.prepare()
                    prepared = True
                result = self.publish_batch()
                self._maybe_prune()
            except (TransportError, DBAPIError) as exc:
                delay = backoff.next()
                log.warning("relay %s: %s; retrying in %.1fs", self.service, _short(exc), delay)
                self.transport.close()
                stop.wait(delay)
                continue
            if result.failed and not result.sent:  # nothing went through: the broker, not a subject
                delay = backoff.next()
                log.warning("relay %s: %d rows not confirmed; retrying in %.1fs", self.service,
                            result.failed, delay)
                stop.wait(delay)
                continue
            backoff.reset()
            if not result.full:
                self._wait_for_rows(stop)
        self.transport.close()
        if self._listener is not None:
            self._listener.close()

    def _wait_for_rows(self, stop: threading.Event) -> None:
        self.transport.heartbeat()
        if self._listener is not None and self._listener.wait(self.config.relay_idle_wait):
            return
        if self._listener is None:
            # No NOTIFY outside PostgreSQL: a short poll, cheap on a local SQLite file.
            stop.wait(min(self.config.relay_idle_wait, 0.1))

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            pruned = self.prune()
            if pruned:
                log.info("relay %s: pruned %d sent outbox rows", self.service, pruned)


def _id_in(dialect: str) -> ColumnElement[bool]:
    """``id IN (:ids)``; on PostgreSQL as ``id = ANY(array)``: one parameter, so the statement text
    stays short and the driver's statement cache and prepared statements apply."""
    if dialect == "postgresql":
        return outbox.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(BigInteger)))
    return outbox.c.id.in_(bindparam("ids", expanding=True))


def _split_in_order(rows: list, results: list[str | None]) -> tuple[list[int], dict[int, str]]:
    """Rows to mark sent, and failures. After a subject's first failure its later rows stay pending
    too, so a retry republishes them after the failed one and the aggregate's order holds."""
    if results.count(None) == len(results):  # the usual case: everything confirmed
        return [row.id for row in rows], {}
    sent: list[int] = []
    failed: dict[int, str] = {}
    blocked: set[str] = set()
    for row, error in zip(rows, results, strict=True):
        if error is None and row.subject not in blocked:
            sent.append(row.id)
        else:
            blocked.add(row.subject)
            failed[row.id] = error or "held back behind an earlier failure of the same subject"
    return sent, failed


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


