"""The rule every reviewing service keeps when a school switches department review (院系审核) off."""

from __future__ import annotations

from quxiang.common.web.errors import ProblemError


def refuse_department_review_off(waiting: int, noun: str) -> None:
    """Refuse switching department review off while ``waiting`` items wait for a department: the flows
    let the school act after the department, so they would have no one to decide them. The
    departments finish first."""
    if waiting:
        raise ProblemError(409, "department_reviews_pending", field="department_review", waiting=waiting,
                           detail=f"尚有{waiting}条{noun}待院系审核，请院系审核完毕后再关闭院系审核")
