"""The transition tables of the agreement flows and of termination, cell by cell: every allowed step
lands where the table says, every other step is refused naming the current state and what is
allowed, and the flows agree on what holds a graduate."""

from __future__ import annotations

import pytest

from quxiang.common.workflow import RefusedTransition
from quxiang.signing.adapters.tables import HELD_STATUSES
from quxiang.signing.domain import termination
from quxiang.signing.domain.online import HELD, OFFLINE_SIGNING, ONLINE_SIGNING, SUPPLEMENTARY, Action, Status

FLOWS = {
    "online": (ONLINE_SIGNING, {
        (Status.INVITED, Action.ACCEPT): Status.DEPARTMENT_REVIEW,
        (Status.INVITED, Action.DECLINE): Status.DECLINED,
        (Status.INVITED, Action.EXPIRE): Status.EXPIRED,
        (Status.INVITED, Action.WITHDRAW): Status.WITHDRAWN,
    }),
    "offline": (OFFLINE_SIGNING, {
        (Status.APPLICATION_DEPARTMENT_REVIEW, Action.APPLICATION_DEPARTMENT_APPROVE): Status.APPLICATION_SCHOOL_REVIEW,
        (Status.APPLICATION_DEPARTMENT_REVIEW, Action.APPLICATION_DEPARTMENT_REJECT):
            Status.APPLICATION_DEPARTMENT_REJECTED,
        (Status.APPLICATION_SCHOOL_REVIEW, Action.APPLICATION_SCHOOL_APPROVE): Status.AWAITING_SCAN,
        (Status.APPLICATION_SCHOOL_REVIEW, Action.APPLICATION_SCHOOL_REJECT): Status.APPLICATION_SCHOOL_REJECTED,
        (Status.APPLICATION_DEPARTMENT_REJECTED, Action.RESUBMIT_APPLICATION): Status.APPLICATION_DEPARTMENT_REVIEW,
        (Status.APPLICATION_SCHOOL_REJECTED, Action.RESUBMIT_APPLICATION): Status.APPLICATION_DEPARTMENT_REVIEW,
        (Status.AWAITING_SCAN, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
        (Status.DEPARTMENT_REJECTED, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
        (Status.SCHOOL_REJECTED, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
    }),
    "supplementary": (SUPPLEMENTARY, {
        (Status.AWAITING_SCAN, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
        (Status.DEPARTMENT_REJECTED, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
        (Status.SCHOOL_REJECTED, Action.SUBMIT_SCAN): Status.DEPARTMENT_REVIEW,
    }),
}
COMMON = {
    (Status.DEPARTMENT_REVIEW, Action.DEPARTMENT_APPROVE): Status.SCHOOL_REVIEW,
    (Status.DEPARTMENT_REVIEW, Action.DEPARTMENT_REJECT): Status.DEPARTMENT_REJECTED,
    (Status.SCHOOL_REVIEW, Action.SCHOOL_APPROVE): Status.APPROVED,
    (Status.SCHOOL_REVIEW, Action.SCHOOL_REJECT): Status.SCHOOL_REJECTED,
    (Status.APPROVED, Action.REQUEST_VOID): Status.VOID_REVIEW,
    (Status.VOID_REVIEW, Action.APPROVE_VOID): Status.VOIDED,
    (Status.VOID_REVIEW, Action.REJECT_VOID): Status.APPROVED,
    (Status.APPROVED, Action.TERMINATE): Status.TERMINATED,
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_every_cell_of_every_agreement_flow(flow):
    workflow, own = FLOWS[flow]
    expected = {**own, **COMMON}
    for status in Status:
        for action in Action:
            if (status, action) in expected:
                assert workflow.next(status, action) is expected[(status, action)], (flow, status, action)
                continue
            with pytest.raises(RefusedTransition) as refused:
                workflow.next(status, action)
            allowed = {a for (s, a) in expected if s is status}
            assert set(refused.value.allowed) == allowed, (flow, status, action)
            assert refused.value.as_problem()["current_status"] == status.value


def test_every_cell_of_termination():
    t = termination
    expected = {
        (t.Status.AWAITING_COUNTERPARTY, t.Action.AGREE): t.Status.SCHOOL_REVIEW,
        (t.Status.AWAITING_COUNTERPARTY, t.Action.DISAGREE): t.Status.COUNTERPARTY_DECLINED,
        (t.Status.AWAITING_COUNTERPARTY, t.Action.WITHDRAW): t.Status.WITHDRAWN,
        (t.Status.SCHOOL_REVIEW, t.Action.WITHDRAW): t.Status.WITHDRAWN,
        (t.Status.SCHOOL_REVIEW, t.Action.SCHOOL_APPROVE): t.Status.APPROVED,
        (t.Status.SCHOOL_REVIEW, t.Action.SCHOOL_REJECT): t.Status.SCHOOL_REJECTED,
    }
    for status in t.Status:
        for action in t.Action:
            if (status, action) in expected:
                assert t.TERMINATION.next(status, action) is expected[(status, action)]
            else:
                with pytest.raises(RefusedTransition):
                    t.TERMINATION.next(status, action)
    assert t.first_status(t.Mode.ONLINE) is t.Status.AWAITING_COUNTERPARTY
    assert t.first_status(t.Mode.OFFLINE) is t.Status.SCHOOL_REVIEW


def test_the_held_rule_is_the_same_in_the_domain_and_the_database():
    assert {s.value for s in HELD} == set(HELD_STATUSES)
