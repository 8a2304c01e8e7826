"""线下签约, 补登 and 作废: the graduate's own agreements and the void request of an approved one.

Offline: the graduate applies with the unit's data and the terms; the application is reviewed
(协议审核); the platform generates the agreement (downloadable from then on); the graduate uploads
the stamped scan (PDF, JPEG or PNG, judged by content) and the signing is reviewed (签约审核).
Supplementary: a paper agreement signed elsewhere, registered with its signing date, then its scan.
Void (作废): the graduate asks with a reason, the school decides; a voided agreement frees the
graduate to register again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from quxiang.common import audit
from quxiang.common.auth.principal import Principal, Role
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import signing as contracts
from quxiang.common.db import reading
from quxiang.common.times import china_date
from quxiang.common.uploads import Upload
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters import store
from quxiang.signing.domain.online import Action, Initiator, Status, agreement_number
from quxiang.signing.domain.termination import OPEN as OPEN_TERMINATIONS
from quxiang.signing.domain.termination import Status as TerminationStatus
from quxiang.signing.domain.terms import InvalidTerms, check_terms, check_unit
from quxiang.signing.service import online
from quxiang.signing.service.context import Signing

MAX_REASON = 500


def _checked(unit: dict[str, Any], terms: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    errors: dict[str, Any] = {}
    checked_unit = checked_terms = None
    try:
        checked_unit = check_unit(unit)
    except InvalidTerms as exc:
        errors["unit"] = exc.errors
    try:
        checked_terms = check_terms(terms)
    except InvalidTerms as exc:
        errors["terms"] = exc.errors
    if errors:
        raise ValidationError(errors)
    assert checked_unit is not None and checked_terms is not None
    return checked_unit.as_dict(), checked_terms.as_dict()


def _graduate_only(actor: Principal) -> str:
    if actor.role is not Role.GRADUATE or not actor.scope.graduate:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以办理")
    return actor.scope.graduate


def apply_offline(service: Signing, actor: Principal, unit: dict[str, Any], terms: dict[str, Any]) -> dict[str, Any]:
    """线下签约: the graduate's application, reviewed before the agreement is generated."""
    return _create(service, actor, "offline", unit, terms, signed_on=None)


def register_supplementary(service: Signing, actor: Principal, unit: dict[str, Any], terms: dict[str, Any],
                           signed_on: date) -> dict[str, Any]:
    """补登: a paper agreement signed elsewhere; its scan comes next (``submit_scan``)."""
    if signed_on > china_date(online.now()):
        raise ValidationError({"signed_on": ["签约日期不能晚于今天"]})
    return _create(service, actor, "supplementary", unit, terms, signed_on=signed_on)


def _earliest_signing(graduation_year: int | None) -> date | None:
    """The first day a graduate of ``graduation_year`` can have signed an employment agreement:
    recruitment for a class starts in its last year of study, so 1 January of the year before."""
    return date(graduation_year - 1, 1, 1) if graduation_year else None


def _create(service: Signing, actor: Principal, flow: str, unit: dict[str, Any], terms: dict[str, Any], *,
            signed_on: date | None) -> dict[str, Any]:
    graduate_id = _graduate_only(actor)
    checked_unit, checked_terms = _checked(unit, terms)
    agreement_id = str(uuid.uuid4())
    try:
        with service.unit_of_work() as uow:
            graduate = store.get_graduate(uow.session, graduate_id)
            if graduate is None:
                raise online.not_found()
            if graduate.withdrawn:
                raise online.withdrawn_graduate()
            earliest = _earliest_signing(graduate.graduation_year)
            if signed_on is not None and earliest is not None and signed_on < earliest:
                raise ValidationError({"signed_on": [f"签约日期不能早于{earliest.isoformat()}（毕业前一年起）"]})
            school = store.get_school(uow.session, graduate.school_code)
            refusal = online.availability(uow.session, school).refusal
            if refusal:
                raise ProblemError(403, refusal[0], detail=refusal[1])
            assert school is not None
            online.refuse_if_destination(uow.session, graduate_id)
            if store.held_agreement(uow.session, graduate_id) is not None:
                raise online._held()
            stamp = online.now()
            if flow == "offline":
                start = Status.APPLICATION_DEPARTMENT_REVIEW
                if not online._department_review(uow, school.code):
                    start = Status.APPLICATION_SCHOOL_REVIEW
                event_type = contracts.AGREEMENT_APPLIED
            else:
                start, event_type = Status.AWAITING_SCAN, contracts.AGREEMENT_REGISTERED
            level = graduate.education_level or "00"
            serial = store.next_serial(uow.session, graduate.graduation_year, graduate.school_code, level)
            values = {
                "id": agreement_id, "flow": flow, "initiator": Initiator.GRADUATE.value,
                "agreement_type": school.agreement_type, "status": start.value, "graduate_id": graduate_id,
                "school_code": graduate.school_code, "department_id": graduate.department_id,
                "education_level": graduate.education_level, "graduation_year": graduate.graduation_year,
                "employer_id": None, "unit": checked_unit, "terms": checked_terms, "respond_by": None,
                "accepted_at": _midday(signed_on) if signed_on else None, "decided_at": None,
                "scan_attachment_id": None, "ended_at": None,
                "number": agreement_number(graduate.graduation_year, graduate.school_code, level, serial),
                "version": 1, "created_at": stamp, "updated_at": stamp}
            entry = online._audit(uow, agreement_id, actor, "apply" if flow == "offline" else "register", None,
                                  start, None, stamp, after=audit.NEW_CHAIN)
            written = {**values, "audit_position": entry.position, "audit_hash": entry.hash}
            store.insert_agreement(uow.session, written)
            online._record(uow, values, graduate, event_type, actor, None, start)
            answer = online.as_written(uow, online.Written.of(written, graduate))
            uow.commit()
    except IntegrityError:
        raise online._held() from None
    return answer.body  # a new agreement has no document


def _midday(day: date) -> datetime:
    """A signing date stored as an instant that is that date in China and in UTC alike."""
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


def resubmit_application(service: Signing, actor: Principal, agreement_id: str, unit: dict[str, Any] | None,
                         terms: dict[str, Any] | None) -> dict[str, Any]:
    """A rejected offline application, corrected (or as it was) and reviewed again."""
    _graduate_only(actor)
    try:
        with service.unit_of_work() as uow:
            row = online._locked(uow, actor, agreement_id)
            extra: dict[str, Any] = {}
            if unit is not None or terms is not None:
                extra["unit"], extra["terms"] = _checked(unit if unit is not None else row.unit,
                                                         terms if terms is not None else row.terms)
            _refuse_if_taken(uow, row)
            answer = online.as_written(uow, online._move(uow, row, Action.RESUBMIT_APPLICATION, actor, None,
                                                         online.now(), extra=extra))
            uow.commit()
    except IntegrityError:  # another agreement became held meanwhile: the partial unique index
        raise online._held() from None
    return answer.rendered(service)


def _refuse_if_taken(uow: UnitOfWork, row: Row) -> None:
    """Going back to review holds the agreement again: not while the graduate holds another one or
    has a destination registered (the graduate's row locked, as accepting and registering do)."""
    online.refuse_if_destination(uow.session, row.graduate_id)
    other = store.held_agreement(uow.session, row.graduate_id)
    if other is not None and other.id != row.id:
        raise online._held()


def submit_scan(service: Signing, actor: Principal, agreement_id: str, upload: Upload) -> dict[str, Any]:
    """The stamped agreement's scan: the signing review starts (again, after a rejection)."""
    _graduate_only(actor)
    try:
        with service.unit_of_work() as uow:
            row = online._locked(uow, actor, agreement_id)
            _refuse_if_taken(uow, row)
            stamp = online.now()
            attachment_id = store.add_attachment(uow.session, owner_type="agreement", owner_id=row.id, kind="scan",
                                                 upload=upload, uploaded_by=actor.user_id, at=stamp)
            extra: dict[str, Any] = {"scan_attachment_id": attachment_id, "decided_at": None}
            if row.flow == "offline":
                extra["accepted_at"] = stamp  # signed on paper and handed in: the signing date
            answer = online.as_written(uow, online._move(uow, row, Action.SUBMIT_SCAN, actor, None, stamp,
                                                         extra=extra))
            uow.commit()
    except IntegrityError:  # another agreement became held meanwhile: the partial unique index
        raise online._held() from None
    return answer.rendered(service)


def scan(service: Signing, actor: Principal, agreement_id: str) -> Any:
    """The latest scan (in the caller's scope), or 404."""
    online.detail(service, actor, agreement_id)  # 404 outside the scope
    with reading(service.engine) as conn:
        row = store.get_agreement(conn, agreement_id)
        attachment = store.get_attachment(conn, row.scan_attachment_id) if row and row.scan_attachment_id else None
    if attachment is None:
        raise ProblemError(404, "not_found", detail="尚未上传签约材料")
    return attachment


def request_void(service: Signing, actor: Principal, agreement_id: str, reason: str | None) -> dict[str, Any]:
    _graduate_only(actor)
    reason = _reason(reason, required=True)
    with service.unit_of_work() as uow:
        row = online._locked(uow, actor, agreement_id)
        # A termination under way decides the agreement's end; a void beside it would leave the
        # one decided second with nothing to end (a termination request locks this row too).
        if any(TerminationStatus(t.status) in OPEN_TERMINATIONS for t in store.terminations_of(uow.session, row.id)):
            raise ProblemError(409, "termination_open", detail="该协议有待处理的解约申请，不能申请作废",
                               current_status=row.status)
        answer = online.as_written(uow, online._move(uow, row, Action.REQUEST_VOID, actor, reason, online.now()))
        uow.commit()
    return answer.rendered(service)


def review_void(service: Signing, actor: Principal, agreement_id: str, approve: bool,
                reason: str | None) -> dict[str, Any]:
    if actor.role is not Role.SCHOOL:
        raise ProblemError(403, "role_forbidden", detail="作废申请由学校用户审核")
    reason = _reason(reason, required=not approve)
    with service.unit_of_work() as uow:
        row = online._locked(uow, actor, agreement_id)
        answer = online.as_written(uow, online._move(uow, row, Action.APPROVE_VOID if approve else Action.REJECT_VOID,
                                                     actor, reason, online.now()))
        uow.commit()
    return answer.rendered(service)


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ProblemError(422, "reason_required", detail="请填写原因", field="reason")
    if reason and len(reason) > MAX_REASON:
        raise ProblemError(422, "invalid_reason", detail=f"原因不能超过{MAX_REASON}个字符", field="reason")
    return reason
