"""Counters of what the system did, in process memory: writes by kind and result, edits through its
own API, tampering, idempotent replays and faults injected. Tests and the benchmark read them to prove
that nothing was written twice."""

from __future__ import annotations

import copy
import threading
from typing import Any

from quxiang.ems_sim.domain.faults import Fault
from quxiang.ems_sim.domain.records import Kind, Write

_PLATFORM_WRITES = (Write.CREATED, Write.UPDATED, Write.UNCHANGED)


def _zeros() -> dict[str, Any]:
    return {
        "writes": {kind.value: {w.value: 0 for w in _PLATFORM_WRITES} for kind in Kind},
        "edits": {kind.value: {w.value: 0 for w in Write} for kind in Kind},
        "tampered": {kind.value: {w.value: 0 for w in Write} for kind in Kind},
        "replays": 0,
        "faults": {fault.value: 0 for fault in Fault},
    }


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = _zeros()

    def count(self, group: str, kind: Kind, write: Write) -> None:
        """``group``: "writes" (PUT), "edits" (PATCH, DELETE) or "tampered" (/admin/tamper)."""
        with self._lock:
            self._counts[group][kind.value][write.value] += 1

    def replay(self) -> None:
        with self._lock:
            self._counts["replays"] += 1

    def fault(self, fault: Fault) -> None:
        with self._lock:
            self._counts["faults"][fault.value] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = _zeros()
