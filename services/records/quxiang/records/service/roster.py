"""Reading the roster: lists with masked identity numbers, the detail view with the full number
for users with read access to the graduate's school (each such view audited), import jobs."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row

from quxiang.common.auth import ensure_visible
from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.db import reading
from quxiang.common.pii import mask_identity_number, redact_valid_identity_numbers
from quxiang.common.times import iso_utc
from quxiang.records.adapters import registration_store, repository
from quxiang.records.adapters.repository import GraduateFilter
from quxiang.records.service import confirmation
from quxiang.records.service.context import Records

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
# Roles that see the full identity number in the detail view (with read access to the school).
FULL_NUMBER_ROLES = frozenset({Role.PROVINCE, Role.SCHOOL, Role.ADMIN})


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size


def school_scope(service: Records, school_code: str) -> Scope:
    """The school's scope (its province from the local copy of accounts' schools)."""
    with reading(service.engine) as conn:
        school = repository.get_school(conn, school_code)
    return Scope(province=school.province if school else None, school=school_code)


def list_graduates(service: Records, actor: Principal, school_code: str, *, department_id: str | None,
                   education_level: str | None, q: str | None, page: int, page_size: int,
                   withdrawn: bool = False, graduation_year: int | None = None) -> Page:
    """Caller must already be checked to see ``school_code`` (department users: their school)."""
    if actor.role is Role.DEPARTMENT:
        department_id = actor.scope.department  # a department sees its own graduates only
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    with reading(service.engine) as conn:
        rows, total = repository.list_graduates(
            conn, GraduateFilter(school_code, department_id, education_level, (q or "").strip() or None, withdrawn,
                                 graduation_year),
            (page - 1) * page_size, page_size)
    return Page([summary(service, r) for r in rows], page, page_size, total)


def summary(service: Records, row: Row) -> dict[str, Any]:
    """A graduate as lists show it: the identity number masked; ``withdrawn`` when off the roster."""
    number = service.cipher.decrypt(row.identity_number_encrypted)
    return {"id": row.id, "school_code": row.school_code, "exam_number": row.exam_number,
            "student_number": row.student_number, "name": row.name, "gender": row.gender,
            "identity_number": mask_identity_number(number), "department_id": row.department_id,
            "department_name": row.department_name, "major_code": row.major_code, "major_name": row.major_name,
            "education_level": row.education_level, "origin_region": row.origin_region,
            "graduation_year": row.graduation_year, "version": row.version,
            "withdrawn": None if row.withdrawn_at is None else {
                # free text: a number typed into it is masked for every caller (as in the event)
                "at": iso_utc(row.withdrawn_at), "reason": redact_valid_identity_numbers(row.withdrawn_reason),
                # signing holds records of it: it stayed off the roster only because another row holds
                # its identity number (withdrawal.note_signing_record); the school resolves which stays
                "signing_records": bool(getattr(row, "signing_records_held", False))}}


def graduate_detail(service: Records, actor: Principal, graduate_id: str) -> dict[str, Any]:
    """One graduate; outside the caller's scope it does not exist. The full identity number for a
    province or school user (audited) and the graduate itself; masked for department users."""
    with service.unit_of_work() as uow:
        row = repository.get_graduate(uow.session, graduate_id)
        if row is None:
            raise not_found()
        ensure_visible(Scope(province=row.province, school=row.school_code, department=row.department_id,
                             graduate=row.id))
        detail = summary(service, row)
        if detail["withdrawn"] is not None:  # the lists read it in their query; one graduate here
            detail["withdrawn"]["signing_records"] = repository.has_signing_records(uow.session, row.id)
        full_number = actor.role in FULL_NUMBER_ROLES or actor.role is Role.GRADUATE
        # the note's numbers as the detail's own: in full only to whoever is shown the full number (audited)
        detail.update(phone=row.phone, email=row.email, created_at=row.created_at, updated_at=row.updated_at,
                      identity_number_masked=True,
                      confirmation=confirmation.state_of(row, registration_store.get_confirmation(uow.session, row.id),
                                                         full_numbers=full_number))
        if full_number:
            detail["identity_number"] = service.cipher.decrypt(row.identity_number_encrypted)
            detail["identity_number_masked"] = False
            if actor.role is not Role.GRADUATE:
                repository.add_identity_view(uow.session, str(uuid.uuid4()), row.id, actor.user_id,
                                             actor.role.value, "detail")
                uow.commit()
                logger.info("identity number of graduate %s shown to %s %s", row.id, actor.role.value,
                            actor.user_id)
    return detail


def get_job(service: Records, job_id: str) -> Row:
    with reading(service.engine) as conn:
        job = repository.get_job(conn, job_id)
    if job is None:
        raise not_found()
    return job
