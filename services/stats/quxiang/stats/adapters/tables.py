"""The stats database: local copies of schools, departments and switched-on modules; per aggregate
its latest known status (by sequence); per graduate its roster dimensions and standing per module;
and the counters the views sum, kept incrementally by the consumers and checked by ``qx-stats rebuild``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    false,
)

metadata = MetaData()

schools = Table(
    "stat_schools", metadata,
    Column("code", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Column("agreement_type", String(20)),                       # two_party, three_party; None: not set
    Column("agreement_type_sequence", Integer, nullable=False, default=0),
    # settings completed per module (网签设置, 档案设置, 户口设置), newest by the settings' version
    Column("employment_settings", Boolean, nullable=False, default=False),
    Column("employment_settings_sequence", Integer, nullable=False, default=0),
    Column("archive_settings", Boolean, nullable=False, default=False),
    Column("archive_settings_sequence", Integer, nullable=False, default=0),
    Column("hukou_settings", Boolean, nullable=False, default=False),
    Column("hukou_settings_sequence", Integer, nullable=False, default=0),
    Index("ix_stat_schools_province", "province", "code"),
)

departments = Table(
    "stat_departments", metadata,
    Column("id", String(36), primary_key=True),
    Column("school_code", String(10), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Index("ix_stat_departments_school", "school_code"),
)

province_modules = Table(
    "stat_province_modules", metadata,
    Column("province", String(2), nullable=False),
    Column("module", String(20), nullable=False),
    PrimaryKeyConstraint("province", "module", name="pk_stat_province_modules"),
)

# The latest known status of each agreement, destination registration and archive/hukou registration.
aggregates = Table(
    "stat_aggregates", metadata,
    Column("id", String(64), primary_key=True),               # the event's subject
    Column("kind", String(20), nullable=False),               # domain.model.Kind
    Column("graduate_id", String(36), nullable=False),
    Column("sequence", Integer, nullable=False),              # the aggregate's version
    Column("status", String(40), nullable=False),
    Column("destination_code", String(4)),
    # archive/hukou: an earlier approval stands while a change is in review (counted as registered)
    Column("approval_stands", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_stat_aggregates_graduate", "graduate_id"),
)

# Per graduate: its roster dimensions (roster_sequence 0: not in the roster yet) and standing.
graduates = Table(
    "stat_graduates", metadata,
    Column("id", String(36), primary_key=True),
    Column("roster_sequence", Integer, nullable=False, default=0),
    # 移出生源: taken off the roster (records.graduate.withdrawn), counted nowhere until put back
    Column("withdrawn", Boolean, nullable=False, default=False, server_default=false()),
    Column("school_code", String(10)),
    Column("department_id", String(36)),
    Column("education_level", String(4)),
    Column("graduation_year", Integer),
    Column("employment", String(12), nullable=False, default="none"),  # domain.model.State
    Column("archive", String(12), nullable=False, default="none"),
    Column("hukou", String(12), nullable=False, default="none"),
    Column("destination_code", String(4)),                    # of the registered employment
    Column("updated_at", DateTime(timezone=True)),
)

_KEY = ("school_code", "department_id", "education_level", "graduation_year")


def _key_columns() -> list[Column]:
    return [Column("school_code", String(10), nullable=False), Column("department_id", String(36), nullable=False),
            Column("education_level", String(4), nullable=False), Column("graduation_year", Integer, nullable=False)]


counters = Table(
    "stat_counters", metadata,
    *_key_columns(),
    Column("total", Integer, nullable=False, default=0),
    Column("employment_registered", Integer, nullable=False, default=0),
    Column("employment_review", Integer, nullable=False, default=0),
    Column("archive_registered", Integer, nullable=False, default=0),
    Column("archive_review", Integer, nullable=False, default=0),
    Column("hukou_registered", Integer, nullable=False, default=0),
    Column("hukou_review", Integer, nullable=False, default=0),
    PrimaryKeyConstraint(*_KEY, name="pk_stat_counters"),
)

# The same figures rolled up per school (no department): what the province view sums, a few hundred
# rows per province whatever the number of departments.
school_counters = Table(
    "stat_school_counters", metadata,
    Column("school_code", String(10), nullable=False),
    Column("education_level", String(4), nullable=False),
    Column("graduation_year", Integer, nullable=False),
    *[Column(name, Integer, nullable=False, default=0) for name in (
        "total", "employment_registered", "employment_review", "archive_registered", "archive_review",
        "hukou_registered", "hukou_review")],
    PrimaryKeyConstraint("school_code", "education_level", "graduation_year", name="pk_stat_school_counters"),
)

destination_counters = Table(
    "stat_destination_counters", metadata,
    *_key_columns(),
    Column("destination_code", String(4), nullable=False),
    Column("count", Integer, nullable=False, default=0),
    PrimaryKeyConstraint(*_KEY, "destination_code", name="pk_stat_destination_counters"),
)

COUNTER_KEY = _KEY
SCHOOL_KEY = ("school_code", "education_level", "graduation_year")
READ_MODEL_TABLES = (schools, departments, province_modules, aggregates, graduates, counters, school_counters,
                     destination_counters)
