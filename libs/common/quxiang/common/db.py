"""Engines, the one way every service opens its database."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    cast,
    create_engine,
    event,
    null,
    pool,
    select,
    text,
    union_all,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

# A pooled connection that has sat unused longer than this is pinged before it is handed out (the
# database may have restarted, or a firewall dropped it, meanwhile). One in steady use is not: a
# ping is one more round trip on every checkout, as many as a short read's own. A connection that
# broke within the window fails its first statement instead; SQLAlchemy then replaces every pooled
# connection older than the failure, and the request answers 503 (try again).
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "qx_idle_since"


def make_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so the embedded mode's threads share
    it; PostgreSQL's pooled connections are pinged when they have been idle ``ping_after_idle`` s."""
    parsed = make_url(url)
    # A failed statement's parameters stay out of the exception and so out of every log: they hold
    # password hashes, names and encrypted identity numbers.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below issues BEGIN itself
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN so two
        # threads never both read and then fail to upgrade.
        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_after_idle)
    return engine


PROBE_CONNECT_TIMEOUT_SECONDS = 2


def probe_engine(engine: Engine) -> Engine:
    """The engine /readyz and /metrics read ``engine``'s database through: on PostgreSQL a connection
    of its own for each look (no pool; 2 s to connect). Through the requests' pool, a pool held by
    slow requests kept them waiting 30 s for a connection: the orchestrator's probe timed out and
    took a busy replica out as if its database were down, and the scrape saw nothing just when the
    figures mattered. SQLite (the embedded default, one process) answers through ``engine``."""
    if engine.dialect.name != "postgresql":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), poolclass=pool.NullPool,
                       connect_args={"connect_timeout": PROBE_CONNECT_TIMEOUT_SECONDS})


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # none on a new connection: it has just been opened
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out a fresh one.
            raise sa_exc.DisconnectionError("a pooled connection that sat idle is gone") from exc


def reading(engine: Engine, *, streaming: bool = False) -> Connection:
    """A connection for reads only (``with reading(engine) as conn:``). On PostgreSQL it runs in
    autocommit, so a read costs its own statements and no BEGIN and ROLLBACK round trips; each
    statement sees what was committed when it started, exactly as in the READ COMMITTED transaction
    it replaces. ``streaming=True`` keeps the transaction, for a read through a server-side cursor
    (``stream_results``, ``yield_per``), which lives only in one. Writes go through a unit of work
    or ``engine.begin()``."""
    connection = engine.connect()
    if not streaming and is_postgres(engine):
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def dialect_name(bind: Engine | Connection | Session) -> str:
    """The database a bind talks to: "postgresql" or "sqlite"."""
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


_KEYED_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def serialize_on(bind: Engine | Connection | Session, key: str) -> None:
    """Wait until no other transaction holds ``key``, then hold it to the end of this transaction
    (PostgreSQL: a transaction-scoped advisory lock on the key's hash). For a rule that reads rows
    which do not exist yet, where no row lock can guard the read; SQLite serialises every writer
    already."""
    if dialect_name(bind) == "postgresql":
        bind.execute(_KEYED_LOCK, {"key": key})


def conflict_insert(bind: Engine | Connection | Session | str, table: Any) -> Insert:
    """An INSERT that knows ON CONFLICT on this database, PostgreSQL's or SQLite's (``bind`` may be
    the dialect's name, for a statement built once for either)."""
    dialect = bind if isinstance(bind, str) else dialect_name(bind)
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# A page's place as parameters, for a list statement built once and run for any page.
PAGE_OFFSET = bindparam("qx_page_offset", type_=Integer)
PAGE_LIMIT = bindparam("qx_page_limit", type_=Integer)


# The column a page's rows carry their list's total in (``ListStatements.page``).
LIST_TOTAL = "qx_list_total"


def sort_order(key: ColumnElement[Any], descending: bool, base: Any = None) -> ColumnElement[Any]:
    """A list's ORDER BY term: rows without the key (no 学号, no registration yet) last in either order
    on every database (PostgreSQL puts NULL last ascending and first descending, SQLite the reverse).
    A NOT NULL column of ``base``, the list's own table (not one outer-joined to it, whose columns
    are NULL where nothing joined), is left plain: ``DESC NULLS LAST`` would keep PostgreSQL from
    reading its index backwards (a province's list by 考生号 descending sorted every row instead)."""
    ordered = key.desc() if descending else key.asc()
    if isinstance(key, Column) and not key.nullable and base is not None and key.table is base:
        return ordered
    return ordered.nulls_last()


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own ``%``, ``_`` and backslash taken literally
    (use with ``.ilike(pattern, escape=LIKE_ESCAPE)``: letters in either case on every database): a
    search for "A_B科技" or "100%" finds them, and a search for "%" finds only a percent sign, not
    every row."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def page_params(offset: int, limit: int) -> dict[str, int]:
    """The values of ``PAGE_OFFSET`` and ``PAGE_LIMIT``."""
    return {PAGE_OFFSET.key: offset, PAGE_LIMIT.key: limit}


def page_by_key(rows: Select[Any], key: ColumnElement[Any], offset: int | ColumnElement[int],
                limit: int | ColumnElement[int], read: Select[Any] | None = None) -> Select[Any]:
    """The page ``offset .. offset + limit`` of ``rows`` (a filtered, ordered list query), found by its
    unique ``key`` first: the database filters and sorts narrow rows (the key and the sort columns),
    then joins and reads the wide columns (the graduate's, JSON fields) for the page's rows only,
    where ``rows.offset().limit()`` builds every matching row whole before it sorts. Same rows, same
    order; ``key`` must be unique among ``rows``. On a list of 715 agreements: 2.0 ms -> 0.5 ms.
    ``read`` is ``rows`` without its filters (the same columns, FROM and order; ``key`` unique in it
    too): the page's keys are filtered already, so the filters run once, not again for the page's
    rows (a province's 在线签约 search evaluated its subqueries a second time: a third of the request).
    ``offset`` and ``limit`` may be ``PAGE_OFFSET`` and ``PAGE_LIMIT``, given by ``page_params``."""
    page = rows.with_only_columns(key, maintain_column_froms=True).offset(offset).limit(limit)
    # Not correlated: the page query has its own FROM, even where it names the outer query's tables.
    return (rows if read is None else read).where(key.in_(page.correlate(None)))


def keys_nulls_last(narrow: Select[Any], sort: ColumnElement[Any], descending: bool,
                    then: Sequence[ColumnElement[Any]], offset: int | ColumnElement[int],
                    limit: int | ColumnElement[int], joined_by: ColumnElement[Any] | None = None) -> Select[Any]:
    """The keys of the page ``offset .. offset + limit`` of ``narrow`` (a list's unique key over its
    FROM, filtered) ordered by ``sort`` (``sort_order``: NULL last either way), then by ``then``
    ascending, found in two parts: the rows with a ``sort`` and those without (whose order is
    ``then`` alone), the first ``offset + limit`` of each, merged. Where ``sort`` is a column of a
    table outer-joined to the list (a registration's 更新时间 beside every graduate), the first part
    can walk an index of it and the second the list's own: a province's 图7 by 更新时间 sorted all
    its graduates. Same keys as ``narrow.order_by(...).offset().limit()``. Where ``sort`` is NOT NULL
    in its table, ``joined_by`` is the column that table is outer-joined by: NULL exactly where
    ``sort`` is, and the database reads the rows without as an anti-join (on ``sort`` itself it joins
    every row and filters after)."""
    depth = offset + limit
    thens = [column.label(f"qx_then_{n}") for n, column in enumerate(then)]
    present = (narrow.add_columns(sort.label("qx_sort"), *thens).where(sort.is_not(None))
               .order_by(sort.desc() if descending else sort.asc(), *then).limit(depth).subquery())
    missing = (sort if joined_by is None else joined_by).is_(None)
    absent = (narrow.add_columns(cast(null(), sort.type).label("qx_sort"), *thens).where(missing)
              .order_by(*then).limit(depth).subquery())
    both = union_all(select(present), select(absent)).subquery()
    first = both.c.qx_sort.desc() if descending else both.c.qx_sort.asc()
    return (select(both.c[0]).order_by(first.nulls_last(), *(both.c[label.name] for label in thens))
            .offset(offset).limit(limit))


@dataclass(frozen=True)
class ListStatements:
    """A list's statements for one shape (which filters are given, the sort), built once and run
    with each request's values: building a statement and its cache key took a quarter of a list
    request's CPU, and only the values change between requests. ``rows`` is the whole filtered,
    ordered list (for exports), ``page`` its page by ``PAGE_OFFSET``/``PAGE_LIMIT`` with the total
    beside each row (``LIST_TOTAL``), so a page and its total are one statement and one snapshot."""

    count: Select[Any]
    rows: Select[Any]
    page: Select[Any]

    @classmethod
    def of(cls, counted: Select[Any], read: Select[Any], conditions: Sequence[ColumnElement[bool]],
           key: ColumnElement[Any], keys: Select[Any] | None = None) -> ListStatements:
        """The list ``read`` (its columns over its FROM, ordered) filtered by ``conditions``, paged by
        its unique ``key`` (``page_by_key``), or by the page's ``keys`` where a statement of the
        caller's finds them faster (``keys_nulls_last``, by ``PAGE_OFFSET``/``PAGE_LIMIT``);
        ``counted`` its total."""
        # Not correlated: the count has its own FROM, though it names the page's tables.
        total = counted.scalar_subquery().correlate(None).label(LIST_TOTAL)
        rows = read.where(*conditions)
        if keys is None:
            page = page_by_key(rows, key, PAGE_OFFSET, PAGE_LIMIT, read=read)
        else:
            page = read.where(key.in_(keys.correlate(None)))
        return cls(count=counted, rows=rows, page=page.add_columns(total))

    def page_of(self, bind: Connection | Session, params: dict[str, Any], offset: int,
                limit: int) -> tuple[list[Any], int]:
        """The rows of one page (each with ``LIST_TOTAL`` last) and the total: one statement, or a
        second one that counts when the page is empty."""
        rows = list(bind.execute(self.page, {**params, **page_params(offset, limit)}))
        if rows:
            return rows, rows[0][-1]
        return rows, bind.execute(self.count, params).scalar_one()

    def stream(self, conn: Connection, params: dict[str, Any], batch: int = 2000) -> Iterator[Any]:
        """Every row, fetched in batches through a server-side cursor: memory stays flat however many."""
        yield from conn.execution_options(stream_results=True, yield_per=batch).execute(self.rows, params)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class NotificationListener:
    """LISTEN on a PostgreSQL channel, so an idle loop (a relay, a sync worker) wakes as soon as a
    transaction that notifies commits. Its own autocommit connection, reopened after an error."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self._conn: Any = None

    def wait(self, timeout: float) -> bool:
        """True if a notification came within ``timeout`` (or the connection was just opened, when
        something may have been missed); False on timeout or when the database is unavailable."""
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                self._conn.execute(f"LISTEN {self.channel}")
                return True  # rows may have come while not listening: look once more
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error:
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
