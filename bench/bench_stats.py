"""The stats province view (数据统计, 图8) over a province-scale read model, against a GROUP BY over
every graduate's state, and the event ingest rate of the stats consumer.

Set-up (timed and printed, not part of the figures): a fresh PostgreSQL database migrated like the
service's (``quxiang.common.migrations.upgrade``); 32 provinces (the 31 provincial divisions and 66
新疆生产建设兵团), 3,000 schools (round-robin over the provinces, so 93-94 each) with 10 departments
each, and 1,000,000 graduates (round-robin over the schools; 学历 11/31/41, graduation year 2026 or
2025, a random standing per module and destination category) generated in Python and loaded with
``COPY ... FROM STDIN`` into the service's own ``stat_schools``, ``stat_departments`` and
``stat_graduates``. The counters are then built by the rebuild's own GROUP BY
(``adapters.recompute.counters_from_graduates`` + ``replace_counters``) and the tables ANALYZEd.

Measurements:
(a) view      ``GET /province`` through the Flask test client with a minted province-user token
              (authentication, the sum over ``stat_school_counters`` of the province's schools, JSON):
              ``--requests`` requests (default 500), the province rotating over the 32; p50 and p95.
              The same through the service function ``views.province_view`` is printed too.
(b) groupby   the baseline: the same figures per school by a GROUP BY over ``stat_graduates`` (every
              graduate's state; filtered to the province's schools), through the same engine, rotating
              over the provinces (``--baseline-requests``, default 100); p50 and p95. Before timing, the
              two are checked to give the same figures for every province.
(c) ingest    events/s through the stats graduates consumer's handlers, as the consumer runtime runs
              them: ``ConsumerRuntime.handle_batch`` on batches of QX_CONSUMER_BATCH (250) deliveries
              (decode and validate, inbox claim, handlers, counter deltas, one commit per batch). The
              stream is ``--ingest-graduates`` (default 1,000) new graduates x 7 events (roster;
              agreement invited, accepted, department-approved, approved; archive submitted, approved)
              applied phase by phase, so a batch holds many graduates. Afterwards the counters are
              checked against the GROUP BY again.

speedup = groupby p95 / view p95 (view through the Flask client). Targets: p95 <= 20 ms, speedup >= 10.
The database is created on QX_BENCH_POSTGRES_URL (a maintenance database, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped at the end. The last line is
machine-readable: ``p50_ms=N p95_ms=N groupby_p95_ms=N speedup=R ingest_eps=N``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from pg_bench import Tokens, bench_database, conninfo, copy_rows, measure, percentile, timed

log = logging.getLogger("bench_stats")

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_P95_MS = 20.0
TARGET_SPEEDUP = 10.0
LEVELS = ("11", "31", "41")
DESTINATIONS = ("10", "10", "10", "11", "12", "271", "502", "75", "76", "80", "801", "85", "70", "71")






# -- the data ----------------------------------------------------------------------------------------

def provinces() -> list[str]:
    from quxiang.common.reference import provinces as table
    return [p.code for p in table()][:32]


def school_code(i: int) -> str:
    return f"{10000 + i}"



def load(dsn: str, schools: int, graduates: int, seed: int) -> list[str]:
    codes = provinces()
    copy_rows(dsn, "stat_schools", ("code", "name", "province", "agreement_type", "agreement_type_sequence",
                                     "employment_settings", "employment_settings_sequence", "archive_settings",
                                     "archive_settings_sequence", "hukou_settings", "hukou_settings_sequence"),
              (f"{school_code(i)}\t学校{i}\t{codes[i % len(codes)]}\t{('two_party', 'three_party')[i % 2]}\t1\t"
               f"{'t' if i % 3 else 'f'}\t1\tt\t1\tf\t0\n" for i in range(schools)))
    copy_rows(dsn, "stat_departments", ("id", "school_code", "code", "name"),
              (f"{school_code(i)}-{k:02d}\t{school_code(i)}\t{k:02d}\t院系{k}\n"
               for i in range(schools) for k in range(10)))
    rnd = random.Random(seed)

    def graduate_lines() -> Any:
        for n in range(graduates):
            s = school_code(n % schools)
            r = rnd.random()
            employment = "registered" if r < 0.55 else "review" if r < 0.7 else "none"
            code = rnd.choice(DESTINATIONS) if employment == "registered" else "\\N"
            archive = rnd.choice(("registered", "registered", "review", "none"))
            hukou = rnd.choice(("registered", "review", "none", "none"))
            yield (f"g{n:09d}\t1\t{s}\t{s}-{rnd.randrange(10):02d}\t{rnd.choice(LEVELS)}\t"
                   f"{2026 if rnd.random() < 0.9 else 2025}\t{employment}\t{archive}\t{hukou}\t{code}\n")

    copy_rows(dsn, "stat_graduates", ("id", "roster_sequence", "school_code", "department_id", "education_level",
                                      "graduation_year", "employment", "archive", "hukou", "destination_code"),
              graduate_lines())
    return codes


# -- the measurements --------------------------------------------------------------------------------


def ingest_events(graduates: int, schools: int, codes_seed: int) -> list[Any]:
    from quxiang.common.contracts import records, signing
    from quxiang.common.events import catalogue

    rnd = random.Random(codes_seed)
    people = []
    for n in range(graduates):
        s = school_code(rnd.randrange(schools))
        people.append((f"n{n:09d}", s, f"{s}-{rnd.randrange(10):02d}", rnd.choice(LEVELS)))

    def who(g: str, s: str, d: str, lvl: str) -> dict[str, Any]:
        return {"graduate_id": g, "exam_number": f"E{g}", "name": "学生", "school_code": s, "department_id": d,
                "education_level": lvl, "graduation_year": 2026}

    def agreement(type_: str, seq: int, status: str, p: tuple[str, str, str, str]) -> Any:
        return catalogue.new_event(type_, subject=f"a-{p[0]}", sequence=seq, producer="signing", data={
            "agreement_id": f"a-{p[0]}", "agreement_number": f"N{p[0]}", "agreement_type": "three_party",
            "initiator": "employer", "status": status, **who(*p), "destination_code": "10", "unit_name": "单位",
            "credit_code": "91440106MA59DEMX1X", "unit_nature": "39", "unit_industry": "34",
            "unit_region": "440106", "position_category": "10"})

    def archive(type_: str, seq: int, status: str, p: tuple[str, str, str, str]) -> Any:
        return catalogue.new_event(type_, subject=f"r-{p[0]}", sequence=seq, producer="records", data={
            "registration_id": f"r-{p[0]}", "module": "archive", **who(*p), "status": status,
            "transfer": {"transfer_type": "1"}})

    phases: list[Callable[[tuple[str, str, str, str]], Any]] = [
        lambda p: catalogue.new_event(records.GRADUATE_REGISTERED, subject=p[0], sequence=1, producer="records",
                                      data=who(*p)),
        lambda p: agreement(signing.AGREEMENT_INVITED, 1, "invited", p),
        lambda p: agreement(signing.AGREEMENT_ACCEPTED, 2, "department_review", p),
        lambda p: archive(records.ARCHIVE_SUBMITTED, 1, "department_review", p),
        lambda p: agreement(signing.AGREEMENT_DEPARTMENT_APPROVED, 3, "school_review", p),
        lambda p: agreement(signing.AGREEMENT_APPROVED, 4, "approved", p),
        lambda p: archive(records.ARCHIVE_APPROVED, 2, "approved", p),
    ]
    return [phase(p) for phase in phases for p in people]


def check_equal(service: Any, codes: Sequence[str]) -> None:
    from quxiang.stats.adapters import queries, recompute
    from quxiang.stats.adapters.queries import Filter
    from quxiang.stats.domain.model import COUNTER_COLUMNS

    with service.engine.connect() as conn:
        for p in codes:
            view = {r.code: {c: sums[c] for c in COUNTER_COLUMNS}
                    for r, sums in queries.province_rows(conn, Filter(province=p)) if sums["total"]}
            base = recompute.province_sums_by_school(conn, Filter(province=p))
            if view != base:
                raise SystemExit(f"province {p}: the counters differ from the GROUP BY")
    print(f"  check: counters == GROUP BY for all {len(codes)} provinces", flush=True)


def run(args: argparse.Namespace) -> dict[str, float]:
    with bench_database(args.postgres, "stats") as (url, data_dir):
        return _run(args, url, data_dir)


def _run(args: argparse.Namespace, url: str, data_dir: str) -> dict[str, float]:
    from quxiang.common.auth.principal import Principal, Role, Scope
    from quxiang.common.bus.consumer import ConsumerRuntime
    from quxiang.common.bus.transport import Delivery
    from quxiang.common.config import load_config
    from quxiang.common.migrations import upgrade
    from quxiang.stats.adapters import recompute
    from quxiang.stats.adapters.queries import Filter
    from quxiang.stats.bootstrap import SERVICE, create_app
    from quxiang.stats.entrypoints.consumers import GRADUATE_HANDLERS, GRADUATES_CONSUMER
    from quxiang.stats.entrypoints.context import EXTENSION_KEY
    from quxiang.stats.service import views

    config = load_config("stats", {"QX_DATABASE_URL": url, "QX_DATA_DIR": data_dir, "QX_BROKER_URL": "embedded",
                                   "QX_LOG_JSON": "false"})
    print(f"set-up: {args.graduates:,} graduates, {args.schools:,} schools, 32 provinces", flush=True)
    upgrade(config, SERVICE)
    tokens = Tokens(config.jwt_audience)
    app = create_app(config, keys=tokens.keys)
    service = app.extensions[EXTENSION_KEY]
    try:
        codes = timed("generate + COPY", lambda: load(conninfo(url), args.schools, args.graduates, args.seed))

        def build() -> None:
            with service.unit_of_work() as uow:
                rows, drows = recompute.counters_from_graduates(uow.session)
                recompute.replace_counters(uow.session, rows, drows)
                uow.commit()
            print(f"  counters: {len(rows):,} rows, destination counters: {len(drows):,} rows")

        timed("counters by the rebuild's GROUP BY", build)
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        check_equal(service, codes)

        print("(a) province view", flush=True)
        client = app.test_client()
        headers = {p: tokens.headers(Principal(str(uuid.uuid4()), Role.PROVINCE, Scope(province=p))) for p in codes}

        def via_client(i: int) -> None:
            response = client.get("/province?graduation_year=2026" if i % 2 else "/province",
                                  headers=headers[codes[i % len(codes)]])
            if response.status_code != 200:
                raise SystemExit(f"GET /province answered {response.status_code}")

        view = measure("Flask test client GET /province", via_client, args.requests)
        principals = {p: Principal("u", Role.PROVINCE, Scope(province=p)) for p in codes}
        measure("service function views.province_view", lambda i: views.province_view(
            service, principals[codes[i % len(codes)]], Filter(graduation_year=2026 if i % 2 else None)),
            args.requests)

        print("(b) baseline: GROUP BY over every graduate's state", flush=True)

        def groupby(i: int) -> None:
            with service.engine.connect() as conn:
                recompute.province_sums_by_school(conn, Filter(province=codes[i % len(codes)],
                                                               graduation_year=2026 if i % 2 else None))

        base = measure("GROUP BY stat_graduates", groupby, args.baseline_requests)

        print("(c) ingest through the consumer runtime's handle_batch", flush=True)
        events = ingest_events(args.ingest_graduates, args.schools, args.seed + 1)
        runtime = ConsumerRuntime(GRADUATES_CONSUMER, GRADUATE_HANDLERS, service.engine, None,  # type: ignore[arg-type]
                                  config, producer="stats")
        deliveries = [Delivery(e.to_json(), {}, e.type, e.event_id, False) for e in events]
        batch = config.consumer_batch
        start = time.perf_counter()
        for i in range(0, len(deliveries), batch):
            outcomes = runtime.handle_batch(deliveries[i:i + batch])
            if any(type(o).__name__ != "Ack" for o in outcomes):
                raise SystemExit(f"ingest: not all acked: {outcomes[:3]}")
        seconds = time.perf_counter() - start
        eps = len(events) / seconds
        print(f"  {len(events):,} events in batches of {batch}: {seconds:.1f} s, {eps:,.0f} events/s", flush=True)
        check_equal(service, codes)
        p50, p95, gp95 = percentile(view, 0.5), percentile(view, 0.95), percentile(base, 0.95)
        return {"p50_ms": p50, "p95_ms": p95, "groupby_p50_ms": percentile(base, 0.5), "groupby_p95_ms": gp95,
                "speedup": gp95 / p95, "ingest_eps": eps}
    finally:
        service.engine.dispose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graduates", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=3_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--baseline-requests", type=int, default=100)
    parser.add_argument("--ingest-graduates", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--postgres", default=os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = run(parse_args(argv))
    verdict = "met" if r["p95_ms"] <= TARGET_P95_MS and r["speedup"] >= TARGET_SPEEDUP else "NOT met"
    print(f"targets (p95 <= {TARGET_P95_MS:g} ms, speedup >= {TARGET_SPEEDUP:g}): {verdict}; "
          f"groupby p50 {r['groupby_p50_ms']:.1f} ms")
    print(f"p50_ms={r['p50_ms']:.2f} p95_ms={r['p95_ms']:.2f} groupby_p95_ms={r['groupby_p95_ms']:.2f} "
          f"speedup={r['speedup']:.1f} ingest_eps={r['ingest_eps']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
