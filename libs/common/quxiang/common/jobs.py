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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    interval: float                 # seconds between the end of one round and the start of the next
    run: Callable[[], object]       # one round; returns what it did (logged when truthy)


def run_periodically(job: ScheduledJob, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            done = job.run()
            if done:
                log.info("job %s: %s", job.name, done)
        except Exception:  # a bad round must not end the schedule
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
