"""Lists of agreements within a caller's scope, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Row

from quxiang.common.db import page_by_key
from quxiang.signing.adapters.store import Bind
from quxiang.signing.adapters.tables import agreements, graduates, schools


@dataclass(frozen=True)
class AgreementFilter:
    province: str | None = None
    school_code: str | None = None
    department_id: str | None = None
    graduate_id: str | None = None
    employer_id: str | None = None
    status: str | None = None


def _conditions(f: AgreementFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.province:
        conditions.append(schools.c.province == f.province)
    for column, value in ((agreements.c.school_code, f.school_code), (agreements.c.department_id, f.department_id),
                          (agreements.c.graduate_id, f.graduate_id), (agreements.c.employer_id, f.employer_id),
                          (agreements.c.status, f.status)):
        if value:
            conditions.append(column == value)
    return conditions


def page(bind: Bind, f: AgreementFilter, offset: int, limit: int) -> tuple[list[Row], int]:
    joined = agreements.join(schools, schools.c.code == agreements.c.school_code) \
        .outerjoin(graduates, graduates.c.id == agreements.c.graduate_id)
    conditions = _conditions(f)
    total = bind.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    listed = (select(agreements, graduates.c.exam_number, graduates.c.name.label("graduate_name"),
                     graduates.c.identity_number_masked, schools.c.name.label("school_name"))
              .select_from(joined).where(*conditions).order_by(agreements.c.created_at.desc(), agreements.c.id))
    rows = bind.execute(page_by_key(listed, agreements.c.id, offset, limit)).all()
    return list(rows), total
