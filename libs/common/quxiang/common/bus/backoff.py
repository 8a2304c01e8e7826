"""Exponential backoff with full jitter, shared by the relay and the consumer runtime."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next(self) -> float:
        """The next delay: up to initial * 2**failures, capped; random so restarts don't stampede."""
        ceiling = min(self.maximum, self.initial * (2 ** self.failures))
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
