"""去向登记 use cases: the graduate's draft, proofs and submission, the department's and the school's
reviews, the void request (作废) and its review, reading.

Every change locks the registration row, checks its version, appends to the registration's
hash-chained audit trail (its end kept on the row as the anchor) and records at most one event, in
one transaction. "At most one registration per graduate that is not voided" is a partial unique
index: of two first submissions at the same moment exactly one commits. A graduate who holds an
agreement cannot submit; ``destination_store.current_destination`` is the other side of that rule.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from quxiang.common import audit
from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.context import current_correlation_id
from quxiang.common.contracts import destinations as contracts
from quxiang.common.db import reading
from quxiang.common.pii import redact_valid_identity_numbers
from quxiang.common.reference import destination_categories, employer_natures, industries, position_categories
from quxiang.common.times import iso_utc
from quxiang.common.uploads import Upload
from quxiang.common.web.errors import ProblemError
from quxiang.common.workflow import RefusedTransition
from quxiang.signing.adapters import destination_store as dstore
from quxiang.signing.adapters import store
from quxiang.signing.adapters.tables import agreement_audit
from quxiang.signing.domain.destination import (
    DESTINATION,
    FIELDS,
    MAX_REASON,
    NEEDS_REASON,
    NONE_LABEL,
    STATUS_LABELS,
    Action,
    Destination,
    InvalidDestination,
    Status,
    check_destination,
    ems_data,
    form_of,
    missing_proof,
)
from quxiang.signing.service.context import Signing
from quxiang.signing.service.online import withdrawn_graduate

EMPLOYMENT = "employment"
OWNER_TYPE, PROOF = "destination", "proof"

EVENTS = {
    Action.SUBMIT: contracts.DESTINATION_SUBMITTED,
    Action.DEPARTMENT_APPROVE: contracts.DESTINATION_DEPARTMENT_APPROVED,
    Action.DEPARTMENT_REJECT: contracts.DESTINATION_REJECTED,
    Action.SCHOOL_APPROVE: contracts.DESTINATION_APPROVED,
    Action.SCHOOL_REJECT: contracts.DESTINATION_REJECTED,
    Action.REQUEST_VOID: contracts.DESTINATION_VOID_REQUESTED,
    Action.REJECT_VOID: contracts.DESTINATION_VOID_REJECTED,
    Action.APPROVE_VOID: contracts.DESTINATION_VOIDED,
}
# The events the employment management system mirrors: they carry its data.
EMS_EVENTS = frozenset({Action.SCHOOL_APPROVE, Action.APPROVE_VOID})
LEVELS = {Action.DEPARTMENT_APPROVE: "department", Action.DEPARTMENT_REJECT: "department",
          Action.SCHOOL_APPROVE: "school", Action.SCHOOL_REJECT: "school", Action.APPROVE_VOID: "school",
          Action.REJECT_VOID: "school"}


def now() -> datetime:
    return datetime.now(UTC)




def _checked(code: Any, data: dict[str, Any] | None, *, complete: bool) -> Destination:
    try:
        return check_destination(code, data, complete=complete)
    except InvalidDestination as exc:
        raise ValidationError(exc.errors) from None


def _reason(action: Action, reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if action in NEEDS_REASON and not reason:
        raise ProblemError(422, "reason_required", detail="必须填写原因", field="reason")
    if reason and len(reason) > MAX_REASON:
        raise ProblemError(422, "invalid_reason", detail=f"原因不能超过{MAX_REASON}个字符", field="reason")
    return reason


# --- the graduate's registration -----------------------------------------------------------------


def _graduate(bind: store.Bind, actor: Principal, graduate_id: str) -> Row:
    graduate = store.get_graduate(bind, graduate_id)
    if graduate is None or not actor.covers(Scope(province=graduate.province, school=graduate.school_code,
                                                  department=graduate.department_id, graduate=graduate.id)):
        raise not_found()
    return graduate


def _own_graduate(bind: store.Bind, actor: Principal, graduate_id: str) -> Row:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以登记毕业去向")
    graduate = _graduate(bind, actor, graduate_id)
    if graduate.withdrawn:
        raise withdrawn_graduate()
    school = store.get_school(bind, graduate.school_code)
    if school is None or not store.module_enabled(bind, school.province, EMPLOYMENT):
        raise ProblemError(403, "module_not_enabled", detail="省级用户尚未开通毕业去向登记与网签")
    if store.get_settings(bind, school.code) is None:
        raise ProblemError(403, "settings_incomplete", detail="学校尚未完成网签设置")
    return graduate


def _create(uow: UnitOfWork, graduate: Row, actor: Principal, checked: Destination, stamp: datetime) -> Row:
    registration_id = str(uuid.uuid4())
    entry = _audit(uow, registration_id, actor, Action.SAVE, None, Status.DRAFT, None, stamp,
                   {"destination_code": checked.code}, after=audit.NEW_CHAIN)
    dstore.insert_registration(uow.session, {
        "id": registration_id, "graduate_id": graduate.id, "school_code": graduate.school_code,
        "department_id": graduate.department_id, "education_level": graduate.education_level,
        "graduation_year": graduate.graduation_year, "status": Status.DRAFT.value,
        "destination_code": checked.code, "fields": dict(checked.fields), "version": 1,
        "audit_position": entry.position, "audit_hash": entry.hash, "created_at": stamp, "updated_at": stamp})
    row = dstore.get_registration(uow.session, registration_id)
    assert row is not None
    return row


def save_draft(service: Signing, actor: Principal, graduate_id: str, destination_code: Any,
               fields: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """Create or change the graduate's draft (a rejected registration becomes a draft again);
    answers the registration and whether it was created."""
    checked = _checked(destination_code, fields, complete=False)
    try:
        with service.unit_of_work() as uow:
            graduate = _own_graduate(uow.session, actor, graduate_id)
            row = dstore.open_registration(uow.session, graduate_id, for_update=True)
            stamp = now()
            if row is None:
                _create(uow, graduate, actor, checked, stamp)
            else:
                _move(uow, row, Action.SAVE, actor, None, stamp, extra=_data(checked),
                      details={"destination_code": checked.code})
            uow.commit()
    except IntegrityError:
        raise _exists() from None
    return view(service, actor, graduate_id), row is None


def submit(service: Signing, actor: Principal, graduate_id: str, destination_code: Any = None,
           fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit the draft (with ``destination_code`` and ``fields``: saved first, in the same step)."""
    given = _checked(destination_code, fields, complete=False) if destination_code is not None else None
    try:
        with service.unit_of_work() as uow:
            graduate = _own_graduate(uow.session, actor, graduate_id)
            dstore.lock_graduate(uow.session, graduate_id)
            if store.held_agreement(uow.session, graduate_id) is not None:
                raise ProblemError(409, "agreement_held", detail="你已有已应约或已生效的协议，不能再提交去向登记")
            row = dstore.open_registration(uow.session, graduate_id, for_update=True)
            stamp = now()
            if row is None and given is None:
                raise ProblemError(409, "no_registration", detail="请先填写去向登记")
            if row is None:
                assert given is not None
                row = _create(uow, graduate, actor, given, stamp)
            _allowed(row, Action.SUBMIT)
            code, data = (given.code, dict(given.fields)) if given else (row.destination_code, row.fields)
            _complete(uow, row.id, code, data)
            settings = store.get_settings(uow.session, graduate.school_code, shared=True)  # online._department_review
            _move(uow, row, Action.SUBMIT, actor, None, stamp,
                  extra={"destination_code": code, "fields": data, "submitted_at": stamp, "decided_at": None},
                  skip_department=settings is not None and not settings.department_review)
            uow.commit()
    except IntegrityError:
        raise _exists() from None
    return view(service, actor, graduate_id)


def _complete(uow: UnitOfWork, registration_id: str, code: str, data: dict[str, Any]) -> None:
    """Every field of the category, and its proof: all that is missing at once."""
    errors: dict[str, Any] = {}
    try:
        form = check_destination(code, data, complete=True).form
    except InvalidDestination as exc:
        errors.update(exc.errors)
        category = destination_categories().get(code)  # the proof it needs, whatever the fields lack
        form = form_of(category) if category else None
    if form is not None:
        proofs = len(store.attachment_summaries(uow.session, OWNER_TYPE, registration_id))
        reason = missing_proof(form, proofs)
        if reason:
            errors["proofs"] = [reason]
    if errors:
        raise ValidationError(errors)


def add_proof(service: Signing, actor: Principal, registration_id: str, upload: Upload) -> dict[str, Any]:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以上传证明材料")
    with service.unit_of_work() as uow:
        row = _locked(uow, actor, registration_id)
        _allowed(row, Action.ADD_PROOF)
        stamp = now()
        attachment_id = store.add_attachment(uow.session, owner_type=OWNER_TYPE, owner_id=row.id, kind=PROOF,
                                             upload=upload, uploaded_by=actor.user_id, at=stamp)
        _move(uow, row, Action.ADD_PROOF, actor, None, stamp,
              details={"attachment_id": attachment_id, "sha256": upload.sha256, "size": upload.size})
        uow.commit()
    return detail(service, actor, registration_id)


def proof(service: Signing, actor: Principal, registration_id: str, attachment_id: str) -> Row:
    """The proof with its bytes, for a caller who may see the registration."""
    with reading(service.engine) as conn:
        row = dstore.get_registration(conn, registration_id)
        if row is None or not _visible(conn, actor, row):
            raise not_found()
        attachment = store.get_attachment(conn, attachment_id)
    if attachment is None or attachment.owner_type != OWNER_TYPE or attachment.owner_id != registration_id:
        raise not_found()
    return attachment


# --- reviews and the void request ----------------------------------------------------------------


def review(service: Signing, actor: Principal, registration_id: str, approve: bool,
           reason: str | None) -> dict[str, Any]:
    level = {Role.DEPARTMENT: "department", Role.SCHOOL: "school"}.get(actor.role)
    if level is None:
        raise ProblemError(403, "role_forbidden", detail="只有院系或学校用户可以审核")
    action = {("department", True): Action.DEPARTMENT_APPROVE, ("department", False): Action.DEPARTMENT_REJECT,
              ("school", True): Action.SCHOOL_APPROVE, ("school", False): Action.SCHOOL_REJECT}[(level, approve)]
    return _step(service, actor, registration_id, action, reason)


def request_void(service: Signing, actor: Principal, registration_id: str, reason: str | None) -> dict[str, Any]:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以申请作废")
    return _step(service, actor, registration_id, Action.REQUEST_VOID, reason)


def review_void(service: Signing, actor: Principal, registration_id: str, approve: bool,
                reason: str | None) -> dict[str, Any]:
    if actor.role is not Role.SCHOOL:
        raise ProblemError(403, "role_forbidden", detail="只有学校用户可以审核作废申请")
    return _step(service, actor, registration_id, Action.APPROVE_VOID if approve else Action.REJECT_VOID, reason)


def _step(service: Signing, actor: Principal, registration_id: str, action: Action,
          reason: str | None) -> dict[str, Any]:
    reason = _reason(action, reason)
    with service.unit_of_work() as uow:
        row = _locked(uow, actor, registration_id)
        stamp = now()
        extra: dict[str, Any] = {
            Action.DEPARTMENT_REJECT: {"decided_at": stamp}, Action.SCHOOL_APPROVE: {"decided_at": stamp},
            Action.SCHOOL_REJECT: {"decided_at": stamp}, Action.REQUEST_VOID: {"void_reason": reason},
            Action.REJECT_VOID: {"void_reason": None}, Action.APPROVE_VOID: {"voided_at": stamp},
        }.get(action, {})
        _move(uow, row, action, actor, reason, stamp, extra=extra)
        uow.commit()
    return detail(service, actor, registration_id)


# --- shared steps --------------------------------------------------------------------------------


def _data(checked: Destination) -> dict[str, Any]:
    return {"destination_code": checked.code, "fields": dict(checked.fields)}


def _exists() -> ProblemError:
    return ProblemError(409, "registration_exists", detail="已有未作废的去向登记，请勿重复登记")


def _locked(uow: UnitOfWork, actor: Principal, registration_id: str) -> Row:
    row = dstore.get_registration(uow.session, registration_id, for_update=True)
    if row is None or not _visible(uow.session, actor, row):
        raise not_found()
    return row


def _visible(bind: store.Bind, actor: Principal, row: Row) -> bool:
    school = store.get_school(bind, row.school_code)
    return actor.covers(Scope(province=school.province if school else None, school=row.school_code,
                              department=row.department_id, graduate=row.graduate_id))


def _allowed(row: Row, action: Action) -> Status:
    try:
        return DESTINATION.next(Status(row.status), action)
    except RefusedTransition as exc:
        raise ProblemError(409, "invalid_state", detail=str(exc), **exc.as_problem()) from None


def _move(uow: UnitOfWork, row: Row, action: Action, actor: Principal, reason: str | None, stamp: datetime, *,
          extra: dict[str, Any] | None = None, details: dict[str, Any] | None = None,
          skip_department: bool = False) -> dict[str, Any]:
    current = Status(row.status)
    target = _allowed(row, action)
    if skip_department and target is Status.DEPARTMENT_REVIEW:
        target = Status.SCHOOL_REVIEW
    entry = _audit(uow, row.id, actor, action, current, target, reason, stamp, details,
                   after=(row.audit_position, row.audit_hash))
    values = {"status": target.value, "version": row.version + 1, "updated_at": stamp,
              "audit_position": entry.position, "audit_hash": entry.hash, **(extra or {})}
    if not dstore.update_registration(uow.session, row.id, row.version, values):
        raise ProblemError(409, "concurrent_change", detail="去向登记刚被其他操作修改，请刷新后重试")
    changed = {**row._asdict(), **values}
    if action in EVENTS:
        _record(uow, action, changed, store.get_graduate(uow.session, row.graduate_id), actor, reason)
    return changed


def _audit(uow: UnitOfWork, registration_id: str, actor: Principal, action: Action, source: Status | None,
           target: Status, reason: str | None, stamp: datetime,
           details: dict[str, Any] | None = None, *, after: tuple[int, str]) -> audit.AuditEntry:
    """``after``: the chain's end from the registration's anchor (its row locked), or ``audit.NEW_CHAIN``."""
    return audit.append(uow.session, agreement_audit, aggregate_id=registration_id, actor_id=actor.user_id,
                        actor_role=actor.role.value, action=action.value,
                        from_state=source.value if source else None, to_state=target.value, reason=reason,
                        request_id=current_correlation_id(), details=details, at=stamp, after=after)


def _record(uow: UnitOfWork, action: Action, values: dict[str, Any], graduate: Row | None, actor: Principal,
            reason: str | None) -> None:
    ems = ems_data(values["destination_code"], values["fields"])
    mirrored = action in EMS_EVENTS
    data: dict[str, Any] = {
        "registration_id": values["id"], "graduate_id": values["graduate_id"],
        "exam_number": graduate.exam_number if graduate else "", "name": graduate.name if graduate else "",
        "school_code": values["school_code"], "department_id": values["department_id"],
        "education_level": values["education_level"], "graduation_year": values["graduation_year"],
        "status": values["status"], "destination_code": values["destination_code"],
        "placement_bucket": ems["placement_bucket"], "fields": dict(values["fields"]), "reason": reason,
        "level": LEVELS.get(action), "actor_role": actor.role.value,
        "approved_at": iso_utc(values.get("decided_at")) if mirrored else None,
        "voided_at": iso_utc(values.get("voided_at")),
    }
    for key in ("unit_name", "credit_code", "unit_nature", "unit_industry", "unit_region", "position_category",
                "study_school", "programme", "country", "enlistment_notice_number"):
        data[key] = ems[key] if mirrored else None
    uow.record(EVENTS[action], subject=values["id"], sequence=values["version"], data=data)


# --- reading -------------------------------------------------------------------------------------


def detail(service: Signing, actor: Principal, registration_id: str) -> dict[str, Any]:
    with reading(service.engine) as conn:
        row = dstore.get_registration(conn, registration_id)
        if row is None or not _visible(conn, actor, row):
            raise not_found()
        return registration_out(row, store.get_graduate(conn, row.graduate_id),
                                audit.trail(conn, agreement_audit, row.id),
                                store.attachment_summaries(conn, OWNER_TYPE, row.id))


def view(service: Signing, actor: Principal, graduate_id: str) -> dict[str, Any]:
    """The graduate's registration that is not voided (status ``none`` if there is none), with the
    voided ones listed."""
    with reading(service.engine) as conn:
        graduate = _graduate(conn, actor, graduate_id)
        row = dstore.open_registration(conn, graduate_id)
        voided = dstore.voided_registrations(conn, graduate_id)
        current = None if row is None else registration_out(
            row, graduate, audit.trail(conn, agreement_audit, row.id),
            store.attachment_summaries(conn, OWNER_TYPE, row.id))
        closed = _closed_to_graduate(conn, graduate)
        refused = frozenset({Action.SAVE, Action.SUBMIT}) if closed else (
            frozenset({Action.SUBMIT}) if store.held_agreement(conn, graduate.id) is not None else frozenset())
    view = graduate_view(graduate, current, voided, refused)
    # Whether the graduate may sign or register at all now, and why not: its agreements screen
    # offers 线下签约 and 补登 only when the school is open to it.
    view["availability"] = {"open": closed is None, "reason": closed}
    return view


def _closed_to_graduate(bind: store.Bind, graduate: Row) -> str | None:
    """Why the graduate's school is closed to its own signing and registration steps (the checks
    of ``_own_graduate``), or None while it is open."""
    school = store.get_school(bind, graduate.school_code)
    if school is None or not store.module_enabled(bind, school.province, EMPLOYMENT):
        return "省级用户尚未开通毕业去向登记与网签"
    if store.get_settings(bind, school.code) is None:
        return "学校尚未完成网签设置"
    return None


_VALUE_LABELS = {"unit_nature": employer_natures, "unit_industry": industries,
                 "position_category": position_categories}



def registration_out(row: Row, graduate: Row | None, trail: list[audit.AuditEntry],
                     proofs: list[Row]) -> dict[str, Any]:
    status = Status(row.status)
    category = destination_categories().get(row.destination_code)
    form = form_of(category) if category else None
    return {
        "id": row.id, "graduate_id": row.graduate_id, "status": status.value, "status_label": STATUS_LABELS[status],
        "allowed_actions": [a.value for a in DESTINATION.allowed(status)],
        "destination_code": row.destination_code, "destination_name": category.name_zh if category else None,
        "placement_bucket": category.placement_bucket if category else None,
        "form": form.kind if form else None,
        "fields": [{"name": name, "label": FIELDS[name].label, "value": row.fields.get(name),
                    "value_label": _VALUE_LABELS[name]().label(row.fields[name], row.fields[name])
                    if name in _VALUE_LABELS and row.fields.get(name) else None}
                   for name in (form.fields if form else ())],
        "proof_required": bool(form and form.proof), "proof_label": form.proof if form else None,
        "proofs": [{"id": p.id, "kind": p.kind, "filename": p.filename, "content_type": p.content_type,
                    "size": p.size, "sha256": p.sha256, "uploaded_at": iso_utc(p.uploaded_at)} for p in proofs],
        "submitted_at": iso_utc(row.submitted_at), "decided_at": iso_utc(row.decided_at),
        "void_reason": row.void_reason, "voided_at": iso_utc(row.voided_at), "version": row.version,
        "created_at": iso_utc(row.created_at), "updated_at": iso_utc(row.updated_at),
        "graduate": None if graduate is None else {
            "id": graduate.id, "exam_number": graduate.exam_number, "name": graduate.name,
            "school_code": graduate.school_code, "school_name": graduate.school_name,
            "department_id": graduate.department_id, "department_name": graduate.department_name,
            "major_name": graduate.major_name, "education_level": graduate.education_level,
            "identity_number": graduate.identity_number_masked},
        "history": [{"position": e.position, "action": e.action, "actor_id": e.actor_id, "actor_role": e.actor_role,
                     "from_state": e.from_state, "to_state": e.to_state,
                     # masked on the way out too: reasons written before they were masked on the way in
                     "reason": redact_valid_identity_numbers(e.reason) if e.reason else e.reason,
                     "details": e.details, "request_id": e.request_id, "at": e.at.isoformat(), "hash": e.hash}
                    for e in trail],
    }


def graduate_view(graduate: Row, current: dict[str, Any] | None, voided: list[Row],
                  refused: frozenset[Action] = frozenset()) -> dict[str, Any]:
    previous = [{"id": v.id, "destination_code": v.destination_code, "voided_at": iso_utc(v.voided_at)} for v in voided]
    if current is None:
        current = {"graduate_id": graduate.id, "status": "none", "status_label": NONE_LABEL,
                   "allowed_actions": [Action.SAVE.value, Action.SUBMIT.value]}
    allowed = [a for a in current["allowed_actions"] if Action(a) not in refused]
    return {**current, "allowed_actions": allowed, "voided": previous}
