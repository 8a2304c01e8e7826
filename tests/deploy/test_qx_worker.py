"""deploy/docker/qx_worker.py: the worker container's processes, their summed metrics, and that
the container ends when one of them does (so the orchestrator restarts it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from quxiang.common.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy/docker/qx_worker.py"

# A stand-in for qx-relay / qx-consumer / qx-jobs: counts one run in the shared metrics folder,
# records its pid and arguments, and on SIGTERM notes that it was asked to stop.
FAKE = """#!{python}
import os, signal, sys, time
from pathlib import Path
from prometheus_client import Counter
out = Path({out!r})
name = Path(sys.argv[0]).name
Counter("qx_fake_runs", "runs", ["process"]).labels(name).inc()
(out / f"{{name}}.pid").write_text(str(os.getpid()))
(out / f"{{name}}.args").write_text(" ".join(sys.argv[1:]))
def stop(*_):
    (out / f"{{name}}.stopped").write_text("yes")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(0.1)
"""


def test_each_name_is_one_command(qx_worker_script: ModuleType) -> None:
    command = qx_worker_script.command_for
    assert command("signing", "relay") == ["qx-relay", "signing"]
    assert command("signing", "consumer") == ["qx-consumer", "signing"]
    assert command("stats", "consumer:stats.graduates") == ["qx-consumer", "stats", "stats.graduates"]
    assert command("signing", "jobs") == ["qx-jobs", "signing"]
    for wrong in ("relays", "consumer:", "job"):
        with pytest.raises(SystemExit):
            command("signing", wrong)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


@pytest.fixture
def worker(tmp_path: Path) -> tuple[Path, int, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    out = tmp_path / "out"
    bin_dir.mkdir()
    out.mkdir()
    for name in ("qx-relay", "qx-consumer", "qx-jobs"):
        path = bin_dir / name
        path.write_text(FAKE.format(python=sys.executable, out=str(out)))
        path.chmod(0o755)
    port = _free_port()
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999.db").write_bytes(b"left by an earlier run")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "QX_WORKER_METRICS_PORT": str(port),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics), "QX_WORKER_STOP_GRACE": "5"}
    return out, port, env


def test_runs_every_process_and_serves_their_metrics_until_stopped(worker: tuple[Path, int, dict[str, str]]) -> None:
    out, port, env = worker
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "signing", "relay", "consumer", "jobs"], env=env)
    try:
        _wait_for(lambda: all('process="' + n + '"' in _scrape(port) for n in ("qx-relay", "qx-consumer", "qx-jobs")))
        assert (out / "qx-consumer.args").read_text() == "signing"
        assert not (Path(env["PROMETHEUS_MULTIPROC_DIR"]) / "counter_999.db").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    for name in ("qx-relay", "qx-consumer", "qx-jobs"):
        assert (out / f"{name}.stopped").exists(), f"{name} was not asked to stop"


def test_one_process_ending_stops_the_others_and_fails(worker: tuple[Path, int, dict[str, str]]) -> None:
    out, port, env = worker
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "records", "relay", "consumer"], env=env)
    try:
        _wait_for(lambda: (out / "qx-relay.pid").exists() and (out / "qx-consumer.pid").exists())
        os.kill(int((out / "qx-relay.pid").read_text()), signal.SIGKILL)
        assert proc.wait(timeout=15) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (out / "qx-consumer.stopped").exists()
    assert _scrape(port) == ""


def test_without_processes_it_says_how_to_use_it() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "signing"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "relay consumer jobs" in result.stderr


# -- the real processes, on PostgreSQL and RabbitMQ -------------------------------------------------


def _queues(rabbitmq: Any) -> set[str]:
    listed = rabbitmq.rabbitmqctl("list_queues", "-p", rabbitmq.vhost or "/", "--no-table-headers", "-q", "name")
    return set(listed.stdout.split())


def test_a_real_worker_runs_relay_consumers_and_jobs_until_stopped(pg_url: str, rabbitmq: Any,
                                                                   tmp_path: Path) -> None:
    from quxiang.common.migrations import upgrade
    from quxiang.common.service import get_service

    if not rabbitmq.can_admin:
        pytest.skip("the broker is not on this machine: its queues cannot be listed")
    names = uuid.uuid4().hex[:8]
    env = {**os.environ, "QX_DATABASE_URL": pg_url, "QX_BROKER_URL": rabbitmq.url,
           "QX_EXCHANGE": f"qx.events.{names}", "QX_QUEUE_PREFIX": f"qx.{names}", "QX_DATA_DIR": str(tmp_path),
           "QX_LOG_JSON": "false", "QX_WORKER_METRICS_PORT": str(_free_port()),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    upgrade(load_config("signing", env), get_service("signing"))
    port = int(env["QX_WORKER_METRICS_PORT"])
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "signing", "relay", "consumer", "jobs"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: _scrape(port) != "" or proc.poll() is not None, timeout=60)
        # The consumer declares its queues once connected; every process must still be running then.
        _wait_for(lambda: f"qx.{names}.signing.directory" in _queues(rabbitmq) or proc.poll() is not None,
                  timeout=60)
        time.sleep(2)
        assert proc.poll() is None, proc.communicate(timeout=5)[0][-3000:]
        assert {f"qx.{names}.signing.directory", f"qx.{names}.signing.auth"} <= _queues(rabbitmq)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
        assert proc.returncode == 0, output[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_jobs_are_refused_for_a_service_without_them(tmp_path: Path) -> None:
    # Why compose.yaml and the Kubernetes workers name `jobs` only for signing and sync-gateway: the
    # worker would otherwise stop at once and restart for ever.
    env = {**os.environ, "QX_DATA_DIR": str(tmp_path)}
    result = subprocess.run([str(Path(sys.executable).parent / "qx-jobs"), "accounts"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "no scheduled jobs" in result.stderr
