"""Scheduled jobs of a service (for example: expiring unanswered invitations). A job is a function
run every ``interval`` seconds until stopped; a failure is logged and the next round tries again.

Production runs them in their own process, ``qx-jobs <service>`` (one per service is enough: each
job locks what it changes, so a second copy is harmless); ``make run`` runs them in threads.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

# A job that fails logs each round; one that hangs (a lock wait, a call that never answers) or whose
# process lost its threads says nothing: the time of its last good round is what an alert can watch
# (deploy/prometheus/alerts.yml, QuxiangJobStale).
# The label is "task", not "job": Prometheus gives every scraped series a "job" of its own (the scrape
# job's name) and would move ours aside, and a rule grouping by job would merge a service's jobs.
RUNS = Counter("qx_job_runs_total", "Rounds of the scheduled jobs, by outcome", ["task", "outcome"])
LAST_SUCCESS = Gauge("qx_job_last_success_timestamp_seconds", "When the job's last round ended without an error",
                     ["task"], multiprocess_mode="max")
INTERVAL = Gauge("qx_job_interval_seconds", "Seconds between the job's rounds", ["task"], multiprocess_mode="max")


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    interval: float                 # seconds between the end of one round and the start of the next
    run: Callable[[], object]       # one round; returns what it did (logged when truthy)


def run_periodically(job: ScheduledJob, stop: threading.Event) -> None:
    INTERVAL.labels(job.name).set(job.interval)
    LAST_SUCCESS.labels(job.name).set(time.time())  # started: the clock of an alert runs from here
    ok, failed = RUNS.labels(job.name, "ok"), RUNS.labels(job.name, "failed")  # both at 0 from the start
    while not stop.is_set():
        try:
            done = job.run()
            if done:
                log.info("job %s: %s", job.name, done)
            ok.inc()
            LAST_SUCCESS.labels(job.name).set(time.time())
        except Exception:  # a bad round must not end the schedule
            failed.inc()
            log.exception("job %s failed; next round in %.0fs", job.name, job.interval)
        stop.wait(job.interval)


def main(argv: Sequence[str] | None = None) -> None:
    """``qx-jobs SERVICE``: run the service's scheduled jobs until SIGTERM or SIGINT."""
    from quxiang.common.config import load_config
    from quxiang.common.logging import configure_logging
    from quxiang.common.service import get_service

    parser = argparse.ArgumentParser(prog="qx-jobs", description=main.__doc__)
    parser.add_argument("service")
    args = parser.parse_args(argv)
    definition = get_service(args.service)
    config = load_config(definition.name)
    configure_logging(config.log_level, config.log_json, f"{definition.name}-jobs")
    jobs = definition.jobs(config)
    if not jobs:
        raise SystemExit(f"service {definition.name} has no scheduled jobs")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threads = [threading.Thread(target=run_periodically, args=(job, stop), name=job.name) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
