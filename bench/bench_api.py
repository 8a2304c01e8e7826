"""``make bench-api``: the platform's sustainable request rate through the gateway, beside this box's
bare Flask hello-world.

1. Baseline. bench/hello_app.py under gunicorn with deploy/gunicorn.conf.py and the same worker count
   each platform API gets (``--workers``), behind nginx with the gateway's own config
   (deploy/nginx/gateway.conf.template, rendered as the stack renders it, every upstream the hello
   app): GET /api/stats/hello. The same path through the same proxy settings, so the ratio measures
   what the platform adds (auth, validation, queries, events), not nginx. Run before the stack starts,
   on a quiet box.
2. The platform. An isolated stack (quxiang.common.stack; its own databases ``qx_bench_<run>_*``, its
   own RabbitMQ vhost, free ports), seeded through the APIs (bench/api_seed.py: a roster, activated
   graduates, invitations and agreements in several states, archive registrations); every login of
   the workload logs in once through the gateway (its login limit is 1/s per address, bursts of 30);
   then the mixed workload of bench/api_workload.py.
3. For each: a step search over constant arrival rates (bench/load_gen.py: an open loop on gevent, in processes of its
   own): up by ``--factor`` from ``--start`` until a step misses (p99 above ``--p99-ms``, errors above
   ``--max-errors``, or the achieved rate below 95% of the target), then bisect ``--refine`` times
   between the last good and the first bad rate. The sustainable rate is the best good step's achieved
   rate. Each step: ``--warmup`` s unmeasured, ``--duration`` s measured.

Prints each step, the per-endpoint table of the platform's best step (req/s, p50, p99, errors), where
the CPU went during that step (bench/cpu_split.py: every process's ``/proc`` time by part of the
stack, in ms per request), the load generator's CPU share, and ends with one line:
``rps=N p99_ms=N hello_rps=N ratio=R``.
Fails (exit 1) when no platform step is good or the reported step's unexpected answers (non-2xx that
the workload did not expect, timeouts) exceed ``--max-errors``. Everything it started (processes,
databases, the vhost, files) is removed at the end, on Ctrl-C and SIGTERM too.

Settings: QX_BENCH_POSTGRES_URL (maintenance database, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), QX_BENCH_AMQP_URL (default
amqp://guest:guest@127.0.0.1:5672/).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from api_workload import Dataset, dataset_from_json, dataset_to_json  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
HELLO_PATH = "/api/stats/hello"
ACHIEVED_SHARE = 0.95


# -- measurements ----------------------------------------------------------------------------------

def percentile(histogram: dict[float, int], fraction: float) -> float:
    """The smallest value at or below which ``fraction`` of the counted values lie (0 for none)."""
    count = sum(histogram.values())
    if count == 0:
        return 0.0
    needed, seen = fraction * count, 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= needed:
            return float(value)
    return float(max(histogram))


def merge(histograms: Iterable[dict[Any, int]]) -> dict[float, int]:
    merged: dict[float, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[float(value)] = merged.get(float(value), 0) + count
    return merged


@dataclass
class Endpoint:
    name: str
    requests: int
    failures: int
    histogram: dict[float, int]

    def p(self, fraction: float) -> float:
        return percentile(self.histogram, fraction)


@dataclass
class Step:
    target: float
    seconds: float
    endpoints: list[Endpoint]
    generator_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    cores: int = 1
    errors: list[tuple[str, int]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(e.requests for e in self.endpoints)

    @property
    def failures(self) -> int:
        return sum(e.failures for e in self.endpoints)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_share(self) -> float:
        return self.failures / self.requests if self.requests else 1.0

    def p(self, fraction: float) -> float:
        return percentile(merge(e.histogram for e in self.endpoints), fraction)

    def good(self, p99_ms: float, max_errors: float) -> bool:
        return (self.requests > 0 and self.p(0.99) <= p99_ms and self.error_share <= max_errors
                and self.rps >= ACHIEVED_SHARE * self.target)

    def verdict(self, p99_ms: float, max_errors: float) -> str:
        if self.good(p99_ms, max_errors):
            return "ok"
        reasons = []
        if self.p(0.99) > p99_ms:
            reasons.append("p99")
        if self.error_share > max_errors:
            reasons.append("errors")
        if self.rps < ACHIEVED_SHARE * self.target:
            reasons.append("short of the rate")
        return "miss: " + ", ".join(reasons or ["no requests"])


def combine(target: float, results: list[dict[str, Any]]) -> Step:
    """The step from the results of its generator processes (run side by side)."""
    by_name: dict[str, Endpoint] = {}
    for result in results:
        for name, data in result["endpoints"].items():
            found = by_name.setdefault(name, Endpoint(name, 0, 0, {}))
            found.requests += data["requests"]
            found.failures += data["failures"]
            found.histogram = merge([found.histogram, data["histogram"]])
    errors: dict[str, int] = {}
    for result in results:
        for text, count in result.get("errors", []):
            errors[text] = errors.get(text, 0) + count
    return Step(target=target, seconds=max(r["seconds"] for r in results), endpoints=list(by_name.values()),
                generator_cpu_s=sum(r["generator_cpu_s"] for r in results),
                machine_busy_s=max(r["machine_busy_s"] for r in results), cores=results[0]["cores"],
                errors=sorted(errors.items(), key=lambda item: -item[1]))


def search(measure: Callable[[float], Step], start: float, factor: float, refine: int, max_steps: int,
           p99_ms: float, max_errors: float, floor: float = 1.0) -> tuple[Step | None, list[Step]]:
    """Step search over arrival rates: up by ``factor`` while good (down by it while the first steps
    miss, not below ``floor``: a handful of requests a second says nothing), then ``refine``
    bisections between the best good and the lowest bad rate. Answers the good step with the highest
    achieved rate (None if none was good) and every step in order."""
    steps: list[Step] = []
    good: Step | None = None
    bad: float | None = None
    rate = start
    while len(steps) < max_steps:
        step = measure(rate)
        steps.append(step)
        if step.good(p99_ms, max_errors):
            good = step if good is None or step.rps > good.rps else good
            if bad is not None:
                break
            rate *= factor
        else:
            bad = rate if bad is None else min(bad, rate)
            if good is not None or rate / factor < floor:
                break
            rate /= factor
    for _ in range(refine):
        if good is None or bad is None or len(steps) >= max_steps:
            break
        rate = (good.target + bad) / 2
        if bad - good.target < max(1.0, 0.05 * good.target):
            break
        step = measure(rate)
        steps.append(step)
        if step.good(p99_ms, max_errors):
            good = step if step.rps > good.rps else good
        else:
            bad = rate
    return good, steps


def step_line(label: str, step: Step, p99_ms: float, max_errors: float) -> str:
    return (f"  {label:<8} target {step.target:7.0f}/s  achieved {step.rps:7.1f}/s  p50 {step.p(0.5):5.0f} ms  "
            f"p99 {step.p(0.99):5.0f} ms  errors {step.failures:>4} ({100 * step.error_share:.2f}%)  "
            f"generator cpu {generator_share(step):4.0%} of the box  {step.verdict(p99_ms, max_errors)}")


def generator_share(step: Step) -> float:
    return step.generator_cpu_s / (step.seconds * step.cores) if step.seconds else 0.0


def _pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def endpoint_table(step: Step) -> str:
    rows = [f"  {'endpoint':<28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}"]
    for e in sorted((e for e in step.endpoints if e.requests), key=lambda e: -e.requests):
        rows.append(f"  {_pad(e.name, 28)} {e.requests / step.seconds:8.1f} {e.p(0.5):7.0f} {e.p(0.99):7.0f} "
                    f"{e.failures:7d}")
    rows.append(f"  {'total':<28} {step.rps:8.1f} {step.p(0.5):7.0f} {step.p(0.99):7.0f} {step.failures:7d}")
    return "\n".join(rows)


def final_line(platform: Step | None, hello: Step | None) -> str:
    rps = platform.rps if platform else 0.0
    hello_rps = hello.rps if hello else 0.0
    ratio = rps / hello_rps if hello_rps else 0.0
    p99 = platform.p(0.99) if platform else 0.0
    return f"rps={rps:.0f} p99_ms={p99:.0f} hello_rps={hello_rps:.0f} ratio={ratio:.2f}"


# -- processes -------------------------------------------------------------------------------------

class Cleanup:
    """What the run started, undone in reverse order whatever happens (SIGTERM becomes Ctrl-C)."""

    def __init__(self) -> None:
        self.undo: list[tuple[str, Callable[[], None]]] = []
        signal.signal(signal.SIGTERM, self._interrupt)
        # Started in the background by a shell, Python inherits SIGINT ignored: Ctrl-C and kill -INT
        # must still clean up.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    @staticmethod
    def _interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def add(self, what: str, action: Callable[[], None]) -> None:
        self.undo.append((what, action))

    def run(self) -> None:
        # Ctrl-C while cleaning up must not leave half of it: ignore it until done.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self.undo:
                what, action = self.undo.pop()
                try:
                    action()
                except Exception as exc:  # noqa: BLE001 - the rest must still be undone
                    print(f"cleanup: {what} failed: {exc}", file=sys.stderr)
        finally:
            signal.signal(signal.SIGINT, previous)


def spawn(argv: list[str], log: Path, env: dict[str, str], cwd: Path, cleanup: Cleanup) -> subprocess.Popen:
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=cwd, start_new_session=True)
    cleanup.add(f"{argv[0]} ({process.pid})", lambda: stop_group(process))
    return process


def stop_group(process: subprocess.Popen, timeout: float = 15.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_http(url: str, timeout: float = 30.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")
        time.sleep(0.2)


def run_generators(folder: Path, config: dict[str, Any], generators: int, pools: list[Dataset] | None) -> Step:
    """One step: ``generators`` load-generator processes side by side, each at rate/generators (and its own
    share of the write pools)."""
    processes, outputs = [], []
    for k in range(generators):
        own = {**config, "rate": config["rate"] / generators}
        if pools is not None:
            own["dataset"] = dataset_to_json(pools[k])
        path, out = folder / f"step-{k}.json", folder / f"step-{k}.out.json"
        path.write_text(json.dumps(own, ensure_ascii=False))
        out.unlink(missing_ok=True)
        log = open(folder / f"load_gen-{k}.log", "ab")  # closed once the process ends
        processes.append((subprocess.Popen([sys.executable, str(HERE / "load_gen.py"), str(path), str(out)],
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
        outputs.append(out)
    try:
        for process, log in processes:
            process.wait(timeout=config["warmup"] + config["duration"] + 120)
            log.close()
    finally:
        for process, _ in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    results = []
    for k, out in enumerate(outputs):
        if not out.exists():
            tail = (folder / f"load_gen-{k}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the load generator failed:\n{tail}")
        results.append(json.loads(out.read_text()))
    if pools is not None:
        for k, result in enumerate(results):
            left = dataset_from_json(result["dataset"])
            pools[k].uninvited, pools[k].awaiting_department = left.uninvited, left.awaiting_department
    return combine(config["rate"], results)


def split_pools(dataset: Dataset, parts: int) -> list[Dataset]:
    """The dataset per generator: the write pools dealt out so no value is used twice."""
    return [Dataset(**{**dataset_to_json(dataset), "uninvited": dataset.uninvited[k::parts],
                       "awaiting_department": dataset.awaiting_department[k::parts]}) for k in range(parts)]


# -- the two systems -------------------------------------------------------------------------------

def start_hello(folder: Path, workers: int, cleanup: Cleanup) -> str:
    from quxiang.common.stack import GUNICORN_CONF, Stack, StackSettings, nginx_binary
    from quxiang.common.testing.stack_run import SERVICES, free_ports

    nginx = nginx_binary()
    if nginx is None:
        raise SystemExit("nginx is not installed (make bench-api installs it)")
    gateway_port, app_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QX_")}
    env |= {"QX_WEB_BIND": f"127.0.0.1:{app_port}", "QX_WEB_WORKERS": str(workers), "PYTHONUNBUFFERED": "1"}
    spawn([str(Path(sys.executable).with_name("gunicorn")), "-c", str(GUNICORN_CONF), "hello_app:app"],
          folder / "hello-gunicorn.log", env, HERE, cleanup)
    # The gateway exactly as the stack writes it, every service's upstream being the hello app.
    gateway = Stack(StackSettings(directory=folder / "hello-gateway", gateway_port=gateway_port,
                                  service_ports=dict.fromkeys(SERVICES, app_port)))
    gateway.dir.mkdir(parents=True, exist_ok=True)
    argv = gateway._nginx_command(nginx)  # the stack's own nginx.conf, not a copy
    cleanup.add("the hello gateway's temp folder", lambda: shutil.rmtree(gateway.nginx_temp(), ignore_errors=True))
    spawn(argv, folder / "hello-nginx.log", env, folder, cleanup)
    url = f"http://127.0.0.1:{gateway_port}"
    wait_http(url + HELLO_PATH)
    return url


def refresh_statistics_if_autovacuum_is_off(database_url_template: str, statement: str = "ANALYZE") -> bool:
    """Where the server runs no autovacuum (this machine's PostgreSQL), run ``statement`` (ANALYZE,
    or VACUUM (ANALYZE) during a long run) in every database of the stack, as autovacuum would have:
    otherwise the planner works from the row counts of empty tables, dead rows pile up, and the
    figures are of a server no one runs. Answers whether it had to."""
    from sqlalchemy import create_engine, text

    from quxiang.common.testing.stack_run import SERVICES

    engines = [create_engine(database_url_template.format(service=s.replace("-", "_")), isolation_level="AUTOCOMMIT")
               for s in SERVICES]
    try:
        with engines[0].connect() as conn:
            if conn.execute(text("SHOW autovacuum")).scalar() == "on":
                return False
        for engine in engines:
            with engine.connect() as conn:
                conn.execute(text(statement))
        return True
    finally:
        for engine in engines:
            engine.dispose()


def start_platform(folder: Path, run: str, workers: int, cleanup: Cleanup) -> tuple[str, str, str]:
    from quxiang.common.stack import Stack
    from quxiang.common.testing.stack_run import isolated_settings

    admin = os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    amqp = os.environ.get("QX_BENCH_AMQP_URL", DEFAULT_AMQP)

    def database_url(name: str) -> str:
        return urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))

    settings = isolated_settings(folder / "stack", run, "bench", database_url, amqp, own_vhost=True,
                                 web_workers=workers, env={"QX_RELAY_IDLE_WAIT": "1.0"})
    stack = Stack(settings)

    def down() -> None:
        killed = stack.down()
        stack.purge()
        if killed:
            print(f"cleanup: killed after the grace period: {', '.join(killed)}", file=sys.stderr)

    cleanup.add("the stack (processes, databases, vhost)", down)
    stack.up(timeout=240, out=sys.stderr)
    return (settings.gateway_url, f"http://{settings.host}:{settings.service_ports['accounts']}",
            settings.database_url_template)


def log_in_everyone(gateway_url: str, logins: list[str], password_of: Callable[[str], str]) -> dict[str, str]:
    """One access token per login, through the gateway, at the pace its login limit allows."""
    from quxiang.common.testing.stack_run import Gateway

    api, tokens = Gateway(gateway_url), {}
    for login in dict.fromkeys(logins):
        for _ in range(60):
            answer = api.call("POST", "/api/accounts/auth/login", json={"username": login,
                                                                        "password": password_of(login)})
            if answer.status_code != 429:
                break
            time.sleep(1.0)
        if answer.status_code != 200:
            raise RuntimeError(f"login of {login}: {answer.status_code} {answer.text[:300]}")
        tokens[login] = answer.json()["access_token"]
    return tokens


# -- the run ---------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per API and for hello (2)")
    parser.add_argument("--graduates", type=int, default=3000, help="roster rows (3000)")
    parser.add_argument("--activated", type=int, default=160, help="graduates who activate (160)")
    parser.add_argument("--load-graduates", type=int, default=40, help="graduates the workload logs in as (40)")
    parser.add_argument("--invitations", type=int, default=400, help="more invitations, left invited (400)")
    parser.add_argument("--start", type=float, default=50.0, help="first platform rate, req/s (50)")
    parser.add_argument("--hello-start", type=float, default=200.0, help="first hello rate, req/s (200)")
    parser.add_argument("--min-rate", type=float, default=5.0, help="lowest rate tried, req/s (5)")
    parser.add_argument("--factor", type=float, default=1.5, help="rate multiplier between steps (1.5)")
    parser.add_argument("--refine", type=int, default=2, help="bisections after the first miss (2)")
    parser.add_argument("--max-steps", type=int, default=10, help="steps per search at most (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds per step (3)")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per step (15)")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="p99 limit of a good step (100)")
    parser.add_argument("--max-errors", type=float, default=0.001, help="error share of a good step (0.001)")
    parser.add_argument("--generators", type=int, default=1, help="load-generator processes side by side (1)")
    parser.add_argument("--skip-hello", action="store_true", help="no baseline (the ratio is then 0)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from api_seed import GRADUATE_PASSWORD, seed
    from cpu_split import CpuSplit

    from quxiang.common.testing.stack_run import DEMO_PASSWORD, SERVICES

    args = parse_args(argv)
    run = uuid.uuid4().hex[:8]
    cleanup = Cleanup()
    folder = Path(tempfile.mkdtemp(prefix=f"qx-bench-api-{run}-"))
    cleanup.add("the run's folder", lambda: shutil.rmtree(folder, ignore_errors=True))
    print(f"bench-api run {run}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start, "
          f"{args.workers} gunicorn worker(s) per API and for hello, {args.generators} load-generator process(es)")
    hello: Step | None = None
    platform: Step | None = None
    try:
        search_args = {"factor": args.factor, "refine": args.refine, "max_steps": args.max_steps,
                       "p99_ms": args.p99_ms, "max_errors": args.max_errors, "floor": args.min_rate}
        step_config = {"warmup": args.warmup, "duration": args.duration}

        def report(label: str, measure: Callable[[float], Step]) -> Callable[[float], Step]:
            def measured(rate: float) -> Step:
                step = measure(rate)
                print(step_line(label, step, args.p99_ms, args.max_errors), flush=True)
                return step
            return measured

        if not args.skip_hello:
            hello_cleanup = Cleanup()
            try:
                url = start_hello(folder, args.workers, hello_cleanup)
                print(f"hello baseline ({HELLO_PATH} through the gateway's nginx config):", flush=True)
                hello, _ = search(report("hello", lambda rate: run_generators(
                    folder, {**step_config, "host": url, "rate": rate, "mode": "hello"}, args.generators, None)),
                    args.hello_start, **search_args)
            finally:
                hello_cleanup.run()
        started = time.monotonic()
        gateway_url, accounts_url, database_urls = start_platform(folder, run, args.workers, cleanup)
        print(f"stack up in {time.monotonic() - started:.0f}s; seeding through the APIs:", flush=True)
        started = time.monotonic()
        dataset = seed(gateway_url, accounts_url, graduates=args.graduates, activated=args.activated,
                       load_graduates=args.load_graduates, extra_invitations=args.invitations)
        print(f"  seeded in {time.monotonic() - started:.0f}s", flush=True)
        if refresh_statistics_if_autovacuum_is_off(database_urls):
            print("  autovacuum is off on this PostgreSQL: ran ANALYZE on the stack's databases, as it would have",
                  flush=True)
        demo = {dataset.province_login, dataset.school_login, dataset.department_login, dataset.employer_login}
        tokens = log_in_everyone(gateway_url, dataset.logins(),
                                 lambda login: DEMO_PASSWORD if login in demo else GRADUATE_PASSWORD)
        pools = split_pools(dataset, args.generators)
        print(f"platform mixed workload ({len(tokens)} logins, each once):", flush=True)
        splits: dict[int, CpuSplit] = {}

        def platform_step(rate: float) -> Step:
            split = CpuSplit(SERVICES, database_marker=f" qx_bench_{run}_", every=1.0).start()
            try:
                step = run_generators(folder, {**step_config, "host": gateway_url, "rate": rate, "mode": "api",
                                               "tokens": tokens}, args.generators, pools)
            finally:
                split.stop()
            splits[id(step)] = split
            return step

        platform, steps = search(report("platform", platform_step), args.start, **search_args)
        best = platform or max(steps, key=lambda s: s.rps)
        print(f"\nper endpoint at {best.target:.0f}/s ({'the best good step' if platform else 'no step was good'}):")
        print(endpoint_table(best))
        # The split spans the warm-up too, when requests leave at the same rate but are not counted.
        sent = round(best.target * (args.warmup + args.duration))
        print(f"\nCPU at that step, warm-up included (about {sent} requests):")
        print(splits[id(best)].table(sent, "request"))
        if best.errors:
            print("unexpected answers:\n" + "\n".join(f"  {n:>5} x {text}" for text, n in best.errors))
        print(f"load generator: {generator_share(best):.0%} of the box's CPU "
              f"({best.generator_cpu_s / best.machine_busy_s if best.machine_busy_s else 0:.0%} of the busy CPU) "
              f"at that step; load average now {os.getloadavg()[0]:.2f}")
        failed = platform is None or platform.error_share > args.max_errors
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        failed = True
    finally:
        cleanup.run()
    print(final_line(platform, hello))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
