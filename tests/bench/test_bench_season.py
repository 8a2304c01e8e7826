"""The pieces of ``make bench-season`` that run without a stack: the season's roster, the figures,
the loss table. The season itself (a stack, a roster, every flow) is ``make bench-season``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
bench_season = importlib.import_module("bench_season")


def test_the_season_roster_is_valid_and_distinct_at_scale() -> None:
    from quxiang.common.validators import check_identity_matches_gender, validate_identity_number

    lines = bench_season.season_roster(24_001).splitlines()
    assert lines[0] == bench_season.HEADER.strip() and len(lines) == 24_002
    rows = [line.split(",") for line in lines[1:]]
    assert len({r[0] for r in rows}) == len({r[4] for r in rows}) == 24_001
    assert {r[5] for r in rows} == {"CS"}  # the department demo-zsu-cs reviews
    for row in rows[::997] + rows[-3:]:
        validate_identity_number(row[4])
        check_identity_matches_gender(row[4], row[3])


def test_a_roster_beyond_the_distinct_identity_numbers_is_refused() -> None:
    with pytest.raises(SystemExit, match="at most 336000"):
        bench_season.season_roster(336_001)


def test_percentile_and_the_loss_table() -> None:
    assert bench_season.percentile([], 0.99) == 0.0
    assert bench_season.percentile([float(v) for v in range(1, 101)], 0.99) == 100.0
    assert bench_season.percentile([5.0, 1.0, 3.0], 0.5) == 3.0
    tally = bench_season.Tally()
    tally.add("lost", "missing from ems-sim destinations", ["264402000001"])
    table = bench_season.tally_table(tally)
    assert table.splitlines()[1].split() == ["1", "0", "0", "0"]
    assert "lost 1 missing from ems-sim destinations" in table


class Answer:
    def __init__(self, status: int, text: str = "") -> None:
        self.status_code, self.text = status, text


def test_an_expired_token_is_renewed_once_and_used_from_then_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from quxiang.common.testing import stack_run

    sent: list[tuple[str, str | None]] = []

    def call(self, method: str, path: str, token: str | None = None, **kwargs: object) -> Answer:
        sent.append((path, token))
        if token in ("old", "unknown"):
            return Answer(401, '{"code": "token_expired"}')
        return Answer(200)

    monkeypatch.setattr(stack_run.Gateway, "call", call)
    workload = bench_season.TimedWorkload("http://gateway", "http://accounts", concurrency=1)
    logins: list[tuple[str, str]] = []
    monkeypatch.setattr(workload.direct, "login", lambda user, password: logins.append((user, password)) or "new")
    workload.tokens = {"demo-zsu": "old"}
    workload.know_logins("staff-pass", "graduate-pass")

    assert workload.api.call("GET", "/a", "old").status_code == 200
    assert workload.api.call("GET", "/b", "old").status_code == 200
    assert sent == [("/a", "old"), ("/a", "new"), ("/b", "new")]
    assert logins == [("demo-zsu", "staff-pass")] and workload.renewals == 1 and workload.requests == 2
    # A token it does not know whose it is: the 401 is answered as it came, nobody logs in.
    assert workload.api.call("GET", "/c", "unknown").status_code == 401 and workload.renewals == 1


def test_threads_that_meet_the_same_expired_token_get_the_one_renewal(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    workload = bench_season.TimedWorkload("http://gateway", "http://accounts", concurrency=1)
    logins: list[str] = []
    monkeypatch.setattr(workload.direct, "login", lambda user, password: logins.append(user) or f"new-{len(logins)}")
    workload.owners = {"old": ("demo-zsu", "pass")}
    results: list[str] = []
    # The second renewal of "old" finds it renewed already (it once held the lock it then asked for again).
    threads = [threading.Thread(target=lambda: results.append(workload._renew("old")), daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads), "renewal deadlocked"
    assert results == ["new-1", "new-1"] and logins == ["demo-zsu"] and workload.renewals == 1


def test_the_stall_watch_says_when_the_count_stops_moving() -> None:
    now = [0.0]
    watch = bench_season.StallWatch(300, clock=lambda: now[0])
    assert not watch.stalled(10)
    now[0] = 299
    assert not watch.stalled(10)
    now[0] = 300
    assert watch.stalled(10)
    assert not watch.stalled(11)  # it moved: the clock starts again
    now[0] = 599
    assert not watch.stalled(11)
    now[0] = 600
    assert watch.stalled(11)
