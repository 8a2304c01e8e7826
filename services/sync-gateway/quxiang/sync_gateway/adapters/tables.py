"""The sync ledger: per graduate (考生号) and kind the record the EMS should hold, where it came from
(aggregate, sequence, anchor, event) and how its delivery stands (pending, synced, failed, attempts,
last error, times). Also a local copy of the schools' provinces (from accounts' events) for the
province's status view."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    Column("graduation_year", Integer),                         # 毕业年份; None: mirrored before 0009
    Column("education_level", String(10)),                      # 学历层次 code
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
    Column("lag_ms", BigInteger),                                  # pending_since -> EMS write, last sync
    Column("ems_write", String(10)),                            # created, updated, unchanged
    Column("failed_at", DateTime(timezone=True)),
    # since when the current version waits for the EMS: the event's time, or the moment it went back to
    # pending (a new name, a re-sync, an operator's retry); what backlog ages and lags count from. 0008.
    Column("pending_since", DateTime(timezone=True)),
    # a synced archive or hukou record whose graduate was renamed: compared with the EMS soon (and sent
    # again unless edited there), instead of at the next reconciliation. 0008.
    Column("recheck_after", DateTime(timezone=True)),
    UniqueConstraint("exam_number", "kind", name="uq_sync_records_slot"),
    Index("ix_sync_records_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    # The status views of a school or a province (service.status): the counts per status and the oldest
    # pending, and the last hour's deliveries, read from the index alone (a province's ledger holds
    # millions of rows; the table's scan took a second). 0010.
    Index("ix_sync_records_school_status", "school_code", "status",
          postgresql_include=["kind", "pending_since", "occurred_at"]),
    Index("ix_sync_records_school_synced", "school_code", "synced_at", postgresql_include=["kind", "lag_ms"]),
    # The rows not synced, by kind: what the metrics count at every scrape (the due index holds the
    # pending ones only, by time).
    Index("ix_sync_records_unsynced", "kind", "status", postgresql_where=text("status IN ('pending', 'failed')"),
          sqlite_where=text("status IN ('pending', 'failed')")),
)

sync_schools = Table(
    "sync_schools", metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Index("ix_sync_schools_province", "province"),
)

# The roster as sync-gateway last heard it (records' graduate events): the name the EMS is sent comes
# from here, so a name corrected by a re-import reaches the records already mirrored. A row may be a
# placeholder from a mirrored event (roster_sequence 0) until the roster's own event arrives.
sync_graduates = Table(
    "sync_graduates", metadata,
    Column("graduate_id", String(36), primary_key=True),
    Column("exam_number", String(32), nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("name", String(100), nullable=False),
    Column("department_id", String(36)),
    Column("graduation_year", Integer),                      # 0009
    Column("education_level", String(10)),                   # 0009
    Column("roster_sequence", Integer, nullable=False),      # the roster row's version; 0: placeholder
)

# what migration 0003 created (sync_graduates came with 0007)
LEDGER_TABLES = (sync_records, sync_schools)


# --- the school feed (学校数据订阅, docs/feed.md) ----------------------------------------------------

feed_counters = Table(
    "feed_counters", metadata,
    Column("school_code", String(10), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),     # the school's cursor: +1 per entry
)

feed_entries = Table(
    "feed_entries", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("school_code", String(10), nullable=False),
    Column("sequence", BigInteger, nullable=False),          # per school, from feed_counters
    Column("event_id", String(36), nullable=False),          # the source event's id
    Column("event_type", String(64), nullable=False),
    Column("exam_number", String(32), nullable=False),
    Column("message", JSON, nullable=False),                 # the public message, as sent
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),         # confirmed by the broker; None: not yet
    UniqueConstraint("event_id", name="uq_feed_entries_event"),
    UniqueConstraint("school_code", "sequence", name="uq_feed_entries_cursor"),
    Index("ix_feed_entries_unpublished", "id", postgresql_where=text("published_at IS NULL"),
          sqlite_where=text("published_at IS NULL")),
)

feed_credentials = Table(
    "feed_credentials", metadata,
    Column("school_code", String(10), primary_key=True),
    Column("username", String(100), nullable=False),         # the broker user; the password is not kept
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(64)),
)

feed_webhooks = Table(
    "feed_webhooks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("school_code", String(10), nullable=False),
    Column("url", String(500), nullable=False),
    Column("secret", String(100), nullable=False),           # kept: every delivery is signed with it
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Index("ix_feed_webhooks_school", "school_code"),
)

DELIVERY_PENDING = "pending"
DELIVERY_DELIVERED = "delivered"
DELIVERY_FAILED = "failed"
DELIVERY_LABELS = {DELIVERY_PENDING: "待推送", DELIVERY_DELIVERED: "已推送", DELIVERY_FAILED: "推送失败"}

feed_deliveries = Table(
    "feed_deliveries", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("webhook_id", Integer, nullable=False),
    Column("entry_id", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),            # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    UniqueConstraint("webhook_id", "entry_id", name="uq_feed_deliveries_entry"),
    Index("ix_feed_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
)

feed_attempts = Table(
    "feed_attempts", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_feed_attempts_delivery", "delivery_id"),
)

FEED_TABLES = (feed_counters, feed_entries, feed_credentials, feed_webhooks, feed_deliveries, feed_attempts)
