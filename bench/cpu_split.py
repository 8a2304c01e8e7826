"""Where a benchmark's CPU went: every process on the machine, sampled from ``/proc``, grouped by part.

A sampler thread reads each process's cumulative CPU time (user + system) every ``every`` seconds;
between two marks each process counts what it used since the first mark (or since it started, when
it started later) up to its last sample before the second. Processes that come and go between samples
(a short-lived connection) are missed, so sample often enough for the run's length.

The groups are the stack's parts: ``api <service>`` (gunicorn), ``consumer|relay|jobs <service>``,
``postgres <service>`` (the backends of the service's database), ``rabbitmq``, ``nginx``, the
benchmark itself, and ``other`` (whatever else the machine runs). Linux only: elsewhere it reports
nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
WORKER = re.compile(r"\bqx-(consumer|relay|jobs) (\S+)")
API = re.compile(r'app_for\("([\w-]+)"\)')


def group_of(cmdline: str, services: Iterable[str], database_marker: str = " qx") -> str:
    """The part of the stack a process belongs to, from its command line; a PostgreSQL backend is
    the service's when its database name holds ``database_marker`` and the service's name."""
    def service_in(text: str) -> str | None:
        for service in sorted(services, key=len, reverse=True):
            if service in text or service.replace("-", "_") in text:
                return service
        return None

    if cmdline.startswith("postgres:"):
        service = service_in(cmdline) if database_marker in cmdline else None
        return f"postgres {service}" if service else "postgres (server)"
    if "beam.smp" in cmdline:
        return "rabbitmq"
    if cmdline.startswith("nginx"):
        return "nginx"
    if match := WORKER.search(cmdline):
        return f"{match.group(1)} {match.group(2)}"
    if match := API.search(cmdline):
        return f"api {match.group(1)}"
    if "bench/" in cmdline or "bench_" in cmdline:
        return "the benchmark"
    return "other"


def read_cpu(pid: str) -> tuple[str, float] | None:
    """(command line, CPU seconds used so far) of one process, None when it is gone or unreadable."""
    try:
        stat = (PROC / pid / "stat").read_text()
        cmdline = (PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name in parentheses may hold spaces
    return cmdline, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuSplit:
    def __init__(self, services: Iterable[str], database_marker: str = " qx", every: float = 2.0) -> None:
        self.services = tuple(services)
        self.database_marker = database_marker
        self.every = every
        self.commands: dict[str, str] = {}
        self.latest: dict[str, float] = {}
        self.at_start: dict[str, float] = {}
        self.at_stop: dict[str, float] | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-split", daemon=True)

    @property
    def available(self) -> bool:
        return (PROC / "self" / "stat").exists()

    def sample(self) -> None:
        seen = {}
        for entry in PROC.iterdir():
            if entry.name.isdigit() and (read := read_cpu(entry.name)) is not None:
                seen[entry.name] = read
        with self._lock:
            for pid, (cmdline, cpu) in seen.items():
                if pid in self.latest and self.latest[pid] > cpu:  # the pid now another process's
                    self.at_start.pop(pid, None)
                self.commands[pid] = cmdline  # the latest: a PostgreSQL backend names its database once connected
                self.latest[pid] = cpu

    def start(self) -> CpuSplit:
        """Marks the start (every process's time now) and samples until ``stop``."""
        if self.available:
            self.sample()
            with self._lock:
                self.at_start = dict(self.latest)
            self._thread.start()
        return self

    def stop(self) -> None:
        if not self.available:
            return
        self._done.set()
        self._thread.join()
        self.sample()
        with self._lock:
            self.at_stop = dict(self.latest)

    def _run(self) -> None:
        while not self._done.wait(self.every):
            self.sample()

    def by_group(self) -> dict[str, float]:
        """CPU seconds per group between the marks, largest first."""
        totals: dict[str, float] = defaultdict(float)
        with self._lock:
            end = self.at_stop if self.at_stop is not None else dict(self.latest)
            for pid, cpu in end.items():
                group = group_of(self.commands[pid], self.services, self.database_marker)
                totals[group] += cpu - self.at_start.get(pid, 0.0)
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def table(self, per: int, what: str, outside: Iterable[str] = ("the benchmark", "other")) -> str:
        """The split as lines: CPU seconds, share of the platform's and CPU milliseconds per ``what``
        (``per`` of them). The platform is every group but ``outside`` ones and ems-sim's (the
        employment management system's stand-in)."""
        groups = self.by_group()
        outside = set(outside)
        platform = {name: seconds for name, seconds in groups.items()
                    if name not in outside and "ems-sim" not in name}
        total = sum(platform.values())
        if not total:
            return "CPU split: not available on this system"
        per = max(per, 1)
        lines = [f"{'part':<32} {'CPU s':>9} {'share':>6} {'ms/' + what:>12}"]
        lines += [f"{name:<32} {seconds:9.1f} {seconds / total:6.1%} {seconds * 1000 / per:12.1f}"
                  for name, seconds in platform.items() if seconds >= 0.001 * total]
        lines.append(f"{'the platform':<32} {total:9.1f} {1:6.1%} {total * 1000 / per:12.1f}")
        lines += [f"{name + ' (not counted)':<32} {seconds:9.1f} {'':>6} {seconds * 1000 / per:12.1f}"
                  for name, seconds in groups.items() if name not in platform and seconds >= 0.001 * total]
        return "\n".join(lines)
