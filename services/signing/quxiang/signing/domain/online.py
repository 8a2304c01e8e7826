"""在线签约: the online signing of an employment agreement, from the employer's invitation to the
school's review. One table of allowed transitions; labels follow the provincial guide.

An employer invites (签约发起方: 单位); the graduate accepts or rejects before the deadline (no answer in
time: expired by the scheduled job, and a late answer is refused even before the job ran); an
accepted agreement goes to the department, then the school: 审核 for a three-party agreement, 鉴证
for a two-party one (the school's agreement type when the invitation was made).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from quxiang.common.workflow import Workflow


class Initiator(StrEnum):
    EMPLOYER = "employer"
    GRADUATE = "graduate"


INITIATOR_LABELS = {Initiator.EMPLOYER: "单位", Initiator.GRADUATE: "学生"}


class AgreementType(StrEnum):
    TWO_PARTY = "two_party"      # 两方协议: the school attests (鉴证)
    THREE_PARTY = "three_party"  # 三方协议: the school reviews (审核)


AGREEMENT_TYPE_LABELS = {AgreementType.TWO_PARTY: "两方协议", AgreementType.THREE_PARTY: "三方协议"}


class Status(StrEnum):
    INVITED = "invited"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    DEPARTMENT_REVIEW = "department_review"
    SCHOOL_REVIEW = "school_review"
    APPROVED = "approved"
    DEPARTMENT_REJECTED = "department_rejected"
    SCHOOL_REJECTED = "school_rejected"


STATUS_LABELS: Mapping[Status, str] = {
    Status.INVITED: "已发出签约邀请 待学生应约",
    Status.DECLINED: "学生已拒绝签约 签约失败",
    Status.EXPIRED: "签约邀请逾期未回应 签约失败",
    Status.WITHDRAWN: "单位已撤回签约邀请",
    Status.DEPARTMENT_REVIEW: "学生已应约 待院系审核",
    Status.SCHOOL_REVIEW: "待学校审核",
    Status.APPROVED: "签约审核通过",
    Status.DEPARTMENT_REJECTED: "签约审核不通过（院系审核不通过）",
    Status.SCHOOL_REJECTED: "签约审核不通过（学校审核不通过）",
}
# A two-party agreement is attested (鉴证), not reviewed, by the school.
TWO_PARTY_LABELS: Mapping[Status, str] = {
    Status.SCHOOL_REVIEW: "待学校鉴证",
    Status.APPROVED: "鉴证通过",
    Status.SCHOOL_REJECTED: "鉴证不通过（学校鉴证不通过）",
}


def status_label(status: Status, agreement_type: AgreementType | str) -> str:
    if AgreementType(agreement_type) is AgreementType.TWO_PARTY:
        return TWO_PARTY_LABELS.get(status, STATUS_LABELS[status])
    return STATUS_LABELS[status]


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"
    DEPARTMENT_APPROVE = "department_approve"
    DEPARTMENT_REJECT = "department_reject"
    SCHOOL_APPROVE = "school_approve"
    SCHOOL_REJECT = "school_reject"


ACTION_LABELS: Mapping[Action, str] = {
    Action.ACCEPT: "接受签约邀请", Action.DECLINE: "拒绝签约邀请", Action.EXPIRE: "逾期关闭",
    Action.WITHDRAW: "撤回签约邀请", Action.DEPARTMENT_APPROVE: "院系审核通过",
    Action.DEPARTMENT_REJECT: "院系审核不通过", Action.SCHOOL_APPROVE: "学校审核（鉴证）通过",
    Action.SCHOOL_REJECT: "学校审核（鉴证）不通过",
}

ONLINE_SIGNING = Workflow("online_signing", {
    Action.ACCEPT: {Status.INVITED: Status.DEPARTMENT_REVIEW},
    Action.DECLINE: {Status.INVITED: Status.DECLINED},
    Action.EXPIRE: {Status.INVITED: Status.EXPIRED},
    Action.WITHDRAW: {Status.INVITED: Status.WITHDRAWN},
    Action.DEPARTMENT_APPROVE: {Status.DEPARTMENT_REVIEW: Status.SCHOOL_REVIEW},
    Action.DEPARTMENT_REJECT: {Status.DEPARTMENT_REVIEW: Status.DEPARTMENT_REJECTED},
    Action.SCHOOL_APPROVE: {Status.SCHOOL_REVIEW: Status.APPROVED},
    Action.SCHOOL_REJECT: {Status.SCHOOL_REVIEW: Status.SCHOOL_REJECTED},
}, STATUS_LABELS, ACTION_LABELS)

# The graduate holds the agreement (no other may be accepted) in these states.
HELD = frozenset({Status.DEPARTMENT_REVIEW, Status.SCHOOL_REVIEW, Status.APPROVED})
# An employer's invitation to a graduate is open (no second one) in this state.
OPEN = frozenset({Status.INVITED})

DEFAULT_RESPONSE_DAYS = 7
MIN_RESPONSE_DAYS, MAX_RESPONSE_DAYS = 1, 30


def agreement_number(year: int, school_code: str, education_level: str, serial: int) -> str:
    """协议编号: graduation year + school code + education level + a serial per (year, school, level)."""
    return f"{year}{school_code}{education_level}{serial:06d}"
