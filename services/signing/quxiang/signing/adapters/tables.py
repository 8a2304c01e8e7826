"""The signing database: agreements (online signing for now) with their audit trail and number
counters, the schools' signing settings, and local copies of what accounts and records announce
(schools, departments, switched-on modules, agreement types, employers, graduates)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
    text,
)

from quxiang.common.audit import audit_table
from quxiang.common.text_search import chars_index, json_text, trigram_index, use_trigrams
from quxiang.common.throttle import failure_table

metadata = MetaData()

# --- local copies (fed by the consumers) ----------------------------------------------------------

schools = Table(
    "schools", metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Column("agreement_type", String(20)),            # accounts.school.agreement_type_set
    Column("agreement_type_sequence", Integer, nullable=False, server_default="0"),
)

departments = Table(
    "departments", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(100), nullable=False),
)

province_modules = Table(
    "province_modules", metadata,
    Column("province", String(2), nullable=False),
    Column("module", String(20), nullable=False),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("province", "module", name="pk_province_modules"),
)

employers = Table(
    "employers", metadata,
    Column("id", String(36), primary_key=True),
    Column("credit_code", String(18), nullable=False),
    Column("name", String(100), nullable=False),
    Column("nature", String(10), nullable=False),
    Column("industry", String(10), nullable=False),
    Column("region", String(6), nullable=False),
    Column("address", String(200)),  # the registered address (单位地址); none for units registered before 0011
    Column("sequence", Integer, nullable=False, server_default=text("1")),  # the unit's version last applied
    # 停用: a province stopped the unit's account (accounts.user.disabled); nothing new is agreed with it
    # until it is enabled again. stopped_sequence: the account's version of the last stop or resume applied.
    Column("stopped", Boolean, nullable=False, server_default=false()),
    Column("stopped_sequence", Integer, nullable=False, server_default=text("0")),
)

graduates = Table(
    "graduates", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("exam_number", String(20), nullable=False),
    Column("student_number", String(30)),
    Column("name", String(50), nullable=False),
    Column("gender", String(1)),
    Column("department_id", String(36)),
    Column("major_code", String(10)),
    Column("major_name", String(100)),
    Column("education_level", String(4)),
    Column("graduation_year", Integer, nullable=False),
    Column("identity_number_masked", String(18)),   # never the full number: records keeps that
    Column("sequence", Integer, nullable=False),     # the roster version last applied
    # 移出生源: off the school's roster; no new invitation, agreement or registration until put back
    Column("withdrawn", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_signing_graduates_school", "school_code", "department_id"),
    Index("ix_signing_graduates_exam_number", "exam_number"),  # an invitation names the graduate by 考生号
)

# --- the school's signing settings (网签设置) ------------------------------------------------------

school_settings = Table(
    "school_settings", metadata,
    Column("school_code", String(10), primary_key=True),
    Column("department_review", Boolean, nullable=False),
    Column("notice", Text),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(36), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- agreements ---------------------------------------------------------------------------------

TERMINATIONS_GRADUATE_INDEX = "ix_terminations_graduate"
# The lists' default order, most recently changed first (signing_lists; 0017): a province's first page
# walks the first index for its 20 rows where it sorted every agreement in the province; a school's
# (and a department's) the second, its own slice, where the first made a school with few agreements
# walk the whole table (1-3 -> 100 ms at 132,000 agreements).
RECENT_INDEXES = {"agreements": ("ix_agreements_recent", "ix_agreements_school_recent"),
                  "terminations": ("ix_terminations_recent", "ix_terminations_school_recent")}

# Wide enough for every status of every flow (the longest, application_department_rejected, has 31
# characters; PostgreSQL refuses a longer value, SQLite does not check).
STATUS_WIDTH = 40

# The graduate holds the agreement (no other may be accepted, applied for or registered) while it is
# in one of these states, whatever the flow.
HELD_STATUSES = ("application_department_review", "application_school_review", "awaiting_scan",
                 "department_review", "school_review", "approved", "void_review")
_HELD_SQL = "status IN (" + ", ".join(f"'{s}'" for s in HELD_STATUSES) + ")"

agreements = Table(
    "agreements", metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(40), nullable=False, unique=True),   # 协议编号
    Column("flow", String(20), nullable=False),                  # online, offline, supplementary
    Column("initiator", String(10), nullable=False),             # employer, graduate
    Column("agreement_type", String(20), nullable=False),        # the school's type at invitation
    Column("status", String(STATUS_WIDTH), nullable=False),
    Column("graduate_id", String(36), nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("department_id", String(36)),
    Column("education_level", String(4)),
    Column("graduation_year", Integer, nullable=False),
    Column("employer_id", String(36)),                           # none when the unit is not on the platform
    Column("unit", JSON, nullable=False),                        # the employer's data at invitation
    Column("terms", JSON, nullable=False),                       # domain.terms.Terms
    Column("respond_by", DateTime(timezone=True)),
    Column("accepted_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("scan_attachment_id", String(36)),                    # offline and supplementary: the signed scan
    Column("ended_at", DateTime(timezone=True)),                 # terminated or voided
    Column("version", Integer, nullable=False),
    Column("audit_position", Integer, nullable=False),           # anchors the audit chain's end
    Column("audit_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_agreements_graduate", "graduate_id"),
    Index("ix_agreements_employer", "employer_id", "status"),
    Index("ix_agreements_school_status", "school_code", "status"),
    Index("ix_agreements_expiry", "status", "respond_by"),
    # A graduate holds at most one accepted or approved agreement: exactly one of two concurrent
    # acceptances commits, the other hits this index.
    Index("uq_agreements_held_by_graduate", "graduate_id", unique=True,
          postgresql_where=text(_HELD_SQL), sqlite_where=text(_HELD_SQL)),
    # An employer has at most one open invitation per graduate.
    Index("uq_agreements_open_invitation", "employer_id", "graduate_id", unique=True,
          postgresql_where=text("status = 'invited'"), sqlite_where=text("status = 'invited'")),
)

# What the lists' q searches (signing_lists), through an index each on PostgreSQL (text_search):
# the graduate's name, 考生号 and 学号, the agreement's 协议编号 and its unit's name. 0015.
UNIT_NAME = json_text(agreements.c.unit, "name")
SEARCH_INDEXES = {
    "graduates": ("ix_signing_graduates_name_chars", "ix_signing_graduates_exam_number_trgm",
                  "ix_signing_graduates_student_number_trgm"),
    "agreements": ("ix_agreements_number_trgm", "ix_agreements_unit_name_chars"),
}
chars_index(SEARCH_INDEXES["graduates"][0], graduates.c.name)
trigram_index(SEARCH_INDEXES["graduates"][1], graduates.c.exam_number)
trigram_index(SEARCH_INDEXES["graduates"][2], graduates.c.student_number)
trigram_index(SEARCH_INDEXES["agreements"][0], agreements.c.number)
chars_index(SEARCH_INDEXES["agreements"][1], UNIT_NAME)
use_trigrams(graduates)
use_trigrams(agreements)
Index(RECENT_INDEXES["agreements"][0], agreements.c.updated_at.desc(), agreements.c.number)
Index(RECENT_INDEXES["agreements"][1], agreements.c.school_code, agreements.c.updated_at.desc(), agreements.c.number)

agreement_counters = Table(
    "agreement_counters", metadata,
    Column("year", Integer, nullable=False),
    Column("school_code", String(10), nullable=False),
    Column("education_level", String(4), nullable=False),
    Column("last", Integer, nullable=False),
    PrimaryKeyConstraint("year", "school_code", "education_level", name="pk_agreement_counters"),
)

# Every aggregate of signing (agreements, terminations, destination registrations) chains its
# audit entries here, keyed by its id.
agreement_audit = audit_table(metadata, "signing_audit")

# The approved agreement as rendered once: the bytes are kept (a re-render with another font build
# would differ) and their SHA-256 is what verification compares.
agreement_documents = Table(
    "agreement_documents", metadata,
    Column("agreement_id", String(36), primary_key=True),
    # Both NULL while the document is due (the approval committed, the render not yet done).
    Column("sha256", String(64), unique=True),
    Column("pdf", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The renderer's queue: only the due rows, so finding them does not read every document kept.
    Index("ix_agreement_documents_due", "created_at", postgresql_where=text("pdf IS NULL"),
          sqlite_where=text("pdf IS NULL")),
)

# Uploaded documents (scans, termination letters, proofs), kept in the database with the record
# they belong to, so a backup or a restore never separates them.
attachments = Table(
    "attachments", metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_type", String(20), nullable=False),            # agreement, termination, destination
    Column("owner_id", String(36), nullable=False),
    Column("kind", String(30), nullable=False),                  # scan, termination_letter, proof
    Column("filename", String(200), nullable=False),
    Column("content_type", String(40), nullable=False),          # judged from the content
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_by", String(36), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Index("ix_attachments_owner", "owner_type", "owner_id"),
)

# 解约: a request to end an approved agreement. Online: one party asks, the other agrees, the school
# reviews; offline: the graduate uploads the termination letter and the school reviews.
terminations = Table(
    "terminations", metadata,
    Column("id", String(36), primary_key=True),
    Column("agreement_id", String(36), nullable=False),
    Column("mode", String(10), nullable=False),                  # online, offline
    Column("requested_by", String(10), nullable=False),          # graduate, employer
    Column("status", String(STATUS_WIDTH), nullable=False),
    Column("reason", Text, nullable=False),
    Column("letter_attachment_id", String(36)),
    Column("school_code", String(10), nullable=False),
    Column("department_id", String(36)),
    Column("graduate_id", String(36), nullable=False),
    Column("employer_id", String(36)),
    Column("version", Integer, nullable=False),
    Column("audit_position", Integer, nullable=False),
    Column("audit_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_terminations_agreement", "agreement_id"),
    Index("ix_terminations_school_status", "school_code", "status"),
    # the graduates a list's search found, to their terminations (signing_lists; 0016)
    Index(TERMINATIONS_GRADUATE_INDEX, "graduate_id"),
    # one open termination request per agreement
    Index("uq_terminations_open", "agreement_id", unique=True,
          postgresql_where=text("status IN ('awaiting_counterparty', 'school_review')"),
          sqlite_where=text("status IN ('awaiting_counterparty', 'school_review')")),
)

SIGNING_TABLES = (schools, departments, province_modules, employers, graduates, school_settings, agreements,
                  agreement_counters, agreement_audit)
# A unit's invitations that named no graduate (a wrong 考生号 or name), per unit: guessing until one
# matches would tell the unit a stranger's school, 院系 and 专业 (service.invitation_throttle). 0014.
invitation_throttle = failure_table(metadata, "invitation_throttle")

Index(RECENT_INDEXES["terminations"][0], terminations.c.updated_at.desc(), terminations.c.id)
Index(RECENT_INDEXES["terminations"][1], terminations.c.school_code, terminations.c.updated_at.desc(),
      terminations.c.id)

DOCUMENT_TABLES = (agreement_documents,)
FLOW_TABLES = (attachments, terminations)
