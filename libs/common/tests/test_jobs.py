"""Scheduled jobs: rounds repeat until stopped, and a failing round does not end the schedule."""

from __future__ import annotations

import threading

from quxiang.common.jobs import ScheduledJob, run_periodically
from quxiang.common.service import discover_services


def test_a_failing_round_is_logged_and_the_next_one_runs(caplog):
    rounds: list[int] = []
    stop = threading.Event()

    def work() -> int:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("database away")
        if len(rounds) == 3:
            stop.set()
        return len(rounds)

    thread = threading.Thread(target=run_periodically, args=(ScheduledJob("test", 0.01, work), stop))
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(rounds) == 3
    assert "job test failed" in caplog.text


def test_signing_schedules_the_expiry_of_invitations_and_the_rendering_of_documents(tmp_path):
    from quxiang.common.testing.plugin import make_test_config

    signing = discover_services()["signing"]
    config = make_test_config("signing", f"sqlite:///{tmp_path}/s.db", "embedded", tmp_path)
    assert [job.name for job in signing.jobs(config)] == ["expire-invitations", "render-documents"]
    assert discover_services()["stats"].jobs(config) == ()


def test_each_round_is_counted_and_the_last_good_one_timed():
    """What an alert watches: a job whose last good round is long past (it fails, or it hangs)."""
    import time

    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    stop = threading.Event()
    rounds: list[int] = []

    def failing() -> None:
        rounds.append(1)
        if len(rounds) == 2:
            stop.set()
        raise RuntimeError("the EMS away")

    started = time.time()
    run_periodically(ScheduledJob("metrics-failing", 0.01, failing), stop)
    assert sample("qx_job_runs_total", task="metrics-failing", outcome="failed") == 2
    assert sample("qx_job_runs_total", task="metrics-failing", outcome="ok") == 0
    assert sample("qx_job_interval_seconds", task="metrics-failing") == 0.01
    at_start = sample("qx_job_last_success_timestamp_seconds", task="metrics-failing")
    assert at_start is not None and started - 1 <= at_start <= started + 1  # from the start, not after a round

    stop = threading.Event()
    time.sleep(0.05)
    run_periodically(ScheduledJob("metrics-failing", 0.01, lambda: stop.set()), stop)
    assert sample("qx_job_runs_total", task="metrics-failing", outcome="ok") == 1
    assert sample("qx_job_last_success_timestamp_seconds", task="metrics-failing") > at_start
