"""The caller's agreements: an employer its own, a graduate its own, a province, school or
department user those in its scope (identity numbers masked)."""

from __future__ import annotations

from typing import Any

from quxiang.common.auth.principal import Principal, Role
from quxiang.common.db import reading
from quxiang.common.paging import Page, PageRequest
from quxiang.common.times import iso_utc
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters import agreement_lists
from quxiang.signing.adapters.agreement_lists import AgreementFilter
from quxiang.signing.domain import termination
from quxiang.signing.domain.online import CLOSED_INVITATIONS, INITIATOR_LABELS, Initiator, Status, status_label
from quxiang.signing.service.context import Signing


def scoped(actor: Principal, status: str | None, school: str | None, department: str | None) -> AgreementFilter:
    scope = actor.scope
    if actor.role is Role.EMPLOYER:
        return AgreementFilter(employer_id=scope.employer or "-", status=status)
    if actor.role is Role.GRADUATE:
        return AgreementFilter(graduate_id=scope.graduate or "-", status=status)
    if actor.role is Role.PROVINCE:
        return AgreementFilter(province=scope.province or "-", school_code=school, department_id=department,
                               status=status)
    if (school and school != scope.school) or (actor.role is Role.DEPARTMENT and department
                                               and department != scope.department):
        raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
    return AgreementFilter(school_code=scope.school or "-", status=status,
                           department_id=scope.department if actor.role is Role.DEPARTMENT else department)


def list_page(service: Signing, actor: Principal, *, status: str | None, school: str | None, department: str | None,
              request: PageRequest) -> Page[dict[str, Any]]:
    f = scoped(actor, status, school, department)
    with reading(service.engine) as conn:
        rows, total = agreement_lists.page(conn, f, request.offset, request.page_size)
    items = [{"id": r.id, "number": r.number, "initiator": r.initiator,
              "initiator_label": INITIATOR_LABELS[Initiator(r.initiator)], "status": r.status,
              "status_label": status_label(Status(r.status), r.agreement_type, r.flow),
              "agreement_type": r.agreement_type,
              "graduate_id": r.graduate_id, "exam_number": r.exam_number, "name": r.graduate_name,
              "identity_number": r.identity_number_masked, "school_code": r.school_code,
              "school_name": r.school_name, "employer_id": r.employer_id, "unit_name": r.unit["name"],
              "respond_by": iso_utc(r.respond_by),
              "open_termination": _open_termination(r)} for r in rows]
    if actor.role is Role.EMPLOYER:
        items = [_as_seen_by_a_unit(item) for item in items]
    return Page.of(items, total, request)


def _as_seen_by_a_unit(item: dict[str, Any]) -> dict[str, Any]:
    """A graduate who turned the unit down (or let the invitation lapse, or whose invitation the unit
    withdrew) is shown by what the unit invited with, as the detail shows it (online.as_seen_by)."""
    if Status(item["status"]) in CLOSED_INVITATIONS:
        item.update(identity_number=None, school_code=None, school_name=None)
    return item


def _open_termination(row: Any) -> dict[str, str] | None:
    """The agreement's termination request still open (awaiting the other party or the school)."""
    if row.termination_id is None:
        return None
    status = termination.Status(row.termination_status)
    return {"id": row.termination_id, "status": status.value, "status_label": termination.STATUS_LABELS[status],
            "requested_by": row.termination_requested_by}
