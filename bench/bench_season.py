"""``make bench-season``: a graduation season on the stack, end to end, then the loss checker.

1. An isolated stack (quxiang.common.stack: every service as gunicorn API, consumers, relay and jobs,
   ems-sim, nginx; its own databases ``qx_season_<run>_*`` and RabbitMQ vhost, free ports).
2. Set-up through the APIs: the province switches 网签, 档案 and 户口 on; 中山大学 imports a roster of
   ``--graduates`` rows (one CSV) and completes its settings (department review for 网签 and 档案);
   accounts provisions the graduates from records' events; the school issues their activation codes
   and every graduate activates the account and logs in (accounts' own port: the gateway's login
   limit is per address). Timed, reported, not part of the season's rate.
3. The season: every graduate's flow through the gateway, ``--concurrency`` at a time, each step as
   its user (tests/faults/fault_workload.py, the fault suite's workload): the employer invites, the
   graduate accepts, the department and the school approve; every ``--terminate-every``-th graduate
   then asks to end the agreement, the employer agrees and the school approves (解约); the graduate
   submits the archive transfer, the department and the school approve; the hukou transfer, the
   school approves. Per graduate 9 requests (13 with a termination), each a transaction with its
   events, consumed by records, signing, stats, sync-gateway and on to ems-sim.
4. Settling: until no outbox row, ledger record, queued message or agreement PDF still to render
   is left, then the loss checker
   (tests/faults/fault_checker.py) compares every source of truth (signing, records, the stats read
   model and counters, ems-sim and its write counts, the dead-letter queues) with what the platform
   confirmed to the flows: lost, duplicated, unexpected.

Figures: the season's wall time from the first invitation until settled; ``events``, every event the
services recorded in their outboxes during it; ``eps`` = events / that time; approval-to-mirror: the
sync ledger's ``lag_ms`` (the approving event's ``occurred_at`` to the EMS answering the write) of
every destination, archive and hukou record; requests/s and the flows' p50/p99 step latency, in
all and per step (method and path, ids left out: where the flows wait); the
CPU of every process on the machine over the season, by part of the stack (bench/cpu_split.py), and
per graduate.
Ends with ``graduates=N events=N eps=N mirror_p99_ms=N lost=N duplicated=N unexpected=N``; exit 1
when a flow failed or the checker found anything.

The stack runs ``--signing-jobs`` (2) ``qx-jobs signing`` processes: one renders about 10 PDFs a
second, fewer than a season on two cores approves, and with one the season ended in a long tail of
rendering on one core (production runs several, docs/capacity.md).

Where the PostgreSQL server runs no autovacuum (this machine's), the bench runs ANALYZE after the
set-up and VACUUM (ANALYZE) every minute of the season, as autovacuum would.

Passwords are hashed at the test cost here (``QX_PASSWORD_HASHING=fast-for-tests``): 2 argon2 runs
per graduate at the production cost would make the set-up hours long on a small machine and say
nothing about the season's flows; logins are sized separately in docs/capacity.md.

Settings: QX_BENCH_POSTGRES_URL, QX_BENCH_AMQP_URL (as bench/bench_api.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests" / "faults")]

from bench_api import DEFAULT_AMQP, DEFAULT_POSTGRES, Cleanup, refresh_statistics_if_autovacuum_is_off  # noqa: E402
from cpu_split import CpuSplit  # noqa: E402
from fault_checker import Checker, Tally, query_rows  # noqa: E402
from fault_workload import PASSWORD, Flow, Workload, exam_number  # noqa: E402

from quxiang.common.testing.stack_run import DEMO_PASSWORD, SERVICES  # noqa: E402
from quxiang.common.validators import make_identity_number  # noqa: E402

OUTBOX_SERVICES = ("accounts", "records", "signing", "stats", "sync-gateway")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d{6,}(?=/|$)")
HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"


def season_roster(count: int) -> str:
    """``count`` valid rows of 计算机学院 (the department demo-zsu-cs reviews): distinct 考生号 and
    identity numbers (1,000 a birth date over 336 dates: up to 336,000 graduates)."""
    if count > 336_000:
        raise SystemExit("--graduates: at most 336000 (distinct identity numbers)")
    lines = [HEADER]
    for i in range(count):
        serial = i % 1000
        birth = f"2003{1 + (i // 1000) % 12:02d}{1 + (i // 12000) % 28:02d}"
        identity = make_identity_number(f"440106{birth}{serial:03d}")
        lines.append(f"{exam_number(i)},F{i:07d},学生{i},{'男' if serial % 2 else '女'},{identity},CS,080901,"
                     "计算机科学与技术,31,440106,2026,,\n")
    return "".join(lines)


class TimedWorkload(Workload):
    """The fault suite's workload, each request's latency kept (the season's step latencies), and
    access tokens renewed as people do: a season outlasts a token (15 minutes), so a 401
    ``token_expired`` logs the same user in again (at accounts directly: the gateway's login limit
    is per address) and the request goes again with the new token."""

    def __init__(self, gateway_url: str, accounts_url: str, concurrency: int) -> None:
        super().__init__(gateway_url, accounts_url)
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="season")
        self.latencies: list[float] = []
        self.by_step: dict[str, list[float]] = {}  # "POST /agreements/{id}/reviews" -> latencies
        self.requests = 0
        self.renewals = 0
        self.owners: dict[str, tuple[str, str]] = {}  # token -> (username, password)
        self.renewed: dict[str, str] = {}  # an expired token -> the one that replaced it
        self._lock = threading.Lock()
        plain = self.api.call

        def timed(method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
            token = self._current(token)
            started = time.perf_counter()
            response = plain(method, path, token, **kwargs)
            if response.status_code == 401 and token in self.owners and "token_expired" in response.text:
                token = self._renew(token)
                response = plain(method, path, token, **kwargs)
            elapsed = (time.perf_counter() - started) * 1000
            step = f"{method.upper()} {_ID.sub('{id}', path.split('?')[0])}"
            with self._lock:
                self.requests += 1
                self.latencies.append(elapsed)
                self.by_step.setdefault(step, []).append(elapsed)
            return response

        self.api.call = timed  # type: ignore[method-assign]

    def know_logins(self, staff_password: str, graduate_password: str) -> None:
        """Whose each token is, so an expired one can be renewed."""
        self.owners.update({token: (login, staff_password) for login, token in self.tokens.items()})
        self.owners.update({g.token: (g.exam_number, graduate_password) for g in self.waiting})

    def _current(self, token: str | None) -> str | None:
        with self._lock:
            return self._latest(token)

    def _latest(self, token: str | None) -> str | None:
        """The token that replaced ``token`` last; the caller holds the lock."""
        while token in self.renewed:
            token = self.renewed[token]
        return token

    def _renew(self, expired: str) -> str:
        # One lock for the check and the login: the threads that hit the same expired token wait for
        # one login, not one each.
        with self._lock:
            if expired in self.renewed:  # another thread renewed it meanwhile
                return self._latest(expired)  # type: ignore[return-value]
            username, password = self.owners[expired]
            fresh = self.direct.login(username, password)
            self.renewed[expired] = fresh
            self.owners[fresh] = (username, password)
            self.renewals += 1
            return fresh


class SeasonStalled(Exception):
    pass


class StallWatch:
    """Says when a count has not moved for ``timeout`` seconds: a season whose requests stop (a
    deadlock, a service gone) ends with a message instead of waiting for ever."""

    def __init__(self, timeout: float, clock: Any = time.monotonic) -> None:
        self.timeout, self.clock = timeout, clock
        self.count: int | None = None
        self.since = clock()

    def stalled(self, count: int) -> bool:
        now = self.clock()
        if count != self.count:
            self.count, self.since = count, now
            return False
        return now - self.since >= self.timeout


def queue_depths(vhost: str) -> dict[str, tuple[int, int]]:
    out = subprocess.run(["rabbitmqctl", "list_queues", "-p", vhost, "-q", "--no-table-headers", "name",
                          "messages_ready", "messages_unacknowledged"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    depths = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            depths[parts[0]] = (int(parts[1]), int(parts[2]))
    return depths


def scalar(url: str, sql: str, *params: Any) -> Any:
    return query_rows(url, sql, *params)[0][0]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def tally_table(tally: Tally) -> str:
    rows = [f"  {'lost':>6} {'duplicated':>10} {'unexpected':>10} {'unsettled':>9}",
            f"  {tally.lost:>6} {tally.duplicated:>10} {tally.unexpected:>10} {tally.unsettled:>9}"]
    rows += [f"  {note}" for note in tally.notes[:20]]
    return "\n".join(rows)


def upkeep(database_url_template: str, stop: threading.Event, every: float = 60.0) -> None:
    """Autovacuum's work where the server has it switched off: without it a long season's tables
    fill with dead rows and the planner's row counts stay those of the start."""
    while not stop.wait(every):
        try:
            if not refresh_statistics_if_autovacuum_is_off(database_url_template, "VACUUM (ANALYZE)"):
                return
        except Exception as exc:  # noqa: BLE001 - the season goes on; say so
            print(f"  upkeep: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graduates", type=int, default=100_000, help="graduates in the season (100000)")
    parser.add_argument("--concurrency", type=int, default=16, help="flows under way at once (16)")
    parser.add_argument("--terminate-every", type=int, default=10,
                        help="every N-th graduate ends the agreement before the archive step (10; 0: none)")
    parser.add_argument("--stall-timeout", type=float, default=300.0,
                        help="stop when no request was made for this many seconds (300)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per API (2)")
    parser.add_argument("--signing-jobs", type=int, default=2,
                        help="qx-jobs signing processes, which render the approved agreements' PDFs (2): one "
                             "renders about 10 a second, fewer than the season approves")
    parser.add_argument("--settle-timeout", type=float, default=900.0, help="seconds to settle at most (900)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from quxiang.common.stack import Stack
    from quxiang.common.testing.stack_run import isolated_settings

    args = parse_args(argv)
    run = uuid.uuid4().hex[:8]
    cleanup = Cleanup()
    folder = Path(tempfile.mkdtemp(prefix=f"qx-bench-season-{run}-"))
    cleanup.add("the run's folder", lambda: shutil.rmtree(folder, ignore_errors=True))
    admin = os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    amqp = os.environ.get("QX_BENCH_AMQP_URL", DEFAULT_AMQP)
    print(f"bench-season run {run}: {args.graduates} graduates, {args.concurrency} flows at once, every "
          f"{args.terminate_every or 'no'}-th terminates, {args.signing_jobs} PDF renderer(s); {os.cpu_count()} "
          f"cores, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    flows: list[Flow] = []
    tally: Tally | None = None
    figures = ""  # a run cut short prints no figures line: zeros would read as a clean season
    failed = True
    try:
        settings = isolated_settings(
            folder / "stack", run, "season", lambda name: urlunsplit(urlsplit(admin)._replace(path=f"/{name}")),
            amqp, own_vhost=True, web_workers=args.workers,
            env={"QX_PASSWORD_HASHING": "fast-for-tests", "QX_RELAY_IDLE_WAIT": "0.2"})
        settings = dataclasses.replace(settings, jobs_replicas={"signing": args.signing_jobs})
        stack = Stack(settings)

        def down() -> None:
            stack.down()
            stack.purge()

        cleanup.add("the stack (processes, databases, vhost)", down)
        started = time.monotonic()
        stack.up(timeout=240, out=sys.stderr)
        print(f"stack up in {time.monotonic() - started:.0f}s", flush=True)

        def database(service: str) -> str:
            return settings.database_url_template.format(service=service.replace("-", "_"))

        vhost = unquote(urlsplit(settings.broker_url).path.lstrip("/"))
        accounts = f"http://{settings.host}:{settings.service_ports['accounts']}"
        workload = TimedWorkload(settings.gateway_url, accounts, args.concurrency)
        workload.setup_timeout = max(90.0, args.graduates / 100)
        workload.setup_threads = 8
        workload.roster = season_roster
        started = time.monotonic()
        workload.set_up(args.graduates)
        workload.know_logins(DEMO_PASSWORD, PASSWORD)
        print(f"set-up: {args.graduates} graduates imported, provisioned, activated and logged in "
              f"in {time.monotonic() - started:.0f}s", flush=True)
        if refresh_statistics_if_autovacuum_is_off(settings.database_url_template):
            print("  autovacuum is off on this PostgreSQL: ran ANALYZE on the stack's databases, as it would have",
                  flush=True)

        stop_upkeep = threading.Event()
        threading.Thread(target=upkeep, args=(settings.database_url_template, stop_upkeep), daemon=True).start()
        cpu = CpuSplit(SERVICES, database_marker=f" qx_season_{run}_").start()
        season_start = time.monotonic()
        wall_start = scalar(database("signing"), "SELECT now()")
        for k, graduate in enumerate(workload.waiting):
            flows.append(Flow(graduate, terminate=bool(args.terminate_every) and k % args.terminate_every == 0))
        workload.waiting = []
        workload.flows = flows
        futures = [workload.pool.submit(workload._run, flow) for flow in flows]
        watch = StallWatch(args.stall_timeout)
        while True:
            done, pending = wait(futures, timeout=15)
            complete = sum(f.complete for f in flows)
            elapsed = time.monotonic() - season_start
            print(f"  {elapsed:6.0f}s  flows done {len(done):>7}/{len(flows)}  complete {complete:>7}  "
                  f"requests {workload.requests:>8} ({workload.requests / elapsed:5.0f}/s)", flush=True)
            if not pending:
                break
            if watch.stalled(workload.requests):
                raise SeasonStalled(f"no request for {args.stall_timeout:.0f}s with {len(pending)} flows under way")
        flows_done = time.monotonic() - season_start
        stop_upkeep.set()
        checker = Checker(database, f"http://{settings.host}:{settings.service_ports['ems-sim']}/api/ems-sim",
                          lambda: queue_depths(vhost))
        deadline = time.monotonic() + args.settle_timeout
        while True:
            try:
                tally = checker.check(flows)
                # The approved agreements' PDFs are rendered by signing's jobs behind the flows: the
                # season is not over (nor its CPU counted) until the last one is kept.
                due_documents = scalar(database("signing"), "SELECT count(*) FROM agreement_documents "
                                       "WHERE pdf IS NULL")
                tally.unsettled += due_documents
            except Exception as exc:  # noqa: BLE001 - a source catching up: look again
                tally = Tally(unsettled=1, notes=[f"checker: {type(exc).__name__}: {exc}"[:300]])
            if tally.unsettled == 0 or time.monotonic() > deadline:
                break
            time.sleep(2.0)
        season = time.monotonic() - season_start
        cpu.stop()
        events = sum(scalar(database(s), "SELECT count(*) FROM outbox WHERE created_at >= %s", wall_start)
                     for s in OUTBOX_SERVICES)
        lags = [float(lag) for (lag,) in query_rows(
            database("sync-gateway"), "SELECT lag_ms FROM sync_records WHERE created_at >= %s AND lag_ms IS NOT NULL",
            wall_start)]
        failures = [f for f in flows if f.failure]
        print(f"\nseason: {len(flows)} flows in {flows_done:.0f}s ({len(flows) / flows_done:.1f} graduates/s), "
              f"settled after {season:.0f}s; {workload.requests} requests ({workload.requests / flows_done:.0f}/s), "
              f"step latency p50 {percentile(workload.latencies, 0.5):.0f} ms, "
              f"p99 {percentile(workload.latencies, 0.99):.0f} ms")
        print(f"events: {events} recorded by the services ({events / season:.0f}/s); approval to mirror "
              f"({len(lags)} EMS records): p50 {statistics.median(lags) if lags else 0:.0f} ms, "
              f"p99 {percentile(lags, 0.99):.0f} ms")
        print("steps (p50 / p99 ms):")
        for step, values in sorted(workload.by_step.items(), key=lambda item: -len(item[1])):
            print(f"    {step:48} {len(values):6d}  {percentile(values, 0.5):6.0f} / {percentile(values, 0.99):6.0f}")
        terminated = sum(f.terminated for f in flows)
        print(f"flows: {sum(f.complete for f in flows)} complete, {terminated} with a termination, "
              f"{len(failures)} failed; {workload.renewals} expired tokens renewed")
        for flow in failures[:5]:
            print(f"  failed: {flow.graduate.exam_number}: {flow.failure}")
        print(f"CPU from the first invitation until settled, every process on the machine ({os.cpu_count()} cores):\n"
              + cpu.table(per=len(flows), what="graduate"))
        print("loss checker:\n" + tally_table(tally))
        figures = (f"graduates={len(flows)} events={events} eps={events / season:.0f} "
                   f"mirror_p99_ms={percentile(lags, 0.99):.0f} lost={tally.lost} duplicated={tally.duplicated} "
                   f"unexpected={tally.unexpected}")
        failed = bool(failures) or not tally.clean
        workload.close()
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
    except SeasonStalled as exc:
        print(f"stalled: {exc}; cleaning up", file=sys.stderr)
    finally:
        cleanup.run()
    if figures:
        print(figures)
    else:
        print("no figures: the season did not finish", file=sys.stderr)
    if not figures:  # flows' threads still under way (or stuck) would hold the interpreter's exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
