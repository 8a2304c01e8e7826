"""What the benchmarks on a PostgreSQL database of their own share: its addresses, bulk loading with
COPY, and timing figures (percentiles, a timed step, a measured scenario)."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable, Sequence
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
