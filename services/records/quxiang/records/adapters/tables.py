"""The records database: the roster and its import jobs, the identity-number view audit, and the
local copy of accounts' schools and departments (fed by the consumer)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

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
    Index("ix_graduates_school_department", "school_code", "department_id"),
    Index("ix_graduates_identity_hash", "identity_number_hash"),
    Index("ix_graduates_student_number", "school_code", "student_number"),
)

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
    Column("errors", JSON),                        # [{row, column, reason}], capped
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
