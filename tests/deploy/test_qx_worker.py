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
from pathlib import Path
from types import ModuleType

import pytest

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
