"""Lists of agreements within a caller's scope, newest first."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Row

from quxiang.common.db import ListStatements
from quxiang.signing.adapters.store import Bind
from quxiang.signing.adapters.tables import agreements, graduates, schools, terminations
from quxiang.signing.domain.termination import OPEN


@dataclass(frozen=True)
class AgreementFilter:
    province: str | None = None
    school_code: str | None = None
    department_id: str | None = None
    graduate_id: str | None = None
    employer_id: str | None = None
    status: str | None = None


_JOINED = (agreements.join(schools, schools.c.code == agreements.c.school_code)
           .outerjoin(graduates, graduates.c.id == agreements.c.graduate_id))
_EQUAL = {"province": schools.c.province, "school_code": agreements.c.school_code,
          "department_id": agreements.c.department_id, "graduate_id": agreements.c.graduate_id,
          "employer_id": agreements.c.employer_id, "status": agreements.c.status}


# An agreement has at most one open termination request (uq_terminations_open), so the join adds no row.
_OPEN_TERMINATION = and_(terminations.c.agreement_id == agreements.c.id,
                         terminations.c.status.in_(sorted(status.value for status in OPEN)))


def _params(f: AgreementFilter) -> dict[str, str]:
    return {name: getattr(f, name) for name in _EQUAL if getattr(f, name)}


# Built once per filter set, run with bound values (see ListStatements).
@functools.lru_cache(maxsize=64)
def _statements(names: frozenset[str]) -> ListStatements:
    conditions = [column == bindparam(name) for name, column in _EQUAL.items() if name in names]
    listed = (select(agreements, graduates.c.exam_number, graduates.c.name.label("graduate_name"),
                     graduates.c.identity_number_masked, schools.c.name.label("school_name"),
                     terminations.c.id.label("termination_id"), terminations.c.status.label("termination_status"),
                     terminations.c.requested_by.label("termination_requested_by"))
              .select_from(_JOINED.outerjoin(terminations, _OPEN_TERMINATION))
              .order_by(agreements.c.created_at.desc(), agreements.c.id))
    return ListStatements.of(select(func.count()).select_from(_JOINED).where(*conditions), listed, conditions,
                             agreements.c.id)


def page(bind: Bind, f: AgreementFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    params = _params(f)
    return _statements(frozenset(params)).page_of(bind, params, offset, limit)
