"""A service's worker container: its relay, consumers and scheduled jobs as child processes, and
their metrics on one port.

    python deploy/docker/qx_worker.py SERVICE relay consumer jobs
    python deploy/docker/qx_worker.py stats consumer:stats.graduates

Each name is one child: ``relay`` is ``qx-relay SERVICE``, ``consumer`` is ``qx-consumer SERVICE``
(every consumer of the service, each in a thread), ``consumer:NAME`` is one of them, ``jobs`` is
``qx-jobs SERVICE`` (only for a service that has jobs: qx-jobs refuses the others).

Why one container and not one per process: the orchestrator restarts the container when any child
ends (this process exits with status 1 after stopping the others), so the pieces of a worker start,
scale and stop together, and KEDA scales one Deployment per service.

Metrics: the children write their values into ``PROMETHEUS_MULTIPROC_DIR`` (emptied at start; the
children inherit it), and this process serves their sum on ``QX_WORKER_METRICS_PORT`` (default 9100)
at /metrics: the sync lag histogram, the stats consumers' lag, the delivery counters. The port
answers only while every child runs, so it doubles as the container's health check.
SIGTERM and SIGINT are passed on to the children, which finish the work in hand and exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The container's own /tmp (an emptyDir on Kubernetes): nobody else writes there.
DEFAULT_METRICS_DIR = "/tmp/qx-worker-metrics"  # noqa: S108
DEFAULT_METRICS_PORT = 9100
STOP_GRACE_SECONDS = float(os.environ.get("QX_WORKER_STOP_GRACE", "25"))


def command_for(service: str, process: str) -> list[str]:
    """The command line of one named child process."""
    if process == "relay":
        return ["qx-relay", service]
    if process == "consumer":
        return ["qx-consumer", service]
    if process.startswith("consumer:") and process[len("consumer:"):]:
        return ["qx-consumer", service, process[len("consumer:"):]]
    if process == "jobs":
        return ["qx-jobs", service]
    raise SystemExit(f"unknown worker process {process!r}: use relay, consumer, consumer:NAME or jobs")


def prepare_metrics_dir() -> Path:
    """Point every child at an empty multiprocess folder: files of an earlier run would be added in."""
    path = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", DEFAULT_METRICS_DIR))
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def serve_metrics(port: int) -> None:
    # Imported after PROMETHEUS_MULTIPROC_DIR is set: prometheus_client picks its storage at import.
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


def supervise(service: str, processes: Sequence[str]) -> int:
    commands = [command_for(service, p) for p in processes]
    if not commands:
        raise SystemExit("name at least one process: relay, consumer, consumer:NAME, jobs")
    prepare_metrics_dir()
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    children = [subprocess.Popen(command) for command in commands]  # noqa: S603 - fixed commands
    port = int(os.environ.get("QX_WORKER_METRICS_PORT", str(DEFAULT_METRICS_PORT)))
    if port:
        serve_metrics(port)
    status = 0
    while not stopping:
        ended = [(c, code) for c in children if (code := c.poll()) is not None]
        if ended:
            child, code = ended[0]
            print(f"qx-worker: {' '.join(child.args)} exited with status {code}; stopping the others",
                  file=sys.stderr, flush=True)
            status = 1
            break
        time.sleep(0.5)
    _stop_all(children)
    return status


def _stop_all(children: Sequence[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    return supervise(args[0], args[1:])


if __name__ == "__main__":
    sys.exit(main())
