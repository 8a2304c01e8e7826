"""What the benchmarks on a PostgreSQL database of their own share: the database and its addresses,
bulk loading with COPY, minted tokens, and timing figures (percentiles, a timed step, a measured
scenario)."""

from __future__ import annotations

import io
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg


def conninfo(url: str) -> str:
    """A SQLAlchemy psycopg URL as psycopg's own connection string."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_path(url: str, path: str) -> str:
    """``url`` naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=path))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed(label: str, fn: Callable[[], Any]) -> Any:
    """Run a set-up step and print how long it took."""
    start = time.perf_counter()
    out = fn()
    print(f"  {label}: {time.perf_counter() - start:.1f} s", flush=True)
    return out


def copy_rows(dsn: str, table: str, columns: Sequence[str], lines: Any) -> None:
    """COPY text-format lines (tab-separated, \\N for NULL) in 8 MB chunks."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for line in lines:
                buffer.write(line)
                if buffer.tell() > 8 << 20:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())


def measure(label: str, fn: Callable[[int], Any], count: int) -> list[float]:
    """``fn(i)`` for i in 0..count-1 after one warm-up call: each time in ms, and a printed summary."""
    fn(0)
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    print(f"  {label:<17} n={count} p50={percentile(times, 0.5):8.2f} ms p95={percentile(times, 0.95):8.2f} ms "
          f"mean={statistics.fmean(times):8.2f} ms", flush=True)
    return times


@contextmanager
def bench_database(admin: str, label: str, *, keep: bool = False) -> Iterator[tuple[str, str]]:
    """A database on the server of ``admin`` (a maintenance database's URL) and a data folder, both
    the run's own: ``(url, data_dir)``. Both are removed at the end; ``keep`` keeps the database
    (for EXPLAIN) and says its name."""
    name = f"qx_bench_{uuid.uuid4().hex[:8]}_{label}"
    with psycopg.connect(conninfo(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = tempfile.mkdtemp(prefix=f"qx-bench-{label}-")
    try:
        yield with_path(admin, f"/{name}"), data_dir
    finally:
        if keep:
            print(f"kept database {name}", flush=True)
        else:
            with psycopg.connect(conninfo(admin), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


class Tokens:
    """A signing key of the run's own: the key set an app under test trusts, and bearer headers for
    the principals the benchmark acts as (what accounts would issue them)."""

    KID = "bench-key"

    def __init__(self, audience: str) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from quxiang.common.auth import KeySet
        from quxiang.common.auth.tokens import public_jwk

        self._key = Ed25519PrivateKey.generate()
        self._audience = audience
        jwks = {"keys": [public_jwk(self._key, self.KID)]}
        self.keys = KeySet(lambda: jwks, min_refetch=0)

    def headers(self, principal: Any) -> dict[str, str]:
        from quxiang.common.auth.tokens import issue_token

        return {"Authorization": f"Bearer {issue_token(principal, self._key, self.KID, self._audience, 3600)}"}
