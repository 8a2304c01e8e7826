"""解约: ending an approved agreement. One table of allowed transitions.

Online: one party (the graduate or the employer) asks with a reason, the other agrees (or not),
then the school reviews. Offline (the unit is not on the platform, or the parties ended it on
paper): the graduate uploads the termination letter (解约函) and the school reviews. An approved
termination ends the agreement (已解约); the graduate may then sign again.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from quxiang.common.workflow import Workflow


class Mode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class Status(StrEnum):
    AWAITING_COUNTERPARTY = "awaiting_counterparty"
    SCHOOL_REVIEW = "school_review"
    APPROVED = "approved"
    COUNTERPARTY_DECLINED = "counterparty_declined"
    SCHOOL_REJECTED = "school_rejected"
    WITHDRAWN = "withdrawn"


STATUS_LABELS: Mapping[Status, str] = {
    Status.AWAITING_COUNTERPARTY: "解约申请 待对方确认",
    Status.SCHOOL_REVIEW: "解约申请 待学校审核",
    Status.APPROVED: "解约审核通过",
    Status.COUNTERPARTY_DECLINED: "对方不同意解约",
    Status.SCHOOL_REJECTED: "解约审核不通过（学校审核不通过）",
    Status.WITHDRAWN: "解约申请已撤回",
}
OPEN = frozenset({Status.AWAITING_COUNTERPARTY, Status.SCHOOL_REVIEW})


class Action(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    WITHDRAW = "withdraw"
    SCHOOL_APPROVE = "school_approve"
    SCHOOL_REJECT = "school_reject"


ACTION_LABELS: Mapping[Action, str] = {
    Action.AGREE: "同意解约", Action.DISAGREE: "不同意解约", Action.WITHDRAW: "撤回解约申请",
    Action.SCHOOL_APPROVE: "学校解约审核通过", Action.SCHOOL_REJECT: "学校解约审核不通过",
}

TERMINATION = Workflow("termination", {
    Action.AGREE: {Status.AWAITING_COUNTERPARTY: Status.SCHOOL_REVIEW},
    Action.DISAGREE: {Status.AWAITING_COUNTERPARTY: Status.COUNTERPARTY_DECLINED},
    Action.WITHDRAW: {Status.AWAITING_COUNTERPARTY: Status.WITHDRAWN, Status.SCHOOL_REVIEW: Status.WITHDRAWN},
    Action.SCHOOL_APPROVE: {Status.SCHOOL_REVIEW: Status.APPROVED},
    Action.SCHOOL_REJECT: {Status.SCHOOL_REVIEW: Status.SCHOOL_REJECTED},
}, STATUS_LABELS, ACTION_LABELS)


def first_status(mode: Mode) -> Status:
    """Online requests wait for the other party; an offline letter goes straight to the school."""
    return Status.AWAITING_COUNTERPARTY if mode is Mode.ONLINE else Status.SCHOOL_REVIEW
