"""The approved agreement as a PDF, kept with its SHA-256, downloaded by the graduate, the employer
and the school, and verified by anyone from the file or its hash.

The approval's transaction records that the document is due (``request_document``: a row with no
PDF yet, stamped with the approval's time), so an approved agreement always has one; rendering it
(under 0.1 s of CPU) happens after the commit, off the approving request: signing's jobs render
what is due (``render_pending``, every second), and whoever needs it first (a download, the
detail) renders it on the spot (``rendered_document``). The render is deterministic (same
agreement, same bytes), and the row is locked while rendering, so whichever comes first, the kept
PDF and its SHA-256 are the same."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine, Row

from quxiang.common.db import reading
from quxiang.common.reference import (
    education_levels,
    employer_natures,
    industries,
    position_categories,
    region_province,
)
from quxiang.common.times import china_date
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

log = logging.getLogger(__name__)

# A document whose rendering failed is tried again after a pause that doubles each time, up to
# RETRY_MAX seconds (per process): it must neither hold up the documents behind it nor be retried
# in a tight loop. A restart tries it again at once.
RETRY_FIRST, RETRY_MAX = 5.0, 600.0
_failures: dict[str, tuple[int, float]] = {}  # agreement id -> (failures, monotonic time of the next try)

GENDERS = {"M": "男", "F": "女"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _day(value: datetime | None) -> date:
    """The agreement's dates are days in China: an approval at 23:00 UTC is the next day there."""
    return china_date(value if value is not None else datetime.now(UTC))


def build_document(row: Any, graduate: Row | None, school: Row | None, approved_at: datetime) -> AgreementDocument:
    unit, terms = row["unit"], row["terms"]
    region = region_province(unit["region"])
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
            region=f"{unit['region']} {region.name_zh}" if region else unit["region"],
            address=unit.get("address") or "",  # the unit's own, never the position's 工作地点
            contact_person=terms["contact_person"], phone=terms["contact_phone"]),
        position=Position(category=position_categories().label(terms["position_category"],
                                                               terms["position_category"]),
                          title=terms["job_title"], work_place=terms["work_place"]),
        salary=terms["monthly_salary"], contract_period_months=terms["contract_months"],
        probation_months=terms["probation_months"], archive_destination=terms.get("archive_destination") or "",
        hukou_destination=terms.get("hukou_destination") or "", remarks=terms.get("remarks") or "",
        signed_on=_day(row["accepted_at"]), approved_on=_day(approved_at),
        approving_school=school.name if school else row["school_code"])


_REQUEST_DOCUMENT = insert(agreement_documents)


def request_document(bind: store.Bind, agreement_id: str, approved_at: datetime) -> None:
    """In the approval's transaction: the approved agreement's document is due (rendered later)."""
    bind.execute(_REQUEST_DOCUMENT, {"agreement_id": agreement_id, "sha256": None, "pdf": None,
                                     "created_at": approved_at})


def rendered_document(engine: Engine, agreement_id: str) -> Row | None:
    """The agreement's kept document, rendered now if it is still due; None if it has none."""
    with reading(engine) as conn:
        document = get_document(conn, agreement_id)
    if document is None or document.pdf is not None:
        return document
    # Rendered here, or just now by the jobs (then this waited for them), or failed (still due: its
    # hash shows as None and the jobs try again): what is kept now is the answer in every case.
    _render_or_note(engine, agreement_id)
    with reading(engine) as conn:
        return get_document(conn, agreement_id)


def render_pending(engine: Engine, limit: int = 50) -> int:
    """Render up to ``limit`` due documents, oldest first (signing's jobs); answers how many."""
    now = time.monotonic()
    # A copy: a detail view may note or clear a failure meanwhile (make run's threads).
    waiting = [agreement_id for agreement_id, (_, retry_at) in list(_failures.items()) if retry_at > now]
    query = (select(agreement_documents.c.agreement_id).where(agreement_documents.c.pdf.is_(None))
             .order_by(agreement_documents.c.created_at).limit(limit))
    if waiting:  # failed lately: the documents behind them go first
        query = query.where(agreement_documents.c.agreement_id.not_in(waiting))
    with reading(engine) as conn:
        due = conn.execute(query).scalars().all()
    # Every worker replica runs the job: one skips what another is rendering at the moment.
    return sum(_render_or_note(engine, agreement_id, skip_locked=True) for agreement_id in due)


def _render_or_note(engine: Engine, agreement_id: str, skip_locked: bool = False) -> bool:
    """``_render``; a failure is logged and noted for a later retry instead of raised, so one
    document that cannot be rendered stops neither the job nor the agreement's detail view."""
    try:
        done = _render(engine, agreement_id, skip_locked=skip_locked)
    except Exception:
        failures = _failures.get(agreement_id, (0, 0.0))[0] + 1
        pause = min(RETRY_MAX, RETRY_FIRST * 2 ** (failures - 1))
        _failures[agreement_id] = (failures, time.monotonic() + pause)
        log.exception("rendering the document of agreement %s failed (%d time(s)); next try in %.0f s",
                      agreement_id, failures, pause)
        return False
    _failures.pop(agreement_id, None)
    return done


def _render(engine: Engine, agreement_id: str, skip_locked: bool = False) -> bool:
    """Render one due document under its row's lock (waiting for it, or passing it by when
    ``skip_locked``); False if someone else already had, or has it now."""
    with engine.begin() as conn:
        document = conn.execute(select(agreement_documents.c.pdf, agreement_documents.c.created_at)
                                .where(agreement_documents.c.agreement_id == agreement_id)
                                .with_for_update(skip_locked=skip_locked)).first()
        if document is None or document.pdf is not None:
            return False
        row = store.get_agreement(conn, agreement_id)
        graduate = store.get_graduate(conn, row.graduate_id)
        school = store.get_school(conn, row.school_code)
        pdf = render_agreement(build_document(row._asdict(), graduate, school, document.created_at))
        conn.execute(update(agreement_documents).where(agreement_documents.c.agreement_id == agreement_id)
                     .values(sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf))
    return True


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


_DOCUMENT = select(agreement_documents).where(agreement_documents.c.agreement_id == bindparam("agreement_id"))
# What a detail view shows of it: the hash, set with the PDF, so None while the PDF is due.
_DOCUMENT_HASH = _DOCUMENT.with_only_columns(agreement_documents.c.agreement_id, agreement_documents.c.sha256,
                                             agreement_documents.c.created_at)


def get_document(bind: store.Bind, agreement_id: str, *, with_pdf: bool = True) -> Row | None:
    """The agreement's document row; without ``with_pdf`` only its id, ``sha256`` (None while the
    PDF is due) and ``created_at``: the PDF is tens of kilobytes a detail view does not need."""
    return bind.execute(_DOCUMENT if with_pdf else _DOCUMENT_HASH, {"agreement_id": agreement_id}).first()


# An approved agreement stays in force while a request to void it waits for the school, which may
# refuse it (and the graduate still holds it meanwhile).
IN_FORCE = frozenset({Status.APPROVED, Status.VOID_REVIEW})


def verify(bind: store.Bind, *, pdf: bytes | None = None, sha256: str | None = None) -> dict[str, Any]:
    """Whether a file (or its hash) is a genuine agreement of the platform, and its current state:
    a terminated agreement says so. Reveals no more than a printed copy shows, less the names."""
    if pdf is not None:
        sha256 = hashlib.sha256(pdf).hexdigest()
    sha256 = (sha256 or "").strip().lower()
    if not _SHA256.match(sha256):
        raise ProblemError(422, "invalid_sha256", detail="SHA-256 应为64位十六进制字符", field="sha256")
    row = bind.execute(select(agreements.c.number, agreements.c.status, agreements.c.agreement_type,
                              agreements.c.flow, agreements.c.unit, agreements.c.school_code,
                              agreement_documents.c.created_at)
                       .join(agreement_documents, agreement_documents.c.agreement_id == agreements.c.id)
                       .where(agreement_documents.c.sha256 == sha256)).first()
    if row is None:
        return {"genuine": False, "sha256": sha256,
                "detail": "未找到与此文件一致的协议：文件可能被修改过，或不是本平台出具的协议"}
    status = Status(row.status)
    return {"genuine": True, "sha256": sha256, "agreement_number": row.number, "status": status.value,
            "status_label": status_label(status, row.agreement_type, row.flow), "in_force": status in IN_FORCE,
            "unit_name": row.unit["name"], "school_code": row.school_code,
            "approved_on": _day(row.created_at).isoformat()}
