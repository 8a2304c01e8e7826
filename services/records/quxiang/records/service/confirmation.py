"""信息确认: a graduate confirms its base data (生源) or flags an error with a note to its school.

A confirmation holds for the roster version it was given on: when the school re-imports a changed
row, the graduate's data is 待确认 again. The school reads the flagged notes in its list.

The note is what graduates most often put their identity number in ("身份证号有误，正确的是…"): it is
shown with identity numbers masked, except to whoever sees the full number anyway (the graduate, and
in the audited detail view its school and province). The list is never audited, so it masks for all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.db import reading
from quxiang.common.paging import Page, PageRequest
from quxiang.common.pii import redact_valid_identity_numbers
from quxiang.common.times import iso_utc
from quxiang.common.web.errors import ProblemError
from quxiang.records.adapters import registration_store as store
from quxiang.records.adapters import repository
from quxiang.records.adapters.tables import departments, graduate_confirmations, graduates
from quxiang.records.service.context import Records
from quxiang.records.service.registrations import withdrawn_graduate

CONFIRMED, FLAGGED, PENDING = "confirmed", "flagged", "pending"
LABELS = {CONFIRMED: "已确认", FLAGGED: "已反馈有误", PENDING: "待确认"}
MAX_NOTE = 500


def state_of(graduate: Row, confirmation: Row | None, *, full_numbers: bool = False) -> dict[str, Any]:
    """The confirmation as the graduate and the school see it (stale after a roster change). The
    note's identity numbers are masked unless ``full_numbers`` (a caller shown the full number)."""
    current = confirmation is not None and confirmation.graduate_version == graduate.version
    status = confirmation.status if current and confirmation is not None else PENDING
    note = confirmation.note if current and confirmation is not None else None
    return {"status": status, "status_label": LABELS[status],
            "note": note if full_numbers else redact_valid_identity_numbers(note),
            "updated_at": iso_utc(confirmation.updated_at) if current and confirmation is not None else None}


def confirm(service: Records, actor: Principal, graduate_id: str, status: str, note: str | None) -> dict[str, Any]:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以确认生源信息")
    note = (note or "").strip() or None
    if status == FLAGGED and not note:
        raise ProblemError(422, "note_required", detail="反馈有误时请写明哪项信息有误", field="note")
    if note and len(note) > MAX_NOTE:
        raise ProblemError(422, "invalid_note", detail=f"说明不能超过{MAX_NOTE}个字符", field="note")
    with service.unit_of_work() as uow:
        graduate = repository.get_graduate(uow.session, graduate_id)
        if graduate is None or not actor.covers(Scope(graduate=graduate.id)):
            raise not_found()
        if graduate.withdrawn_at is not None:
            raise withdrawn_graduate()
        store.put_confirmation(uow.session, graduate_id=graduate_id, school_code=graduate.school_code, status=status,
                               note=note if status == FLAGGED else None, graduate_version=graduate.version)
        uow.commit()
    with reading(service.engine) as conn:
        return state_of(graduate, store.get_confirmation(conn, graduate_id), full_numbers=True)  # its own note


def school_list(service: Records, actor: Principal, school_code: str, status: str | None,
                request: PageRequest) -> Page[dict[str, Any]]:
    """The school's confirmations (a department user: its department's), newest first. ``pending``
    lists the graduates who have not confirmed the current version of their data."""
    current = graduate_confirmations.c.graduate_version == graduates.c.version
    joined = (graduates.outerjoin(graduate_confirmations, graduate_confirmations.c.graduate_id == graduates.c.id)
              .outerjoin(departments, departments.c.id == graduates.c.department_id))
    conditions = [graduates.c.school_code == school_code, graduates.c.withdrawn_at.is_(None)]
    if actor.role is Role.DEPARTMENT:
        conditions.append(graduates.c.department_id == actor.scope.department)
    if status in (CONFIRMED, FLAGGED):
        conditions += [graduate_confirmations.c.status == status, current]
    elif status == PENDING:
        conditions.append((graduate_confirmations.c.graduate_id.is_(None)) | ~current)
    with reading(service.engine) as conn:
        total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
        rows = conn.execute(
            select(graduates.c.id, graduates.c.exam_number, graduates.c.name, graduates.c.version,
                   graduates.c.department_id, departments.c.name.label("department_name"),
                   graduate_confirmations.c.status, graduate_confirmations.c.note,
                   graduate_confirmations.c.graduate_version, graduate_confirmations.c.updated_at)
            .select_from(joined).where(*conditions)
            .order_by(graduate_confirmations.c.updated_at.desc().nulls_last(), graduates.c.exam_number)
            .offset(request.offset).limit(request.page_size)).all()
    items = [{"graduate_id": r.id, "exam_number": r.exam_number, "name": r.name, "department_id": r.department_id,
              "department_name": r.department_name, **state_of(r, r if r.status else None)} for r in rows]
    return Page.of(items, total, request)
