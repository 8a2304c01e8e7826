"""Throughput and peak memory of the records roster import (生源导入), against PostgreSQL COPY.

N generated valid roster rows (default 100,000: distinct 考生号 and identity numbers with a valid GB 11643
check character and the gender digit matching 性别, known 学历 and region codes, the one seeded
department) are written once as a CSV file (UTF-8) and as an XLSX workbook (openpyxl write-only mode)
in a temporary directory. Three measurements in one run:

(a) csv      a fresh database migrated like the service's (``quxiang.common.migrations.upgrade``), the
             school and its department put in place through the consumer handlers as accounts' events
             would (as the tests do), then the CSV uploaded to ``POST /schools/<code>/roster/imports``
             through the Flask test client with a minted school-user token: the whole request, both
             passes of the use case (validation, then the one writing transaction with its outbox rows).
(b) xlsx     the same on another fresh database with the XLSX workbook.
(c) copy     the baseline: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same CSV file through
             psycopg's ``cursor.copy`` into a plain table with the same 13 columns (all text, no index),
             timed including the commit. What PostgreSQL alone needs to take these bytes.

Why the API path and not ``roster_import.import_roster`` directly: the endpoint does not read the upload
into memory. The test client encodes the multipart body into a SpooledTemporaryFile (spilled to disk
past 500 KB), werkzeug's form parser spools the file part the same way, and the endpoint copies the
stream in 1 MB chunks to its own temporary file before the use case reads it row by row. So the API
path costs a few extra file copies (counted, as a real request pays them too) but no memory, and it
also measures authentication, the job row and the answer: what a school user waits for.

Each import runs in a child process of its own (multiprocessing ``spawn``), so its peak resident set
(``ru_maxrss``) is its own: interpreter, app, migrations and the import. The child also reports its
RSS just before the request, so the import's share is visible. Set-up (migrations, seeding, building the
app) is not timed. ``--profile`` runs the CSV import under cProfile in its child and prints the top
functions (cumulative) to stderr.

Targets: copy_ratio = COPY seconds / CSV import seconds >= 0.1 (the CSV import within 10x of COPY),
and peak memory of every child under 300 MB.

Databases are created on QX_BENCH_POSTGRES_URL (a maintenance database, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped at the end, as are the files.
The last line is machine-readable:
``csv_rows_per_s=N xlsx_rows_per_s=N copy_rows_per_s=N copy_ratio=R peak_mb=N``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import logging
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

log = logging.getLogger("bench_import")

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUN_ID = uuid.uuid4().hex[:8]
SCHOOL = "10558"
DEPARTMENT = "01"
KID = "bench-key"
TARGET_COPY_RATIO = 0.1
TARGET_PEAK_MB = 300.0
COLUMNS = ("exam_number", "student_number", "name", "gender", "identity_number", "department_code",
           "major_code", "major_name", "education_level", "origin_region", "graduation_year", "phone", "email")


# -- the rows ----------------------------------------------------------------------------------------

def roster_rows(count: int) -> Any:
    """``count`` valid rows in the template's column order; 1000 identity numbers per birth date."""
    from quxiang.common.validators import make_identity_number

    first_birth = dt.date(2000, 1, 1)
    for i in range(count):
        birth = first_birth + dt.timedelta(days=i // 1000)
        serial = i % 1000  # the last of its digits is the gender digit: odd for men
        identity = make_identity_number(f"440106{birth:%Y%m%d}{serial:03d}")
        yield [f"26440{i:09d}", f"S{i:08d}", f"学生{i}", "男" if serial % 2 else "女", identity, DEPARTMENT,
               "080901", "计算机科学与技术", "31", "440106", "2026", f"138{i % 10**8:08d}", f"s{i}@example.com"]


def write_files(folder: Path, count: int) -> tuple[Path, Path]:
    from openpyxl import Workbook

    from quxiang.records.domain.roster import HEADERS

    csv_path, xlsx_path = folder / "roster.csv", folder / "roster.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("生源")
    sheet.append(list(HEADERS))
    year = HEADERS.index("毕业年份")
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for row in roster_rows(count):
            writer.writerow(row)
            sheet.append([int(v) if c == year else v for c, v in enumerate(row)])
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


# -- databases of our own ----------------------------------------------------------------------------

def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy_url(url: str) -> str:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


@dataclass
class PostgresSandbox:
    admin_url: str  # SQLAlchemy URL of a maintenance database
    created: list[str] | None = None

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.admin_url), autocommit=True, connect_timeout=5)

    def checkpoint(self) -> None:
        with self._admin() as conn:
            conn.execute("CHECKPOINT")

    def create(self, label: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"qx_bench_{RUN_ID}_{label}"
        if self.created is None:
            self.created = []
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_path(self.admin_url, f"/{name}")

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        try:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as exc:
            log.warning("could not drop database %s: %s", name, exc)
            return
        if self.created and name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in reversed(self.created or []):
            self.drop(_with_path(self.admin_url, f"/{name}"))


# -- (a), (b): the import, in a child process --------------------------------------------------------

def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def import_child(database_url: str, data_dir: str, path: str, filename: str, rows: int, profile: bool) -> dict:
    """In a spawned process: migrate, seed, build the app, then time one upload of ``path``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ["QX_RECORDS_ID_KEY"] = base64.b64encode(os.urandom(32)).decode()  # a key of this run
    # The request's spooled files and the endpoint's upload copy go under the parent's temporary
    # directory, which the parent removes even when it has to terminate this process.
    scratch = Path(data_dir) / "tmp"
    scratch.mkdir(exist_ok=True)
    tempfile.tempdir = str(scratch)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import func, select

    from quxiang.common.auth import KeySet
    from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
    from quxiang.common.auth.tokens import issue_token, public_jwk
    from quxiang.common.config import load_config
    from quxiang.common.contracts.accounts import DEPARTMENT_CREATED, SCHOOL_CREATED
    from quxiang.common.events import catalogue
    from quxiang.common.migrations import upgrade
    from quxiang.records.adapters.tables import graduates
    from quxiang.records.bootstrap import SERVICE, create_app
    from quxiang.records.entrypoints.consumers import on_department_created, on_school_created
    from quxiang.records.entrypoints.context import EXTENSION_KEY

    config = load_config("records", {"QX_DATA_DIR": data_dir, "QX_DATABASE_URL": database_url,
                                     "QX_BROKER_URL": "embedded", "QX_LOG_JSON": "false"})
    upgrade(config, SERVICE)
    signing_key = Ed25519PrivateKey.generate()
    app = create_app(config, keys=KeySet(lambda: {"keys": [public_jwk(signing_key, KID)]}, min_refetch=0))
    service = app.extensions[EXTENSION_KEY]
    try:
        department_id = str(uuid.uuid4())
        for handler, type_, subject, data in (
                (on_school_created, SCHOOL_CREATED, SCHOOL, {"school_code": SCHOOL, "name": "中山大学",
                                                             "province": "44"}),
                (on_department_created, DEPARTMENT_CREATED, department_id,
                 {"department_id": department_id, "school_code": SCHOOL, "code": DEPARTMENT,
                  "name": "计算机学院"})):
            event = catalogue.new_event(type_, subject=subject, sequence=1, data=data, producer="accounts")
            with service.unit_of_work() as uow:
                handler(event, uow)
                uow.commit()
        principal = Principal(str(uuid.uuid4()), Role.SCHOOL, Scope(province="44", school=SCHOOL),
                              {Module.EMPLOYMENT: Access.WRITE})
        token = issue_token(principal, signing_key, KID, config.jwt_audience, 3600)
        client = app.test_client()
        rss_before = _rss_mb()
        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile()
        with open(path, "rb") as fh:
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            response = client.post(f"/schools/{SCHOOL}/roster/imports",
                                   headers={"Authorization": f"Bearer {token}"},
                                   data={"file": (fh, filename)}, content_type="multipart/form-data")
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - started
        body = response.get_json(silent=True) or {}
        if response.status_code != 201 or body.get("created") != rows:
            raise RuntimeError(f"import of {filename} answered {response.status_code}: "
                               f"{str(body)[:2000]}")
        with service.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(graduates)).scalar_one()
        if stored != rows:
            raise RuntimeError(f"{stored} graduates stored, expected {rows}")
        if profiler is not None:
            import io
            import pstats
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(20)
            print(f"--- cProfile of the {filename} import (cumulative, then own time) ---\n{out.getvalue()}",
                  file=sys.stderr)
        return {"seconds": seconds, "rss_before_mb": rss_before, "peak_mb": _rss_mb()}
    finally:
        service.engine.dispose()


def child_main(sender: Any, *args: Any) -> None:
    """The child's entry point: the result, or the traceback, back through the pipe."""
    try:
        sender.send(("ok", import_child(*args)))
    except BaseException:  # noqa: BLE001 - everything goes back to the parent, which raises it
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def run_import(pg: PostgresSandbox, label: str, path: Path, rows: int, folder: Path, profile: bool) -> Result:
    url = pg.create(label)
    data_dir = folder / f"data-{label}"
    data_dir.mkdir()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=child_main, args=(sender, url, str(data_dir), str(path), path.name, rows,
                                                     profile), name=f"import-{label}", daemon=True)
    try:
        child.start()
        sender.close()
        while not receiver.poll(0.2):
            if not child.is_alive():
                raise RuntimeError(f"the {label} import process died (exit code {child.exitcode})")
        status, out = receiver.recv()
        if status != "ok":
            raise RuntimeError(f"the {label} import failed in its process:\n{out}")
        child.join(timeout=60)
    finally:
        if child.is_alive():  # interrupted (Ctrl-C, SIGTERM) or failed: the child goes first
            child.terminate()
            child.join(timeout=10)
        receiver.close()
        pg.drop(url)  # gone before the next phase, so autovacuum does not work on it meanwhile
    note = f"child RSS {out['rss_before_mb']:.0f} MB before the request"
    return _announce(Result(label, rows, out["seconds"], out["peak_mb"], note))


# -- (d): the floor ------------------------------------------------------------------------------------

def run_floor(path: Path, rows: int) -> Result:
    """What the issue's own rules cost per row before any database or event is involved: read the CSV,
    check every row (GB 11643 check character, gender, codes, department), encrypt the identity number
    and compute its lookup hash. No import design can do less and still meet the issue, so copy seconds
    / floor seconds bounds copy_ratio from above on this machine."""
    from quxiang.common.reference import education_levels
    from quxiang.records.adapters.crypto import IdentityCipher
    from quxiang.records.adapters.roster_files import CSV, open_cells
    from quxiang.records.domain.roster import RosterChecker, cells_in_order

    checker = RosterChecker(departments={DEPARTMENT: str(uuid.uuid4())},
                            education_levels=frozenset(education_levels().codes()))
    cipher = IdentityCipher(os.urandom(32))
    started = time.perf_counter()
    count = 0
    with open_cells(path, CSV) as (header, cells):
        ordered = cells_in_order(header)
        for number, row in cells:
            checked = checker.check_values(number, ordered(row))
            if isinstance(checked, list):
                raise RuntimeError(f"floor: row {number} is invalid: {checked}")
            cipher.encrypt(checked.identity_number)
            cipher.digest(checked.identity_number)
            count += 1
    seconds = time.perf_counter() - started
    if count != rows:
        raise RuntimeError(f"floor read {count} rows, expected {rows}")
    return _announce(Result("floor", rows, seconds, None, "read + check + encrypt/hash, no database, no events"))


# -- (c): the baseline -------------------------------------------------------------------------------

def run_copy(pg: PostgresSandbox, path: Path, rows: int) -> Result:
    url = pg.create("copy")
    try:
        with psycopg.connect(_conninfo(url)) as conn:
            conn.execute(f"CREATE TABLE roster_copy ({', '.join(f'{c} text' for c in COLUMNS)})")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur, path.open("rb") as fh, cur.copy(
                    f"COPY roster_copy ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            seconds = time.perf_counter() - started
            stored = conn.execute("SELECT count(*) FROM roster_copy").fetchone()[0]
        if stored != rows:
            raise RuntimeError(f"COPY stored {stored} rows, expected {rows}")
    finally:
        pg.drop(url)
    return _announce(Result("copy", rows, seconds, None, "COPY FROM STDIN (csv) into 13 text columns"))


# -- the run -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    name: str
    rows: int
    seconds: float
    peak_mb: float | None
    note: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _announce(result: Result) -> Result:
    print(f"{result.name}: {result.rows} rows in {result.seconds:.2f}s = {result.rows_per_s:,.0f} rows/s",
          file=sys.stderr)
    return result


def settle(pg: PostgresSandbox, seconds: float = 2.0) -> None:
    """The previous phase's dirty pages written out before the next one is timed."""
    pg.checkpoint()
    time.sleep(seconds)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100000, help="generated roster rows")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the CSV import in its child (slower; top functions to stderr)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def print_report(results: dict[str, Result], sizes: dict[str, int]) -> None:
    csv_seconds = results["csv"].seconds
    print()
    print(f"roster import benchmark: {results['csv'].rows:,} valid rows; CSV {sizes['csv'] / 2**20:.1f} MB, "
          f"XLSX {sizes['xlsx'] / 2**20:.1f} MB; {os.cpu_count()} CPUs")
    print(f"{'phase':<6} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak MB':>8} {'vs copy':>8}  notes")
    copy_seconds = results["copy"].seconds
    for r in results.values():
        versus = f"{r.seconds / copy_seconds:.1f}x" if copy_seconds > 0 else "-"
        peak = "-" if r.peak_mb is None else f"{r.peak_mb:.0f}"
        print(f"{r.name:<6} {r.rows:>8} {r.seconds:>8.2f} {r.rows_per_s:>9,.0f} {peak:>8} {versus:>8}  {r.note}")
    ratio = copy_seconds / csv_seconds if csv_seconds > 0 else 0.0
    peak = max(r.peak_mb for r in results.values() if r.peak_mb is not None)
    print(f"copy_ratio {ratio:.2f} (target >= {TARGET_COPY_RATIO}): {'ok' if ratio >= TARGET_COPY_RATIO else 'MISS'}")
    print(f"peak_mb {peak:.0f} (target < {TARGET_PEAK_MB:.0f}): {'ok' if peak < TARGET_PEAK_MB else 'MISS'}")
    floor = results.get("floor")
    if floor is not None and floor.seconds > 0:
        print(f"floor_ratio {copy_seconds / floor.seconds:.2f}: the highest copy_ratio any import that checks, "
              f"encrypts and hashes every row in one Python process could reach here")
    print()


def final_line(results: dict[str, Result]) -> str:
    csv_r, xlsx_r, copy_r = results["csv"], results["xlsx"], results["copy"]
    ratio = copy_r.seconds / csv_r.seconds if csv_r.seconds > 0 else 0.0
    peak = max(r.peak_mb for r in results.values() if r.peak_mb is not None)
    return (f"csv_rows_per_s={csv_r.rows_per_s:.0f} xlsx_rows_per_s={xlsx_r.rows_per_s:.0f} "
            f"copy_rows_per_s={copy_r.rows_per_s:.0f} copy_ratio={ratio:.2f} peak_mb={peak:.0f}")


def run(args: argparse.Namespace) -> dict[str, Result]:
    pg = PostgresSandbox(_sqlalchemy_url(os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)))
    folder = Path(tempfile.mkdtemp(prefix="qx-bench-import-"))
    results: dict[str, Result] = {}
    try:
        started = time.perf_counter()
        csv_path, xlsx_path = write_files(folder, args.rows)
        sizes = {"csv": csv_path.stat().st_size, "xlsx": xlsx_path.stat().st_size}
        print(f"{args.rows} rows written as CSV and XLSX in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        settle(pg)
        results["csv"] = run_import(pg, "csv", csv_path, args.rows, folder, args.profile)
        settle(pg)
        results["xlsx"] = run_import(pg, "xlsx", xlsx_path, args.rows, folder, False)
        settle(pg)
        results["copy"] = run_copy(pg, csv_path, args.rows)
        results["floor"] = run_floor(csv_path, args.rows)
        print_report(results, sizes)
    finally:
        pg.close()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM unwinds like Ctrl-C, so the databases and the files are removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = run(parse_args(argv))
    print(final_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
