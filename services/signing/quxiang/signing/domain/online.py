"""The agreement's flows, one table of allowed transitions each; labels follow the provincial guide.

在线签约 (online):
an employer invites (签约发起方: 单位); the graduate accepts or rejects before the deadline (no answer in
time: expired by the scheduled job, and a late answer is refused even before the job ran); an
accepted agreement goes to the department, then the school: 审核 for a three-party agreement, 鉴证
for a two-party one (the school's agreement type when the invitation was made).

线下签约 (offline, initiator 学生): the graduate applies with the unit's data and the terms; the
department and the school review the application (协议审核); the platform generates the agreement; the
graduate uploads the stamped scan; the department and the school review the signing (签约审核).

补登 (supplementary, initiator 学生): a paper agreement signed elsewhere, registered with its scan and
reviewed the same way.

Every flow ends the same way: an approved agreement is in force until a termination (解约, its own
request, see ``domain.termination``) or a void request (作废) approved by the school ends it.
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
    APPLICATION_DEPARTMENT_REVIEW = "application_department_review"
    APPLICATION_SCHOOL_REVIEW = "application_school_review"
    APPLICATION_DEPARTMENT_REJECTED = "application_department_rejected"
    APPLICATION_SCHOOL_REJECTED = "application_school_rejected"
    AWAITING_SCAN = "awaiting_scan"
    VOID_REVIEW = "void_review"
    VOIDED = "voided"
    TERMINATED = "terminated"


# Invitations that ended without an agreement: what a unit still sees of the graduate is what it
# invited with (service.online.as_seen_by).
CLOSED_INVITATIONS = frozenset({Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN})


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
    Status.APPLICATION_DEPARTMENT_REVIEW: "协议申请 待院系审核",
    Status.APPLICATION_SCHOOL_REVIEW: "协议申请 待学校审核",
    Status.APPLICATION_DEPARTMENT_REJECTED: "协议审核不通过（院系审核不通过）",
    Status.APPLICATION_SCHOOL_REJECTED: "协议审核不通过（学校审核不通过）",
    Status.AWAITING_SCAN: "待上传签约材料",
    Status.VOID_REVIEW: "作废申请审核中",
    Status.VOIDED: "已作废",
    Status.TERMINATED: "已解约",
}
# A two-party agreement is attested (鉴证), not reviewed, by the school.
TWO_PARTY_LABELS: Mapping[Status, str] = {
    Status.SCHOOL_REVIEW: "待学校鉴证",
    Status.APPROVED: "鉴证通过",
    Status.SCHOOL_REJECTED: "鉴证不通过（学校鉴证不通过）",
}


# An offline or 补登 agreement reaches the department with its signed paper's scan: nobody answered
# an invitation ("学生已应约" would say so).
PAPER_LABELS: Mapping[Status, str] = {Status.DEPARTMENT_REVIEW: "签约材料已上传 待院系审核"}


def status_label(status: Status, agreement_type: AgreementType | str, flow: str = "online") -> str:
    if flow != "online" and status in PAPER_LABELS:
        return PAPER_LABELS[status]
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
    RESUBMIT_APPLICATION = "resubmit_application"
    APPLICATION_DEPARTMENT_APPROVE = "application_department_approve"
    APPLICATION_DEPARTMENT_REJECT = "application_department_reject"
    APPLICATION_SCHOOL_APPROVE = "application_school_approve"
    APPLICATION_SCHOOL_REJECT = "application_school_reject"
    SUBMIT_SCAN = "submit_scan"
    REQUEST_VOID = "request_void"
    APPROVE_VOID = "approve_void"
    REJECT_VOID = "reject_void"
    TERMINATE = "terminate"


ACTION_LABELS: Mapping[Action, str] = {
    Action.ACCEPT: "接受签约邀请", Action.DECLINE: "拒绝签约邀请", Action.EXPIRE: "逾期关闭",
    Action.WITHDRAW: "撤回签约邀请", Action.DEPARTMENT_APPROVE: "院系审核通过",
    Action.DEPARTMENT_REJECT: "院系审核不通过", Action.SCHOOL_APPROVE: "学校审核（鉴证）通过",
    Action.SCHOOL_REJECT: "学校审核（鉴证）不通过",
    Action.RESUBMIT_APPLICATION: "重新提交协议申请", Action.APPLICATION_DEPARTMENT_APPROVE: "院系协议审核通过",
    Action.APPLICATION_DEPARTMENT_REJECT: "院系协议审核不通过", Action.APPLICATION_SCHOOL_APPROVE: "学校协议审核通过",
    Action.APPLICATION_SCHOOL_REJECT: "学校协议审核不通过", Action.SUBMIT_SCAN: "上传签约材料并提交审核",
    Action.REQUEST_VOID: "申请作废", Action.APPROVE_VOID: "同意作废", Action.REJECT_VOID: "不同意作废",
    Action.TERMINATE: "解约生效",
}

# The signing review and what follows it, the same in every flow.
_REVIEW_AND_AFTER: dict[Action, dict[Status, Status]] = {
    Action.DEPARTMENT_APPROVE: {Status.DEPARTMENT_REVIEW: Status.SCHOOL_REVIEW},
    Action.DEPARTMENT_REJECT: {Status.DEPARTMENT_REVIEW: Status.DEPARTMENT_REJECTED},
    Action.SCHOOL_APPROVE: {Status.SCHOOL_REVIEW: Status.APPROVED},
    Action.SCHOOL_REJECT: {Status.SCHOOL_REVIEW: Status.SCHOOL_REJECTED},
    Action.REQUEST_VOID: {Status.APPROVED: Status.VOID_REVIEW},
    Action.APPROVE_VOID: {Status.VOID_REVIEW: Status.VOIDED},
    Action.REJECT_VOID: {Status.VOID_REVIEW: Status.APPROVED},
    Action.TERMINATE: {Status.APPROVED: Status.TERMINATED},
}
# The scan is (re)submitted while awaited, and after a rejected signing review.
_SCAN: dict[Action, dict[Status, Status]] = {
    Action.SUBMIT_SCAN: {Status.AWAITING_SCAN: Status.DEPARTMENT_REVIEW,
                         Status.DEPARTMENT_REJECTED: Status.DEPARTMENT_REVIEW,
                         Status.SCHOOL_REJECTED: Status.DEPARTMENT_REVIEW},
}

ONLINE_SIGNING = Workflow("online_signing", {
    Action.ACCEPT: {Status.INVITED: Status.DEPARTMENT_REVIEW},
    Action.DECLINE: {Status.INVITED: Status.DECLINED},
    Action.EXPIRE: {Status.INVITED: Status.EXPIRED},
    Action.WITHDRAW: {Status.INVITED: Status.WITHDRAWN},
    **_REVIEW_AND_AFTER,
}, STATUS_LABELS, ACTION_LABELS)

OFFLINE_SIGNING = Workflow("offline_signing", {
    Action.RESUBMIT_APPLICATION: {Status.APPLICATION_DEPARTMENT_REJECTED: Status.APPLICATION_DEPARTMENT_REVIEW,
                                  Status.APPLICATION_SCHOOL_REJECTED: Status.APPLICATION_DEPARTMENT_REVIEW},
    Action.APPLICATION_DEPARTMENT_APPROVE: {Status.APPLICATION_DEPARTMENT_REVIEW: Status.APPLICATION_SCHOOL_REVIEW},
    Action.APPLICATION_DEPARTMENT_REJECT: {Status.APPLICATION_DEPARTMENT_REVIEW:
                                          Status.APPLICATION_DEPARTMENT_REJECTED},
    Action.APPLICATION_SCHOOL_APPROVE: {Status.APPLICATION_SCHOOL_REVIEW: Status.AWAITING_SCAN},
    Action.APPLICATION_SCHOOL_REJECT: {Status.APPLICATION_SCHOOL_REVIEW: Status.APPLICATION_SCHOOL_REJECTED},
    **_SCAN,
    **_REVIEW_AND_AFTER,
}, STATUS_LABELS, ACTION_LABELS)

SUPPLEMENTARY = Workflow("supplementary_registration", {**_SCAN, **_REVIEW_AND_AFTER}, STATUS_LABELS, ACTION_LABELS)

WORKFLOWS: Mapping[str, Workflow[Status, Action]] = {"online": ONLINE_SIGNING, "offline": OFFLINE_SIGNING,
                                                     "supplementary": SUPPLEMENTARY}
# Where a new agreement of each flow starts (online: INVITED; offline: the application's review).
FIRST_REVIEW = {Status.DEPARTMENT_REVIEW: Status.SCHOOL_REVIEW,
                Status.APPLICATION_DEPARTMENT_REVIEW: Status.APPLICATION_SCHOOL_REVIEW}

# The graduate holds the agreement (no other may be accepted) in these states.
HELD = frozenset({Status.APPLICATION_DEPARTMENT_REVIEW, Status.APPLICATION_SCHOOL_REVIEW, Status.AWAITING_SCAN,
                  Status.DEPARTMENT_REVIEW, Status.SCHOOL_REVIEW, Status.APPROVED, Status.VOID_REVIEW})
# An employer's invitation to a graduate is open (no second one) in this state.
OPEN = frozenset({Status.INVITED})

DEFAULT_RESPONSE_DAYS = 7
MIN_RESPONSE_DAYS, MAX_RESPONSE_DAYS = 1, 30


def agreement_number(year: int, school_code: str, education_level: str, serial: int) -> str:
    """协议编号: graduation year + school code + education level + a serial per (year, school, level)."""
    return f"{year}{school_code}{education_level}{serial:06d}"
