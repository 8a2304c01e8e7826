"""The agreement data of the fixed template (就业协议书) that an invitation carries: the position,
the terms, the archive and hukou destination, the remarks. The unit's own data (name, credit code,
nature, industry, location) comes from the employer's registration, not from the request."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from quxiang.common.reference import employer_natures, industries, is_valid_region, position_categories
from quxiang.common.validators import (
    ONE_LINE_REASON,
    InvalidIdentifier,
    breaks_lines,
    validate_credit_code,
    without_invisible,
)

FIELD_LABELS: Mapping[str, str] = {
    "position_category": "工作职位类别", "job_title": "岗位名称", "work_region": "工作地点（行政区划）",
    "work_place": "工作地点", "monthly_salary": "月薪（元）", "contract_months": "合同期限（月）",
    "probation_months": "试用期（月）", "archive_destination": "档案转寄", "hukou_destination": "户口迁转",
    "contact_person": "联系人", "contact_phone": "联系电话", "remarks": "补充条款",
}
TEXT_LIMITS: Mapping[str, int] = {"job_title": 50, "work_place": 100, "archive_destination": 200,
                                  "hukou_destination": 200, "contact_person": 30, "remarks": 2000}
NUMBERS = ("monthly_salary", "contract_months", "probation_months")  # every other field is text
ONE_LINE = frozenset(FIELD_LABELS) - {"remarks", *NUMBERS}  # a line of the agreement each
MAX_REMARK_LINES = 30  # the 补充条款 box of the agreement's PDF
REQUIRED = ("position_category", "job_title", "work_region", "work_place", "monthly_salary", "contract_months",
            "probation_months", "contact_person", "contact_phone")
# [0-9], not \d (which takes full-width digits); a mobile number starts 13-19.
_PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$")


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
        labels = {**FIELD_LABELS, **UNIT_LABELS, "address": "单位地址"}
        super().__init__("；".join(f"{labels.get(f, f)}：{'，'.join(r)}" for f, r in self.errors.items()))


def check_terms(data: Mapping[str, Any]) -> Terms:
    """The terms, normalised; every broken rule of every field is reported at once."""
    errors: dict[str, list[str]] = {}

    def bad(field_name: str, reason: str) -> None:
        errors.setdefault(field_name, []).append(reason)

    values: dict[str, Any] = {}
    for name in FIELD_LABELS:
        raw = data.get(name)
        values[name] = without_invisible(raw) if isinstance(raw, str) else raw
        if values[name] in ("", None):
            values[name] = None
            if name in REQUIRED:
                bad(name, "必填")
        elif name in ONE_LINE and isinstance(values[name], str) and breaks_lines(values[name]):
            bad(name, ONE_LINE_REASON)  # a line break in a one-line field of the agreement's PDF
        elif name not in NUMBERS and not isinstance(values[name], str):
            # A list or an object here would reach the PDF and every detail view.
            bad(name, "应为文本")
            values[name] = None
    for name, limit in TEXT_LIMITS.items():
        if isinstance(values[name], str) and len(values[name]) > limit:
            bad(name, f"不能超过{limit}个字符")
    if isinstance(values["remarks"], str) and values["remarks"].count("\n") >= MAX_REMARK_LINES:
        bad("remarks", f"不能超过{MAX_REMARK_LINES}行")
    if values["position_category"] is not None and values["position_category"] not in position_categories():
        bad("position_category", f"未知的职位类别代码 {values['position_category']}")
    if values["work_region"] is not None and not is_valid_region(values["work_region"]):
        bad("work_region", "应为6位行政区划代码（GB/T 2260）")
    for name, low, high in (("monthly_salary", 1, 1_000_000), ("contract_months", 1, 120),
                            ("probation_months", 0, 6)):
        value = values[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            bad(name, "应为整数")
        elif not low <= value <= high:
            bad(name, f"应在{low}到{high}之间")
    if isinstance(values["probation_months"], int) and isinstance(values["contract_months"], int) \
            and not isinstance(values["probation_months"], bool):
        longest = longest_probation(values["contract_months"])
        if values["probation_months"] > longest:
            bad("probation_months", f"合同期限{values['contract_months']}个月的，试用期最长{longest}个月"
                                    "（《劳动合同法》第十九条）")
    if values["contact_phone"] is not None and not _PHONE.match(str(values["contact_phone"])):
        bad("contact_phone", "应为11位手机号或带区号的固定电话")
    if errors:
        raise InvalidTerms(errors)
    return Terms(**values)


def longest_probation(contract_months: int) -> int:
    """The longest probation 《劳动合同法》 §19 allows for a contract of ``contract_months``: none under
    three months, one month under a year, two under three years, six from three years."""
    if contract_months < 3:
        return 0
    if contract_months < 12:
        return 1
    if contract_months < 36:
        return 2
    return 6


# --- the unit, typed in by the graduate when it is not on the platform (offline, supplementary) ---

UNIT_LABELS: Mapping[str, str] = {"name": "单位名称", "credit_code": "统一社会信用代码", "nature": "单位性质",
                                  "industry": "单位行业", "region": "单位所在地"}
MAX_UNIT_ADDRESS = 200


@dataclass(frozen=True)
class Unit:
    name: str
    credit_code: str
    nature: str
    industry: str
    region: str
    address: str | None = None  # 单位地址: optional where the graduate types the unit

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_unit(data: Mapping[str, Any]) -> Unit:
    """The unit's data checked against the code tables; every error at once (``InvalidTerms``)."""
    errors: dict[str, list[str]] = {}
    values = {name: data.get(name) for name in UNIT_LABELS}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            errors.setdefault(name, []).append("应为文本")
            value = None
        values[name] = without_invisible(value or "")
        if not values[name] and name not in errors:
            errors.setdefault(name, []).append("必填")
        elif breaks_lines(values[name]):
            errors.setdefault(name, []).append(ONE_LINE_REASON)
    if len(values["name"]) > 100:
        errors.setdefault("name", []).append("不能超过100个字符")
    if values["credit_code"]:
        try:
            values["credit_code"] = validate_credit_code(values["credit_code"])
        except InvalidIdentifier as exc:
            errors.setdefault("credit_code", []).append(exc.reason)
    if values["nature"] and values["nature"] not in employer_natures():
        errors.setdefault("nature", []).append(f"未知的单位性质代码 {values['nature']}")
    if values["industry"] and values["industry"] not in industries():
        errors.setdefault("industry", []).append(f"未知的单位行业代码 {values['industry']}")
    if values["region"] and not is_valid_region(values["region"]):
        errors.setdefault("region", []).append("应为6位行政区划代码（GB/T 2260）")
    address = data.get("address")
    if address is not None and not isinstance(address, str):
        errors["address"] = ["应为文本"]
    elif address is not None:
        address = without_invisible(address) or None
        if address and breaks_lines(address):
            errors["address"] = [ONE_LINE_REASON]
        elif address and len(address) > MAX_UNIT_ADDRESS:
            errors["address"] = [f"不能超过{MAX_UNIT_ADDRESS}个字符"]
    if errors:
        raise InvalidTerms(errors)
    return Unit(**values, address=address)
