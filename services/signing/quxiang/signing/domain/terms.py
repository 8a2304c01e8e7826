"""The agreement data of the fixed template (就业协议书) that an invitation carries: the position,
the terms, the archive and hukou destination, the remarks. The unit's own data (name, credit code,
nature, industry, location) comes from the employer's registration, not from the request."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from quxiang.common.reference import is_valid_region, position_categories

FIELD_LABELS: Mapping[str, str] = {
    "position_category": "工作职位类别", "job_title": "岗位名称", "work_region": "工作地点（行政区划）",
    "work_place": "工作地点", "monthly_salary": "月薪（元）", "contract_months": "合同期限（月）",
    "probation_months": "试用期（月）", "archive_destination": "档案转寄", "hukou_destination": "户口迁转",
    "contact_person": "联系人", "contact_phone": "联系电话", "remarks": "补充条款",
}
TEXT_LIMITS: Mapping[str, int] = {"job_title": 50, "work_place": 100, "archive_destination": 200,
                                  "hukou_destination": 200, "contact_person": 30, "remarks": 2000}
REQUIRED = ("position_category", "job_title", "work_region", "work_place", "monthly_salary", "contract_months",
            "probation_months", "contact_person", "contact_phone")
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


@dataclass(frozen=True)
class Terms:
    position_category: str
    job_title: str
    work_region: str
    work_place: str
    monthly_salary: int
    contract_months: int
    probation_months: int
    contact_person: str
    contact_phone: str
    archive_destination: str | None = None
    hukou_destination: str | None = None
    remarks: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class InvalidTerms(Exception):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(f"{FIELD_LABELS.get(f, f)}：{'，'.join(r)}" for f, r in self.errors.items()))


def check_terms(data: Mapping[str, Any]) -> Terms:
    """The terms, normalised; every broken rule of every field is reported at once."""
    errors: dict[str, list[str]] = {}

    def bad(field_name: str, reason: str) -> None:
        errors.setdefault(field_name, []).append(reason)

    values: dict[str, Any] = {}
    for name in FIELD_LABELS:
        raw = data.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else raw
        if values[name] in ("", None):
            values[name] = None
            if name in REQUIRED:
                bad(name, "必填")
    for name, limit in TEXT_LIMITS.items():
        if isinstance(values[name], str) and len(values[name]) > limit:
            bad(name, f"不能超过{limit}个字符")
    if values["position_category"] is not None and values["position_category"] not in position_categories():
        bad("position_category", f"未知的职位类别代码 {values['position_category']}")
    if values["work_region"] is not None and not is_valid_region(values["work_region"]):
        bad("work_region", "应为6位行政区划代码（GB/T 2260）")
    for name, low, high in (("monthly_salary", 0, 1_000_000), ("contract_months", 1, 120),
                            ("probation_months", 0, 6)):
        value = values[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            bad(name, "应为整数")
        elif not low <= value <= high:
            bad(name, f"应在{low}到{high}之间")
    if isinstance(values["probation_months"], int) and isinstance(values["contract_months"], int) \
            and values["probation_months"] > values["contract_months"]:
        bad("probation_months", "试用期不能长于合同期限")
    if values["contact_phone"] is not None and not _PHONE.match(str(values["contact_phone"])):
        bad("contact_phone", "应为11位手机号或带区号的固定电话")
    if errors:
        raise InvalidTerms(errors)
    return Terms(**values)
