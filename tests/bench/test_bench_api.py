"""The pieces of ``make bench-api`` at a tiny size: the step search and the report, the hello app,
real load-generator steps against local servers (the open loop, failures), and every request the
workload builds reaching a real route of the one-process suite with the method it uses. The full
run (a stack, seeding, minutes of load) is ``make bench-api`` itself."""

from __future__ import annotations

import importlib
import os
import random
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
bench_api = importlib.import_module("bench_api")
api_workload = importlib.import_module("api_workload")
api_seed = importlib.import_module("api_seed")
hello_app = importlib.import_module("hello_app")

pytestmark = pytest.mark.timeout(60)


def step(target: float, rps: float, p99: float, failures: int = 0, seconds: float = 10.0) -> object:
    requests = round(rps * seconds)
    histogram = {10.0: requests - requests // 50, p99: requests // 50} if requests else {}  # 2% slow
    endpoint = bench_api.Endpoint("x", requests, failures, histogram)
    return bench_api.Step(target=target, seconds=seconds, endpoints=[endpoint], generator_cpu_s=1.0,
                          machine_busy_s=10.0, cores=2)


def test_percentiles_of_merged_histograms() -> None:
    merged = bench_api.merge([{"10": 98, "20": 1}, {20.0: 0, "300": 1}])
    assert merged == {10.0: 98, 20.0: 1, 300.0: 1}
    assert bench_api.percentile(merged, 0.5) == 10.0
    assert bench_api.percentile(merged, 0.99) == 20.0
    assert bench_api.percentile(merged, 1.0) == 300.0
    assert bench_api.percentile({}, 0.99) == 0.0


def test_a_step_is_good_only_within_latency_errors_and_rate() -> None:
    assert step(100, 99, 80).good(100, 0.001)
    assert step(100, 99, 120).verdict(100, 0.001) == "miss: p99"
    assert step(100, 99, 80, failures=5).verdict(100, 0.001) == "miss: errors"
    assert step(100, 80, 80).verdict(100, 0.001) == "miss: short of the rate"
    assert not bench_api.Step(target=10, seconds=10, endpoints=[]).good(100, 0.001)


def capacity_model(capacity: float, calls: list[float]):
    def measure(rate: float) -> object:
        calls.append(rate)
        achieved = min(rate, capacity)
        return step(rate, achieved, 50 if rate <= capacity else 400)
    return measure


def test_the_search_climbs_then_bisects_to_the_capacity() -> None:
    calls: list[float] = []
    best, steps = bench_api.search(capacity_model(500, calls), start=100, factor=2, refine=3, max_steps=10,
                                   p99_ms=100, max_errors=0.001)
    assert calls[:4] == [100, 200, 400, 800]  # up until the first miss
    assert calls[4:] == [600, 500, 550]  # then halfway between the best good and the lowest bad
    assert best is not None and best.target == 500 and len(steps) == 7


def test_the_search_goes_down_when_the_first_step_misses_and_stops_at_max_steps() -> None:
    calls: list[float] = []
    best, _ = bench_api.search(capacity_model(30, calls), start=100, factor=2, refine=0, max_steps=10,
                               p99_ms=100, max_errors=0.001)
    assert calls == [100, 50, 25] and best is not None and best.target == 25
    calls.clear()
    best, steps = bench_api.search(capacity_model(0, calls), start=100, factor=2, refine=2, max_steps=3,
                                   p99_ms=100, max_errors=0.001)
    assert best is None and len(steps) == 3
    calls.clear()
    best, _ = bench_api.search(capacity_model(0, calls), start=100, factor=2, refine=2, max_steps=10,
                               p99_ms=100, max_errors=0.001, floor=20)
    assert best is None and calls == [100, 50, 25]  # 12.5 would be under the floor


def test_the_report_and_the_final_line() -> None:
    platform, hello = step(200, 200, 80), step(1000, 800, 30)
    line = bench_api.final_line(platform, hello)
    assert line == "rps=200 p99_ms=80 hello_rps=800 ratio=0.25"
    assert re.fullmatch(r"rps=\d+ p99_ms=\d+ hello_rps=\d+ ratio=\d+\.\d\d", line)
    assert bench_api.final_line(None, hello) == "rps=0 p99_ms=0 hello_rps=800 ratio=0.00"
    table = bench_api.endpoint_table(platform)
    assert "total" in table and " 200.0 " in table
    assert bench_api.step_line("hello", hello, 100, 0.001).rstrip().endswith("miss: short of the rate")


def test_combine_adds_generators_up() -> None:
    result = {"seconds": 10.0, "generator_cpu_s": 1.0, "machine_busy_s": 12.0, "cores": 2,
              "endpoints": {"a": {"requests": 100, "failures": 1, "histogram": {"10": 100}}},
              "errors": [["a: 500", 1]]}
    combined = bench_api.combine(200, [result, result])
    assert combined.requests == 200 and combined.failures == 2 and combined.rps == 20.0
    assert combined.generator_cpu_s == 2.0 and combined.errors == [("a: 500", 2)]


def test_the_hello_app_answers_any_path() -> None:
    client = hello_app.app.test_client()
    assert client.get("/").text == "hello"
    assert client.get("/api/stats/hello").text == "hello"


def serve(app: object) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def hello_server() -> Iterator[str]:
    yield from serve(hello_app.app)


def slow_app(environ: dict, start_response: object) -> list[bytes]:
    """Answers after 300 ms; 503 for /fail; echoes the raw query string it received."""
    import time

    time.sleep(0.3)
    status = "503 Service Unavailable" if environ["PATH_INFO"] == "/fail" else "200 OK"
    start_response(status, [("Content-Type", "text/plain")])  # type: ignore[operator]
    return [environ.get("QUERY_STRING", "").encode()]


@pytest.fixture
def slow_server() -> Iterator[str]:
    yield from serve(slow_app)


def test_one_load_step_against_a_local_hello(hello_server: str, tmp_path: Path) -> None:
    config = {"host": hello_server, "rate": 40, "warmup": 0.5, "duration": 2.0, "mode": "hello"}
    measured = bench_api.run_generators(tmp_path, config, 1, None)
    assert measured.failures == 0
    assert 76 <= measured.requests <= 84, measured.requests  # 40/s for 2 s, the warm-up not counted
    assert [e.name for e in measured.endpoints] == ["hello"] and 0 < measured.p(0.99) < 300
    assert measured.generator_cpu_s > 0


def test_arrivals_do_not_wait_for_slow_answers(slow_server: str, tmp_path: Path) -> None:
    """An open loop: 300 ms answers do not slow 30 requests/s down (a closed loop of a few users
    would send a handful), and each latency counts from when its request was due."""
    config = {"host": slow_server, "rate": 30, "warmup": 0.2, "duration": 1.0, "mode": "hello"}
    measured = bench_api.run_generators(tmp_path, config, 1, None)
    assert 28 <= measured.requests <= 32 and measured.failures == 0
    assert measured.p(0.5) >= 300


def run_load_gen(tmp_path: Path, config: dict) -> dict:
    import json
    import subprocess

    (tmp_path / "c.json").write_text(json.dumps(config, ensure_ascii=False))
    subprocess.run([sys.executable, str(BENCH / "load_gen.py"), str(tmp_path / "c.json"), str(tmp_path / "r.json")],
                   check=True, timeout=60)
    return json.loads((tmp_path / "r.json").read_text())


def test_unexpected_answers_are_failures(slow_server: str, tmp_path: Path) -> None:
    """The slow app answers 200 to everything: reads pass, invitations (which expect 201) fail and
    say what came back."""
    data = dataset()
    config = {"host": slow_server, "rate": 40, "warmup": 0.0, "duration": 1.0, "mode": "api",
              "tokens": dict.fromkeys(data.logins(), "t"), "dataset": api_workload.dataset_to_json(data)}
    result = run_load_gen(tmp_path, config)
    assert result["requests"] == 40 and result["unfinished"] == 0
    failed = {name: e["failures"] for name, e in result["endpoints"].items() if e["failures"]}
    assert set(failed) <= {"invitation (write)"}
    assert all(text.startswith("invitation (write): 200") for text, _ in result["errors"])
    assert sum(failed.values()) == 2 - len(result["dataset"]["uninvited"])  # each pool value used once


def test_queries_go_out_percent_encoded() -> None:
    call = api_workload.Call("x", "GET", "/api/signing/lists/online-signing?q=学生12&page=1", "demo-zsu")
    assert call.url_path == "/api/signing/lists/online-signing?q=%E5%AD%A6%E7%94%9F12&page=1"
    assert api_workload.Call("y", "GET", "/a/b?x=1%2C2&y=a,b", None).url_path == "/a/b?x=1%2C2&y=a,b"


def dataset() -> object:
    return api_workload.Dataset(
        school="10558", province_login="demo-gd", school_login="demo-zsu", department_login="demo-zsu-cs",
        employer_login="demo-employer", graduates=[("g-1", "2644010000001")], agreements=["a-1"],
        uninvited=[("2644010000002", "学生2"), ("2644010000003", "学生3")], awaiting_department=["a-2"],
        drafting=[("g-1", "2644010000001")])


def test_write_pools_give_each_value_once_then_fall_back_to_a_read() -> None:
    data, rng = dataset(), random.Random(1)
    first, second = api_workload.invitation(data, rng), api_workload.invitation(data, rng)
    assert {first.json["exam_number"], second.json["exam_number"]} == {"2644010000002", "2644010000003"}
    assert api_workload.invitation(data, rng) is None
    assert api_workload.department_review(data, rng).path == "/api/signing/agreements/a-2/reviews"
    assert api_workload.department_review(data, rng) is None
    names = {api_workload.next_call(data, rng).name for _ in range(300)}
    assert not {"invitation (write)", "department review (write)"} & names
    assert "stats school" in names


def test_the_dataset_survives_json_and_the_pools_are_dealt_out() -> None:
    data = dataset()
    again = api_workload.dataset_from_json(api_workload.dataset_to_json(data))
    assert again == data
    parts = bench_api.split_pools(data, 2)
    assert [p.uninvited for p in parts] == [[("2644010000002", "学生2")], [("2644010000003", "学生3")]]
    assert parts[0].graduates == parts[1].graduates == data.graduates


def test_the_seed_roster_is_valid() -> None:
    from quxiang.common.validators import check_identity_matches_gender, validate_identity_number

    lines = api_seed.roster_csv(30).splitlines()
    assert lines[0] == api_seed.HEADER.strip() and len(lines) == 31
    rows = [line.split(",") for line in lines[1:]]
    assert len({r[0] for r in rows}) == 30 and len({r[4] for r in rows}) == 30
    for row in rows:
        validate_identity_number(row[4])
        check_identity_matches_gender(row[4], row[3])
    assert sum(r[5] == "CS" for r in rows) == 20


def test_every_workload_request_reaches_a_real_route(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Against the one-process suite: without a token each request must be refused as unauthenticated,
    so its path exists and takes its method (a 404 or 405 would mean the workload calls nothing)."""
    from quxiang.common.config import load_config
    from quxiang.common.suite import build_suite

    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QX_BROKER_URL", "embedded")
    monkeypatch.setenv("QX_DEMO_DATA", "false")
    client = Client(build_suite(load_config("quxiang")).app)
    data, rng = dataset(), random.Random(2)
    for builder, _ in api_workload.MIX:
        call = builder(data, rng)
        assert call is not None and call.login, builder.__name__
        answer = client.open(call.path, method=call.method, json=call.json)
        assert answer.status_code == 401, (builder.__name__, call.path, answer.status_code, answer.text[:300])


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_cleanup_stops_what_was_spawned_and_undoes_everything_in_reverse(tmp_path: Path,
                                                                          keep_signal_handlers: None) -> None:
    cleanup, done = bench_api.Cleanup(), []
    cleanup.add("first", lambda: done.append("first"))
    process = bench_api.spawn(["sleep", "60"], tmp_path / "sleep.log", {}, tmp_path, cleanup)

    def broken() -> None:
        raise RuntimeError("this step fails")

    cleanup.add("broken", broken)
    cleanup.add("last", lambda: done.append("last"))
    cleanup.run()
    assert done == ["last", "first"]  # the failing step did not stop the rest
    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)
