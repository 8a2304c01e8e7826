"""bench/cpu_split.py: which part of the stack a process is, and CPU time counted between the marks."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
cpu_split = importlib.import_module("cpu_split")

SERVICES = ("accounts", "records", "signing", "stats", "sync-gateway", "ems-sim")


@pytest.mark.parametrize(("cmdline", "group"), [
    ('/v/bin/python /v/bin/gunicorn -c deploy/gunicorn.conf.py quxiang.common.wsgi:app_for("sync-gateway")',
     "api sync-gateway"),
    ("/v/bin/python /v/bin/qx-jobs signing", "jobs signing"),
    ("/v/bin/python /v/bin/qx-consumer sync-gateway", "consumer sync-gateway"),
    ("/v/bin/python /v/bin/qx-relay records", "relay records"),
    ("postgres: 15/main: postgres qx_season_ab12_sync_gateway 127.0.0.1(45942) idle", "postgres sync-gateway"),
    ("postgres: 15/main: postgres qx_season_ab12_stats 127.0.0.1(45926) UPDATE waiting", "postgres stats"),
    ("postgres: 15/main: postgres qx_other_run_stats 127.0.0.1(45926) idle", "postgres (server)"),
    ("postgres: 15/main: checkpointer", "postgres (server)"),
    ("/usr/lib/erlang/erts-13.1.5/bin/beam.smp -W w -MBas ageffcbf", "rabbitmq"),
    ("nginx: worker process", "nginx"),
    (".venv/bin/python bench/bench_season.py --graduates 5000", "the benchmark"),
    ("/usr/sbin/nats-server -a 127.0.0.1", "other"),
])
def test_each_process_is_put_with_its_part(cmdline: str, group: str) -> None:
    assert cpu_split.group_of(cmdline, SERVICES, " qx_season_ab12_") == group


BURNER = """
import sys, time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
burn(0.6)
print("burnt", flush=True)
sys.stdin.readline()
burn(0.4)
print("burnt", flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_only_the_time_between_the_marks_counts() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURNER, "qx-jobs", "signing"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "burnt\n"  # 0.6 s before the start: not counted
        split = cpu_split.CpuSplit(SERVICES, every=0.1).start()
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline() == "burnt\n"
        time.sleep(0.3)  # a sample after the burn
        split.stop()
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(10)
        groups = split.by_group()
        counted = groups["jobs signing"]
        assert 0.35 <= counted <= 0.55, counted
        # The machine's own PostgreSQL and RabbitMQ may have worked meanwhile: they are the platform too.
        platform = sum(seconds for name, seconds in groups.items() if name not in ("the benchmark", "other"))
        lines = {" ".join(line.split()[:2]): line.split()[2:]
                 for line in split.table(per=4, what="graduate").splitlines()[1:]}
        assert lines["jobs signing"] == [f"{counted:.1f}", f"{counted / platform:.1%}", f"{counted * 250:.1f}"]
        assert lines["the platform"][0] == f"{platform:.1f}"
        assert "other (not" in lines or groups.get("other", 0) < 0.001 * platform  # this test's process
    finally:
        child.kill()


def test_a_pid_taken_by_a_new_process_counts_from_its_start() -> None:
    split = cpu_split.CpuSplit(SERVICES)
    split.at_start = {"7": 100.0}
    split.latest = {"7": 100.0}
    split.commands = {"7": "/v/bin/qx-relay stats"}
    readings = {"7": ("/v/bin/qx-consumer stats", 2.5)}
    original = cpu_split.read_cpu
    cpu_split.read_cpu = lambda pid: readings.get(pid)
    try:
        split.sample()
    finally:
        cpu_split.read_cpu = original
    split.at_stop = dict(split.latest)
    assert split.by_group() == {"consumer stats": 2.5}
