"""去向登记 tables: the registrations (their audit trail is the shared ``signing_audit``, their proofs
the shared ``attachments`` with owner_type "destination")."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text, func, text

from quxiang.common.text_search import chars_index, json_text
from quxiang.signing.adapters.tables import metadata

_NOT_VOIDED = "status <> 'voided'"

destination_registrations = Table(
    "destination_registrations", metadata,
    Column("id", String(36), primary_key=True),
    Column("graduate_id", String(36), nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("department_id", String(36)),
    Column("education_level", String(4)),
    Column("graduation_year", Integer, nullable=False),
    Column("status", String(30), nullable=False),
    Column("destination_code", String(4), nullable=False),        # 毕业去向类别代码
    Column("fields", JSON, nullable=False),                       # the category's fields (domain.destination)
    Column("submitted_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),                # approved or rejected
    Column("void_reason", Text),
    Column("voided_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("audit_position", Integer, nullable=False),            # anchors the audit chain's end
    Column("audit_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_destination_registrations_graduate", "graduate_id"),
    Index("ix_destination_registrations_school_status", "school_code", "status"),
    # At most one registration per graduate that is not voided: of two concurrent first
    # registrations exactly one commits; after voiding, the graduate registers again.
    Index("uq_destination_registrations_graduate", "graduate_id", unique=True,
          postgresql_where=text(_NOT_VOIDED), sqlite_where=text(_NOT_VOIDED)),
)

# The unit a registration names (单位, 创业实体 or 升学院校), as the lists show, sort and search it
# (through an index of its characters on PostgreSQL: text_search). 0015.
DESTINATION_UNIT = func.coalesce(*(json_text(destination_registrations.c.fields, key)
                                   for key in ("unit_name", "business_name", "study_school")))
DESTINATION_UNIT_INDEX = "ix_destination_registrations_unit_chars"
chars_index(DESTINATION_UNIT_INDEX, DESTINATION_UNIT)

DESTINATION_TABLES = (destination_registrations,)

# The 去向登记 list's default order, most recently changed first, the province's and a school's
# (signing_lists; 0017; as tables.RECENT_INDEXES).
DESTINATIONS_RECENT_INDEXES = ("ix_destination_registrations_recent", "ix_destination_registrations_school_recent")
Index(DESTINATIONS_RECENT_INDEXES[0], destination_registrations.c.updated_at.desc(), destination_registrations.c.id)
Index(DESTINATIONS_RECENT_INDEXES[1], destination_registrations.c.school_code,
      destination_registrations.c.updated_at.desc(), destination_registrations.c.id)
