"""How a delivery to the EMS ended and what follows: synced, retried later, or parked as failed.

- 2xx: synced.
- 429: throttled; retried no sooner than Retry-After, and every delivery pauses that long. A
  throttled attempt does not count toward ``max_attempts``: the EMS asked to come back later, and
  minutes of throttling at a peak must not park every record in flight.
- 5xx, a timeout, a refused connection: unavailable; retried with exponential backoff and full
  jitter, and counted by the circuit breaker. A request sent and left unanswered (a read timeout, a
  connection dropped after sending) is ``in_doubt``: the EMS may still be writing it, so nothing of
  that slot goes out again until the worker's lease would have run out (else a newer version could
  land first and the late older one last, and the EMS keep the older).
- 409 (``managed_by_platform``: the lock rule is for edits made in the EMS, never for the platform's
  own writes), 400, 404, 422: permanent; retrying cannot help, the record is parked as failed at
  once with the answer as its last error, for someone to look at and retry.
- After ``max_attempts`` failed attempts the record is parked as failed.

Pure Python: the clock and the random source are passed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    SYNCED = "synced"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None   # seconds, from Retry-After
    write: str | None = None           # created, updated, unchanged (synced)
    in_doubt: bool = False             # sent, not answered: the EMS may still write it


def classify(status: int, retry_after: float | None = None, detail: str = "") -> Result:
    if 200 <= status < 300:
        return Result(Outcome.SYNCED)
    error = f"HTTP {status} {detail}".strip()[:500]
    if status == 429:
        return Result(Outcome.THROTTLED, error, retry_after)
    if status >= 500 or status == 408:
        return Result(Outcome.UNAVAILABLE, error, retry_after)
    return Result(Outcome.PERMANENT, error)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    initial: float = 0.5      # seconds before the first retry (upper bound; jittered)
    maximum: float = 60.0

    def delay(self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: full jitter under an
        exponential ceiling, never sooner than Retry-After."""
        ceiling = min(self.maximum, self.initial * (2 ** max(0, attempts - 1)))
        backoff = (rng or random).uniform(ceiling / 2, ceiling)
        return max(backoff, retry_after or 0.0)

    def parks(self, attempts: int, result: Result) -> bool:
        """``attempts``: the counted ones (see ``counts``) including this one."""
        if result.outcome is Outcome.PERMANENT:
            return True
        return result.outcome is not Outcome.THROTTLED and attempts >= self.max_attempts

    @staticmethod
    def counts(result: Result) -> bool:
        """Whether the attempt counts toward ``max_attempts`` (a throttled one does not)."""
        return result.outcome is not Outcome.THROTTLED


class CircuitBreaker:
    """Stops deliveries while the EMS is down: ``threshold`` unavailable answers in a row open it;
    while open, one probe every ``probe_interval`` seconds (jittered) asks whether the EMS is back,
    and a good probe or a good delivery closes it. A 429 pauses every delivery until its Retry-After.
    Times are monotonic seconds given by the caller."""

    def __init__(self, threshold: int = 5, probe_interval: float = 1.0, rng: random.Random | None = None) -> None:
        self.threshold = threshold
        self.probe_interval = probe_interval
        self.failures = 0
        self.open_since: float | None = None
        self.next_probe = 0.0
        self.paused_until = 0.0
        self.opened = 0           # how many times it opened
        self._rng = rng or random.Random()

    @property
    def is_open(self) -> bool:
        return self.open_since is not None

    def allows(self, now: float) -> bool:
        """Whether deliveries may go now."""
        return not self.is_open and now >= self.paused_until

    def probe_due(self, now: float) -> bool:
        return self.is_open and now >= self.next_probe

    def record(self, result: Result, now: float) -> None:
        if result.outcome is Outcome.UNAVAILABLE:
            self.failures += 1
            if self.failures >= self.threshold and not self.is_open:
                self.open_since = now
                self.opened += 1
                self._schedule_probe(now)
            return
        if result.outcome is Outcome.THROTTLED:
            self.paused_until = max(self.paused_until, now + (result.retry_after or 1.0))
            return
        self.failures = 0   # any other answer shows the EMS is up

    def probed(self, ok: bool, now: float) -> None:
        if ok:
            self.failures = 0
            self.open_since = None
        else:
            self._schedule_probe(now)

    def _schedule_probe(self, now: float) -> None:
        self.next_probe = now + self.probe_interval * self._rng.uniform(0.8, 1.2)
