"""The transition table: moves, refusals naming the state and the allowed actions, and a table
that refers to an unlabelled state is refused when it is declared."""

from __future__ import annotations

from enum import StrEnum

import pytest

from quxiang.common.workflow import RefusedTransition, Workflow


class S(StrEnum):
    OPEN = "open"
    DONE = "done"
    LOST = "lost"


class A(StrEnum):
    FINISH = "finish"
    DROP = "drop"


FLOW = Workflow("test", {A.FINISH: {S.OPEN: S.DONE}, A.DROP: {S.OPEN: S.LOST, S.DONE: S.LOST}},
                {S.OPEN: "进行中", S.DONE: "已完成", S.LOST: "已放弃"}, {A.FINISH: "完成", A.DROP: "放弃"})


def test_moves_and_allowed_actions():
    assert FLOW.next(S.OPEN, A.FINISH) is S.DONE
    assert FLOW.allowed(S.OPEN) == (A.FINISH, A.DROP)
    assert FLOW.allowed(S.DONE) == (A.DROP,)
    assert FLOW.is_final(S.LOST) and not FLOW.is_final(S.DONE)


def test_a_refusal_names_the_state_and_what_is_allowed():
    with pytest.raises(RefusedTransition) as refused:
        FLOW.next(S.DONE, A.FINISH)
    assert "已完成" in str(refused.value) and "放弃" in str(refused.value)
    assert refused.value.as_problem() == {"current_status": "done", "current_status_label": "已完成",
                                          "allowed_actions": ["drop"]}
    with pytest.raises(RefusedTransition, match="无"):
        FLOW.next(S.LOST, A.DROP)


def test_unlabelled_states_are_refused_at_declaration():
    with pytest.raises(ValueError, match="has no label"):
        Workflow("bad", {A.FINISH: {S.OPEN: S.DONE}}, {S.OPEN: "进行中"}, {A.FINISH: "完成"})
