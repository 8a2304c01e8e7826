"""make_engine and reading (quxiang.common.db) on the real PostgreSQL: what goes over the wire for a
read, and what happens to pooled connections the server dropped."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc as sa_exc
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from quxiang.common.db import make_engine, reading


class Wire:
    """The commands an engine's connections send, from libpq's protocol trace."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.path = folder / "trace.txt"
        self.file = open(self.path, "ab")
        event.listen(engine, "connect", lambda dbapi_conn, _record: dbapi_conn.pgconn.trace(self.file.fileno()))
        self.mark = 0

    def since_mark(self) -> list[str]:
        self.file.flush()
        data = self.path.read_bytes()[self.mark:].decode(errors="replace")
        self.mark = self.path.stat().st_size
        # A line is "<time>\tF|B\t<length>\t<message>\t<body>"; F is what the client sent.
        return [line.split("\t")[4].strip(' "') for line in data.splitlines()
                if line.count("\t") >= 4 and line.split("\t")[1] == "F" and line.split("\t")[3] == "Query"]


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, ping_after_idle=0.3)
    yield engine
    engine.dispose()


@pytest.fixture
def wire(engine: Engine) -> Iterator[Wire]:
    with tempfile.TemporaryDirectory() as folder:
        wire = Wire(engine, Path(folder))
        yield wire
        wire.file.close()


def _backend_pid(conn: Any) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(pg_url: str, pid: int) -> None:
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    time.sleep(0.1)


def test_a_read_sends_only_its_statements(engine: Engine, wire: Wire) -> None:
    with reading(engine) as conn:
        conn.execute(text("SELECT 1"))  # opens the pooled connection
    wire.since_mark()
    with reading(engine) as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
        assert conn.execute(text("SELECT 3")).scalar() == 3
    assert wire.since_mark() == ["SELECT 2", "SELECT 3"]


def test_a_connection_read_from_is_transactional_again_for_writes(engine: Engine, wire: Wire) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n int)"))
    with reading(engine) as conn:
        conn.execute(text("SELECT count(*) FROM t"))
    wire.since_mark()
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("half-way")
    sent = wire.since_mark()
    assert sent[0].startswith("BEGIN") and sent[-1] == "ROLLBACK", sent
    with reading(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0  # rolled back, not autocommitted


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, wire: Wire) -> None:
    for n in range(3):
        with reading(engine) as conn:
            conn.execute(text(f"SELECT {n}"))
    assert wire.since_mark()[-3:] == ["SELECT 0", "SELECT 1", "SELECT 2"]


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine: Engine, wire: Wire,
                                                                       pg_url: str) -> None:
    with reading(engine) as conn:
        first = _backend_pid(conn)
    _terminate(pg_url, first)
    time.sleep(0.35)  # longer than ping_after_idle
    wire.since_mark()
    with reading(engine) as conn:
        assert _backend_pid(conn) != first  # no error: the ping found it gone, the pool opened another
    assert wire.since_mark()[0] == ";"  # the ping: an empty query


def test_a_connection_dropped_within_the_window_fails_once_then_the_pool_recovers(engine: Engine,
                                                                                  pg_url: str) -> None:
    with reading(engine) as conn:
        first = _backend_pid(conn)
    _terminate(pg_url, first)
    with pytest.raises(sa_exc.OperationalError) as failure, reading(engine) as conn:
        conn.execute(text("SELECT 1"))
    assert failure.value.connection_invalidated  # what the APIs answer 503 for
    with reading(engine) as conn:
        assert _backend_pid(conn) != first


def test_reading_on_sqlite_is_a_plain_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n int)"))
        conn.execute(text("INSERT INTO t VALUES (7)"))
    with reading(engine) as conn:
        assert conn.execute(text("SELECT n FROM t")).scalar() == 7
        assert conn.get_execution_options().get("isolation_level") is None
    engine.dispose()


def test_a_streamed_read_keeps_its_transaction(engine: Engine) -> None:
    query = text("SELECT generate_series(1, 5)")
    with reading(engine, streaming=True) as conn:
        assert [n for (n,) in conn.execution_options(yield_per=2).execute(query)] == [1, 2, 3, 4, 5]
    # Without it a server-side cursor has no transaction to live in: what streaming=True is for.
    with pytest.raises(sa_exc.InternalError, match="transaction"), reading(engine) as conn:
        list(conn.execution_options(yield_per=2).execute(query))


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_conflict_insert_speaks_each_database_s_on_conflict(backend: str, request: pytest.FixtureRequest,
                                                             tmp_path: Path) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table, select
    from sqlalchemy.orm import Session

    from quxiang.common.db import conflict_insert, dialect_name

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    table = Table("t", MetaData(), Column("k", String(10), primary_key=True), Column("n", Integer))
    table.create(engine)
    with Session(engine) as session:
        assert dialect_name(session) == backend
        for n in (1, 2):  # the second one meets the first: added to it, not an error
            stmt = conflict_insert(session, table).values(k="a", n=n)
            session.execute(stmt.on_conflict_do_update(index_elements=["k"], set_={"n": table.c.n + stmt.excluded.n}))
        session.commit()
    with engine.begin() as conn:
        assert dialect_name(conn) == dialect_name(engine) == backend
        conn.execute(conflict_insert(backend, table).values(k="a", n=9).on_conflict_do_nothing())
        assert conn.execute(select(table.c.n)).scalar() == 3
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_page_by_key_gives_the_same_page_as_offset_and_limit(backend: str, request: pytest.FixtureRequest,
                                                             tmp_path: Path) -> None:
    from sqlalchemy import JSON, Column, ForeignKey, Integer, MetaData, String, Table, insert, select

    from quxiang.common.db import page_by_key

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    metadata = MetaData()
    owners = Table("owners", metadata, Column("id", String(10), primary_key=True), Column("name", String(20)))
    items = Table("items", metadata, Column("id", String(10), primary_key=True),
                  Column("owner_id", String(10), ForeignKey("owners.id")), Column("rank", Integer),
                  Column("number", String(10), unique=True), Column("fields", JSON))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(owners), [{"id": f"o{i}", "name": f"name {i % 3}"} for i in range(5)])
        # Ranks repeat (the tie-breaker decides), and some items have no owner (the outer join keeps them).
        conn.execute(insert(items), [{"id": f"i{i:02d}", "owner_id": f"o{i % 6}" if i % 6 < 5 else None,
                                      "rank": (i * 7) % 4, "number": f"n{(i * 13) % 47:02d}",
                                      "fields": {"unit": f"unit {i}"}} for i in range(47)])
    joined = items.outerjoin(owners, owners.c.id == items.c.owner_id)
    columns = (items.c.id, items.c.number, items.c.fields["unit"].as_string().label("unit"), owners.c.name)
    # (the list unfiltered, its filters)
    lists = [
        (select(*columns).select_from(joined).order_by(items.c.rank.desc(), items.c.number), []),
        (select(*columns).select_from(joined).order_by(owners.c.name, items.c.number.desc()), [items.c.rank < 3]),
        (select(*columns).select_from(joined).order_by(items.c.number), [owners.c.name == "name 1"]),
    ]
    with reading(engine) as conn:
        for read, conditions in lists:
            listed = read.where(*conditions)
            whole = conn.execute(listed).all()
            assert 10 < len(whole) < (47 if conditions else 48)
            for offset, limit in ((0, 5), (5, 5), (10, 20), (len(whole) - 3, 20), (len(whole), 5)):
                expected = conn.execute(listed.offset(offset).limit(limit)).all()
                assert conn.execute(page_by_key(listed, items.c.number, offset, limit)).all() == expected
                # The page's rows read by their keys without the filters again: the same page.
                assert conn.execute(page_by_key(listed, items.c.number, offset, limit, read=read)).all() == expected
                assert expected == whole[offset:offset + limit]
    # Built once with bound values, run for every page and filter value: the same rows and totals.
    from sqlalchemy import bindparam, event, func

    from quxiang.common.db import LIST_TOTAL, ListStatements

    named = owners.c.name == bindparam("name")
    read = select(*columns).select_from(joined).order_by(items.c.number)
    by_name = read.where(named)
    shaped = ListStatements.of(select(func.count()).select_from(joined).where(named), read, [named], items.c.number)
    # The page's rows are read by their keys, filtered already: the filter runs for the keys and the
    # total, not a third time for the rows.
    assert str(shaped.page.compile(engine)).count("owners.name = ") == 2
    with engine.connect() as conn:  # a server-side cursor needs a transaction (as an export has)
        for name in ("name 0", "name 2", "name 1", "nobody"):
            whole = conn.execute(by_name, {"name": name}).all()
            assert list(shaped.stream(conn, {"name": name}, batch=3)) == whole
            for offset, limit in ((0, 5), (5, 5), (len(whole) - 2, 20), (len(whole), 5), (len(whole) + 7, 5)):
                rows, total = shaped.page_of(conn, {"name": name}, max(offset, 0), limit)
                assert total == len(whole)
                # Each row carries the total last, the list's own columns before it.
                assert [tuple(row)[:-1] for row in rows] == whole[max(offset, 0):max(offset, 0) + limit]
                assert all(getattr(row, LIST_TOTAL) == len(whole) for row in rows)
    reads: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: reads.append(args[2]) if args[2].startswith("SELECT") else None)
    with reading(engine) as conn:
        assert shaped.page_of(conn, {"name": "name 1"}, 0, 5)[1] > 5
    assert len(reads) == 1  # the page and its total together
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_keys_nulls_last_give_the_pages_of_the_whole_order(backend: str, request: pytest.FixtureRequest,
                                                          tmp_path: Path) -> None:
    """A list sorted by a column of an outer-joined table, found in two parts (rows with the column,
    rows without): every page as the plain ORDER BY .. NULLS LAST gives it, in either direction,
    with ties in the sort, filters that empty either part, and pages across the parts' boundary."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, func, insert, select

    from quxiang.common.db import PAGE_LIMIT, PAGE_OFFSET, ListStatements, keys_nulls_last, page_params, sort_order

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    metadata = MetaData()
    people = Table("people", metadata, Column("id", String(10), primary_key=True),
                   Column("code", String(10), nullable=False, unique=True), Column("group", String(5)))
    changes = Table("changes", metadata, Column("person_id", String(10), primary_key=True),
                    Column("state", String(10), nullable=False), Column("at", DateTime(timezone=True)))
    metadata.create_all(engine)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": f"p{i:02d}", "code": f"c{(i * 17) % 53:02d}", "group": "ab"[i % 2]}
                                      for i in range(53)])
        # Two in three have a change, at times that repeat (the code breaks the ties); one has a change
        # without a time (a NULL of the joined table itself, last as those without a change).
        conn.execute(insert(changes), [{"person_id": f"p{i:02d}", "state": "xy"[i % 4 == 0],
                                        "at": None if i == 7 else start + timedelta(minutes=(i * 5) % 11)}
                                       for i in range(53) if i % 3])
    joined = people.outerjoin(changes, changes.c.person_id == people.c.id)
    read = select(people.c.id, people.c.code, changes.c.state, changes.c.at).select_from(joined)
    filters = {"none": ([], {}), "group": ([people.c.group == bindparam("group")], {"group": "a"}),
               "changed": ([changes.c.state == bindparam("state")], {"state": "y"}),
               "unchanged": ([changes.c.person_id.is_(None)], {})}
    with reading(engine) as conn:
        for name, (conditions, params) in filters.items():
            for descending in (False, True):
                order = [sort_order(changes.c.at, descending), people.c.code.asc()]
                narrow = select(people.c.id).select_from(joined).where(*conditions)
                keys = keys_nulls_last(narrow, changes.c.at, descending, [people.c.code], PAGE_OFFSET, PAGE_LIMIT)
                shaped = ListStatements.of(select(func.count()).select_from(narrow.subquery()),
                                           read.order_by(*order), conditions, people.c.id, keys)
                whole = conn.execute(read.where(*conditions).order_by(*order), params).all()
                assert whole and (len(whole) < 53 or name == "none"), name
                assert [row.at for row in whole[-1:]] == [None] or name == "changed"
                for offset, limit in ((0, 5), (5, 7), (30, 10), (len(whole) - 3, 20), (len(whole), 5)):
                    rows, total = shaped.page_of(conn, params, offset, limit)
                    assert total == len(whole)
                    assert [tuple(row)[:-1] for row in rows] == whole[offset:offset + limit], (name, descending,
                                                                                              offset)
                    assert len(conn.execute(keys, {**params, **page_params(offset, limit)}).all()) == len(rows)
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
@pytest.mark.parametrize(("searched", "found"), [
    ("%", ["100%服务"]), ("_", ["A_B科技"]), ("A_B", ["A_B科技"]), ("\\", ["C:\\盘"]), ("100%", ["100%服务"]),
    ("AB", ["AB科技"]), ("科技", ["AB科技", "A_B科技"]),
])
def test_a_contains_pattern_takes_wildcards_literally(backend: str, searched: str, found: list[str],
                                                     request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from sqlalchemy import Column, MetaData, String, Table, select

    from quxiang.common.db import LIKE_ESCAPE, contains_pattern

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    table = Table("units", MetaData(), Column("name", String(20)))
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"name": n} for n in ("AB科技", "A_B科技", "100%服务", "C:\\盘")])
            rows = conn.execute(select(table.c.name).where(
                table.c.name.like(contains_pattern(searched), escape=LIKE_ESCAPE)).order_by(table.c.name)).scalars()
            assert sorted(rows) == sorted(found)
    finally:
        table.drop(engine)
        engine.dispose()
