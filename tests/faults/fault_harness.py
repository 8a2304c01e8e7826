"""One stack for every fault: the private servers, the stack's processes (killed and started again
one by one), the workload, the checker, and the table of results."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fault_checker import Checker, Tally
from fault_servers import PrivatePostgres, PrivateRabbitMQ
from fault_workload import HUKOU, SCHOOL, TERMS, Workload

from quxiang.common.stack import Stack

# The bigger variant: more flows per fault, longer faults (CI runs the small one within ~3 minutes).
FULL = os.environ.get("QX_FAULTS_FULL", "").lower() in ("1", "true", "yes")


@dataclass
class Result:
    fault: str
    lost: int
    duplicated: int
    unexpected: int
    recovered_s: float
    flows: int
    answers: str
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.lost == self.duplicated == self.unexpected == 0


RESULTS: list[Result] = []


def table(results: list[Result]) -> str:
    lines = [f"{'fault':<34} {'lost':>5} {'dup':>5} {'unexp':>6} {'recovered_s':>12} {'flows':>6}  answers"]
    for r in results:
        lines.append(f"{r.fault:<34} {r.lost:>5} {r.duplicated:>5} {r.unexpected:>6} {r.recovered_s:>12.1f} "
                     f"{r.flows:>6}  {r.answers}")
        lines.extend(f"    {note}" for note in r.notes[:6])
    return "\n".join(lines)


class Harness:
    def __init__(self, stack: Stack, rabbit: PrivateRabbitMQ, postgres: PrivatePostgres, workload: Workload,
                 flows_per_fault: int, settle_timeout: float) -> None:
        self.stack = stack
        self.rabbit = rabbit
        self.postgres = postgres
        self.workload = workload
        self.flows_per_fault = flows_per_fault
        self.settle_timeout = settle_timeout
        ems = f"http://127.0.0.1:{stack.settings.service_ports['ems-sim']}/api/ems-sim"
        self.ems_url = ems
        self.checker = Checker(self.database_url, ems, self.queue_depths)
        self.baseline = Tally()
        self.results: list[Result] = []
        self.pending_notes: list[str] = []

    # --- the stack's parts ------------------------------------------------------------------

    def database_url(self, service: str) -> str:
        return self.stack.settings.database_url_template.format(service=service.replace("-", "_"))

    def queue_depths(self) -> dict[str, tuple[int, int]]:
        out = self.rabbit.ctl("list_queues", "-q", "--no-table-headers", "name", "messages_ready",
                              "messages_unacknowledged").stdout
        depths = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                depths[parts[0]] = (int(parts[1]), int(parts[2]))
        return depths

    def queue(self, suffix: str) -> str:
        return next(name for name in self.queue_depths() if name.endswith(suffix))

    def kill(self, process: str, sig: int = signal.SIGKILL) -> None:
        pid = self.stack.recorded()[process]
        os.killpg(pid, sig)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
                os.killpg(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                return
            time.sleep(0.05)
        raise AssertionError(f"{process} outlived {signal.Signals(sig).name}")

    def spawn(self, process: str, **env: str) -> None:
        """Start one of the stack's processes again, as the stack started it (``env`` on top)."""
        name, argv, extra = next(c for c in self.stack.commands() if c[0] == process)
        self.stack._spawn(name, argv, {**self.stack.environment(), **extra, **env})

    def probe_apis(self) -> dict[str, str]:
        """A read and a write of each service that keeps its data in PostgreSQL, through the gateway."""
        api, w = self.workload.api, self.workload
        graduate = w.waiting.pop()  # never in a flow: a probe that wrote would show as unexpected
        employer, school = w.tokens["demo-employer"], w.tokens["demo-zsu"]
        calls = {
            "GET signing agreements": ("GET", "/api/signing/agreements", graduate.token, None),
            "POST signing invitation": ("POST", "/api/signing/invitations", employer,
                                        {"exam_number": graduate.exam_number, "name": graduate.name, "terms": TERMS}),
            "GET records archive": ("GET", f"/api/records/graduates/{graduate.graduate_id}/archive", graduate.token,
                                    None),
            "POST records hukou submit": ("POST", f"/api/records/graduates/{graduate.graduate_id}/hukou/submit",
                                          graduate.token, HUKOU),
            "GET stats school": ("GET", f"/api/stats/schools/{SCHOOL}", school, None),
            "GET sync status": ("GET", f"/api/sync-gateway/sync/status?school={SCHOOL}", school, None),
            "GET accounts me": ("GET", "/api/accounts/me", school, None),
        }
        answered = {}
        for label, (method, path, token, body) in calls.items():
            try:
                response = api.call(method, path, token, json=body)
                code = response.json().get("code") if response.content and response.status_code >= 400 else None
                answered[label] = f"{response.status_code} {code}"
            except Exception as exc:  # noqa: BLE001 - no answer at all is worse than a 500: recorded
                answered[label] = type(exc).__name__
        return answered

    def outbox_backlog(self, service: str) -> int:
        import psycopg

        url = self.database_url(service).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])

    def note(self, text: str) -> None:
        """A line for the table under the fault being run."""
        self.pending_notes.append(text)

    def ems_faults_answered(self) -> int:
        import requests

        return sum(requests.get(f"{self.ems_url}/admin/stats", timeout=10).json()["faults"].values())

    def ems_faults(self, **settings: object) -> None:
        import requests

        if settings:
            requests.put(f"{self.ems_url}/admin/faults", json=settings, timeout=10).raise_for_status()
        else:
            requests.delete(f"{self.ems_url}/admin/faults", timeout=10).raise_for_status()

    # --- one fault --------------------------------------------------------------------------

    @contextmanager
    def workload_running(self, lead: float = 1.0) -> Iterator[None]:
        """Flows started before the fault keep going through it and after it; the fault hits
        ``lead`` seconds after the first flow started."""
        import threading

        futures: list = []
        starter = threading.Thread(target=lambda: futures.extend(self.workload.start(self.flows_per_fault, 0.5)))
        starter.start()
        time.sleep(lead)  # the first flows are under way when the fault hits
        yield
        starter.join()
        for future in futures:
            future.result(timeout=self.workload.step_timeout * 12)

    def run(self, fault: str, inject: Callable[[], None], lead: float = 1.0) -> Result:
        """The workload, the fault in the middle of it (``lead`` seconds in), then the checker until
        every source agrees."""
        before = self.workload.answers.counts.copy()
        flows_before = len(self.workload.flows)
        with self.workload_running(lead):
            inject()
            healed = time.monotonic()
        tally = self.settle()
        recovered = time.monotonic() - healed
        seen = self.workload.answers.counts - before
        failed = [f for f in self.workload.flows[flows_before:] if f.failure]
        result = Result(fault, max(0, tally.lost - self.baseline.lost),
                        max(0, tally.duplicated - self.baseline.duplicated),
                        max(0, tally.unexpected - self.baseline.unexpected), recovered,
                        len(self.workload.flows) - flows_before,
                        " ".join(f"{code}x{n}" for code, n in sorted(seen.items()) if code >= 500) or "-",
                        self.pending_notes + tally.notes
                        + [f"flow failed: {f.graduate.exam_number}: {f.failure}" for f in failed]
                        + ([f"still moving: {tally.unsettled}"] if tally.unsettled else [])
                        + [f"5xx other than 502/503/504: {e}" for e in self.workload.answers.errors])
        self.baseline = tally
        self.pending_notes = []
        self.workload.answers.errors.clear()
        RESULTS.append(result)
        self.results.append(result)
        return result

    def settle(self) -> Tally:
        deadline = time.monotonic() + self.settle_timeout
        while True:
            try:
                tally = self.checker.check(self.workload.flows)
            except Exception as exc:  # noqa: BLE001 - a source still down: look again
                tally = Tally(unsettled=1, notes=[f"checker: {type(exc).__name__}: {exc}"[:300]])
            if tally.clean or time.monotonic() > deadline:
                return tally
            time.sleep(0.5)


def bound_queues(rabbit: PrivateRabbitMQ, routing_key: str) -> list[str]:
    out = rabbit.ctl("list_bindings", "-q", "--no-table-headers", "destination_name", "routing_key").stdout
    return sorted({parts[0] for parts in (line.split() for line in out.splitlines())
                   if len(parts) == 2 and parts[1] == routing_key})


def publish_poison(broker_url: str, exchange: str, routing_key: str) -> None:
    """A message no consumer can decode, on a routing key consumers are bound to."""
    import amqp

    port = int(broker_url.rsplit(":", 1)[1].split("/")[0])
    with amqp.Connection(host=f"127.0.0.1:{port}", userid="guest", password="guest") as connection:
        channel = connection.channel()
        channel.basic_publish(amqp.Message(b"{not an event", content_type="application/json", delivery_mode=2,
                                           message_id="fault-suite-poison"), exchange=exchange,
                              routing_key=routing_key)


def ps(pids: dict[str, int]) -> str:
    if not pids:
        return ""
    return subprocess.run(["ps", "-o", "pid=,args=", "-g", ",".join(map(str, pids.values()))],
                          capture_output=True, text=True, check=False).stdout.strip()
