"""The three records the employment management system keeps per graduate (keyed by 考生号), their
fields, and the rules on them: what a write changed, and which records the system's own users may
not edit (the lock rule)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    DESTINATION = "destination"  # 毕业去向
    ARCHIVE = "archive"          # 档案
    HUKOU = "hukou"              # 户口


class Source(StrEnum):
    PLATFORM = "platform"  # mirrored from the registration platform
    EMS = "ems"            # edited by the employment management system's own users


class Write(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


DESTINATION_STATUSES = ("in_force", "terminated", "voided")

# Sent with every record: who the graduate is (no identity numbers, ever). The cohort (毕业年份) and
# level (学历层次) because the system counts and reports per 届 and per level.
GRADUATE_FIELDS = ("school_code", "name", "graduation_year", "education_level")

FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.DESTINATION: (
        "destination_code",         # 毕业去向类别代码
        "unit_name",                # 单位名称
        "credit_code",              # 统一社会信用代码
        "unit_nature",              # 单位性质
        "unit_industry",            # 单位行业
        "unit_region",              # 单位所在地 code
        "position_category",        # 工作职位类别
        "signing_date",             # 签约日期
        "agreement_number",         # 协议编号
        "further_study_school",
        "further_study_programme",
        "study_country",            # 留学国家（地区）
        "enlistment_notice_number",  # 入伍通知书编号
        "status",
    ),
    Kind.ARCHIVE: (
        "transfer_type", "receiving_unit", "receiving_department", "address", "postcode", "recipient",
        "phone", "transfer_number",
    ),
    Kind.HUKOU: ("transfer_type", "address", "receiving_unit", "postcode"),
}

REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.DESTINATION: ("destination_code", "status"),
    Kind.ARCHIVE: ("transfer_type",),
    Kind.HUKOU: ("transfer_type",),
}

# What a write may set besides the kind's own fields; source and updated_at are the system's.
WRITABLE_EXTRAS = (*GRADUATE_FIELDS, "platform_version")
MANAGED_BY_PLATFORM = "由登记平台管理，请在登记平台修改"


def stored_fields(kind: Kind) -> tuple[str, ...]:
    """Every column of a record of ``kind`` apart from the exam number and updated_at."""
    return (*GRADUATE_FIELDS, *FIELDS[kind], "source", "platform_version")


def write_result(existing: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Write:
    """What writing ``new`` over ``existing`` amounts to (only the keys of ``new`` are compared)."""
    if existing is None:
        return Write.CREATED
    if all(existing.get(name) == value for name, value in new.items()):
        return Write.UNCHANGED
    return Write.UPDATED


def is_locked(kind: Kind, record: Mapping[str, Any]) -> bool:
    """The lock rule: a destination mirrored from the platform is changed only through the platform."""
    return kind is Kind.DESTINATION and record.get("source") == Source.PLATFORM
