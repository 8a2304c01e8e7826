"""The accounts database."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from quxiang.common.throttle import failure_table

metadata = MetaData()

schools = Table(
    "schools", metadata,
    Column("code", String(10), primary_key=True),  # 学校代码
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The school aggregate's sequence in its events (created: 1, each agreement type set: +1); 0005.
    Column("version", Integer, nullable=False, server_default="1"),
    Index("ix_schools_province", "province"),
)

departments = Table(
    "departments", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), ForeignKey("schools.code"), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("school_code", "code", name="uq_departments_school_code"),
)

employers = Table(
    "employers", metadata,
    Column("id", String(36), primary_key=True),
    Column("credit_code", String(18), nullable=False, unique=True),  # 统一社会信用代码
    Column("name", String(200), nullable=False),
    Column("nature", String(4), nullable=False),     # 单位性质代码
    Column("industry", String(4), nullable=False),   # 单位行业代码
    Column("region", String(6), nullable=False),     # 单位所在地代码
    Column("address", String(200), nullable=False),
    Column("contact_name", String(50), nullable=False),
    Column("contact_phone", String(30), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),  # the unit's sequence in its events
    # Who stopped the unit's account: a province's code, or "admin"; null while it is not stopped (or
    # stopped before 0012). Only that province, the registering authority's, or the admin lifts it.
    Column("stopped_by", String(10)),
)

users = Table(
    "users", metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("province", String(2)),
    Column("school", String(10)),
    Column("department", String(36)),
    Column("graduate", String(64)),   # the graduate record's id in records
    Column("employer", String(36)),
    Column("perm_employment", String(5)),
    Column("perm_archive", String(5)),
    Column("perm_hukou", String(5)),
    Column("password_hash", Text),    # argon2; empty until a graduate activates
    Column("disabled", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(36)),
    Index("ix_users_role_province", "role", "province"),
    Index("ix_users_role_school", "role", "school"),
)

refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("family_id", String(36), nullable=False),  # every token rotated from one login
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256; the token itself is never stored
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),   # used once: presenting it again is reuse
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_refresh_tokens_family", "family_id"),
    Index("ix_refresh_tokens_user", "user_id"),
)

# keys "account:<username>", "activation:<考生号>" or "address:<ip>"
login_throttle = failure_table(metadata, "login_throttle")

signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),  # no longer signs; published until tokens it signed expired
    Column("removed_at", DateTime(timezone=True)),  # no longer published
)

province_modules = Table(
    "province_modules", metadata,
    Column("province", String(2), primary_key=True),
    Column("module", String(20), primary_key=True),
    Column("enabled_at", DateTime(timezone=True), nullable=False),
    Column("enabled_by", String(36), nullable=False),
)

province_agreement_defaults = Table(
    "province_agreement_defaults", metadata,
    Column("province", String(2), primary_key=True),
    Column("agreement_type", String(20), nullable=False),
)

school_agreement_types = Table(
    "school_agreement_types", metadata,
    Column("school_code", String(10), ForeignKey("schools.code"), primary_key=True),
    Column("agreement_type", String(20), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("set_by", String(36), nullable=False),
)

# Whether a school completed its settings per module; fed by the events of the services that own
# those settings (records for archive and hukou, signing for employment).
school_settings_state = Table(
    "school_settings_state", metadata,
    Column("school_code", String(10), primary_key=True),
    Column("module", String(20), primary_key=True),
    Column("completed", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The sequence of the event that set this row: an older event arriving late changes nothing; 0005.
    Column("sequence", Integer, nullable=False, server_default="0"),
)

UNISSUED = text("issued_at IS NULL AND used_at IS NULL")

activation_codes = Table(
    "activation_codes", metadata,
    Column("graduate", String(64), primary_key=True),  # the graduate record's id in records
    Column("exam_number", String(20), nullable=False),  # 考生号, what the graduate types
    Column("school_code", String(10), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("code_hash", Text, nullable=False),  # argon2 of the one-time code
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    # When the school was handed the plain code (a fresh one, whose hash replaced code_hash); None:
    # never handed out, so nobody knows a valid code yet. See service/provisioning.py; 0006.
    Column("issued_at", DateTime(timezone=True)),
    # The version of the roster row (records' event sequence) the account was last brought up to:
    # an older event handled late, or at once with a newer one, changes nothing. 0009.
    Column("roster_sequence", Integer, nullable=False, server_default=text("0")),
    # When the school's 移出生源 disabled the login; putting the graduate back enables it again. 0011.
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("ix_activation_codes_exam_number", "exam_number", unique=True),
    # A school's codes never handed out, in 考生号 order: what issuing reads and counts.
    Index("ix_activation_codes_unissued", "school_code", "exam_number", postgresql_where=UNISSUED,
          sqlite_where=UNISSUED),
)
