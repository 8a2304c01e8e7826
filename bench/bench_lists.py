"""The 档案/户口 lists (图7) and signing's 在线签约 list at a province's scale: what a province,
school and department user waits for a page of ``GET /archive/registrations`` (and its search), and
a province user for a search of ``GET /lists/online-signing``, on a roster the size of Guangdong's.

Set-up (timed and printed, not part of the figures): a fresh PostgreSQL database migrated like the
records service's (``quxiang.common.migrations.upgrade``); province 44 with ``--schools`` schools
(default 150) of 20 departments each and ``--graduates`` graduates (default 510,000: Guangdong's
2026 class), and a second province (45) with a tenth as many, so a province's list is not the whole
table; names, majors, 生源所在地 and statuses drawn at random (seeded); an 档案 registration for 80%
of the graduates (half approved, the rest in review, drafts and rejections), all loaded with ``COPY``
and ANALYZEd. Identity numbers are real ciphertexts (``IdentityCipher``) of 2,000 distinct numbers.

Measurements, each ``--requests`` times (default 40) through the Flask test client with a minted
token, cycling over schools, departments, pages and search terms; p50 and p95 per scenario:
  province_first   a province user's first page (考生号 order)
  province_deep    the same, a page deep in the list (page 2,000 of 25,500)
  province_status  the province, filtered to 待学校审核
  province_by_name the province sorted by 姓名, ascending and descending in turn
  province_by_update the province sorted by 更新时间, newest first
  province_search  the province searching part of a name (its first two characters)
  province_exam    the province searching a whole 考生号
  school_first     a school user's first page
  school_status    a school user's 待学校审核 page
  school_search    a school user searching part of a name
  department_first a department user's first page
  baseline         ``GET /archive/registrations`` for a school with 200 graduates (the same code path
                   on a small list: what a page costs when the database has little to do)

Then the indexes records migration 0009 added for the search and the list by 姓名 are dropped and
province_search, province_exam and province_by_name measured again (a quarter as many requests):
the same statements without their indexes, in the same run on the same data. (The code before 0009
searched with plain ILIKEs, which PostgreSQL evaluates faster per row than the character test does
without its index: that code measured 340 ms for province_search and 1.3 s for province_exam.)

The signing part (``--parts``, default both): signing's copies of the same schools and graduates and
an 在线签约 agreement (a unit's name of city, two words and a kind, 协议编号 as signing numbers them)
for 60% of them, loaded with COPY into a database of its own; a province user's ``GET
/lists/online-signing``: signing_first (the first page, newest first), signing_name (two characters
of a graduate's name), signing_exam (a whole 考生号), signing_unit (the two words of a unit's name),
signing_number (a whole 协议编号); then the same searches without the indexes of signing migration
0015. (The code before 0015, one OR over the joined tables: 1.2–1.3 s each, p50, 2026-12-07.)

The last line is machine-readable: ``p50_ms=N p95_ms=N worst_p95_ms=N worst=NAME baseline_p95_ms=N
search_p95_ms=N search_noindex_p95_ms=N signing_first_p95_ms=N signing_search_p95_ms=N
signing_search_noindex_p95_ms=N`` (a part left out has no figures), where p50/p95 are over every scenario's requests
together, worst is the scenario with the largest p95, and search_p95_ms the largest p95 of the three
scenarios 0009 serves (search_noindex_p95_ms: the same without its indexes). The database is
created on QX_BENCH_POSTGRES_URL (a maintenance database, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import random
import signal
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pg_bench import Tokens, bench_database, conninfo, copy_rows, measure, percentile, timed

log = logging.getLogger("bench_lists")

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志文晓红玉梅佳欣怡子涵浩宇俊轩雨萱思琪"
LEVELS = ("11", "31", "31", "31", "41")
REGIONS = ("440103", "440104", "440105", "440106", "440111", "440303", "440304", "440305", "440402", "440604",
           "441302", "441402", "445102", "450102", "450103", "360102", "430102", "510104")
STATUSES = (("approved", 0.5), ("school_review", 0.15), ("department_review", 0.15), ("draft", 0.1),
            ("department_rejected", 0.05), ("school_rejected", 0.05))
TRANSFER_TYPES = ("origin", "employer", "custodian", "supervisor", "school", "retained")
SMALL_SCHOOL = "99999"
SMALL_SCHOOL_SIZE = 200







# -- the data ----------------------------------------------------------------------------------------

def identity_number(n: int) -> str:
    from quxiang.common.validators import identity_check_char
    body = f"440106{2003 + n % 3}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + identity_check_char(body)


def schools_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(学校代码, province): the large province's schools, the other province's, the small school."""
    other = max(1, args.schools // 10)
    return ([(f"{10000 + i}", "44") for i in range(args.schools)] + [(f"{20000 + i}", "45") for i in range(other)]
            + [(SMALL_SCHOOL, "44")])


def load(dsn: str, args: argparse.Namespace, cipher: Any) -> dict[str, Any]:
    rnd = random.Random(args.seed)
    schools = schools_of(args)
    copy_rows(dsn, "schools", ("code", "name", "province"),
              (f"{code}\t学校{code}\t{province}\n" for code, province in schools))
    copy_rows(dsn, "departments", ("id", "school_code", "code", "name"),
              (f"{code}-{k:02d}\t{code}\t{k:02d}\t院系{k}\n" for code, _ in schools for k in range(20)))
    numbers = [identity_number(n) for n in range(2000)]
    stored = [(cipher.encrypt(n), cipher.digest(n)) for n in numbers]
    now = datetime.now(UTC)
    large = [code for code, p in schools if p == "44" and code != SMALL_SCHOOL]
    other = [code for code, p in schools if p == "45"]
    in_other = args.graduates // 10
    people: list[tuple[str, str]] = []  # (school, department) of every graduate, by index
    names: list[str] = []
    exams: list[str] = []
    majors = [(f"0{80900 + k}", f"专业{k}") for k in range(60)]

    def graduate_lines() -> Iterator[str]:
        total = args.graduates + in_other + SMALL_SCHOOL_SIZE
        for n in range(total):
            if n < args.graduates:
                school = large[n % len(large)]
            elif n < args.graduates + in_other:
                school = other[n % len(other)]
            else:
                school = SMALL_SCHOOL
            department = f"{school}-{rnd.randrange(20):02d}"
            name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
            exam = f"26{school}{n:08d}"
            major_code, major_name = rnd.choice(majors)
            encrypted, digest = stored[n % len(stored)]
            created = now - timedelta(seconds=rnd.randrange(90 * 86400))
            people.append((school, department))
            names.append(name)
            exams.append(exam)
            yield (f"g{n:09d}\t{school}\t{exam}\tS{n:09d}\t{name}\t{'MF'[n % 2]}\t{encrypted}\t{digest}\t"
                   f"{department}\t{major_code}\t{major_name}\t{rnd.choice(LEVELS)}\t{rnd.choice(REGIONS)}\t"
                   f"2026\t1\t{created.isoformat()}\t{created.isoformat()}\n")

    copy_rows(dsn, "graduates", ("id", "school_code", "exam_number", "student_number", "name", "gender",
                                 "identity_number_encrypted", "identity_number_hash", "department_id", "major_code",
                                 "major_name", "education_level", "origin_region", "graduation_year", "version",
                                 "created_at", "updated_at"), graduate_lines())
    statuses, weights = zip(*STATUSES, strict=True)

    def registration_lines() -> Iterator[str]:
        for n, (school, department) in enumerate(people):
            if rnd.random() >= 0.8:
                continue
            status = rnd.choices(statuses, weights)[0]
            updated = now - timedelta(seconds=rnd.randrange(60 * 86400))
            submitted = "\\N" if status == "draft" else updated.isoformat()
            decided = updated.isoformat() if status in ("approved", "department_rejected", "school_rejected") else "\\N"
            number = f"{school}2026{n:08d}" if status == "approved" else "\\N"
            kind = rnd.choice(TRANSFER_TYPES)
            yield (f"r{n:09d}\tg{n:09d}\tarchive\t{school}\t{department}\t{status}\t{kind}\t某某人才服务中心\t"
                   f"档案室\t广东省广州市天河区某路{n % 999}号\t510000\t收件人\t020-8888{n % 10000:04d}\t{number}\t"
                   f"{'t' if status == 'approved' else 'f'}\t1\t{submitted}\t{decided}\t{updated.isoformat()}\t"
                   f"{updated.isoformat()}\n")

    copy_rows(dsn, "registrations", ("id", "graduate_id", "module", "school_code", "department_id", "status",
                                     "transfer_type", "receiving_unit", "receiving_department", "address",
                                     "postcode", "recipient", "phone", "transfer_number", "approved_once", "version",
                                     "submitted_at", "decided_at", "created_at", "updated_at"),
              registration_lines())
    return {"large": large, "names": names, "exams": exams, "people": people}


# -- the measurements --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    # The services' apps set up logging at INFO; the migrations would print their whole docstrings.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    figures: dict[str, Any] = {}
    if "records" in args.parts:
        with bench_database(args.postgres, "lists", keep=args.keep) as (url, data_dir):
            figures.update(_run(args, url, data_dir))
    if "signing" in args.parts:
        with bench_database(args.postgres, "signing_lists", keep=args.keep) as (url, data_dir):
            figures.update(_run_signing(args, url, data_dir))
    return figures


UNIT_WORDS = ("华信", "远景", "恒通", "金桥", "科创", "博雅", "天成", "鸿运", "南粤", "海纳", "睿智", "嘉禾", "卓越",
              "星辰", "明德", "瑞丰", "正源", "安泰", "汇智", "锦程", "宏图", "启航", "晨光", "蓝海", "新锐", "合众")
UNIT_KINDS = ("科技有限公司", "电子有限公司", "教育科技有限公司", "建设集团有限公司", "医药股份有限公司",
              "人才服务中心")
CITIES = ("广州", "深圳", "佛山", "东莞", "珠海", "中山", "汕头", "惠州")
AGREEMENT_STATUSES = (("approved", 0.5), ("school_review", 0.1), ("department_review", 0.1), ("invited", 0.15),
                      ("declined", 0.1), ("terminated", 0.05))


def unit_name(rnd: random.Random) -> str:
    return rnd.choice(CITIES) + rnd.choice(UNIT_WORDS) + rnd.choice(UNIT_WORDS) + rnd.choice(UNIT_KINDS)


def load_signing(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Signing's copies of the schools, departments and graduates (as the roster's events fill them)
    and an 在线签约 agreement for 60% of the graduates."""
    import json

    rnd = random.Random(args.seed + 2)
    schools = schools_of(args)
    copy_rows(dsn, "schools", ("code", "name", "province", "agreement_type"),
              (f"{code}\t学校{code}\t{province}\tthree_party\n" for code, province in schools))
    copy_rows(dsn, "departments", ("id", "school_code", "code", "name"),
              (f"{code}-{k:02d}\t{code}\t{k:02d}\t院系{k}\n" for code, _ in schools for k in range(20)))
    large = [code for code, p in schools if p == "44" and code != SMALL_SCHOOL]
    other = [code for code, p in schools if p == "45"]
    total = args.graduates + args.graduates // 10
    people: list[tuple[str, str, str, str, str]] = []  # school, department, name, exam number, level

    def graduate_lines() -> Iterator[str]:
        for n in range(total):
            school = large[n % len(large)] if n < args.graduates else other[n % len(other)]
            department = f"{school}-{rnd.randrange(20):02d}"
            name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
            level = rnd.choice(LEVELS)
            exam = f"26{school}{n:08d}"
            people.append((school, department, name, exam, level))
            yield (f"g{n:09d}\t{school}\t{exam}\tS{n:09d}\t{name}\t{'MF'[n % 2]}\t{department}\t080901\t"
                   f"计算机科学与技术\t{level}\t2026\t440***********123{n % 10}\t1\tf\n")

    copy_rows(dsn, "graduates", ("id", "school_code", "exam_number", "student_number", "name", "gender",
                                 "department_id", "major_code", "major_name", "education_level", "graduation_year",
                                 "identity_number_masked", "sequence", "withdrawn"), graduate_lines())
    statuses, weights = zip(*AGREEMENT_STATUSES, strict=True)
    now = datetime.now(UTC)
    numbers: list[str] = []
    units: list[str] = []

    def agreement_lines() -> Iterator[str]:
        serials: dict[tuple[str, str], int] = {}
        for n, (school, department, _, _, level) in enumerate(people):
            if rnd.random() >= 0.6:
                continue
            serial = serials[(school, level)] = serials.get((school, level), 0) + 1
            number = f"2026{school}{level}{serial:06d}"
            unit = unit_name(rnd)
            numbers.append(number)
            units.append(unit)
            at = (now - timedelta(seconds=rnd.randrange(90 * 86400))).isoformat()
            body = json.dumps({"name": unit, "credit_code": "91440106MA59DEMX1X", "nature": "39", "industry": "34",
                               "region": "440106"}, ensure_ascii=False)
            yield (f"a{n:09d}\t{number}\tonline\temployer\tthree_party\t{rnd.choices(statuses, weights)[0]}\t"
                   f"g{n:09d}\t{school}\t{department}\t{level}\t2026\t{body}\t{{}}\t1\t0\t{'0' * 64}\t{at}\t{at}\n")

    copy_rows(dsn, "agreements", ("id", "number", "flow", "initiator", "agreement_type", "status", "graduate_id",
                                  "school_code", "department_id", "education_level", "graduation_year", "unit",
                                  "terms", "version", "audit_position", "audit_hash", "created_at", "updated_at"),
              agreement_lines())
    return {"people": people, "numbers": numbers, "units": units}


def _run_signing(args: argparse.Namespace, url: str, data_dir: str) -> dict[str, Any]:
    from quxiang.common.auth.principal import Principal, Role, Scope
    from quxiang.common.config import load_config
    from quxiang.common.migrations import upgrade
    from quxiang.signing.adapters.tables import SEARCH_INDEXES
    from quxiang.signing.bootstrap import SERVICE, create_app

    config = load_config("signing", {"QX_DATABASE_URL": url, "QX_DATA_DIR": data_dir, "QX_BROKER_URL": "embedded",
                                     "QX_LOG_JSON": "false"})
    print("signing set-up: the same graduates, an 在线签约 agreement for 60% of them", flush=True)
    upgrade(config, SERVICE)
    tokens = Tokens(config.jwt_audience)
    app = create_app(config, keys=tokens.keys)
    engine = app.extensions["qx.engine"]
    try:
        world = timed("generate + COPY", lambda: load_signing(conninfo(url), args))
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            timed("VACUUM ANALYZE", lambda: conn.execute("VACUUM ANALYZE"))
        client = app.test_client()
        province = tokens.headers(Principal(str(uuid.uuid4()), Role.PROVINCE, Scope(province="44")))
        rnd = random.Random(args.seed + 3)
        count = max(args.requests, 5) + 1
        in_province = [p for p in world["people"][:args.graduates]]
        names = [p[2][:2] for p in rnd.sample(in_province, count)]
        exams = [p[3] for p in rnd.sample(in_province, count)]
        units = [u[2:6] for u in rnd.sample(world["units"], count)]  # the two words: 华信远景
        numbers = rnd.sample(world["numbers"], count)

        def get(query: dict[str, Any]) -> Callable[[int], None]:
            def call(i: int) -> None:
                q = {k: (v(i) if callable(v) else v) for k, v in query.items()}
                response = client.get("/lists/online-signing", query_string=q, headers=province)
                if response.status_code != 200:
                    raise SystemExit(f"{q}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            return call

        scenarios = {
            "signing_first": get({}),
            "signing_name": get({"q": lambda i: names[i]}),
            "signing_exam": get({"q": lambda i: exams[i]}),
            "signing_unit": get({"q": lambda i: units[i]}),
            "signing_number": get({"q": lambda i: numbers[i]}),
        }
        print("measurements: a province user's 在线签约 list", flush=True)
        figures = {label: measure(label, fn, args.requests) for label, fn in scenarios.items()}
        searched = [label for label in scenarios if label != "signing_first"]
        print("the same without the indexes of signing migration 0015", flush=True)
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            for index in (*SEARCH_INDEXES["graduates"], *SEARCH_INDEXES["agreements"]):
                conn.execute(f"DROP INDEX {index}")
            conn.execute("ANALYZE")
        before = {label: measure(label, scenarios[label], max(5, args.requests // 4)) for label in searched}
        return {"signing_first_p95_ms": percentile(figures["signing_first"], 0.95),
                "signing_search_p95_ms": max(percentile(figures[label], 0.95) for label in searched),
                "signing_search_noindex_p95_ms": max(percentile(times, 0.95) for times in before.values())}
    finally:
        engine.dispose()


def _run(args: argparse.Namespace, url: str, data_dir: str) -> dict[str, Any]:
    from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
    from quxiang.common.config import load_config
    from quxiang.common.migrations import upgrade
    from quxiang.records.adapters.tables import BY_NAME_INDEX, SEARCH_INDEXES
    from quxiang.records.bootstrap import SERVICE, create_app
    from quxiang.records.entrypoints.context import EXTENSION_KEY

    os.environ["QX_RECORDS_ID_KEY"] = base64.b64encode(os.urandom(32)).decode()
    config = load_config("records", {"QX_DATABASE_URL": url, "QX_DATA_DIR": data_dir, "QX_BROKER_URL": "embedded",
                                     "QX_LOG_JSON": "false"})
    print(f"set-up: {args.graduates:,} graduates in {args.schools} schools of province 44, "
          f"{args.graduates // 10:,} in province 45", flush=True)
    upgrade(config, SERVICE)
    tokens = Tokens(config.jwt_audience)
    app = create_app(config, keys=tokens.keys)
    service = app.extensions[EXTENSION_KEY]
    try:
        world = timed("generate + COPY", lambda: load(conninfo(url), args, service.cipher))
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            timed("VACUUM ANALYZE", lambda: conn.execute("VACUUM ANALYZE"))
        client = app.test_client()

        bearer = tokens.headers
        province = bearer(Principal(str(uuid.uuid4()), Role.PROVINCE, Scope(province="44")))
        large = world["large"]
        reads = {Module.ARCHIVE: Access.READ}
        schools = [bearer(Principal(str(uuid.uuid4()), Role.SCHOOL, Scope(province="44", school=s), reads))
                   for s in large[:args.requests]]
        departments = [bearer(Principal(str(uuid.uuid4()), Role.DEPARTMENT,
                                        Scope(province="44", school=s, department=f"{s}-{i % 20:02d}"), reads))
                       for i, s in enumerate(large[:args.requests])]
        small = bearer(Principal(str(uuid.uuid4()), Role.SCHOOL, Scope(province="44", school=SMALL_SCHOOL), reads))
        rnd = random.Random(args.seed + 1)
        terms = [n[:2] for n in rnd.sample(world["names"][:args.graduates], max(args.requests, 5) + 1)]
        exams = rnd.sample(world["exams"][:args.graduates], max(args.requests, 5) + 1)

        def get(path: str, headers: dict[str, str], query: dict[str, Any] | None = None) -> Callable[[int], None]:
            def call(i: int) -> None:
                h = headers if isinstance(headers, dict) else headers[i % len(headers)]
                q = {k: (v(i) if callable(v) else v) for k, v in (query or {}).items()}
                response = client.post(path.replace("registrations", "registrations/search"), json=q, headers=h) \
                    if "q" in q else client.get(path, query_string=q, headers=h)
                if response.status_code != 200:
                    raise SystemExit(f"{path} {q}: {response.status_code} {response.get_data(as_text=True)[:300]}")
            return call

        path = "/archive/registrations"
        scenarios: dict[str, Callable[[int], None]] = {
            "province_first": get(path, province, {"page_size": 20}),
            "province_deep": get(path, province, {"page": lambda i: 2000 + i, "page_size": 20}),
            "province_status": get(path, province, {"status": "school_review", "page": lambda i: 1 + i % 3}),
            "province_by_name": get(path, province, {"sort": "name", "order": lambda i: ("asc", "desc")[i % 2]}),
            "province_by_update": get(path, province, {"sort": "updated_at", "order": "desc"}),
            "province_search": get(path, province, {"q": lambda i: terms[i]}),
            "province_exam": get(path, province, {"q": lambda i: exams[i]}),
            "school_first": get(path, schools),
            "school_status": get(path, schools, {"status": "school_review"}),
            "school_search": get(path, schools, {"q": lambda i: terms[i]}),
            "department_first": get(path, departments),
        }
        only = set(args.only.split(",")) if args.only else None
        print("measurements (Flask test client, one request at a time)", flush=True)
        figures = {label: measure(label, fn, args.requests) for label, fn in scenarios.items()
                   if not only or label in only}
        baseline = measure("baseline", get(path, small), args.requests)
        every = [t for times in figures.values() for t in times]
        worst = max(figures, key=lambda label: percentile(figures[label], 0.95))
        searched = [label for label in ("province_search", "province_exam", "province_by_name") if label in figures]
        if searched:
            print("the same without the indexes of records migration 0009", flush=True)
            with psycopg.connect(conninfo(url), autocommit=True) as conn:
                for index in (*SEARCH_INDEXES, BY_NAME_INDEX):
                    conn.execute(f"DROP INDEX {index}")
                conn.execute("ANALYZE graduates")
        before = {label: measure(label, scenarios[label], max(5, args.requests // 4)) for label in searched}
        return {"p50_ms": percentile(every, 0.5), "p95_ms": percentile(every, 0.95),
                "worst_p95_ms": percentile(figures[worst], 0.95), "worst": worst,
                "baseline_p95_ms": percentile(baseline, 0.95),
                "search_p95_ms": max((percentile(figures[label], 0.95) for label in searched), default=None),
                "search_noindex_p95_ms": max((percentile(times, 0.95) for times in before.values()), default=None)}
    finally:
        service.engine.dispose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graduates", type=int, default=510_000)
    parser.add_argument("--schools", type=int, default=150)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--only", default="", help="comma-separated scenario names (records' part)")
    parser.add_argument("--parts", default="records,signing", help="records, signing or both")
    parser.add_argument("--keep", action="store_true", help="keep the database (for EXPLAIN)")
    parser.add_argument("--postgres", default=os.environ.get("QX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = run(parse_args(argv))
    words = [f"{key}={r[key]}" if isinstance(r[key], str) else f"{key}={r[key]:.1f}"
             for key in ("p50_ms", "p95_ms", "worst_p95_ms", "worst", "baseline_p95_ms", "search_p95_ms",
                         "search_noindex_p95_ms", "signing_first_p95_ms", "signing_search_p95_ms",
                         "signing_search_noindex_p95_ms")
             if r.get(key) is not None]  # a part left out (--parts, --only) has no figures
    print(" ".join(words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
