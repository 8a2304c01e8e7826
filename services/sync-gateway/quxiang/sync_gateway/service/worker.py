"""The sync worker: delivers the ledger's pending records to the EMS.

A round claims up to ``concurrency`` due rows (a lease each, SELECT .. FOR UPDATE SKIP LOCKED on
PostgreSQL), sends them at once from a thread pool over one keep-alive session, each with its
source event's id as the Idempotency-Key, and writes the results in one transaction. Between rounds
an idle worker waits for the consumer's NOTIFY (PostgreSQL) or polls (SQLite). Retries, Retry-After,
the circuit breaker and the retry budget follow ``domain.delivery``. Several workers may run: the
leases keep them apart.

A worker's lanes share one listener, and one idle lane at a time waits on it: a notification wakes
one lane, which claims everything due. With a listener each, every notification woke every lane, and
all but one claimed nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from quxiang.sync_gateway.adapters import ledger, metrics
from quxiang.sync_gateway.adapters.ems_client import EmsClient, Write
from quxiang.sync_gateway.adapters.tables import FAILED, PENDING, SYNCED
from quxiang.sync_gateway.adapters.wakeup import Wakeup
from quxiang.sync_gateway.domain.delivery import CircuitBreaker, Outcome, Result, RetryPolicy
from quxiang.sync_gateway.service.context import Gateway

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0   # the shortest lease; see lease_for
SPREAD = 2            # a round's rows go out as at least this many requests side by side (if enough rows)
IDLE_WAIT = 0.25       # longest sleep of an idle worker; retries falling due are found by this poll


def lease_for(request_timeout: float, lanes: int) -> float:
    """How long a round's claim holds its rows: longer than the slowest round can take, so that no
    other lane or worker sends a newer version of a row while an older one is still on its way (the
    older would land last and the EMS keep it). A request may take the timeout to connect and again
    to answer; the lanes share one pool, so a lane's requests may wait behind every other lane's."""
    return max(LEASE_SECONDS, 2 * (2 * request_timeout) * max(1, lanes))


@dataclass
class RoundReport:
    synced: int = 0
    retried: int = 0
    failed: int = 0
    stale: int = 0
    probes: int = 0

    def add(self, other: RoundReport) -> None:
        for name in ("synced", "retried", "failed", "stale", "probes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __bool__(self) -> bool:
        return any((self.synced, self.retried, self.failed))


@dataclass
class SyncWorker:
    gateway: Gateway
    client: EmsClient | None = None
    clock: Callable[[], float] = time.monotonic
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    def __post_init__(self) -> None:
        settings = self.gateway.settings
        self.client = self.client or self.gateway.ems_client()
        self.policy = RetryPolicy(max_attempts=settings.max_attempts, initial=self.policy.initial,
                                  maximum=self.policy.maximum)
        self.breaker.probe_interval = settings.probe_interval
        self.concurrency = settings.concurrency
        self.batch_size = settings.batch_size
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="qx-sync")
        self.lanes = settings.lanes
        self.lease_seconds = lease_for(getattr(self.client, "timeout", 10.0), self.lanes)
        self._wakeup = Wakeup(self.gateway.engine)
        self._listening = threading.Lock()  # held by the one idle lane waiting on the listener
        self._breaker_lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._wakeup.close()
        if self.client is not None:
            self.client.close()

    # -- one round ----------------------------------------------------------------------------
    def deliver_due(self) -> RoundReport:
        """Claim what is due and deliver it; nothing while the breaker holds deliveries back."""
        report = RoundReport()
        with self._breaker_lock:  # the lanes share the breaker: one probe, one count of failures
            if not self._may_deliver(report):
                return report
        claimed = ledger.claim(self.gateway.engine, self.concurrency * self.batch_size, self.lease_seconds)
        if not claimed:
            return report
        if self.batch_size == 1:
            results = list(self._pool.map(self._send, claimed))
        else:
            results = [r for chunk in self._pool.map(self._send_batch, self._chunks(claimed)) for r in chunk]
        now, mono = datetime.now(UTC), self.clock()
        settlements = []
        with self._breaker_lock:
            was_open = self.breaker.is_open
            for c, result in zip(claimed, results, strict=True):
                self.breaker.record(result, mono)
                settlements.append(self._settlement(c, result, now, report))
            metrics.BREAKER_OPEN.set(1 if self.breaker.is_open else 0)
            if self.breaker.is_open and not was_open:
                # once per opening: the on-call engineer's log shows the EMS outage, not only a gauge
                log.error("sync: the EMS failed %d times in a row; deliveries held back, probing it every %.0fs",
                          self.breaker.failures, self.breaker.probe_interval)
        ledger.settle(self.gateway.engine, settlements)
        return report

    def _may_deliver(self, report: RoundReport) -> bool:
        mono = self.clock()
        if self.breaker.allows(mono):
            return True
        if self.breaker.probe_due(mono):
            report.probes += 1
            ok = self.client.probe()  # type: ignore[union-attr]
            self.breaker.probed(ok, self.clock())
            metrics.BREAKER_OPEN.set(0 if ok else 1)
            if ok:
                log.info("sync: the EMS answers again; deliveries resume")
            return ok and self.breaker.allows(self.clock())
        return False

    @staticmethod
    def _body(c: ledger.Claimed) -> dict[str, Any]:
        body = {**c.record, "school_code": c.school_code, "name": c.name, "platform_version": c.version}
        if c.graduation_year is not None or c.education_level is not None:
            # A row from before ledger 0009 knows neither: its body stays the one an attempt before the
            # upgrade may have sent under the same key (the EMS refuses a key with another body), and
            # the EMS takes the absent fields as null all the same.
            body.update(graduation_year=c.graduation_year, education_level=c.education_level)
        return body

    def _send(self, c: ledger.Claimed) -> Result:
        return self.client.put_record(c.exam_number, c.kind, self._body(c), c.idempotency_key)  # type: ignore[union-attr]

    def _chunks(self, claimed: list[ledger.Claimed]) -> list[list[ledger.Claimed]]:
        """Requests of up to ``batch_size`` rows, and at least ``SPREAD`` of them when there are enough
        rows, so that a handful of due rows still goes out as a few requests side by side and a backlog
        as ``concurrency`` full ones at once. A slot is claimed once per round, so no two writes of
        one slot are ever in flight together."""
        per_request = min(self.batch_size, max(1, -(-len(claimed) // min(self.concurrency, SPREAD))))
        return [claimed[i:i + per_request] for i in range(0, len(claimed), per_request)]

    def _send_batch(self, chunk: list[ledger.Claimed]) -> list[Result]:
        if len(chunk) == 1:
            return [self._send(chunk[0])]
        return self.client.put_records(  # type: ignore[union-attr]
            [Write(c.exam_number, c.kind, self._body(c), c.idempotency_key) for c in chunk])

    def _settlement(self, c: ledger.Claimed, result: Result, now: datetime, report: RoundReport) -> ledger.Settlement:
        metrics.DELIVERIES.labels(c.kind, result.outcome.value).inc()
        if result.outcome is Outcome.SYNCED:
            report.synced += 1
            lag = metrics.observe_synced(c.kind, c.pending_since or c.occurred_at, now)
            return ledger.Settlement(c, SYNCED, now, write=result.write, lag_ms=round(lag * 1000))
        counted = self.policy.counts(result)
        attempts = c.attempts + counted
        # Sent and unanswered: the EMS may still write it, so the slot waits as long as a claim holds.
        hold = now + timedelta(seconds=self.lease_seconds) if result.in_doubt else None
        if self.policy.parks(attempts, result):
            report.failed += 1
            metrics.PARKED.labels(c.kind).inc()
            log.warning("sync: %s of %s parked as failed after %d attempt(s): %s", c.kind, c.exam_number, attempts,
                        result.error)
            return ledger.Settlement(c, FAILED, now, error=result.error, counted=counted, hold_until=hold)
        report.retried += 1
        delay = self.policy.delay(max(1, attempts), result.retry_after)
        return ledger.Settlement(c, PENDING, now, error=result.error, next_attempt_at=now + timedelta(seconds=delay),
                                 counted=counted, hold_until=hold)

    # -- running ------------------------------------------------------------------------------
    def run_for(self, seconds: float, stop: threading.Event | None = None) -> RoundReport:
        """Rounds for about ``seconds``, waiting for work between them (one ScheduledJob round).

        ``lanes`` loops run side by side, each claiming its own rows (the leases keep them apart, as
        between workers): while one lane waits for the EMS's answer, another takes the rows that came
        in meanwhile, so a record does not wait for the round in flight to end."""
        deadline = self.clock() + seconds
        if self.lanes == 1:
            return self._lane(deadline, stop)
        totals: list[RoundReport] = []
        errors: list[Exception] = []

        def lane() -> None:
            try:
                totals.append(self._lane(deadline, stop))
            except Exception as exc:  # noqa: BLE001 - handed to the job, which logs it: no lane dies unheard
                errors.append(exc)

        threads = [threading.Thread(target=lane, name=f"qx-sync-lane-{i}", daemon=True) for i in range(self.lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        total = RoundReport()
        for report in totals:
            total.add(report)
        return total

    def _lane(self, deadline: float, stop: threading.Event | None) -> RoundReport:
        total = RoundReport()
        while self.clock() < deadline and not (stop and stop.is_set()):
            report = self.deliver_due()
            total.add(report)
            if report.synced or report.retried or report.failed:
                continue
            wait = min(IDLE_WAIT, max(0.0, deadline - self.clock()))
            if self.breaker.is_open:
                wait = min(wait, max(0.01, self.breaker.next_probe - self.clock()))
            self._idle(wait, deadline, stop)
        return total

    def _idle(self, wait: float, deadline: float, stop: threading.Event | None) -> None:
        """Wait up to ``wait`` seconds on the listener, once no other lane is on it. A lane queued
        behind the listening one does not poll: the listening lane's own timeout finds the retries
        falling due, and a lane woken by a notification claims all that is due."""
        while not self._listening.acquire(timeout=wait):
            if self.clock() >= deadline or (stop and stop.is_set()):
                return
        try:
            self._wakeup.wait(wait)
        finally:
            self._listening.release()

    def drain(self, timeout: float = 30.0) -> RoundReport:
        """Deliver until nothing is due (tests, commands)."""
        total = RoundReport()
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            report = self.deliver_due()
            total.add(report)
            if not (report.synced or report.retried or report.failed or report.probes):
                break
        return total
