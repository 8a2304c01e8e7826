"""The Python side of the request paths every API request or event takes, at this checkout beside
the same modules at an earlier revision, in one process.

    .venv/bin/python bench/bench_hot_paths.py --base bd1ef23

For each path, the module as it was at ``--base`` (``git show REV:path``, imported under another
name beside the current tree, whose other modules it uses) and the module as it is now run the same
call; the two alternate in ``--rounds`` rounds of ``--calls`` calls each, so a machine getting busier
slows both, and the median round counts. Databases are SQLite in memory with empty tables, so the
database's part is close to nothing and what is left is the Python a request spends building and
running its statements:

- tokens: verifying the same access token again (what a client sends with every request);
- revocation: whether a token is revoked, for 10,000 users in turn (each user calls seldom, so an
  entry cached per user has expired by the user's next request; SQLite's time included);
- signing_list: a 图6 page for a province user;
- agreements: a graduate's own agreements;
- records_list: a 图7 page for a school user, graduates with no registration yet;
- stats: a province's per-school rows;
- stats_event: the statistics consumer's statements for one event of a graduate's agreement (the
  graduate's aggregates read, the aggregate and the graduate's standing written; SQLite's time
  included);
- feed: recording one event in the school feed (the season's sync-gateway consumer; SQLite's time
  included, the rows being written);
- feed_pg: the same on PostgreSQL (``QX_BENCH_POSTGRES_URL``, a database of its own dropped after),
  each event in its own transaction as the consumer records it; the client's CPU only (the
  statements' round trips and psycopg's work, not the server's); left out when PostgreSQL is not
  reachable;
- sync_round: the sync worker's two transactions around an EMS write: one due ledger row claimed and
  settled as synced (the row's insert and SQLite's time included);
- records_writes: the writes of an archive registration's life (drafted, submitted, approved with
  its 转递编号, each step in the history; SQLite's time included);
- signing_writes: the store's writes and checks of an agreement's life (its number drawn, inserted,
  accepted after the held-agreement check, approved twice: compare-and-set updates; SQLite's time
  included).

The last line: ``tokens_us=N base_tokens_us=N signing_list_us=N base_signing_list_us=N ...`` in µs
per call, lower is better.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench_api import DEFAULT_POSTGRES
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
MODULES = {
    "tokens": ("libs/common/quxiang/common/auth/tokens.py", "quxiang.common.auth.tokens"),
    "revocation": ("libs/common/quxiang/common/auth/revocation.py", "quxiang.common.auth.revocation"),
    "signing_list": ("services/signing/quxiang/signing/adapters/signing_lists.py",
                     "quxiang.signing.adapters.signing_lists"),
    "agreements": ("services/signing/quxiang/signing/adapters/agreement_lists.py",
                   "quxiang.signing.adapters.agreement_lists"),
    "records_list": ("services/records/quxiang/records/adapters/registration_lists.py",
                     "quxiang.records.adapters.registration_lists"),
    "stats": ("services/stats/quxiang/stats/adapters/queries.py", "quxiang.stats.adapters.queries"),
    "stats_event": ("services/stats/quxiang/stats/adapters/store.py", "quxiang.stats.adapters.store"),
    "feed": ("services/sync-gateway/quxiang/sync_gateway/adapters/feed_store.py",
             "quxiang.sync_gateway.adapters.feed_store"),
    "feed_pg": ("services/sync-gateway/quxiang/sync_gateway/adapters/feed_store.py",
                "quxiang.sync_gateway.adapters.feed_store"),
    "sync_round": ("services/sync-gateway/quxiang/sync_gateway/adapters/ledger.py",
                   "quxiang.sync_gateway.adapters.ledger"),
    "signing_writes": ("services/signing/quxiang/signing/adapters/store.py", "quxiang.signing.adapters.store"),
    "records_writes": ("services/records/quxiang/records/adapters/registration_store.py",
                       "quxiang.records.adapters.registration_store"),
}


def module_at(revision: str, path: str, name: str, folder: Path) -> ModuleType:
    """``path`` as it was at ``revision``, imported as ``name``."""
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True).stdout
    file = folder / f"{name}.py"
    file.write_bytes(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def calls(path: str, module: ModuleType) -> Callable[[], Any]:
    """One call of ``path`` through ``module`` (the current one or the base's)."""
    if path == "tokens":
        from quxiang.common.auth.principal import Principal, Role, Scope
        from quxiang.common.auth.tokens import issue_token, public_jwk

        key = Ed25519PrivateKey.generate()
        jwks = {"keys": [public_jwk(key, "k1")]}
        principal = Principal(user_id="u1", role=Role.SCHOOL, scope=Scope(province="44", school="10558"))
        token = issue_token(principal, key, "k1", "quxiang", 3600)
        verifier = module.TokenVerifier(module.KeySet(lambda: jwks), "quxiang")
        return lambda: verifier.verify(token)
    if path == "revocation":
        return _revocation_check(module)
    if path == "signing_list":
        from quxiang.signing.adapters import destination_tables, tables

        conn = _empty_database(tables.metadata)
        return lambda: module.page(conn, module.ListFilter(kind=module.Kind.ONLINE, province="44"), 20, 20)
    if path == "agreements":
        from quxiang.signing.adapters import destination_tables, tables  # noqa: F401

        conn = _empty_database(tables.metadata)
        return lambda: module.page(conn, module.AgreementFilter(graduate_id="g1"), 0, 20)
    if path == "records_list":
        from quxiang.records.adapters import tables

        conn = _empty_database(tables.metadata)
        return lambda: module.page(conn, module.ListFilter(module="archive", school_code="10558", status="none"), 0, 20)
    if path == "stats":
        from quxiang.stats.adapters import tables

        conn = _empty_database(tables.metadata)
        return lambda: module.province_rows(conn, module.Filter(province="44"))
    if path == "stats_event":
        from quxiang.stats.adapters import tables
        from quxiang.stats.domain.model import Aggregate, Kind

        conn = _empty_database(tables.metadata)
        sequence = iter(range(1, 10**9))

        def one_event() -> None:
            number = next(sequence)
            graduate_id = f"g{number % 50}"
            module.lock_graduate(conn, graduate_id)
            known = module.graduate_aggregates(conn, graduate_id)
            module.put_aggregate(conn, Aggregate(f"a-{graduate_id}", Kind.AGREEMENT, "approved", None), graduate_id,
                                 number, exists=bool(known))
            module.update_graduate(conn, graduate_id, {"employment": "registered", "archive": "none",
                                                       "hukou": "none", "destination_code": None}, datetime.now(UTC))
        return one_event
    if path == "sync_round":
        return _sync_round(module)
    if path == "records_writes":
        return _records_writes(module)
    if path == "signing_writes":
        return _signing_writes(module)
    if path == "feed_pg":
        return _feed_on_postgres(module)
    from quxiang.sync_gateway.adapters import tables

    conn = _empty_database(tables.metadata)
    return lambda: module.record(conn, _feed_entry(), datetime.now(UTC))


def _feed_entry() -> Any:
    from quxiang.sync_gateway.domain.feed import FeedEntry

    return FeedEntry(event_id=str(uuid.uuid4()), event_type="signing.agreement.approved", school_code="10558",
                     exam_number="26440100000001", name="学生1", subject="a1", subject_version=1,
                     occurred_at=datetime.now(UTC), payload={"status": "approved"})


def _feed_on_postgres(module: ModuleType) -> Callable[[], Any]:
    from quxiang.sync_gateway.adapters import tables

    engine = _POSTGRES.database(tables.metadata)

    def one_event() -> None:
        with engine.begin() as conn:
            module.record(conn, _feed_entry(), datetime.now(UTC))
    return one_event


class _Postgres:
    """Databases of this run on the benchmark's PostgreSQL server, dropped at the end."""

    def __init__(self) -> None:
        self.admin_url = os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
        self.created: list[str] = []

    def reachable(self) -> bool:
        try:
            with create_engine(self.admin_url).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except OperationalError:
            return False

    def database(self, metadata: Any) -> Any:
        name = f"qx_bench_hot_{uuid.uuid4().hex[:8]}"
        with create_engine(self.admin_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        engine = create_engine(make_url(self.admin_url).set(database=name))
        metadata.create_all(engine)
        return engine

    def drop_all(self) -> None:
        with create_engine(self.admin_url, isolation_level="AUTOCOMMIT").connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


_POSTGRES = _Postgres()


def _sync_round(module: ModuleType) -> Callable[[], Any]:
    from quxiang.sync_gateway.adapters import tables

    engine = create_engine("sqlite://")  # one connection per thread: claim and settle open their own
    tables.metadata.create_all(engine)
    numbers = iter(range(10**9))

    def one_round() -> None:
        now = datetime.now(UTC)
        number = next(numbers)
        with engine.begin() as conn:
            module.insert_rows(conn, [{
                "exam_number": f"26440100{number:06d}", "kind": "destination", "graduate_id": f"g{number}",
                "name": "学生", "school_code": "10558", "aggregate_id": f"a{number}", "sequence": 1,
                "anchor_at": now, "event_id": str(uuid.uuid4()), "event_type": "signing.agreement.approved",
                "occurred_at": now, "record": {"status": "approved"}, "version": 1, "key_round": 0,
                "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                "updated_at": now}])
        claimed = module.claim(engine, 10, 60, now)
        assert len(claimed) == 1
        module.settle(engine, [module.Settlement(c, "synced", now, write="created", lag_ms=1) for c in claimed])
    return one_round


def _records_writes(module: ModuleType) -> Callable[[], Any]:
    from quxiang.records.adapters import tables

    conn = _empty_database(tables.metadata)
    numbers = iter(range(10**9))

    def one_life() -> None:
        now = datetime.now(UTC)
        registration_id, number = str(uuid.uuid4()), next(numbers)
        module.insert_registration(conn, {
            "id": registration_id, "graduate_id": f"g{number}", "module": "archive", "school_code": "10558",
            "department_id": "d1", "status": "draft", "transfer_type": "employer", "version": 1,
            "created_at": now, "updated_at": now})
        for version, status in ((2, "school_review"), (3, "approved")):
            values: dict[str, Any] = {"status": status, "version": version, "updated_at": now}
            if status == "approved":
                values["transfer_number"] = f"202610558{module.next_transfer_serial(conn, '10558', 2026):07d}"
            assert module.update_registration(conn, registration_id, version - 1, values)
            module.add_history(conn, registration_id=registration_id, version=version, action="review",
                               level="school", actor_id="u1", actor_role="school", status=status, reason=None,
                               snapshot=None, at=now)
    return one_life


def _signing_writes(module: ModuleType) -> Callable[[], Any]:
    from quxiang.signing.adapters import destination_tables, tables  # noqa: F401

    conn = _empty_database(tables.metadata)
    numbers = iter(range(10**9))

    def one_life() -> None:
        now = datetime.now(UTC)
        agreement_id, number = str(uuid.uuid4()), next(numbers)
        serial = module.next_serial(conn, 2026, "10558", "31")
        module.insert_agreement(conn, {
            "id": agreement_id, "flow": "online", "initiator": "employer", "agreement_type": "three_party",
            "status": "invited", "graduate_id": f"g{number}", "school_code": "10558", "department_id": "d1",
            "education_level": "31", "graduation_year": 2026, "employer_id": "e1", "unit": {"name": "单位"},
            "terms": {"job_title": "工程师"}, "respond_by": now, "number": f"2026105583{serial:07d}", "version": 1,
            "audit_position": 1, "audit_hash": "0" * 64, "created_at": now, "updated_at": now})
        assert module.held_agreement(conn, f"g{number}") is None
        for version, status in ((2, "department_review"), (3, "school_review"), (4, "approved")):
            assert module.update_agreement(conn, agreement_id, version - 1, {
                "status": status, "version": version, "updated_at": now, "audit_position": version,
                "audit_hash": "0" * 64})
    return one_life


def _revocation_check(module: ModuleType) -> Callable[[], Any]:
    from sqlalchemy.pool import StaticPool

    from quxiang.common.auth.revocation import auth_metadata, not_before_table

    engine = create_engine("sqlite://", poolclass=StaticPool)  # one in-memory database for every connection
    auth_metadata.create_all(engine)
    now = time.time()
    with engine.begin() as conn:  # one user in a hundred revoked some time ago
        conn.execute(not_before_table.insert(), [{"user_id": f"u{n}", "not_before": now - 600 - n}
                                                 for n in range(0, 10_000, 100)])
    revocations = module.RevocationList(engine)
    users = itertools.cycle([f"u{n}" for n in range(10_000)])
    issued = now - 60
    if "issued_at" in inspect.signature(revocations.not_before).parameters:
        return lambda: revocations.not_before(next(users), issued)
    return lambda: revocations.not_before(next(users))  # before the recent entries were read at once


def _empty_database(metadata: Any) -> Any:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return engine.connect()


def per_call_us(call: Callable[[], Any], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per round (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, alternating base and current (5)")
    args = parser.parse_args(argv)
    postgres = _POSTGRES.reachable()
    if not postgres:
        print(f"PostgreSQL not reachable at {_POSTGRES.admin_url}: feed_pg left out", file=sys.stderr)
    try:
        return _measure(args, postgres)
    finally:
        _POSTGRES.drop_all()


def _measure(args: argparse.Namespace, postgres: bool) -> int:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="qx-bench-hot-") as folder:
        for path, (file, name) in MODULES.items():
            if path.endswith("_pg") and not postgres:
                continue
            current = importlib.import_module(name)
            try:
                base = module_at(args.base, file, f"qx_base_{path}", Path(folder))
            except subprocess.CalledProcessError as exc:
                print(f"cannot read {file} at {args.base}: {exc.stderr.decode().strip()}", file=sys.stderr)
                return 2
            ours, theirs = calls(path, current), calls(path, base)
            ours(), theirs()  # the first call builds what later calls reuse
            rounds = [(per_call_us(theirs, args.calls), per_call_us(ours, args.calls)) for _ in range(args.rounds)]
            figures[f"{path}_us"] = statistics.median(r[1] for r in rounds)
            figures[f"base_{path}_us"] = statistics.median(r[0] for r in rounds)
            print(f"{path:13} {args.base}: {figures[f'base_{path}_us']:8.1f} µs   now: {figures[f'{path}_us']:8.1f} µs",
                  flush=True)
    print(" ".join(f"{key}={value:.1f}" for key, value in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
