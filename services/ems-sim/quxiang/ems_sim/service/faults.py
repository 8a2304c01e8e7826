"""The fault settings in effect, shared by every request thread."""

from __future__ import annotations

import random
import threading

from quxiang.ems_sim.domain.faults import NO_FAULTS, Decision, FaultSettings, decide


class FaultSwitch:
    def __init__(self, initial: FaultSettings = NO_FAULTS, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = initial
        self._rng = rng or random.Random()

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings

    def set(self, settings: FaultSettings) -> FaultSettings:
        with self._lock:
            self._settings = settings
            return settings

    def reset(self) -> FaultSettings:
        return self.set(NO_FAULTS)

    def decide(self) -> Decision:
        with self._lock:  # random.Random is not documented as thread-safe
            return decide(self._settings, self._rng)
