"""An append-only, hash-chained audit trail: who did what to an aggregate, when, and why.

Each aggregate (an agreement, a registration, ...) has its own chain of rows, numbered by
``position`` 1, 2, 3, ... Every row stores the hash of the row before it (``prev_hash``; the first
row stores the genesis value, 64 zeros) and its own ``hash`` over its content, so changing, deleting,
inserting or reordering rows breaks the chain and :func:`verify` reports it.

The hash format (version 1), for an auditor who wants to recompute it
------------------------------------------------------------------------
``hash = lowercase hex SHA-256 of the UTF-8 bytes of a JSON object`` with exactly these keys::

    action, actor_id, actor_role, aggregate_id, at, details, from_state, position, prev_hash,
    reason, request_id, to_state

- the JSON is written with keys sorted (at every level, also inside ``details``), no whitespace
  (separators ``","`` and ``":"``), non-ASCII characters as themselves (not ``\\uXXXX``), no NaN or
  Infinity: Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)``;
- ``position`` is a JSON integer; ``prev_hash`` is the 64 lowercase hex characters stored in the row;
- ``at`` is the instant in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits,
  the ``Z`` suffix), e.g. ``2026-07-01T08:30:00.000000Z``;
- a NULL column is JSON ``null``; ``details`` is the stored JSON value (object, list, ...) or null;
- the database ``id`` is not hashed (the database assigns it; ``position`` is the order).

Example: ``{"action":"sign","actor_id":"u-1","actor_role":"graduate","aggregate_id":"a-1",
"at":"2026-07-01T08:30:00.000000Z","details":null,"from_state":"invited","position":1,
"prev_hash":"000...000","reason":null,"request_id":"r-1","to_state":"signed"}``.

What verification can and cannot see
------------------------------------
A changed row (its hash no longer matches its content), a changed hash (the next row's ``prev_hash``
no longer matches), a deleted or inserted row in the middle (a gap in positions or a broken link)
and a deleted head (the chain does not start at position 1 with the genesis hash) are detected from
the chain alone. Deleting the LAST rows of a chain is not: what remains is a valid, shorter chain.
To catch that, keep an anchor outside the audit table (for example the aggregate stores its latest
audit position and hash on its own row, written in the same transaction as the append) and pass
``anchors`` to :func:`verify`. Anyone who can rewrite every row of a chain and its anchor can forge
it; the chain makes tampering evident, it does not make it impossible.

Concurrency
-----------
Positions come from "last position + 1", so two transactions appending to one aggregate must not
both read the same last row. On PostgreSQL, :func:`append` takes a transaction-scoped advisory
lock keyed by (table, aggregate) before reading the last row, so appends to one aggregate wait for
each other until commit (including the very first append, when there is no row to lock with
``SELECT ... FOR UPDATE``; appends to other aggregates do not wait). On SQLite the database-wide
write lock (``BEGIN IMMEDIATE``, see :func:`quxiang.common.db.make_engine`) serialises them. The
unique constraint on (aggregate_id, position) is the guarantee behind both: if an append still
collides (a REPEATABLE READ or SERIALIZABLE transaction whose snapshot predates another append, or
a writer that bypasses :func:`append`), it raises :class:`AuditConflict` and the caller rolls back
and retries its whole transaction.

A caller that keeps the anchor on the aggregate's row and holds that row locked (``SELECT ... FOR
UPDATE``) already knows the chain's end: it passes it as ``after`` (``(0, GENESIS_HASH)`` for an
aggregate it is creating), and :func:`append` neither locks nor reads, one statement instead of
three. The row lock serialises the appends as the advisory lock would; an anchor that is not the
chain's end (an append that did not move it) takes a position already taken, which the unique
constraint refuses as :class:`AuditConflict`: never a fork of the chain.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import groupby
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import ReturningInsert

GENESIS_HASH = "0" * 64
NEW_CHAIN = (0, GENESIS_HASH)  # ``after`` for an aggregate being created: no entry yet

_HASHED_FIELDS = (
    "action", "actor_id", "actor_role", "aggregate_id", "at", "details", "from_state", "position",
    "prev_hash", "reason", "request_id", "to_state",
)
_STREAM_BATCH = 1000


def audit_table(metadata: MetaData, name: str = "audit_trail") -> Table:
    """The audit table ``name`` on ``metadata``; a service creates it in one of its migrations."""
    return Table(
        name, metadata,
        # SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
        Column("aggregate_id", String(64), nullable=False),
        Column("position", Integer, nullable=False),
        Column("actor_id", String(64), nullable=False),
        Column("actor_role", String(64), nullable=False),
        Column("action", String(100), nullable=False),
        Column("from_state", String(64), nullable=True),
        Column("to_state", String(64), nullable=True),
        Column("reason", Text, nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("details", JSON(none_as_null=True), nullable=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        # Also the index that reads a chain in order and finds its last row.
        UniqueConstraint("aggregate_id", "position", name=f"uq_{name}_aggregate_position"),
    )


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail."""

    id: int | None
    aggregate_id: str
    position: int
    actor_id: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    request_id: str | None
    details: Any
    at: datetime
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """The hash this entry's content should have (compare with ``hash``)."""
        return compute_hash(self)


class ProblemKind(StrEnum):
    CHANGED = "changed"          # the row's hash does not match its content
    BROKEN_LINK = "broken_link"  # prev_hash is not the previous row's hash
    GAP = "gap"                  # positions are not consecutive: a row was deleted (or the numbering edited)
    BAD_HEAD = "bad_head"        # the chain does not start at position 1 with the genesis hash
    TRUNCATED = "truncated"      # the chain does not reach, or does not match, the caller's anchor


@dataclass(frozen=True)
class AuditProblem:
    aggregate_id: str
    position: int | None
    kind: ProblemKind
    detail: str


class AuditConflict(Exception):
    """Another transaction appended to the same aggregate at the same position; roll back and retry."""

    def __init__(self, aggregate_id: str, position: int) -> None:
        super().__init__(f"audit position {position} of aggregate {aggregate_id!r} was taken by a concurrent "
                         "append; roll the transaction back and retry it")
        self.aggregate_id = aggregate_id
        self.position = position


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed, from an entry's fields (see the module docstring)."""
    document = {key: fields[key] for key in _HASHED_FIELDS}
    document["at"] = _utc_text(fields["at"])
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def compute_hash(entry: AuditEntry | Mapping[str, Any]) -> str:
    fields = entry.__dict__ if isinstance(entry, AuditEntry) else entry
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def append(
    session_or_connection: Session | Connection,
    table: Table,
    *,
    aggregate_id: str,
    actor_id: str,
    actor_role: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None = None,
    request_id: str | None = None,
    details: Any = None,
    at: datetime | None = None,
    after: tuple[int, str] | None = None,
) -> AuditEntry:
    """Append one entry to ``aggregate_id``'s chain in the caller's transaction (the caller commits).

    ``after``: the chain's end (position, hash) from the anchor on the aggregate's row, which the
    caller holds locked (see Concurrency above); without it the end is read under a lock.
    Raises :class:`AuditConflict` if a concurrent transaction took the same position.
    """
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    at = at.astimezone(UTC)
    if details is not None:
        # Store and hash exactly what a JSON round trip gives back (tuples become lists, ...).
        details = json.loads(json.dumps(details, allow_nan=False))
    conn = _connection(session_or_connection)
    statements = _statements(table)
    if after is not None:
        position, prev_hash = after[0] + 1, after[1]
    else:
        if conn.dialect.name == "postgresql":
            conn.execute(_ADVISORY_LOCK, {"key": _lock_key(table.name, aggregate_id)})
        last = conn.execute(statements.last, {"aggregate_id": aggregate_id}).first()
        position, prev_hash = (last.position + 1, last.hash) if last else (1, GENESIS_HASH)
    fields: dict[str, Any] = {
        "aggregate_id": aggregate_id, "position": position, "actor_id": actor_id, "actor_role": actor_role,
        "action": action, "from_state": from_state, "to_state": to_state, "reason": reason,
        "request_id": request_id, "details": details, "at": at, "prev_hash": prev_hash,
    }
    fields["hash"] = compute_hash(fields)
    try:
        row_id = conn.execute(statements.insert, fields).scalar_one()
    except IntegrityError as exc:
        if _is_position_conflict(exc, table):
            raise AuditConflict(aggregate_id, position) from exc
        raise
    return AuditEntry(id=row_id, **fields)


def trail(connection: Connection | Session, table: Table, aggregate_id: str) -> list[AuditEntry]:
    """``aggregate_id``'s entries in order, for detail views."""
    rows = _connection(connection).execute(_statements(table).chain, {"aggregate_id": aggregate_id})
    return [_entry(row) for row in rows]


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@dataclass(frozen=True)
class _Statements:
    last: Select[Any]
    insert: ReturningInsert[Any]
    chain: Select[Any]


@functools.cache
def _statements(table: Table) -> _Statements:
    """An audit table's statements, built once: appending runs on every write of every service, and
    building a statement costs more than running it."""
    aggregate = table.c.aggregate_id == bindparam("aggregate_id")
    return _Statements(
        last=select(table.c.position, table.c.hash).where(aggregate).order_by(table.c.position.desc()).limit(1),
        insert=insert(table).returning(table.c.id),
        chain=select(table).where(aggregate).order_by(table.c.position),
    )


def verify(
    connection: Connection | Session,
    table: Table,
    aggregate_id: str | None = None,
    *,
    anchors: Mapping[str, tuple[int, str]] | None = None,
) -> list[AuditProblem]:
    """Check every chain (or only ``aggregate_id``'s) and return what is wrong, in chain order.

    ``anchors`` maps an aggregate to a (position, hash) it is known to have reached, kept outside
    the audit table; the chain must contain that position with that hash, which detects deleted
    last rows (later rows are allowed). Rows are streamed, never loaded all at once.
    """
    anchors = dict(anchors or {})
    if aggregate_id is not None:
        anchors = {key: value for key, value in anchors.items() if key == aggregate_id}
    problems: list[AuditProblem] = []
    seen_anchored: set[str] = set()
    for chain_id, entries in _chains(_connection(connection), table, aggregate_id):
        if chain_id in anchors:
            seen_anchored.add(chain_id)
        problems.extend(_check_chain(chain_id, entries, anchors.get(chain_id)))
    for missing in sorted(set(anchors) - seen_anchored):
        position, _ = anchors[missing]
        problems.append(AuditProblem(missing, position, ProblemKind.TRUNCATED,
                                     f"the anchor is at position {position} but the chain has no rows"))
    return problems


def _check_chain(aggregate_id: str, entries: Iterator[AuditEntry],
                 anchor: tuple[int, str] | None) -> Iterator[AuditProblem]:
    previous: AuditEntry | None = None
    anchor_seen = False
    for entry in entries:
        position = entry.position
        if entry.computed_hash() != entry.hash:
            yield AuditProblem(aggregate_id, position, ProblemKind.CHANGED,
                               f"position {position}: the stored hash does not match the row's content")
        if previous is None:
            if position != 1 or entry.prev_hash != GENESIS_HASH:
                yield AuditProblem(aggregate_id, position, ProblemKind.BAD_HEAD,
                                   f"the chain starts at position {position}"
                                   + ("" if entry.prev_hash == GENESIS_HASH else " without the genesis prev_hash")
                                   + ": its first rows were deleted or replaced")
        elif position != previous.position + 1:
            yield AuditProblem(aggregate_id, position, ProblemKind.GAP,
                               f"positions {previous.position + 1}..{position - 1} are missing before position "
                               f"{position}")
        elif entry.prev_hash != previous.hash:
            yield AuditProblem(aggregate_id, position, ProblemKind.BROKEN_LINK,
                               f"position {position}: prev_hash does not match the hash of position "
                               f"{previous.position}")
        if anchor is not None and position == anchor[0]:
            anchor_seen = True
            if entry.hash != anchor[1]:
                yield AuditProblem(aggregate_id, position, ProblemKind.TRUNCATED,
                                   f"position {position}: the hash differs from the anchor's")
        previous = entry
    if anchor is not None and not anchor_seen:
        last = previous.position if previous else 0
        yield AuditProblem(aggregate_id, anchor[0], ProblemKind.TRUNCATED,
                           f"the anchor is at position {anchor[0]} but the chain has no such position "
                           f"(it ends at {last}): rows were deleted")


def _chains(conn: Connection, table: Table, aggregate_id: str | None) -> Iterator[tuple[str, Iterator[AuditEntry]]]:
    """(aggregate_id, its entries in order) for each chain, from one streamed query."""
    query = select(table).order_by(table.c.aggregate_id, table.c.position)
    if aggregate_id is not None:
        query = query.where(table.c.aggregate_id == aggregate_id)
    rows = conn.execute(query, execution_options={"yield_per": _STREAM_BATCH})
    for chain_id, chain_rows in groupby(rows, key=lambda row: row.aggregate_id):
        yield chain_id, (_entry(row) for row in chain_rows)


def _entry(row: Row[Any]) -> AuditEntry:
    values = dict(row._mapping)
    at: datetime = values["at"]
    # SQLite gives back the naive UTC value that append() stored.
    values["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return AuditEntry(**values)


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_key(table_name: str, aggregate_id: str) -> int:
    digest = hashlib.sha256(f"audit:{table_name}:{aggregate_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _connection(session_or_connection: Session | Connection) -> Connection:
    if isinstance(session_or_connection, Session):
        return session_or_connection.connection()
    return session_or_connection


def _is_position_conflict(exc: IntegrityError, table: Table) -> bool:
    message = str(exc.orig)
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    name = f"uq_{table.name}_aggregate_position"
    return constraint == name or name in message or (
        f"{table.name}.aggregate_id, {table.name}.position" in message  # SQLite's wording
    )
