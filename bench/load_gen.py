"""One load step of ``make bench-api``, in a process of its own: locust (as a library, FastHttpUser,
the cheapest of its clients) sends requests at a constant arrival rate for a while and writes what it
measured as JSON.

    python bench/load_gen.py CONFIG.json RESULT.json

CONFIG: ``host``, ``rate`` (requests/s), ``warmup`` and ``duration`` (s), ``mode`` (``hello``: GET /
on the baseline; ``api``: the mixed workload of bench/api_workload.py), and for ``api`` the
``dataset`` and ``tokens`` (one access token per login, obtained once by the caller). Each virtual
user asks at rate/users per second (``constant_throughput``); there are enough of them that each
waits ~0.5 s between requests, far longer than an answer within the 100 ms target takes, so the
arrival rate does not bend to the latency (a step whose achieved rate falls short is reported so).

Its own process: gevent patches the whole interpreter, which the orchestrator (processes, databases)
should not run under; and its CPU time is then its own to report.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after gevent's patching, as locust requires
import math  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from locust import FastHttpUser, constant_throughput, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_workload import Call, Dataset, dataset_from_json, dataset_to_json, next_call  # noqa: E402

SECONDS_BETWEEN_REQUESTS_PER_USER = 0.5
HELLO = Call("hello", "GET", "/", None)


def users_for(rate: float) -> int:
    return max(4, math.ceil(rate * SECONDS_BETWEEN_REQUESTS_PER_USER))


def make_user(config: dict[str, Any]) -> type[FastHttpUser]:
    rate, users = float(config["rate"]), users_for(float(config["rate"]))
    dataset: Dataset | None = dataset_from_json(config["dataset"]) if config["mode"] == "api" else None
    tokens: dict[str, str] = config.get("tokens", {})

    class LoadUser(FastHttpUser):
        host = config["host"]
        wait_time = constant_throughput(rate / users)
        network_timeout = 30.0
        connection_timeout = 10.0

        def on_start(self) -> None:
            self.rng = random.Random()

        @task
        def one(self) -> None:
            call = HELLO if dataset is None else next_call(dataset, self.rng)
            headers = {"Authorization": f"Bearer {tokens[call.login]}"} if call.login else {}
            with self.client.request(call.method, call.path, name=call.name, headers=headers, json=call.json,
                                     catch_response=True) as response:
                if response.status_code not in call.expect:
                    response.failure(f"{response.status_code} {(response.text or '')[:120]}")

    LoadUser.dataset = dataset  # type: ignore[attr-defined]
    return LoadUser


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_step(config: dict[str, Any]) -> dict[str, Any]:
    user = make_user(config)
    users = users_for(float(config["rate"]))
    env = Environment(user_classes=[user], host=config["host"])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(users, 1))
    gevent.sleep(float(config["warmup"]))
    env.stats.reset_all()
    cpu0, busy0, t0 = _cpu_seconds(), _busy_seconds(), time.monotonic()
    gevent.sleep(float(config["duration"]))
    elapsed = time.monotonic() - t0
    cpu, busy = _cpu_seconds() - cpu0, _busy_seconds() - busy0
    endpoints = {}
    for (name, _method), entry in env.stats.entries.items():
        # locust's histogram (milliseconds rounded to 2 significant digits past 100): the
        # orchestrator adds up several generators' before taking percentiles.
        endpoints[name] = {"requests": entry.num_requests, "failures": entry.num_failures,
                           "histogram": {str(ms): n for ms, n in entry.response_times.items()}}
    total = env.stats.total
    errors = sorted(((f"{e.name}: {e.error}", e.occurrences) for e in env.stats.errors.values()),
                    key=lambda x: -x[1])[:10]
    runner.quit()
    result = {"rate": config["rate"], "users": users, "seconds": elapsed, "requests": total.num_requests,
              "failures": total.num_failures, "endpoints": endpoints, "errors": errors,
              "generator_cpu_s": cpu, "machine_busy_s": busy,
              "cores": psutil.cpu_count() or 1}
    if user.dataset is not None:  # type: ignore[attr-defined]
        result["dataset"] = dataset_to_json(user.dataset)  # type: ignore[attr-defined]
    return result


def main(argv: list[str]) -> None:
    config = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(json.dumps(run_step(config), ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
