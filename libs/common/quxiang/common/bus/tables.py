"""The tables every service's database carries for the bus: the outbox, its partitions, the inbox.

They live on ``bus_metadata``; a service lists it next to its own metadata in Alembic's
``target_metadata`` and creates them in its first migration with ``create_bus_tables``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from quxiang.common.db import conflict_insert

bus_metadata = MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
_row_id = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox", bus_metadata,
    Column("id", _row_id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("partition", SmallInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    # The relay scans pending rows in id order; the partial index stays as small as the backlog.
    Index("ix_outbox_pending", "id",
          postgresql_where=text("sent_at IS NULL"), sqlite_where=text("sent_at IS NULL")),
    # No index on sent_at: each row is updated once by the relay; pruning walks the oldest rows by id.
)

# One row per partition; a relay holds the row lock of each partition it is publishing, so two
# relays never publish the same aggregate's events at the same time.
outbox_partition = Table(
    "outbox_partition", bus_metadata,
    Column("partition", SmallInteger, primary_key=True, autoincrement=False),
)

inbox = Table(
    "inbox", bus_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Index("ix_inbox_processed_at", "processed_at"),
)


def ensure_partitions(bind: Connection, count: int) -> None:
    """Make sure partition rows 0..count-1 exist (idempotent)."""
    have = set(bind.execute(select(outbox_partition.c.partition)).scalars())
    missing = [{"partition": p} for p in range(count) if p not in have]
    if missing:
        # ON CONFLICT: a second process filling them at the same moment is no error
        bind.execute(conflict_insert(bind, outbox_partition).on_conflict_do_nothing(), missing)


def create_bus_tables(bind: Engine | Connection, partitions: int = 16) -> None:
    """Create the bus tables and partition rows; used by migrations and the embedded mode."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            create_bus_tables(conn, partitions)
        return
    bus_metadata.create_all(bind)
    ensure_partitions(bind, partitions)
