"""The ems-sim database: one table per record kind, keyed by 考生号, and the idempotency keys of
writes with the response each first got."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text

from quxiang.ems_sim.domain.records import Kind

metadata = MetaData()

# Column lengths; the API checks them before anything reaches the database.
CODE = 20
TEXT = 200
ADDRESS = 500
EXAM_NUMBER = 32
IDEMPOTENCY_KEY = 200


def _common(name: str, *columns: Column) -> Table:
    return Table(
        name, metadata,
        Column("exam_number", String(EXAM_NUMBER), primary_key=True),  # 考生号
        Column("school_code", String(CODE)),
        Column("name", String(50)),                                     # 姓名, as sent
        Column("graduation_year", Integer),                             # 毕业年份 (届别)
        Column("education_level", String(CODE)),                        # 学历层次 code
        *columns,
        Column("source", String(10), nullable=False),                   # domain.records.Source
        Column("platform_version", Integer),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index(f"ix_{name}_school", "school_code", "exam_number"),
        Index(f"ix_{name}_updated", "updated_at"),
    )


destinations = _common(
    "ems_destinations",
    Column("destination_code", String(CODE)),
    Column("unit_name", String(TEXT)),
    Column("credit_code", String(CODE)),
    Column("unit_nature", String(CODE)),
    Column("unit_industry", String(CODE)),
    Column("unit_region", String(CODE)),
    Column("position_category", String(CODE)),
    Column("signing_date", Date),
    Column("agreement_number", String(64)),
    Column("further_study_school", String(TEXT)),
    Column("further_study_programme", String(TEXT)),
    Column("study_country", String(TEXT)),
    Column("enlistment_notice_number", String(64)),
    Column("status", String(20)),
)

archives = _common(
    "ems_archives",
    Column("transfer_type", String(CODE)),
    Column("receiving_unit", String(TEXT)),
    Column("receiving_department", String(TEXT)),
    Column("address", String(ADDRESS)),
    Column("postcode", String(CODE)),
    Column("recipient", String(50)),
    Column("phone", String(30)),
    Column("transfer_number", String(64)),
)

hukous = _common(
    "ems_hukous",
    Column("transfer_type", String(CODE)),
    Column("address", String(ADDRESS)),
    Column("receiving_unit", String(TEXT)),
    Column("postcode", String(CODE)),
)

TABLES: dict[Kind, Table] = {Kind.DESTINATION: destinations, Kind.ARCHIVE: archives, Kind.HUKOU: hukous}

# A write's key, what the request was (a hash of method, record and body) and the response it got.
idempotency_keys = Table(
    "ems_idempotency_keys", metadata,
    Column("key", String(IDEMPOTENCY_KEY), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer),
    Column("body", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

EMS_TABLES = (destinations, archives, hukous, idempotency_keys)
