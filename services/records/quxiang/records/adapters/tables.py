"""The records database: the roster and its import jobs, the identity-number view audit, the
graduates' confirmations, archive and hukou registrations with their history and the schools'
settings, and the local copy of accounts' schools, departments and switched-on modules (fed by the
consumer)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from quxiang.common.text_search import chars_index, trigram_index, use_trigrams

metadata = MetaData()
ON_ROSTER_INDEX = "ix_graduates_on_roster"
BY_NAME_INDEX = "ix_graduates_on_roster_by_name"
# The 图7 lists' search (q) at a province's scale: by the characters of the name and the trigrams of
# 考生号 and 学号 (quxiang.common.text_search), on the roster only as the lists are. 0009.
SEARCH_INDEXES = ("ix_graduates_name_chars", "ix_graduates_exam_number_trgm", "ix_graduates_student_number_trgm")

schools = Table(
    "schools", metadata,
    Column("code", String(10), primary_key=True),  # 学校代码
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
)

departments = Table(
    "departments", metadata,
    Column("id", String(36), primary_key=True),  # accounts' department id
    Column("school_code", String(10), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    UniqueConstraint("school_code", "code", name="uq_departments_school_code"),
)

graduates = Table(
    "graduates", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("exam_number", String(20), nullable=False, unique=True),  # 考生号
    Column("student_number", String(30)),                              # 学号
    Column("name", String(50), nullable=False),
    Column("gender", String(1), nullable=False),                       # M / F
    Column("identity_number_encrypted", String(200), nullable=False),  # crypto.IdentityCipher
    Column("identity_number_hash", String(80), nullable=False),        # <kid>:<hmac hex>
    Column("department_id", String(36), nullable=False),
    Column("major_code", String(10), nullable=False),
    Column("major_name", String(100), nullable=False),
    Column("education_level", String(4), nullable=False),
    Column("origin_region", String(6), nullable=False),                # 生源所在地
    Column("graduation_year", Integer, nullable=False),
    Column("phone", String(20)),
    Column("email", String(100)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # 移出生源: off the roster (kept, never deleted) since then, why and by whom; null while on it.
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_reason", String(200)),
    Column("withdrawn_by", String(36)),
    Index("ix_graduates_school_department", "school_code", "department_id"),
    Index("ix_graduates_identity_hash", "identity_number_hash"),
    Index("ix_graduates_student_number", "school_code", "student_number"),
    # The graduates on the roster of a school in 考生号 order: what every list reads (with the roster's
    # filter on withdrawn_at, a 图7 page read and dropped other schools' rows: 11 ms, 3.3 with it). 0006.
    Index(ON_ROSTER_INDEX, "school_code", "exam_number", postgresql_where=text("withdrawn_at IS NULL"),
          sqlite_where=text("withdrawn_at IS NULL")),
    # A province's list by 姓名 reads it in order instead of sorting half a million names. 0009.
    Index(BY_NAME_INDEX, "name", "exam_number", postgresql_where=text("withdrawn_at IS NULL"),
          sqlite_where=text("withdrawn_at IS NULL")),
)
chars_index(SEARCH_INDEXES[0], graduates.c.name, "withdrawn_at IS NULL")
trigram_index(SEARCH_INDEXES[1], graduates.c.exam_number, "withdrawn_at IS NULL")
trigram_index(SEARCH_INDEXES[2], graduates.c.student_number, "withdrawn_at IS NULL")
use_trigrams(graduates)
# What a list's q searches (the roster's, 图7's), as the indexes above serve it.
SEARCHED_NAMES = (graduates.c.name,)
SEARCHED_CODES = (graduates.c.exam_number, graduates.c.student_number)

import_jobs = Table(
    "import_jobs", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("status", String(20), nullable=False),  # validating, writing, succeeded, rejected, failed
    Column("filename", String(200)),
    Column("total", Integer),                      # data rows, known once validation ends
    Column("processed", Integer, nullable=False),  # rows validated so far
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    # rows of withdrawn graduates (移出生源): left as they are, neither written nor announced
    Column("withdrawn", Integer, nullable=False, server_default=text("0")),
    Column("errors", JSON),                        # [{row, column, reason}], capped
    # what a succeeded import did not do as the file says, or did that the school must know of: rows of
    # withdrawn graduates left alone, graduation years changed (confirmed); [{row, column, reason}], capped
    Column("notices", JSON),
    Column("created_by", String(36), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_import_jobs_school", "school_code"),
)

# Who saw a full identity number, and when; never the number itself.
identity_views = Table(
    "identity_views", metadata,
    Column("id", String(36), primary_key=True),
    Column("graduate_id", String(36), nullable=False),
    Column("viewer_id", String(36), nullable=False),
    Column("viewer_role", String(20), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("viewed_at", DateTime(timezone=True), nullable=False),
    Index("ix_identity_views_graduate", "graduate_id"),
)


# --- the graduate's confirmation of its base data (信息确认) ---------------------------------------

graduate_confirmations = Table(
    "graduate_confirmations", metadata,
    Column("graduate_id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("status", String(20), nullable=False),          # confirmed, flagged
    Column("note", Text),                                  # the graduate's note to its school, when flagged
    Column("graduate_version", Integer, nullable=False),   # the roster version confirmed or flagged
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_graduate_confirmations_school", "school_code", "status"),
)

# --- archive and hukou ---------------------------------------------------------------------------

# accounts' switched-on modules per province (accounts.module.enabled; never switched off).
province_modules = Table(
    "province_modules", metadata,
    Column("province", String(2), nullable=False),
    Column("module", String(20), nullable=False),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("province", "module", name="pk_province_modules"),
)

school_module_settings = Table(
    "school_module_settings", metadata,
    Column("school_code", String(10), nullable=False),
    Column("module", String(20), nullable=False),           # archive, hukou
    Column("department_review", Boolean, nullable=False),   # 院系审核 before the school's
    Column("deadline", Date, nullable=False),               # last day graduates may save or submit
    Column("notice", Text),                                 # shown to the graduates
    Column("version", Integer, nullable=False),
    Column("updated_by", String(36), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("school_code", "module", name="pk_school_module_settings"),
)

registrations = Table(
    "registrations", metadata,
    Column("id", String(36), primary_key=True),
    Column("graduate_id", String(36), nullable=False),
    Column("module", String(20), nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("department_id", String(36), nullable=False),
    Column("status", String(30), nullable=False),
    Column("transfer_type", String(20)),
    Column("receiving_unit", String(100)),
    Column("receiving_department", String(100)),
    Column("address", String(200)),
    Column("postcode", String(6)),
    Column("recipient", String(50)),
    Column("phone", String(20)),
    Column("transfer_number", String(30), unique=True),     # 转递编号, archive, from the first approval
    # the school approved it at least once: that approval stands while a change is in review
    Column("approved_once", Boolean, nullable=False, default=False, server_default=false()),
    Column("version", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("graduate_id", "module", name="uq_registrations_graduate_module"),
    Index("ix_registrations_school_module_status", "school_code", "module", "status"),
)
# A module's registrations most recently changed first, with their graduates: the lists by 更新时间
# (registration_lists) read a page's graduates from it. 0010.
RECENT_INDEX = "ix_registrations_recent"
Index(RECENT_INDEX, registrations.c.module, registrations.c.updated_at.desc(), registrations.c.graduate_id)

# Every submission and review: who, at which level, when, the decision and the reason.
registration_history = Table(
    "registration_history", metadata,
    Column("id", String(36), primary_key=True),
    Column("registration_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),             # the registration's version after the step
    Column("action", String(30), nullable=False),           # domain.registration.Action
    Column("level", String(20), nullable=False),            # graduate, department, school
    Column("actor_id", String(36), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("status", String(30), nullable=False),           # the status the step led to
    Column("reason", Text),
    Column("snapshot", JSON),                               # the transfer data submitted or decided on
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_registration_history_registration", "registration_id", "version"),
)

transfer_counters = Table(
    "transfer_counters", metadata,
    Column("school_code", String(10), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    PrimaryKeyConstraint("school_code", "year", name="pk_transfer_counters"),
)

# Graduates signing holds something about beyond an invitation (an accepted, applied or registered
# agreement, a destination registration): fed by signing's events, so that a school cannot take off
# its roster a graduate whose records live on in signing.
signing_records = Table(
    "signing_records", metadata,
    Column("graduate_id", String(36), primary_key=True),
    Column("event_type", String(60), nullable=False),   # the first such event seen
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Work an upgrade left for an operator: ``signing_records_backfill`` while the graduates signing held
# records of before the upgrade are not known yet (``qx-records backfill-signing-records`` removes it).
pending_work = Table(
    "pending_work", metadata,
    Column("name", String(60), primary_key=True),
    Column("since", DateTime(timezone=True), nullable=False),
)

ROSTER_TABLES = (schools, departments, graduates, import_jobs, identity_views)
REGISTRATION_TABLES = (graduate_confirmations, province_modules, school_module_settings, registrations,
                       registration_history, transfer_counters)
WITHDRAWAL_TABLES = (signing_records, pending_work)
