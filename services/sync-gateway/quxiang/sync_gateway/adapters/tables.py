"""The sync ledger: per graduate (考生号) and kind the record the EMS should hold, where it came from
(aggregate, sequence, anchor, event) and how its delivery stands (pending, synced, failed, attempts,
last error, times). Also a local copy of the schools' provinces (from accounts' events) for the
province's status view."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

PENDING = "pending"
SYNCED = "synced"
FAILED = "failed"
STATUSES = (PENDING, SYNCED, FAILED)
STATUS_LABELS = {PENDING: "待同步", SYNCED: "已同步", FAILED: "同步失败"}

sync_records = Table(
    "sync_records", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exam_number", String(32), nullable=False),          # 考生号
    Column("kind", String(16), nullable=False),                 # destination, archive, hukou
    Column("graduate_id", String(36), nullable=False),
    Column("name", String(100), nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("department_id", String(36)),
    # the desired record and where it came from
    Column("aggregate_id", String(64), nullable=False),         # the event's subject
    Column("sequence", Integer, nullable=False),                # the aggregate's version
    Column("anchor_at", DateTime(timezone=True), nullable=False),  # domain.ordering
    Column("event_id", String(36), nullable=False),             # the Idempotency-Key (with key_round)
    Column("event_type", String(64), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("record", JSON, nullable=False),
    Column("version", Integer, nullable=False),                 # the slot's revision: +1 per new desired record
    Column("key_round", Integer, nullable=False, default=0),    # +1 per re-sync by reconciliation (a new key)
    # delivery of the current version
    Column("status", String(10), nullable=False),               # pending, synced, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease", String(36)),                                # set while a worker delivers it
    Column("leased_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("synced_at", DateTime(timezone=True)),
    Column("synced_version", Integer),
    Column("lag_ms", BigInteger),                                  # occurred_at -> EMS write, last sync
    Column("ems_write", String(10)),                            # created, updated, unchanged
    Column("failed_at", DateTime(timezone=True)),
    UniqueConstraint("exam_number", "kind", name="uq_sync_records_slot"),
    Index("ix_sync_records_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    Index("ix_sync_records_school", "school_code", "status"),
)

sync_schools = Table(
    "sync_schools", metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Index("ix_sync_schools_province", "province"),
)

LEDGER_TABLES = (sync_records, sync_schools)
