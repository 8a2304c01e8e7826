"""解约 use cases: a termination request of an approved agreement, the other party's answer, the
requester's withdrawal, the school's review, and the agreement ending (已解约) when it is approved.

Online, either party asks (the unit must be on the platform) and the other answers; offline, the
graduate uploads the termination letter. Each request is its own aggregate with its own audit chain;
the agreement's termination is a step of the agreement (``Action.TERMINATE``) in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from quxiang.common import audit
from quxiang.common.auth.principal import Principal, Role
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.context import current_correlation_id
from quxiang.common.contracts import signing as contracts
from quxiang.common.db import reading
from quxiang.common.pii import redact_valid_identity_numbers
from quxiang.common.uploads import Upload
from quxiang.common.validators import CONTROL_CHARACTER_REASON, CONTROL_CHARACTERS
from quxiang.common.web.errors import ProblemError
from quxiang.common.workflow import RefusedTransition
from quxiang.signing.adapters import store
from quxiang.signing.adapters.tables import agreement_audit
from quxiang.signing.domain import online as agreement
from quxiang.signing.domain.termination import (
    STATUS_LABELS,
    TERMINATION,
    Action,
    Mode,
    Status,
    first_status,
)
from quxiang.signing.service import online
from quxiang.signing.service.context import Signing

MAX_REASON = 500
EVENTS = {
    Action.AGREE: contracts.TERMINATION_AGREED, Action.DISAGREE: contracts.TERMINATION_DECLINED,
    Action.WITHDRAW: contracts.TERMINATION_WITHDRAWN, Action.SCHOOL_APPROVE: contracts.TERMINATION_APPROVED,
    Action.SCHOOL_REJECT: contracts.TERMINATION_REJECTED,
}


def _party(actor: Principal) -> str:
    if actor.role is Role.GRADUATE:
        return "graduate"
    if actor.role is Role.EMPLOYER:
        return "employer"
    raise ProblemError(403, "role_forbidden", detail="只有协议双方可以申请解约")


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ProblemError(422, "reason_required", detail="请填写原因", field="reason")
    if reason and len(reason) > MAX_REASON:
        raise ProblemError(422, "invalid_reason", detail=f"原因不能超过{MAX_REASON}个字符", field="reason")
    if reason and CONTROL_CHARACTERS.search(reason):  # a multipart form's field: the JSON check does not see it
        raise ProblemError(422, "invalid_reason", detail=f"原因{CONTROL_CHARACTER_REASON}", field="reason")
    return reason


def request(service: Signing, actor: Principal, agreement_id: str, mode: Mode, reason: str | None,
            letter: Upload | None = None) -> dict[str, Any]:
    party = _party(actor)
    reason = _reason(reason, required=True)
    if mode is Mode.OFFLINE and (party != "graduate" or letter is None):
        raise ProblemError(422, "letter_required", detail="线下解约由毕业生上传解约函（multipart 字段 file）",
                           field="file")
    termination_id = str(uuid.uuid4())
    try:
        with service.unit_of_work() as uow:
            row = online._locked(uow, actor, agreement_id)
            if agreement.Status(row.status) is not agreement.Status.APPROVED:
                raise ProblemError(409, "not_in_force", detail="只有已生效（审核通过）的协议可以解约",
                                   current_status=row.status)
            if mode is Mode.ONLINE and row.employer_id is None:
                raise ProblemError(409, "offline_only",
                                   detail="该协议为线下签约或补登，单位未在平台上签署，请上传解约函办理线下解约")
            if mode is Mode.ONLINE:
                online.refuse_if_employer_stopped(uow.session, row)
            stamp = online.now()
            status = first_status(mode)
            letter_id = None
            if letter is not None:
                letter_id = store.add_attachment(uow.session, owner_type="termination", owner_id=termination_id,
                                                 kind="termination_letter", upload=letter,
                                                 uploaded_by=actor.user_id, at=stamp)
            entry = _audit(uow, termination_id, actor, "request", None, status, reason, stamp, after=audit.NEW_CHAIN)
            values = {"id": termination_id, "agreement_id": row.id, "mode": mode.value, "requested_by": party,
                      "status": status.value, "reason": reason, "letter_attachment_id": letter_id,
                      "school_code": row.school_code, "department_id": row.department_id,
                      "graduate_id": row.graduate_id, "employer_id": row.employer_id, "version": 1,
                      "audit_position": entry.position, "audit_hash": entry.hash, "created_at": stamp,
                      "updated_at": stamp}
            store.insert_termination(uow.session, values)
            _record(uow, contracts.TERMINATION_REQUESTED, values, row, reason)
            answer = _as_written(uow, values, row)
            uow.commit()
    except IntegrityError:
        raise ProblemError(409, "termination_open", detail="该协议已有待处理的解约申请") from None
    return answer


def answer(service: Signing, actor: Principal, termination_id: str, agree: bool, reason: str | None) -> dict[str, Any]:
    """The other party agrees (the school reviews next) or does not (the agreement stays in force)."""
    party = _party(actor)
    reason = _reason(reason, required=not agree)
    with service.unit_of_work() as uow:
        row, contract = _locked(uow, actor, termination_id)
        if row.requested_by == party:
            raise ProblemError(403, "counterparty_only", detail="解约申请需由协议另一方确认")
        answer = _as_written(uow, _move(uow, row, contract, Action.AGREE if agree else Action.DISAGREE, actor,
                                        reason), contract)
        uow.commit()
    return answer


def withdraw(service: Signing, actor: Principal, termination_id: str) -> dict[str, Any]:
    party = _party(actor)
    with service.unit_of_work() as uow:
        row, contract = _locked(uow, actor, termination_id)
        if row.requested_by != party:
            raise ProblemError(403, "requester_only", detail="只有提出解约的一方可以撤回")
        answer = _as_written(uow, _move(uow, row, contract, Action.WITHDRAW, actor, None), contract)
        uow.commit()
    return answer


def review(service: Signing, actor: Principal, termination_id: str, approve: bool,
           reason: str | None) -> dict[str, Any]:
    """The school's decision; an approved termination ends the agreement in the same transaction."""
    if actor.role is not Role.SCHOOL:
        raise ProblemError(403, "role_forbidden", detail="解约由学校用户审核")
    reason = _reason(reason, required=not approve)
    with service.unit_of_work() as uow:
        row, contract = _locked(uow, actor, termination_id)
        written = _move(uow, row, contract, Action.SCHOOL_APPROVE if approve else Action.SCHOOL_REJECT, actor, reason)
        if approve:
            locked = store.get_agreement(uow.session, contract.id, for_update=True)
            contract = online._move(uow, locked, agreement.Action.TERMINATE, actor, row.reason,
                                    online.now()).agreement
        answer = _as_written(uow, written, contract)
        uow.commit()
    return answer


def _locked(uow: UnitOfWork, actor: Principal, termination_id: str) -> tuple[Row, Row]:
    """The termination and its agreement, both locked: the agreement first, the order a new request
    (which locks the agreement, then inserts) and a re-import moving the graduate
    (``store.apply_graduate``) take them in. The other way round, an approval and a request at once
    deadlocked, and one of them failed."""
    found = store.get_termination(uow.session, termination_id)
    contract = store.agreement_in_province(uow.session, found.agreement_id, for_update=True) if found else None
    if found is None or contract is None or not online._covers(actor, contract, contract.school_province):
        raise online.not_found()
    return store.get_termination(uow.session, termination_id, for_update=True), contract


def _move(uow: UnitOfWork, row: Row, contract: Row, action: Action, actor: Principal,
          reason: str | None) -> dict[str, Any]:
    """One step of the termination: transition, audit entry, compare-and-set update and event in the
    caller's transaction. Answers the termination as written."""
    current = Status(row.status)
    try:
        target = TERMINATION.next(current, action)
    except RefusedTransition as exc:
        raise ProblemError(409, "invalid_state", detail=str(exc), **exc.as_problem()) from None
    stamp = online.now()
    entry = _audit(uow, row.id, actor, action.value, current, target, reason, stamp,
                   after=(row.audit_position, row.audit_hash))
    values = {"status": target.value, "version": row.version + 1, "updated_at": stamp,
              "audit_position": entry.position, "audit_hash": entry.hash}
    if not store.update_termination(uow.session, row.id, row.version, values):
        raise ProblemError(409, "concurrent_change", detail="解约申请刚被其他操作修改，请刷新后重试")
    written = {**row._asdict(), **values}
    _record(uow, EVENTS[action], written, contract, reason)
    return written


def _as_written(uow: UnitOfWork, values: dict[str, Any], contract: Any) -> dict[str, Any]:
    """What a change answers with: the termination and agreement as it wrote or read them, the trail
    read in its own transaction before the commit (not a second transaction reading them again)."""
    trail = audit.trail(uow.session, agreement_audit, values["id"])
    return termination_out(SimpleNamespace(**values), contract, trail)


def _audit(uow: UnitOfWork, termination_id: str, actor: Principal, action: str, source: Status | None,
           target: Status, reason: str | None, stamp: datetime, *, after: tuple[int, str]) -> audit.AuditEntry:
    """``after``: the chain's end from the termination's anchor (its row locked), or ``audit.NEW_CHAIN``."""
    return audit.append(uow.session, agreement_audit, aggregate_id=termination_id, actor_id=actor.user_id,
                        actor_role=actor.role.value, action=action, from_state=source.value if source else None,
                        to_state=target.value, reason=reason, request_id=current_correlation_id(), at=stamp,
                        after=after)


def _record(uow: UnitOfWork, event_type: str, values: dict[str, Any], contract: Row, reason: str | None) -> None:
    uow.record(event_type, subject=values["id"], sequence=values["version"], data={
        "termination_id": values["id"], "agreement_id": contract.id, "agreement_number": contract.number,
        "mode": values["mode"], "requested_by": values["requested_by"], "status": values["status"],
        "graduate_id": values["graduate_id"], "school_code": values["school_code"],
        "department_id": values["department_id"], "employer_id": values["employer_id"], "reason": reason})


def detail(service: Signing, actor: Principal, termination_id: str) -> dict[str, Any]:
    with reading(service.engine) as conn:
        row = store.get_termination(conn, termination_id)
        contract = store.agreement_in_province(conn, row.agreement_id) if row else None
        if row is None or contract is None or not online._covers(actor, contract, contract.school_province):
            raise online.not_found()
        trail = audit.trail(conn, agreement_audit, termination_id)
    return termination_out(row, contract, trail)


def termination_out(row: Row, contract: Row, trail: list[audit.AuditEntry] | None = None) -> dict[str, Any]:
    status = Status(row.status)
    out: dict[str, Any] = {
        "id": row.id, "agreement_id": row.agreement_id, "agreement_number": contract.number, "mode": row.mode,
        "requested_by": row.requested_by, "requested_by_label": "学生" if row.requested_by == "graduate" else "单位",
        # reasons masked on the way out too: those written before they were masked on the way in
        "status": status.value, "status_label": STATUS_LABELS[status], "reason": _masked(row.reason),
        "letter_attachment_id": row.letter_attachment_id, "version": row.version,
        "allowed_actions": [a.value for a in TERMINATION.allowed(status)],
        "agreement_status": contract.status,
        "agreement_status_label": agreement.status_label(agreement.Status(contract.status), contract.agreement_type,
                                                         contract.flow),
    }
    if trail is not None:
        out["history"] = [{"position": e.position, "action": e.action, "actor_role": e.actor_role,
                           "from_state": e.from_state, "to_state": e.to_state, "reason": _masked(e.reason),
                           "at": e.at.isoformat()} for e in trail]
    return out


def _masked(reason: str | None) -> str | None:
    return redact_valid_identity_numbers(reason) if reason else reason


def list_for_agreement(service: Signing, actor: Principal, agreement_id: str) -> list[dict[str, Any]]:
    online.detail(service, actor, agreement_id)  # 404 outside the caller's scope
    with reading(service.engine) as conn:
        contract = store.get_agreement(conn, agreement_id)
        # with each one's history: the requester reads there why the other party or the school said no
        return [termination_out(row, contract, audit.trail(conn, agreement_audit, row.id))
                for row in store.terminations_of(conn, agreement_id)]


def letter(service: Signing, actor: Principal, termination_id: str) -> Row:
    detail(service, actor, termination_id)
    with reading(service.engine) as conn:
        row = store.get_termination(conn, termination_id)
        attachment = store.get_attachment(conn, row.letter_attachment_id) if row.letter_attachment_id else None
    if attachment is None:
        raise ProblemError(404, "not_found", detail="没有解约函")
    return attachment
