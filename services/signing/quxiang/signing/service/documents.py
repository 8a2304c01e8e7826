"""The approved agreement as a PDF: rendered once when the school approves (in the approval's
transaction, so an approved agreement always has its document), kept with its SHA-256, downloaded
by the graduate, the employer and the school, and verified by anyone from the file or its hash."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Row

from quxiang.common.reference import education_levels, employer_natures, industries, position_categories, provinces
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters import store
from quxiang.signing.adapters.agreement_pdf import (
    AgreementDocument,
    EmployerParty,
    GraduateParty,
    Position,
    render_agreement,
)
from quxiang.signing.adapters.tables import agreement_documents, agreements
from quxiang.signing.domain.online import Status, status_label

GENDERS = {"M": "男", "F": "女"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _day(value: datetime | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).date()


def build_document(row: Any, graduate: Row | None, school: Row | None, approved_at: datetime) -> AgreementDocument:
    unit, terms = row["unit"], row["terms"]
    region = provinces().get(unit["region"][:2])
    return AgreementDocument(
        agreement_number=row["number"], agreement_type=row["agreement_type"],
        graduate=GraduateParty(
            name=graduate.name if graduate else "", gender=GENDERS.get(graduate.gender or "", "") if graduate else "",
            exam_number=graduate.exam_number if graduate else "",
            education_level=education_levels().label(row["education_level"], row["education_level"] or ""),
            major=(graduate.major_name or "") if graduate else "", school_name=school.name if school else "",
            department_name=(graduate.department_name or "") if graduate else "", phone="",
            identity_number_masked=(graduate.identity_number_masked or "") if graduate else ""),
        employer=EmployerParty(
            name=unit["name"], credit_code=unit["credit_code"],
            nature=employer_natures().label(unit["nature"], unit["nature"]),
            industry=industries().label(unit["industry"], unit["industry"]),
            region=f"{unit['region']} {region.name_zh}" if region else unit["region"], address=terms["work_place"],
            contact_person=terms["contact_person"], phone=terms["contact_phone"]),
        position=Position(category=position_categories().label(terms["position_category"],
                                                               terms["position_category"]),
                          title=terms["job_title"], work_place=terms["work_place"]),
        salary=terms["monthly_salary"], contract_period_months=terms["contract_months"],
        probation_months=terms["probation_months"], archive_destination=terms.get("archive_destination") or "",
        hukou_destination=terms.get("hukou_destination") or "", remarks=terms.get("remarks") or "",
        signed_on=_day(row["accepted_at"]), approved_on=_day(approved_at),
        approving_school=school.name if school else row["school_code"])


def store_document(bind: store.Bind, row: Any, approved_at: datetime) -> str:
    """Render the approved agreement and keep it; answers its SHA-256."""
    graduate = store.get_graduate(bind, row["graduate_id"])
    school = store.get_school(bind, row["school_code"])
    pdf = render_agreement(build_document(row, graduate, school, approved_at))
    digest = hashlib.sha256(pdf).hexdigest()
    bind.execute(insert(agreement_documents).values(agreement_id=row["id"], sha256=digest, pdf=pdf,
                                                    created_at=approved_at))
    return digest


GENERATED = frozenset({Status.AWAITING_SCAN, Status.DEPARTMENT_REVIEW, Status.SCHOOL_REVIEW,
                       Status.DEPARTMENT_REJECTED, Status.SCHOOL_REJECTED})


def generated_agreement(bind: store.Bind, row: Row) -> bytes | None:
    """线下签约: once the application is approved, the platform generates the agreement to print,
    sign and stamp. Rendered on request; only the approved agreement's document is kept."""
    if row.flow != "offline" or Status(row.status) not in GENERATED:
        return None
    graduate = store.get_graduate(bind, row.graduate_id)
    school = store.get_school(bind, row.school_code)
    return render_agreement(build_document(row._asdict(), graduate, school, row.updated_at))


def get_document(bind: store.Bind, agreement_id: str) -> Row | None:
    return bind.execute(select(agreement_documents).where(agreement_documents.c.agreement_id == agreement_id)).first()


def verify(bind: store.Bind, *, pdf: bytes | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Whether a file (or its hash) is a genuine agreement of the platform, and its current state:
    a terminated agreement says so. Reveals no more than a printed copy shows, less the names."""
    if pdf is not None:
        sha256 = hashlib.sha256(pdf).hexdigest()
    sha256 = (sha256 or "").strip().lower()
    if not _SHA256.match(sha256):
        raise ProblemError(422, "invalid_sha256", detail="SHA-256 应为64位十六进制字符", field="sha256")
    row = bind.execute(select(agreements.c.number, agreements.c.status, agreements.c.agreement_type,
                              agreements.c.unit, agreements.c.school_code, agreement_documents.c.created_at)
                       .join(agreement_documents, agreement_documents.c.agreement_id == agreements.c.id)
                       .where(agreement_documents.c.sha256 == sha256)).first()
    if row is None:
        return {"genuine": False, "sha256": sha256,
                "detail": "未找到与此文件一致的协议：文件可能被修改过，或不是本平台出具的协议"}
    status = Status(row.status)
    return {"genuine": True, "sha256": sha256, "agreement_number": row.number, "status": status.value,
            "status_label": status_label(status, row.agreement_type), "in_force": status is Status.APPROVED,
            "unit_name": row.unit["name"], "school_code": row.school_code,
            "approved_on": _day(row.created_at).isoformat()}
