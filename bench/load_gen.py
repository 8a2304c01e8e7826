"""One load step of ``make bench-api``, in a process of its own: requests at a constant arrival rate
for a while, what they measured written as JSON.

    python bench/load_gen.py CONFIG.json RESULT.json

CONFIG: ``host``, ``rate`` (requests/s), ``warmup`` and ``duration`` (s), ``mode`` (``hello``: GET /
on the baseline; ``api``: the mixed workload of bench/api_workload.py), and for ``api`` the
``dataset`` and ``tokens`` (one access token per login, obtained once by the caller).

An open loop: request k is due at start + k/rate and goes out then in a greenlet of its own
(gevent, geventhttpclient over a pool of keep-alive connections), whether or not earlier ones have
answered, so a slow platform cannot slow the arrivals down. Its latency is counted from the moment
it was due, not from when it went out: time a request spent waiting for the generator (a busy
loop, no free connection) is the platform's to answer for too, which keeps the figure honest when
the generator falls behind. ``send_lag_p99_ms`` reports how late requests went out.

Why not locust: on this kind of machine its runtime added 10-30 ms to every request (a bare Flask
hello-world measured p50 14-33 ms at 200/s under locust, 1 ms under plain threads and under this
loop), which alone would fail a 100 ms p99 at a few dozen requests a second.

Its own process: gevent patches the whole interpreter, which the orchestrator (processes, databases)
should not run under; and its CPU time is then its own to report.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after gevent's patching
import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import psutil  # noqa: E402
from geventhttpclient import HTTPClient  # noqa: E402
from geventhttpclient.url import URL  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_workload import Call, Dataset, dataset_from_json, dataset_to_json, next_call  # noqa: E402

HELLO = Call("hello", "GET", "/", None)
CONNECTIONS = 256  # keep-alive connections to the host at most; more requests in flight wait for one
CONNECT_TIMEOUT_S = 10.0
NETWORK_TIMEOUT_S = 30.0


def bucket(ms: float) -> int:
    """Latency rounded as locust's histograms round it (whole ms below 100, then 2 significant
    digits), so generators' histograms add up and stay small."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return round(ms, -1)
    return round(ms, -2)


class Recorder:
    """Per endpoint: requests, failures and the latency histogram of the measured window."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.histograms: dict[str, Counter[int]] = {}
        self.errors: Counter[str] = Counter()
        self.lags: list[float] = []

    def record(self, name: str, ms: float, error: str | None, lag_ms: float) -> None:
        self.requests[name] += 1
        self.histograms.setdefault(name, Counter())[bucket(ms)] += 1
        self.lags.append(lag_ms)
        if error is not None:
            self.failures[name] += 1
            self.errors[f"{name}: {error}"] += 1

    def endpoints(self) -> dict[str, Any]:
        return {name: {"requests": self.requests[name], "failures": self.failures[name],
                       "histogram": {str(ms): n for ms, n in self.histograms[name].items()}}
                for name in self.requests}

    def lag_p99(self) -> float:
        if not self.lags:
            return 0.0
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def send(client: HTTPClient, call: Call, tokens: dict[str, str], due: float, recorder: Recorder | None) -> None:
    """One request, due at ``due`` (monotonic): recorded against its due time when ``recorder``."""
    headers = {"Authorization": f"Bearer {tokens[call.login]}"} if call.login else {}
    body = None
    if call.json is not None:
        body = json.dumps(call.json, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    error = None
    try:
        response = client.request(call.method, call.url_path, body=body, headers=headers)
        text = response.read()
        if response.status_code not in call.expect:
            error = f"{response.status_code} {text[:120].decode(errors='replace')}"
    except Exception as exc:  # noqa: BLE001 - a timeout or a reset is a failed request, not a crash
        error = f"{type(exc).__name__}: {exc}"[:160]
    if recorder is not None:
        recorder.record(call.name, (time.monotonic() - due) * 1000, error, (started - due) * 1000)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_step(config: dict[str, Any]) -> dict[str, Any]:
    rate, warmup, duration = float(config["rate"]), float(config["warmup"]), float(config["duration"])
    dataset: Dataset | None = dataset_from_json(config["dataset"]) if config["mode"] == "api" else None
    tokens: dict[str, str] = config.get("tokens", {})
    client = HTTPClient.from_url(URL(config["host"]), concurrency=CONNECTIONS,
                                 connection_timeout=CONNECT_TIMEOUT_S, network_timeout=NETWORK_TIMEOUT_S)
    rng, recorder = random.Random(), Recorder()
    in_flight: list[tuple[gevent.Greenlet, Call | None]] = []  # the call when it is measured
    start = time.monotonic()
    measured_from, measured_to = start + warmup, start + warmup + duration
    cpu0 = busy0 = None
    k = 0
    while (due := start + k / rate) < measured_to:
        wait = due - time.monotonic()
        if wait > 0:
            gevent.sleep(wait)
        measured = due >= measured_from
        if measured and cpu0 is None:
            cpu0, busy0 = _cpu_seconds(), _busy_seconds()
        call = HELLO if dataset is None else next_call(dataset, rng)
        in_flight.append((gevent.spawn(send, client, call, tokens, due, recorder if measured else None),
                          call if measured else None))
        k += 1
    gevent.joinall([g for g, _ in in_flight], timeout=NETWORK_TIMEOUT_S + CONNECT_TIMEOUT_S)
    cpu, busy = _cpu_seconds() - (cpu0 or 0.0), _busy_seconds() - (busy0 or 0.0)
    unfinished = [(g, call) for g, call in in_flight if not g.ready()]
    gevent.killall([g for g, _ in unfinished], block=False)
    for _, call in unfinished:
        if call is not None:
            recorder.record(call.name, (time.monotonic() - measured_to) * 1000, "no answer in time", 0.0)
    client.close()
    result = {"rate": rate, "seconds": duration, "requests": sum(recorder.requests.values()),
              "failures": sum(recorder.failures.values()), "endpoints": recorder.endpoints(),
              "errors": recorder.errors.most_common(10), "unfinished": len(unfinished),
              "send_lag_p99_ms": recorder.lag_p99(), "generator_cpu_s": cpu, "machine_busy_s": busy,
              "cores": psutil.cpu_count() or 1}
    if dataset is not None:
        result["dataset"] = dataset_to_json(dataset)
    return result


def main(argv: list[str]) -> None:
    config = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(json.dumps(run_step(config), ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
