"""Fault settings for tests and benchmarks, and the decision they give for one request."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Fault(StrEnum):
    LATENCY = "latency"
    ERROR = "error"        # 503
    THROTTLE = "throttle"  # 429 with Retry-After
    DOWN = "down"          # 503 to everything but /admin/* and the probes


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_s: int = 1
    down: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NO_FAULTS = FaultSettings()


@dataclass(frozen=True)
class Decision:
    latency_ms: int
    failure: Fault | None  # DOWN, THROTTLE, ERROR or None: answer normally


def decide(settings: FaultSettings, rng: random.Random) -> Decision:
    """Down wins; otherwise the latency, then a throttle or an error drawn with their rates."""
    if settings.down:
        return Decision(0, Fault.DOWN)
    failure = None
    if settings.throttle_rate and rng.random() < settings.throttle_rate:
        failure = Fault.THROTTLE
    elif settings.error_rate and rng.random() < settings.error_rate:
        failure = Fault.ERROR
    return Decision(settings.latency_ms, failure)
