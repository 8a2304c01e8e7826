"""Approval-to-mirror latency of the sync into the employment management system, and the drain rate
after an outage.

Set-up (not timed): fresh PostgreSQL databases for signing, sync-gateway and ems-sim (migrated like
the services' own); the embedded bus in a temporary folder; ems-sim under gunicorn (2 gthread
workers) in its own process, every request delayed 20 ms (``QX_EMS_FAULTS={"latency_ms": 20}``);
the sync worker as ``qx-sync run`` in its own process (as ``qx-jobs sync-gateway`` runs it); signing's
relay and the sync-gateway's ``sync-gateway.ems`` consumer runtime in threads of this process.

The path is the production one from signing's outbox on: each approval is a
``signing.agreement.approved`` event recorded with signing's UnitOfWork and committed (one
transaction each, at a fixed rate), then relay -> bus -> consumer (ledger row, NOTIFY) -> worker ->
ems-sim. The shortcut: the approval is the event recorded directly, not signing's review use case
(which would need a school, a roster, an employer and an agreement through every step per approval).

(a) steady   ``--rate`` approvals/s (default 200) for ``--seconds`` (default 20). Latency per record:
             the ledger's ``synced_at`` (the EMS answered the write) minus the event's ``occurred_at``
             (recorded just before the commit). p50, p99 and the achieved approval rate.
(b) outage   ems-sim is stopped (connection refused) for ``--outage`` seconds (default 60) while
             approvals go on at the same rate; then it is started again. drain_rps = the records
             pending when it answers again / the seconds until none is pending.
Afterwards every approval is checked to be in ems-sim's database exactly once.

The last line: ``rate=N p50_ms=N p99_ms=N drain_rps=N``. Targets: p50 <= 100 ms and p99 <= 500 ms at
200 approvals/s; drain >= 500 records/s. Databases are created on QX_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from sqlalchemy import func, select

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUN_ID = uuid.uuid4().hex[:8]


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Vhost:
    """A vhost of its own on the local RabbitMQ for one run (rabbitmqctl), deleted at the end."""

    def __init__(self, base_url: str) -> None:
        self.name = f"qx-bench-sync-{RUN_ID}"
        parts = urlsplit(base_url)
        subprocess.run(["rabbitmqctl", "add_vhost", self.name], check=True, capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", self.name, parts.username or "guest", ".*", ".*",
                        ".*"], check=True, capture_output=True, timeout=60)
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def delete(self) -> None:
        subprocess.run(["rabbitmqctl", "delete_vhost", self.name], capture_output=True, timeout=60)


class Ems:
    """ems-sim under gunicorn, stopped and started again for the outage."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port, self.process = env, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "32",
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", 'quxiang.common.wsgi:app_for("ems-sim")'],
            env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("ems-sim did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


def record_approvals(signing: Any, rate: float, seconds: float, prefix: str) -> tuple[int, float]:
    """Approvals at a fixed rate, one committed transaction each; (count, achieved rate)."""
    from quxiang.common.contracts import signing as contract

    count = int(rate * seconds)
    started = time.perf_counter()
    for i in range(count):
        due = started + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        agreement = str(uuid.uuid4())
        now = datetime.now(UTC)
        with signing.unit_of_work() as uow:
            uow.record(contract.AGREEMENT_APPROVED, subject=agreement, sequence=7, data={
                "agreement_id": agreement, "agreement_number": f"2026105583{i:07d}", "agreement_type": "three_party",
                "initiator": "employer", "flow": "online", "status": "approved", "graduate_id": agreement,
                "exam_number": f"{prefix}{i:07d}", "name": "李同学", "school_code": "10558", "department_id": None,
                "education_level": "31", "graduation_year": 2026, "employer_id": None, "destination_code": "10",
                "unit_name": "广州示例信息科技有限公司", "credit_code": "91440106MA59DEMX1X", "unit_nature": "39",
                "unit_industry": "I65", "unit_region": "440106", "position_category": "10",
                "signing_date": "2026-04-20", "approved_at": now.isoformat()})
            uow.commit()
    return count, count / (time.perf_counter() - started)


def wait_synced(engine: Any, expected: int, timeout: float) -> float:
    from quxiang.sync_gateway.adapters.tables import sync_records

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            synced = conn.execute(select(func.count()).select_from(sync_records)
                                  .where(sync_records.c.status == "synced")).scalar_one()
        if synced >= expected:
            return time.monotonic()
        time.sleep(0.02)
    raise RuntimeError(f"only {synced} of {expected} synced within {timeout}s")


def run(args: argparse.Namespace) -> dict[str, float]:
    from quxiang.common.bus import make_transport
    from quxiang.common.bus.consumer import ConsumerRuntime
    from quxiang.common.bus.relay import Relay
    from quxiang.common.config import load_config
    from quxiang.common.logging import configure_logging
    from quxiang.common.migrations import upgrade
    from quxiang.common.service import get_service
    from quxiang.ems_sim.adapters.tables import destinations
    from quxiang.signing.bootstrap import build_signing
    from quxiang.sync_gateway.adapters.tables import sync_records
    from quxiang.sync_gateway.bootstrap import build_gateway
    from quxiang.sync_gateway.entrypoints.consumers import EMS_CONSUMER, EMS_HANDLERS

    base = os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    names = {s: f"qx_bench_sync_{RUN_ID}_{s.replace('-', '_')}" for s in ("signing", "sync-gateway", "ems-sim")}
    folder = tempfile.mkdtemp(prefix="qx-bench-sync-")
    vhost = Vhost(args.bus) if args.bus != "embedded" else None
    broker = vhost.url if vhost is not None else "embedded"
    env = {**os.environ, "QX_DATA_DIR": folder, "QX_BROKER_URL": broker, "QX_LOG_JSON": "false",
           "QX_LOG_LEVEL": "WARNING", "QX_EXCHANGE": f"qx.bench.{RUN_ID}", "QX_QUEUE_PREFIX": f"qx.bench.{RUN_ID}",
           "QX_DEMO_DATA": "false"}
    ems_port = free_port()
    configs = {}
    for service, db in names.items():
        configs[service] = load_config(service, {**env, "QX_DATABASE_URL": _with_db(base, db),
                                                 "QX_EMS_URL": f"http://127.0.0.1:{ems_port}"})
    configure_logging("WARNING", False, "bench-sync")
    stop = threading.Event()
    ems = worker = None
    threads: list[threading.Thread] = []
    try:
        for service, config in configs.items():
            upgrade(config, get_service(service))
        ems = Ems({**env, "QX_DATABASE_URL": configs["ems-sim"].database_url,
                   "QX_EMS_FAULTS": '{"latency_ms": 20}'}, ems_port)
        ems.start()
        signing = build_signing(configs["signing"])
        gateway = build_gateway(configs["sync-gateway"])
        runtime = ConsumerRuntime(EMS_CONSUMER, EMS_HANDLERS, gateway.engine, make_transport(configs["sync-gateway"]),
                                  configs["sync-gateway"], producer="sync-gateway")
        runtime.transport.declare_consumer(runtime.spec)
        relay = Relay(signing.engine, make_transport(configs["signing"]), configs["signing"], "signing")
        threads = [threading.Thread(target=relay.run, args=(stop,), daemon=True),
                   threading.Thread(target=runtime.run, args=(stop,), daemon=True)]
        for thread in threads:
            thread.start()
        worker = subprocess.Popen([sys.executable, "-m", "quxiang.sync_gateway.entrypoints.cli", "run"],
                                  env={**env, "QX_DATABASE_URL": configs["sync-gateway"].database_url,
                                       "QX_EMS_URL": ems.url, "QX_SYNC_CONCURRENCY": str(args.concurrency),
                                       "QX_SYNC_BATCH": str(args.batch)})
        record_approvals(signing, args.rate, 1.0, "W")  # warm-up: connections, caches
        wait_synced(gateway.engine, int(args.rate), 60)

        # (a) steady
        count, rate = record_approvals(signing, args.rate, args.seconds, "S")
        wait_synced(gateway.engine, int(args.rate) + count, 120)
        with gateway.engine.connect() as conn:
            rows = conn.execute(select(sync_records.c.occurred_at, sync_records.c.created_at, sync_records.c.synced_at)
                                .where(sync_records.c.exam_number.like("S%"))).all()
        lags = [(r.synced_at - r.occurred_at).total_seconds() * 1000 for r in rows]
        to_ledger = statistics.median((r.created_at - r.occurred_at).total_seconds() * 1000 for r in rows)
        to_ems = statistics.median((r.synced_at - r.created_at).total_seconds() * 1000 for r in rows)
        print(f"steady: median event->ledger {to_ledger:.1f} ms (relay, bus, consumer), ledger->EMS {to_ems:.1f} ms")
        p50, p99 = statistics.median(lags), percentile(lags, 0.99)
        print(f"steady: {count} approvals at {rate:.1f}/s; approval-to-mirror p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"max {max(lags):.1f} ms")

        # (b) outage
        ems.stop()
        outage_count, _ = record_approvals(signing, args.rate, args.outage, "O")
        time.sleep(0.5)  # the consumer takes in the last approvals
        with gateway.engine.connect() as conn:
            pending = conn.execute(select(func.count()).select_from(sync_records)
                                   .where(sync_records.c.status == "pending")).scalar_one()
        back = time.monotonic()
        ems.start()
        total = int(args.rate) + count + outage_count
        done = wait_synced(gateway.engine, total, 300)
        drain = pending / (done - back)
        print(f"outage: {outage_count} approvals during {args.outage:.0f}s down; {pending} pending drained in "
              f"{done - back:.1f}s after ems-sim started again ({drain:.0f} records/s, start-up included)")
        from sqlalchemy import create_engine

        ems_engine = create_engine(configs["ems-sim"].database_url)
        with ems_engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(destinations)).scalar_one()
        ems_engine.dispose()
        with gateway.engine.connect() as conn:
            failed = conn.execute(select(func.count()).select_from(sync_records)
                                  .where(sync_records.c.status != "synced")).scalar_one()
        print(f"check: {held} destination records in ems-sim for {total} approvals; {failed} not synced")
        if held != total or failed:
            raise RuntimeError("records missing or not synced")
        return {"rate": rate, "p50": p50, "p99": p99, "drain": drain}
    finally:
        stop.set()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        if ems is not None:
            ems.stop()
        for thread in threads:
            thread.join(timeout=10)
        for db in names.values():
            _admin(base, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        if vhost is not None:
            vhost.delete()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="approvals per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds ems-sim is down")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (QX_SYNC_CONCURRENCY)")
    parser.add_argument("--batch", type=int, default=50, help="records per request (QX_SYNC_BATCH)")
    parser.add_argument("--bus", default=os.environ.get("QX_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
                        help="RabbitMQ URL (a vhost of the run's own is made with rabbitmqctl), or 'embedded'")
    args = parser.parse_args(argv)
    figures = run(args)
    print(f"rate={figures['rate']:.0f} p50_ms={figures['p50']:.0f} p99_ms={figures['p99']:.0f} "
          f"drain_rps={figures['drain']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
