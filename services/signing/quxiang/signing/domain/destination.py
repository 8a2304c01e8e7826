"""去向登记: a graduate without an agreement registers another destination (reference
destination_categories.csv), the department (if the school's settings say so) and then the school
review it; an approved registration may be voided (作废) on request, after which the graduate
registers again. One table of allowed transitions, one table of field rules; pure functions.

Decisions:
- Any code of the table is accepted, a two-digit parent (27, 50, 51, 80) as well as its
  sub-categories: the employment management system takes both, and a graduate who does not know the
  sub-category should not be stopped. The rules follow the two-digit category.
- 10 签就业协议形式就业 (``requires_agreement``) is refused: it is registered by signing.
- Proof (证明材料) is required where the destination cannot be checked otherwise: further study in
  China (80x, 录取通知书), study abroad (85, 录取通知书或入学证明), conscription (46, 入伍通知书) and
  self-employment (75, 营业执照). Other categories accept proofs but do not need them.
- Conscription (46) has no unit name or credit code: the notice number and the place of enlistment
  (入伍地, a region code) are asked; unit nature 40 部队 and industry 80 军队 follow from the category.
- A draft is checked for what it holds (the code, each value given, no field foreign to the
  category); submitting checks that every field of the category is there and the proof if needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from quxiang.common.reference import (
    DestinationCategory,
    destination_categories,
    employer_natures,
    industries,
    is_valid_region,
    position_categories,
)
from quxiang.common.validators import (
    ONE_LINE_REASON,
    InvalidIdentifier,
    breaks_lines,
    validate_credit_code,
    without_invisible,
)
from quxiang.common.workflow import Workflow

# --- the workflow --------------------------------------------------------------------------------


class Status(StrEnum):
    DRAFT = "draft"
    DEPARTMENT_REVIEW = "department_review"
    SCHOOL_REVIEW = "school_review"
    APPROVED = "approved"
    DEPARTMENT_REJECTED = "department_rejected"
    SCHOOL_REJECTED = "school_rejected"
    VOID_REVIEW = "void_review"
    VOIDED = "voided"


STATUS_LABELS: Mapping[Status, str] = {
    Status.DRAFT: "待提交",
    Status.DEPARTMENT_REVIEW: "待院系审核",
    Status.SCHOOL_REVIEW: "待学校审核",
    Status.APPROVED: "登记审核通过",
    Status.DEPARTMENT_REJECTED: "登记审核不通过（院系审核不通过）",
    Status.SCHOOL_REJECTED: "登记审核不通过（学校审核不通过）",
    Status.VOID_REVIEW: "作废申请审核中",
    Status.VOIDED: "已作废",
}
NONE_LABEL = "未登记"


class Action(StrEnum):
    SAVE = "save"
    ADD_PROOF = "add_proof"
    SUBMIT = "submit"
    DEPARTMENT_APPROVE = "department_approve"
    DEPARTMENT_REJECT = "department_reject"
    SCHOOL_APPROVE = "school_approve"
    SCHOOL_REJECT = "school_reject"
    REQUEST_VOID = "request_void"
    APPROVE_VOID = "approve_void"
    REJECT_VOID = "reject_void"


ACTION_LABELS: Mapping[Action, str] = {
    Action.SAVE: "保存去向登记", Action.ADD_PROOF: "上传证明材料", Action.SUBMIT: "提交去向登记",
    Action.DEPARTMENT_APPROVE: "院系审核通过", Action.DEPARTMENT_REJECT: "院系审核不通过",
    Action.SCHOOL_APPROVE: "学校审核通过", Action.SCHOOL_REJECT: "学校审核不通过",
    Action.REQUEST_VOID: "申请作废", Action.APPROVE_VOID: "同意作废", Action.REJECT_VOID: "不同意作废",
}

_EDITABLE = (Status.DRAFT, Status.DEPARTMENT_REJECTED, Status.SCHOOL_REJECTED)

DESTINATION = Workflow("destination_registration", {
    # a rejected registration is edited as a draft again, or submitted again as it is
    Action.SAVE: {s: Status.DRAFT for s in _EDITABLE},
    Action.ADD_PROOF: {s: s for s in _EDITABLE},
    # to the school at once when the school's settings skip the department
    Action.SUBMIT: {s: Status.DEPARTMENT_REVIEW for s in _EDITABLE},
    Action.DEPARTMENT_APPROVE: {Status.DEPARTMENT_REVIEW: Status.SCHOOL_REVIEW},
    Action.DEPARTMENT_REJECT: {Status.DEPARTMENT_REVIEW: Status.DEPARTMENT_REJECTED},
    Action.SCHOOL_APPROVE: {Status.SCHOOL_REVIEW: Status.APPROVED},
    Action.SCHOOL_REJECT: {Status.SCHOOL_REVIEW: Status.SCHOOL_REJECTED},
    Action.REQUEST_VOID: {Status.APPROVED: Status.VOID_REVIEW},
    Action.APPROVE_VOID: {Status.VOID_REVIEW: Status.VOIDED},
    Action.REJECT_VOID: {Status.VOID_REVIEW: Status.APPROVED},
}, STATUS_LABELS, ACTION_LABELS)

# The graduate has a destination (no agreement may be accepted meanwhile) in these states.
CURRENT = frozenset({Status.DEPARTMENT_REVIEW, Status.SCHOOL_REVIEW, Status.APPROVED, Status.VOID_REVIEW})
# Actions whose refusal needs a reason.
NEEDS_REASON = frozenset({Action.DEPARTMENT_REJECT, Action.SCHOOL_REJECT, Action.REQUEST_VOID, Action.REJECT_VOID})
MAX_REASON = 500

# --- the fields ----------------------------------------------------------------------------------

Check = Callable[[str], str | None]  # the reason a (stripped, non-empty) value is wrong, or None


def _credit_code(value: str) -> str | None:
    try:
        validate_credit_code(value)
    except InvalidIdentifier as exc:
        return exc.reason
    return None


def _coded(table: Callable[[], Any], what: str) -> Check:
    return lambda value: None if value in table() else f"未知的{what}代码 {value}"


def _region(value: str) -> str | None:
    return None if is_valid_region(value) else "应为6位行政区划代码（GB/T 2260）"


@dataclass(frozen=True)
class FieldRule:
    label: str
    limit: int = 100
    check: Check | None = None
    normalise: Callable[[str], str] = str


FIELDS: Mapping[str, FieldRule] = {
    "unit_name": FieldRule("单位名称"),
    "credit_code": FieldRule("统一社会信用代码", 18, _credit_code, lambda v: validate_credit_code(v)),
    "unit_nature": FieldRule("单位性质", 10, _coded(employer_natures, "单位性质")),
    "unit_industry": FieldRule("单位行业", 10, _coded(industries, "单位行业")),
    "unit_region": FieldRule("单位所在地（行政区划）", 6, _region),
    "position_category": FieldRule("工作职位类别", 10, _coded(position_categories, "职位类别")),
    "enlistment_notice_number": FieldRule("入伍通知书编号", 50),
    "enlistment_region": FieldRule("入伍地（行政区划）", 6, _region),
    "study_school": FieldRule("升学（留学）院校"),
    "programme": FieldRule("录取专业"),
    "country": FieldRule("留学国家（地区）", 50),
    "business_name": FieldRule("创业实体名称"),
    "description": FieldRule("自由职业情况说明", 500),
}
FIELD_LABELS: Mapping[str, str] = {"destination_code": "毕业去向类别", "proofs": "证明材料",
                                   **{name: rule.label for name, rule in FIELDS.items()}}


@dataclass(frozen=True)
class Form:
    """What a two-digit category asks: every field is required on submission."""

    kind: str
    fields: tuple[str, ...]
    proof: str | None = None                                       # the proof required, or None
    implied: Mapping[str, str] = field(default_factory=dict)       # values the category itself gives


UNIT = Form("unit", ("unit_name", "credit_code", "unit_nature", "unit_industry", "unit_region",
                     "position_category"))
CONSCRIPTION = Form("conscription", ("enlistment_notice_number", "enlistment_region"), "入伍通知书",
                    {"unit_nature": "40", "unit_industry": "80"})
FURTHER_STUDY = Form("further_study", ("study_school", "programme"), "录取通知书")
STUDY_ABROAD = Form("study_abroad", ("study_school", "programme", "country"), "录取通知书或入学证明")
ENTREPRENEURSHIP = Form("entrepreneurship", ("business_name", "credit_code"), "营业执照")
FREELANCE = Form("freelance", ("description",))
NOT_PLACED = Form("not_placed", ())

# The field-rule table, by two-digit category (a sub-category follows its parent).
FORMS: Mapping[str, Form] = {
    "11": UNIT, "12": UNIT, "27": UNIT, "50": UNIT, "51": UNIT,
    "46": CONSCRIPTION,
    "75": ENTREPRENEURSHIP,
    "76": FREELANCE,
    "80": FURTHER_STUDY,
    "85": STUDY_ABROAD,
    "70": NOT_PLACED, "71": NOT_PLACED, "72": NOT_PLACED,
}


def form_of(category: DestinationCategory) -> Form | None:
    return FORMS.get(category.top_level.code)


class InvalidDestination(Exception):
    """Every broken rule: ``{"destination_code": [...]}`` or ``{"fields": {name: [...]}}``."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors = dict(errors)
        super().__init__(str(self.errors))


@dataclass(frozen=True)
class Destination:
    code: str
    category: DestinationCategory
    form: Form
    fields: Mapping[str, str]

    @property
    def proof_required(self) -> bool:
        return self.form.proof is not None


def category_of(code: Any) -> tuple[DestinationCategory, Form]:
    """The category and its form; raises ``InvalidDestination`` naming ``destination_code``."""
    code = code.strip() if isinstance(code, str) else code
    if code in (None, ""):
        raise InvalidDestination({"destination_code": ["必填"]})
    category = destination_categories().get(code)
    if category is None:
        raise InvalidDestination({"destination_code": [f"未知的毕业去向类别代码 {code}"]})
    if category.requires_agreement:
        raise InvalidDestination({"destination_code": [
            f"“{category.name_zh}”须通过网上签约办理，不能在去向登记中登记"]})
    form = form_of(category)
    if form is None:
        raise InvalidDestination({"destination_code": [f"暂不支持登记“{category.name_zh}”"]})
    return category, form


# The one field a graduate may write in paragraphs (自由职业's description); every other is one line.
MULTI_LINE = frozenset({"description"})


def check_destination(code: Any, data: Mapping[str, Any] | None, *, complete: bool) -> Destination:
    """The destination, normalised. ``complete``: every field of the category must be there (a
    submission); otherwise only what is given is checked (a draft). Every broken rule of every
    field is reported at once."""
    category, form = category_of(code)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, raw in (data or {}).items():
        if isinstance(raw, str):
            raw = without_invisible(raw)  # a zero-width space is not a unit's name
        if raw is None or (isinstance(raw, str) and not raw):
            continue
        if name not in form.fields:
            errors.setdefault(name, []).append(f"“{category.name_zh}”不填写此项")
            continue
        if not isinstance(raw, str):
            errors.setdefault(name, []).append("应为文本")
            continue
        if name not in MULTI_LINE and breaks_lines(raw):
            errors.setdefault(name, []).append(ONE_LINE_REASON)
            continue
        values[name] = raw
    for name in form.fields:
        value = values.get(name)
        if value is None:
            if complete and name not in errors:
                errors.setdefault(name, []).append("必填")
            continue
        rule = FIELDS[name]
        problems = [f"不能超过{rule.limit}个字符"] if len(value) > rule.limit else []
        reason = rule.check(value) if rule.check else None
        if reason:
            problems.append(reason)
        if problems:
            errors.setdefault(name, []).extend(problems)
        else:
            values[name] = rule.normalise(value)
    if errors:
        raise InvalidDestination({"fields": errors})
    return Destination(category.code, category, form, {n: values[n] for n in form.fields if n in values})


def missing_proof(form: Form, proofs: int) -> str | None:
    """The reason a submission without enough proof is refused, or None."""
    if form.proof and proofs == 0:
        return f"须上传{form.proof}"
    return None


def ems_data(code: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What the employment management system takes for an approved (or voided) registration; the
    keys a category does not have are None."""
    category, form = category_of(code)
    values = {**form.implied, **fields}
    region = values.get("unit_region") or values.get("enlistment_region")
    return {
        "destination_code": category.code, "destination_name": category.name_zh,
        "placement_bucket": category.placement_bucket,
        "unit_name": values.get("unit_name") or values.get("business_name"),
        "credit_code": values.get("credit_code"), "unit_nature": values.get("unit_nature"),
        "unit_industry": values.get("unit_industry"), "unit_region": region,
        "position_category": values.get("position_category"),
        "study_school": values.get("study_school"), "programme": values.get("programme"),
        "country": values.get("country"), "enlistment_notice_number": values.get("enlistment_notice_number"),
    }
