"""Archive (档案) and hukou (户口) registration: the states, the one table of allowed transitions,
and the rules of the transfer data a graduate fills in. Pure values, no framework, no database.

A graduate has at most one registration per module. It is filled and saved as a draft, submitted,
reviewed by the department (when the school's settings ask for it) and then by the school. A
rejected or approved registration changes only through a new submission, reviewed again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from quxiang.common.reference import TransferType, transfer_types
from quxiang.common.workflow import RefusedTransition, Workflow


class RegistrationModule(StrEnum):
    ARCHIVE = "archive"  # 档案信息登记
    HUKOU = "hukou"      # 户口信息登记


MODULE_LABELS = {RegistrationModule.ARCHIVE: "档案信息登记", RegistrationModule.HUKOU: "户口信息登记"}


class Status(StrEnum):
    NONE = "none"                                # nothing saved yet
    DRAFT = "draft"
    DEPARTMENT_REVIEW = "department_review"
    SCHOOL_REVIEW = "school_review"
    APPROVED = "approved"
    DEPARTMENT_REJECTED = "department_rejected"
    SCHOOL_REJECTED = "school_rejected"


STATUS_LABELS: Mapping[Status, str] = {
    Status.NONE: "未填写",
    Status.DRAFT: "待提交",
    Status.DEPARTMENT_REVIEW: "待院系审核",
    Status.SCHOOL_REVIEW: "待学校审核",
    Status.APPROVED: "审核通过",
    Status.DEPARTMENT_REJECTED: "审核不通过（院系审核不通过）",
    Status.SCHOOL_REJECTED: "审核不通过（学校审核不通过）",
}


class Action(StrEnum):
    SAVE = "save"                                # the graduate saves a draft
    SUBMIT = "submit"                            # the graduate submits for review
    DEPARTMENT_APPROVE = "department_approve"
    DEPARTMENT_REJECT = "department_reject"
    SCHOOL_APPROVE = "school_approve"
    SCHOOL_REJECT = "school_reject"


ACTION_LABELS: Mapping[Action, str] = {
    Action.SAVE: "保存草稿", Action.SUBMIT: "提交审核",
    Action.DEPARTMENT_APPROVE: "院系审核通过", Action.DEPARTMENT_REJECT: "院系审核不通过",
    Action.SCHOOL_APPROVE: "学校审核通过", Action.SCHOOL_REJECT: "学校审核不通过",
}

# An approved registration stays approved (and mirrored) until a new submission replaces it, so it
# takes no draft: the graduate submits the changed data directly. A change refused in review leaves
# the approval standing with its data (service.registrations.review).
_DRAFTABLE = (Status.NONE, Status.DRAFT, Status.DEPARTMENT_REJECTED, Status.SCHOOL_REJECTED)

# The one table of allowed transitions: action -> {from: to}. SUBMIT goes to DEPARTMENT_REVIEW and
# is redirected to SCHOOL_REVIEW by ``next_status`` when the school does not review by department.
TRANSITIONS: Mapping[Action, Mapping[Status, Status]] = {
    Action.SAVE: {s: Status.DRAFT for s in _DRAFTABLE},
    Action.SUBMIT: {s: Status.DEPARTMENT_REVIEW for s in (*_DRAFTABLE, Status.APPROVED)},
    Action.DEPARTMENT_APPROVE: {Status.DEPARTMENT_REVIEW: Status.SCHOOL_REVIEW},
    Action.DEPARTMENT_REJECT: {Status.DEPARTMENT_REVIEW: Status.DEPARTMENT_REJECTED},
    Action.SCHOOL_APPROVE: {Status.SCHOOL_REVIEW: Status.APPROVED},
    Action.SCHOOL_REJECT: {Status.SCHOOL_REVIEW: Status.SCHOOL_REJECTED},
}


__all__ = ["RefusedTransition"]


class Level(StrEnum):
    GRADUATE = "graduate"
    DEPARTMENT = "department"
    SCHOOL = "school"


LEVEL_LABELS = {Level.GRADUATE: "毕业生", Level.DEPARTMENT: "院系", Level.SCHOOL: "学校"}


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


REVIEW_ACTIONS: Mapping[tuple[Level, Decision], Action] = {
    (Level.DEPARTMENT, Decision.APPROVE): Action.DEPARTMENT_APPROVE,
    (Level.DEPARTMENT, Decision.REJECT): Action.DEPARTMENT_REJECT,
    (Level.SCHOOL, Decision.APPROVE): Action.SCHOOL_APPROVE,
    (Level.SCHOOL, Decision.REJECT): Action.SCHOOL_REJECT,
}


REGISTRATION = Workflow("registration", TRANSITIONS, STATUS_LABELS, ACTION_LABELS)


# The graduate's own steps, which the module's availability (province switch, school settings,
# deadline) gates; reviews go on after the deadline, so what was submitted in time is decided.
GRADUATE_ACTIONS = frozenset({Action.SAVE, Action.SUBMIT})


def allowed_actions(status: Status, *, enabled: bool = True, module_open: bool = True) -> tuple[Action, ...]:
    """What may happen next to a registration in ``status``: nothing while the province has the
    module switched off, only reviews while it is closed to graduates (settings, deadline)."""
    if not enabled:
        return ()
    allowed = REGISTRATION.allowed(status)
    return allowed if module_open else tuple(a for a in allowed if a not in GRADUATE_ACTIONS)


def next_status(current: Status, action: Action, *, department_review: bool = True) -> Status:
    """Where ``action`` takes a registration in ``current``; raises ``RefusedTransition``."""
    target = REGISTRATION.next(current, action)
    if target is Status.DEPARTMENT_REVIEW and not department_review:
        return Status.SCHOOL_REVIEW
    return target


# --- the transfer data ---------------------------------------------------------------------------

FIELD_LABELS: Mapping[str, str] = {
    "transfer_type": "转递类型", "receiving_unit": "接收单位", "receiving_department": "接收部门",
    "address": "地址", "postcode": "邮政编码", "recipient": "收件人", "phone": "联系电话",
}
# What each module needs when its type has an address (address_required in transfer_types.csv).
REQUIRED_WITH_ADDRESS: Mapping[RegistrationModule, tuple[str, ...]] = {
    RegistrationModule.ARCHIVE: ("receiving_unit", "address", "postcode", "recipient", "phone"),
    RegistrationModule.HUKOU: ("address",),
}
OPTIONAL_WITH_ADDRESS: Mapping[RegistrationModule, tuple[str, ...]] = {
    RegistrationModule.ARCHIVE: ("receiving_department",),
    RegistrationModule.HUKOU: ("receiving_unit", "postcode"),
}
MAX_LENGTHS: Mapping[str, int] = {"receiving_unit": 100, "receiving_department": 100, "address": 200,
                                  "recipient": 50}
DETAIL_FIELDS = ("receiving_unit", "receiving_department", "address", "postcode", "recipient", "phone")

# [0-9], not \d: \d takes full-width and other scripts' digits too, which reach the employment
# management system as they were typed. A mobile number starts 13-19.
# Six digits; the first two name a postal province (01 to 86): 000000 is no place.
_POSTCODE = re.compile(r"^(0[1-9]|[1-7][0-9]|8[0-6])[0-9]{4}$")
_PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)$")


@dataclass(frozen=True)
class Transfer:
    transfer_type: str
    receiving_unit: str | None = None
    receiving_department: str | None = None
    address: str | None = None
    postcode: str | None = None
    recipient: str | None = None
    phone: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"transfer_type": self.transfer_type, **{f: getattr(self, f) for f in DETAIL_FIELDS}}


class InvalidTransfer(Exception):
    """The transfer data breaks a rule; ``errors`` maps each field to its reasons (answered as 422)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(f"{FIELD_LABELS.get(f, f)}：{'，'.join(r)}" for f, r in self.errors.items()))


def transfer_type(module: RegistrationModule, code: str) -> TransferType | None:
    return transfer_types(module.value).get(code)


def check_transfer(module: RegistrationModule, data: Mapping[str, Any], *, complete: bool) -> Transfer:
    """The transfer data, normalised. ``complete`` (submitting) needs every field the type requires;
    a draft may lack them. Fields a type has no use for are dropped (a 保留原校 archive has no address)."""
    errors: dict[str, list[str]] = {}
    values = {f: _text(data.get(f)) for f in ("transfer_type", *DETAIL_FIELDS)}
    kind = transfer_type(module, values["transfer_type"] or "") if values["transfer_type"] else None
    if not values["transfer_type"]:
        errors["transfer_type"] = ["必填"]
    elif kind is None:
        codes = "、".join(f"{t.code}（{t.name_zh}）" for t in transfer_types(module.value))
        errors["transfer_type"] = [f"未知的类型 {values['transfer_type']}，可选：{codes}"]
    wanted = (REQUIRED_WITH_ADDRESS[module] + OPTIONAL_WITH_ADDRESS[module]) if kind is None or kind.address_required \
        else ()
    for field_name in DETAIL_FIELDS:
        value = values[field_name]
        if field_name not in wanted:
            values[field_name] = None
            continue
        if value is None:
            if complete and kind is not None and field_name in REQUIRED_WITH_ADDRESS[module]:
                errors.setdefault(field_name, []).append("必填")
            continue
        limit = MAX_LENGTHS.get(field_name)
        if limit and len(value) > limit:
            errors.setdefault(field_name, []).append(f"不能超过{limit}个字符")
        if field_name == "postcode" and not _POSTCODE.match(value):
            errors.setdefault(field_name, []).append("应为6位邮政编码（前两位01至86）")
        if field_name == "phone" and not _PHONE.match(value):
            errors.setdefault(field_name, []).append("应为11位手机号或带区号的固定电话")
    if errors:
        raise InvalidTransfer(errors)
    return Transfer(**values)  # type: ignore[arg-type] - transfer_type is set when there are no errors


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def transfer_number(year: int, school_code: str, serial: int) -> str:
    """转递编号 of an approved archive registration: graduation year, school code, a serial per
    school and year (for example 2026105580000042). Unique and stable once given."""
    return f"{year}{school_code}{serial:07d}"
