"""在线签约 use cases: the school's signing settings, the employer's invitation, the graduate's answer,
the expiry job, the department's and the school's reviews.

Every change locks the agreement row, checks its version, appends to the agreement's hash-chained
audit trail (keeping the chain's end on the agreement row as its anchor) and records one event, all
in one transaction. The rule "a graduate holds at most one accepted or approved agreement" is a
partial unique index: of two acceptances at the same moment exactly one commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from quxiang.common import audit
from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.context import current_correlation_id
from quxiang.common.contracts import signing as contracts
from quxiang.common.db import reading
from quxiang.common.pii import redact_valid_identity_numbers
from quxiang.common.reference import employer_natures, industries, position_categories
from quxiang.common.review_settings import refuse_department_review_off
from quxiang.common.times import as_utc, china_date
from quxiang.common.web.errors import ProblemError
from quxiang.common.workflow import RefusedTransition
from quxiang.signing.adapters import destination_store, store
from quxiang.signing.adapters.tables import agreement_audit
from quxiang.signing.domain.online import (
    AGREEMENT_TYPE_LABELS,
    CLOSED_INVITATIONS,
    DEFAULT_RESPONSE_DAYS,
    FIRST_REVIEW,
    INITIATOR_LABELS,
    MAX_RESPONSE_DAYS,
    MIN_RESPONSE_DAYS,
    WORKFLOWS,
    Action,
    AgreementType,
    Initiator,
    Status,
    agreement_number,
    status_label,
)
from quxiang.signing.domain.terms import InvalidTerms, check_terms
from quxiang.signing.service import documents, invitation_throttle
from quxiang.signing.service.context import Signing

EMPLOYMENT = "employment"
DESTINATION_SIGNED = "10"  # 签就业协议形式就业 (reference/destination_categories.csv)
MAX_REASON = 500

# The event each step announces (creating an agreement announces invited, applied or registered).
EVENTS = {
    Action.ACCEPT: contracts.AGREEMENT_ACCEPTED, Action.DECLINE: contracts.AGREEMENT_DECLINED,
    Action.EXPIRE: contracts.AGREEMENT_EXPIRED, Action.WITHDRAW: contracts.AGREEMENT_WITHDRAWN,
    Action.DEPARTMENT_APPROVE: contracts.AGREEMENT_DEPARTMENT_APPROVED,
    Action.DEPARTMENT_REJECT: contracts.AGREEMENT_REJECTED, Action.SCHOOL_REJECT: contracts.AGREEMENT_REJECTED,
    Action.SCHOOL_APPROVE: contracts.AGREEMENT_APPROVED,
    Action.RESUBMIT_APPLICATION: contracts.AGREEMENT_APPLIED,
    Action.APPLICATION_DEPARTMENT_APPROVE: contracts.AGREEMENT_APPLICATION_ADVANCED,
    Action.APPLICATION_SCHOOL_APPROVE: contracts.AGREEMENT_APPLICATION_APPROVED,
    Action.APPLICATION_DEPARTMENT_REJECT: contracts.AGREEMENT_APPLICATION_REJECTED,
    Action.APPLICATION_SCHOOL_REJECT: contracts.AGREEMENT_APPLICATION_REJECTED,
    Action.SUBMIT_SCAN: contracts.AGREEMENT_SUBMITTED, Action.REQUEST_VOID: contracts.AGREEMENT_VOID_REQUESTED,
    Action.REJECT_VOID: contracts.AGREEMENT_VOID_REJECTED, Action.APPROVE_VOID: contracts.AGREEMENT_VOIDED,
    Action.TERMINATE: contracts.AGREEMENT_TERMINATED,
}
ENDED = frozenset({Status.VOIDED, Status.TERMINATED})
APPLICATION_REVIEW = frozenset({Status.APPLICATION_DEPARTMENT_REVIEW, Status.APPLICATION_SCHOOL_REVIEW})
# (stage, reviewer level, approved?) -> action; the stage follows the agreement's state.
REVIEW_ACTIONS = {
    ("signing", "department", True): Action.DEPARTMENT_APPROVE,
    ("signing", "department", False): Action.DEPARTMENT_REJECT,
    ("signing", "school", True): Action.SCHOOL_APPROVE, ("signing", "school", False): Action.SCHOOL_REJECT,
    ("application", "department", True): Action.APPLICATION_DEPARTMENT_APPROVE,
    ("application", "department", False): Action.APPLICATION_DEPARTMENT_REJECT,
    ("application", "school", True): Action.APPLICATION_SCHOOL_APPROVE,
    ("application", "school", False): Action.APPLICATION_SCHOOL_REJECT,
}
FINAL_REVIEW_ACTIONS = frozenset({Action.SCHOOL_APPROVE, Action.DEPARTMENT_REJECT, Action.SCHOOL_REJECT,
                                  Action.APPLICATION_DEPARTMENT_REJECT, Action.APPLICATION_SCHOOL_REJECT})


def now() -> datetime:
    return datetime.now(UTC)


# --- availability and the school's settings -------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    enabled: bool
    agreement_type: str | None
    settings: Row | None

    @property
    def refusal(self) -> tuple[str, str] | None:
        if not self.enabled:
            return "module_not_enabled", "省级用户尚未开通毕业去向登记与网签"
        if not self.agreement_type:
            return "agreement_type_unset", "学校的协议类型尚未设置"
        if self.settings is None:
            return "settings_incomplete", "学校尚未完成网签设置"
        return None

    def as_dict(self) -> dict[str, Any]:
        refusal = self.refusal
        return {"enabled": self.enabled, "agreement_type": self.agreement_type,
                "agreement_type_label": AGREEMENT_TYPE_LABELS[AgreementType(self.agreement_type)]
                if self.agreement_type else None,
                "settings_completed": self.settings is not None,
                "department_review": self.settings.department_review if self.settings else None,
                "open": refusal is None, "reason": refusal[1] if refusal else None}


def availability(bind: store.Bind, school: Row | None) -> Availability:
    if school is None:
        return Availability(False, None, None)
    return Availability(store.module_enabled(bind, school.province, EMPLOYMENT), school.agreement_type,
                        store.get_settings(bind, school.code))


def settings_view(service: Signing, actor: Principal, school_code: str) -> dict[str, Any]:
    with reading(service.engine) as conn:
        school = store.get_school(conn, school_code)
        if school is None or not actor.covers(Scope(province=school.province, school=school_code,
                                                     department=actor.scope.department)):
            raise not_found()
        state = availability(conn, school)
    settings = state.settings
    return {"school_code": school_code, **state.as_dict(), "completed": settings is not None,
            "notice": settings.notice if settings else None, "version": settings.version if settings else 0}


def put_settings(service: Signing, actor: Principal, school_code: str, *, department_review: bool,
                 notice: str | None) -> dict[str, Any]:
    """网签设置: saved once, the school's settings are complete (an event accounts shows)."""
    with service.unit_of_work() as uow:
        school = store.get_school(uow.session, school_code)
        if school is None:
            raise not_found()
        if not actor.covers(Scope(province=school.province, school=school_code)):
            raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
        # The guide: once the province switched the module on, the school completes its settings.
        if not store.module_enabled(uow.session, school.province, EMPLOYMENT):
            raise ProblemError(403, "module_not_enabled", detail="省级用户尚未开通毕业去向登记与网签，暂不能设置")
        current = store.get_settings(uow.session, school_code, for_update=True)
        if current is not None and current.department_review and not department_review:
            refuse_department_review_off(store.awaiting_department(uow.session, school_code), "记录")
        if current is None:  # nothing to lock yet: a concurrent first save waits on this row, then updates it
            store.add_settings_if_absent(uow.session, school_code, updated_by=actor.user_id)
            current = store.get_settings(uow.session, school_code, for_update=True)
        version = current.version + 1
        store.put_settings(uow.session, school_code, {
            "department_review": department_review, "notice": (notice or "").strip() or None, "version": version,
            "updated_by": actor.user_id, "updated_at": now()})
        uow.record(contracts.SCHOOL_SETTINGS_UPDATED, subject=school_code, sequence=version,
                   data={"school_code": school_code, "module": EMPLOYMENT, "completed": True})
        uow.commit()
    return settings_view(service, actor, school_code)


# --- invitations ----------------------------------------------------------------------------------


def invite(service: Signing, actor: Principal, *, exam_number: str, name: str, terms: dict[str, Any],
           response_days: int | None) -> dict[str, Any]:
    """An employer invites the graduate named by 考生号 and name (both must match the roster)."""
    if actor.role is not Role.EMPLOYER or not actor.scope.employer:
        raise ProblemError(403, "role_forbidden", detail="只有用人单位可以发起签约邀请")
    days = DEFAULT_RESPONSE_DAYS if response_days is None else response_days
    if not MIN_RESPONSE_DAYS <= days <= MAX_RESPONSE_DAYS:
        raise ValidationError({"response_days": [f"应约有效期应为{MIN_RESPONSE_DAYS}到{MAX_RESPONSE_DAYS}天"]})
    try:
        checked = check_terms(terms)
    except InvalidTerms as exc:
        raise ValidationError({"terms": exc.errors}) from None
    agreement_id = str(uuid.uuid4())
    invitation_throttle.ensure_allowed(service, actor.scope.employer)
    try:
        with service.unit_of_work() as uow:
            employer = store.get_employer(uow.session, actor.scope.employer)
            if employer is None:
                raise ProblemError(409, "employer_unknown", detail="单位信息尚未同步，请稍后再试")
            graduate = _graduate_by_exam_number(uow.session, exam_number.strip(), name.strip(), shared=True)
            school = store.get_school(uow.session, graduate.school_code)
            refusal = availability(uow.session, school).refusal
            if refusal:
                raise ProblemError(403, refusal[0], detail=refusal[1])
            assert school is not None and school.agreement_type
            stamp = now()
            overdue = store.overdue_invitation(uow.session, employer.id, graduate.id, stamp)
            if overdue is not None:  # past its deadline: it expires now, as the job would, and frees the way
                _move(uow, overdue, Action.EXPIRE, _system(), None, stamp)
            serial = store.next_serial(uow.session, graduate.graduation_year, graduate.school_code,
                                       graduate.education_level or "00")
            values = {
                "id": agreement_id, "flow": "online", "initiator": Initiator.EMPLOYER.value,
                "agreement_type": school.agreement_type, "status": Status.INVITED.value, "graduate_id": graduate.id,
                "school_code": graduate.school_code, "department_id": graduate.department_id,
                "education_level": graduate.education_level, "graduation_year": graduate.graduation_year,
                "employer_id": employer.id, "unit": _unit(employer), "terms": checked.as_dict(),
                "respond_by": stamp + timedelta(days=days), "accepted_at": None, "decided_at": None,
                "number": agreement_number(graduate.graduation_year, graduate.school_code,
                                           graduate.education_level or "00", serial),
                "version": 1, "created_at": stamp, "updated_at": stamp}
            entry = _audit(uow, agreement_id, actor, "invite", None, Status.INVITED, None, stamp,
                           after=audit.NEW_CHAIN)
            written = {**values, "audit_position": entry.position, "audit_hash": entry.hash}
            store.insert_agreement(uow.session, written)
            _record(uow, values, graduate, contracts.AGREEMENT_INVITED, actor, None, Status.INVITED)
            answer = as_written(uow, Written.of(written, graduate))
            uow.commit()
    except IntegrityError:
        raise ProblemError(409, "invitation_open", detail="已向该毕业生发出签约邀请，请等待其应约") from None
    except ProblemError as refused:
        if refused.code == "graduate_not_found":
            invitation_throttle.record_miss(service, actor.scope.employer)
        raise
    return answer.body  # a new agreement has no document


def _graduate_by_exam_number(bind: store.Bind, exam_number: str, name: str, *, shared: bool = False) -> Row:
    graduate = store.graduate_by_exam_number(bind, exam_number, name, shared=shared)
    if graduate is None or graduate.withdrawn:  # off its school's roster: as good as unknown to a unit
        raise ProblemError(404, "graduate_not_found", detail="未找到该毕业生：请核对考生号和姓名")
    return graduate


def _unit(employer: Row) -> dict[str, Any]:
    return {"name": employer.name, "credit_code": employer.credit_code, "nature": employer.nature,
            "industry": employer.industry, "region": employer.region, "address": employer.address}


# --- the graduate's answer, the employer's withdrawal, expiry ------------------------------------


def respond(service: Signing, actor: Principal, agreement_id: str, accept: bool,
            reason: str | None = None) -> dict[str, Any]:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以应约")
    action = Action.ACCEPT if accept else Action.DECLINE
    late = False
    try:
        with service.unit_of_work() as uow:
            row = _locked(uow, actor, agreement_id)
            stamp = now()
            if _overdue(row, stamp):
                # A late answer is refused even if the expiry job has not run: expire it now.
                _move(uow, row, Action.EXPIRE, _system(), None, stamp)
                late = True
            else:
                if accept:
                    refuse_if_destination(uow.session, row.graduate_id)  # locks the graduate's row
                    graduate = store.get_graduate(uow.session, row.graduate_id)
                    if graduate is not None and graduate.withdrawn:
                        raise withdrawn_graduate()
                    if store.held_agreement(uow.session, row.graduate_id) is not None:
                        raise _held()
                    refuse_if_employer_stopped(uow.session, row)
                extra = {"accepted_at": stamp} if accept else {}
                answer = as_written(uow, _move(uow, row, action, actor, (reason or "").strip() or None, stamp,
                                               extra=extra))
            uow.commit()
    except IntegrityError:
        raise _held() from None
    if late:
        raise ProblemError(409, "invitation_expired", detail="签约邀请已过应约有效期，不能再应约",
                           current_status=Status.EXPIRED.value,
                           current_status_label=status_label(Status.EXPIRED, row.agreement_type), allowed_actions=[])
    return answer.rendered(service)


def withdraw(service: Signing, actor: Principal, agreement_id: str) -> dict[str, Any]:
    if actor.role is not Role.EMPLOYER:
        raise ProblemError(403, "role_forbidden", detail="只有发出邀请的单位可以撤回")
    with service.unit_of_work() as uow:
        row = _locked(uow, actor, agreement_id)
        stamp = now()
        if _overdue(row, stamp):
            # It lapsed before the expiry job came by: it expires now (as a late answer does), and
            # lists count it as lapsed, not as withdrawn.
            _move(uow, row, Action.EXPIRE, _system(), None, stamp)
            uow.commit()
            raise _lapsed(row)
        answer = as_written(uow, _move(uow, row, Action.WITHDRAW, actor, None, stamp))
        uow.commit()
    return as_seen_by(actor, answer.rendered(service))


def _overdue(row: Row, stamp: datetime) -> bool:
    return Status(row.status) is Status.INVITED and row.respond_by is not None and as_utc(row.respond_by) < stamp


def _lapsed(row: Row) -> ProblemError:
    return ProblemError(409, "invitation_expired", detail="签约邀请已过应约有效期，已逾期失效",
                        current_status=Status.EXPIRED.value,
                        current_status_label=status_label(Status.EXPIRED, row.agreement_type), allowed_actions=[])


WITHDRAWN_FROM_ROSTER = "毕业生已被学校移出生源，签约邀请自动撤回"


def close_invitations(uow: UnitOfWork, invitations: list[Row], stamp: datetime,
                      reason: str = WITHDRAWN_FROM_ROSTER) -> None:
    """移出生源 (or a stopped unit): the open invitations (locked by the caller) are withdrawn by the
    system, with the reason, so that nobody waits on an answer that cannot come."""
    for row in invitations:
        _move(uow, row, Action.WITHDRAW, _system(), reason, stamp)


EMPLOYER_STOPPED = "用人单位账号已被省级就业主管部门停用，签约邀请自动撤回"


def refuse_if_employer_stopped(bind: store.Bind, row: Row) -> None:
    """Nothing new is agreed with a unit a province stopped (a squatter on another's credit code, a
    unit under investigation): no acceptance, no approval, no online termination it cannot answer."""
    if store.employer_stopped(bind, row.employer_id):
        raise ProblemError(409, "employer_stopped", detail="该用人单位账号已被省级就业主管部门停用，暂不能办理；"
                                                          "如需解约请上传解约函办理线下解约",
                           current_status=row.status)


def expire_due(service: Signing, at: datetime | None = None, batch: int = 500) -> int:
    """The scheduled job: every unanswered invitation past its deadline becomes 签约邀请逾期未回应."""
    at = at or now()
    done = 0
    while True:
        with reading(service.engine) as conn:
            due = store.expired_invitations(conn, at, batch)
        if not due:
            return done
        for agreement_id in due:
            with service.unit_of_work() as uow:
                row = store.get_agreement(uow.session, agreement_id, for_update=True)
                if row is not None and Status(row.status) is Status.INVITED:  # answered meanwhile: skip
                    _move(uow, row, Action.EXPIRE, _system(), None, at)
                    uow.commit()
                    done += 1
        if len(due) < batch:
            return done


# --- reviews -------------------------------------------------------------------------------------


def review(service: Signing, actor: Principal, agreement_id: str, approve: bool, reason: str | None) -> dict[str, Any]:
    level = {Role.DEPARTMENT: "department", Role.SCHOOL: "school"}.get(actor.role)
    if level is None:
        raise ProblemError(403, "role_forbidden", detail="只有院系或学校用户可以审核")
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise ProblemError(422, "reason_required", detail="审核不通过时必须填写原因", field="reason")
    if reason and len(reason) > MAX_REASON:
        raise ProblemError(422, "invalid_reason", detail=f"原因不能超过{MAX_REASON}个字符", field="reason")
    with service.unit_of_work() as uow:
        row = _locked(uow, actor, agreement_id)
        stage = "application" if Status(row.status) in APPLICATION_REVIEW else "signing"
        action = REVIEW_ACTIONS[(stage, level, approve)]
        if approve:
            refuse_if_employer_stopped(uow.session, row)
        stamp = now()
        final = action in FINAL_REVIEW_ACTIONS
        answer = as_written(uow, _move(uow, row, action, actor, reason, stamp,
                                       extra={"decided_at": stamp} if final else {}))
        uow.commit()
    # The approval answers at once: its document (document_sha256) follows within seconds.
    return answer.body


# --- shared steps --------------------------------------------------------------------------------


def _locked(uow: UnitOfWork, actor: Principal, agreement_id: str) -> Row:
    row = store.agreement_in_province(uow.session, agreement_id, for_update=True)
    if row is None or not _covers(actor, row, row.school_province):
        raise not_found()
    return row


def _covers(actor: Principal, row: Row, province: str | None) -> bool:
    return actor.covers(Scope(province=province, school=row.school_code, department=row.department_id,
                              graduate=row.graduate_id, employer=row.employer_id))


def _department_review(uow: UnitOfWork, school_code: str) -> bool:
    """Whether the school's department reviews first, the settings held until the step commits: a
    school switching department review off meanwhile would count the department's pending records
    without this one, and leave it waiting there."""
    settings = store.get_settings(uow.session, school_code, shared=True)
    return True if settings is None else bool(settings.department_review)


@dataclass(frozen=True)
class Written:
    """An agreement as a change wrote it (its columns as attributes, like a row) and its graduate."""

    agreement: Any
    graduate: Row | None

    @classmethod
    def of(cls, values: dict[str, Any], graduate: Row | None) -> Written:
        return cls(SimpleNamespace(**values), graduate)


def _move(uow: UnitOfWork, row: Row, action: Action, actor: Principal, reason: str | None, stamp: datetime, *,
          extra: dict[str, Any] | None = None) -> Written:
    """One step of the agreement's flow: the transition table, the school's department-review
    setting, the audit entry and its anchor, the compare-and-set update, the approved document and
    the event, in the caller's transaction. Answers the agreement as written."""
    current = Status(row.status)
    try:
        target = WORKFLOWS[row.flow].next(current, action)
    except RefusedTransition as exc:
        problem = exc.as_problem()
        problem["current_status_label"] = status_label(current, row.agreement_type, row.flow)
        raise ProblemError(409, "invalid_state", detail=str(exc).replace(exc.current_label, problem[
            "current_status_label"]), **problem) from None
    if target in FIRST_REVIEW and not _department_review(uow, row.school_code):
        target = FIRST_REVIEW[target]
    entry = _audit(uow, row.id, actor, action.value, current, target, reason, stamp,
                   after=(row.audit_position, row.audit_hash))
    values = {"status": target.value, "version": row.version + 1, "updated_at": stamp,
              "audit_position": entry.position, "audit_hash": entry.hash, **(extra or {})}
    if target in ENDED:
        values["ended_at"] = stamp
    if not store.update_agreement(uow.session, row.id, row.version, values):
        raise ProblemError(409, "concurrent_change", detail="协议刚被其他操作修改，请刷新后重试")
    if target is Status.APPROVED and documents.get_document(uow.session, row.id, with_pdf=False) is None:
        documents.request_document(uow.session, row.id, stamp)
    graduate = store.get_graduate(uow.session, row.graduate_id)
    written = {**row._asdict(), **values}
    _record(uow, written, graduate, EVENTS[action], actor, reason, target)
    return Written.of(written, graduate)


def _audit(uow: UnitOfWork, agreement_id: str, actor: Principal, action: str, source: Status | None,
           target: Status | None, reason: str | None, stamp: datetime, *, after: tuple[int, str]) -> audit.AuditEntry:
    """``after``: the chain's end from the agreement's anchor (its row locked), or ``audit.NEW_CHAIN``."""
    return audit.append(uow.session, agreement_audit, aggregate_id=agreement_id, actor_id=actor.user_id,
                        actor_role=actor.role.value, action=action, from_state=source.value if source else None,
                        to_state=target.value if target else None, reason=reason,
                        request_id=current_correlation_id(), at=stamp, after=after)


def withdrawn_graduate() -> ProblemError:
    return ProblemError(409, "graduate_withdrawn", detail="该毕业生已被学校移出生源")


def _system() -> Principal:
    return Principal("system", Role.ADMIN, Scope())


def refuse_if_destination(bind: store.Bind, graduate_id: str) -> None:
    """A graduate with a destination registration under review or approved holds no agreement. The
    graduate's row is locked first, as a destination submission does, so the two cannot pass at once."""
    destination_store.lock_graduate(bind, graduate_id)
    if destination_store.current_destination(bind, graduate_id) is not None:
        raise ProblemError(409, "destination_registered", detail="你已登记其他毕业去向，如需签约请先申请作废该登记")


def _held() -> ProblemError:
    return ProblemError(409, "agreement_held", detail="你已有已应约或已生效的协议，不能再接受其他签约邀请")


def _record(uow: UnitOfWork, values: dict[str, Any], graduate: Row | None, event_type: str, actor: Principal,
            reason: str | None, status: Status) -> None:
    unit, terms = values["unit"], values["terms"]
    accepted = values.get("accepted_at")
    uow.record(event_type, subject=values["id"], sequence=values["version"], data={
        "agreement_id": values["id"], "agreement_number": values["number"],
        "agreement_type": values["agreement_type"], "initiator": values["initiator"], "flow": values["flow"],
        "status": status.value, "graduate_id": values["graduate_id"],
        "exam_number": graduate.exam_number if graduate else "", "name": graduate.name if graduate else "",
        "school_code": values["school_code"], "department_id": values["department_id"],
        "education_level": values["education_level"], "graduation_year": values["graduation_year"],
        "employer_id": values["employer_id"], "actor_role": actor.role.value, "reason": reason,
        "destination_code": DESTINATION_SIGNED, "unit_name": unit["name"], "credit_code": unit["credit_code"],
        "unit_nature": unit["nature"], "unit_industry": unit["industry"], "unit_region": unit["region"],
        "position_category": terms["position_category"],
        # the day in China, as the agreement's PDF prints it (a UTC day is the day before until 08:00)
        "signing_date": china_date(accepted).isoformat() if accepted else None,
        "approved_at": values["updated_at"].isoformat() if status is Status.APPROVED else None})


# --- reading -------------------------------------------------------------------------------------


def detail(service: Signing, actor: Principal, agreement_id: str, render_document: bool = True) -> dict[str, Any]:
    """The agreement as ``actor`` may see it; its document's SHA-256 (rendering a due document first
    unless ``render_document`` is False, when a due one shows as None)."""
    with reading(service.engine) as conn:
        row = store.agreement_in_province(conn, agreement_id)
        if row is None or not _covers(actor, row, row.school_province):
            raise not_found()
        graduate = store.get_graduate(conn, row.graduate_id)
        trail = audit.trail(conn, agreement_audit, agreement_id)
        document = documents.get_document(conn, agreement_id, with_pdf=False)
        stopped = store.employer_stopped(conn, row.employer_id)
    if document is not None and document.sha256 is None and render_document:
        document = documents.rendered_document(service.engine, agreement_id)
    out = agreement_out(row, graduate, trail)
    out["document_sha256"] = document.sha256 if document else None
    out["employer_stopped"] = stopped  # a province stopped the unit's account: reviewers see it
    return as_seen_by(actor, out)



def as_seen_by(actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """An agreement's answer as ``actor`` sees it. The graduate said no (or the invitation lapsed or
    was withdrawn): the unit keeps what it invited with, not a window on the graduate's roster data
    as the school changes it later."""
    if actor.role is Role.EMPLOYER and Status(body["status"]) in CLOSED_INVITATIONS and body["graduate"]:
        body["graduate"] = {key: body["graduate"][key] for key in ("id", "exam_number", "name")}
    return body


@dataclass(frozen=True)
class Answer:
    """The detail a change answers with, read in its own transaction before the commit."""

    body: dict[str, Any]
    document_due: bool

    def rendered(self, service: Signing) -> dict[str, Any]:
        """After the commit: the body with a due document rendered first, as ``detail`` answers."""
        if self.document_due:
            document = documents.rendered_document(service.engine, self.body["id"])
            self.body["document_sha256"] = document.sha256 if document else None
        return self.body


def as_written(uow: UnitOfWork, written: Written) -> Answer:
    """What a change answers with: the agreement and graduate it wrote and read, its trail and
    document read in its own transaction, instead of a second transaction reading them all again
    after the commit. A due document shows as None until ``Answer.rendered``."""
    agreement_id = written.agreement.id
    trail = audit.trail(uow.session, agreement_audit, agreement_id)
    document = documents.get_document(uow.session, agreement_id, with_pdf=False)
    body = agreement_out(written.agreement, written.graduate, trail)
    body["document_sha256"] = document.sha256 if document else None
    body["employer_stopped"] = store.employer_stopped(uow.session, written.agreement.employer_id)
    return Answer(body, document is not None and document.sha256 is None)


_STATES = frozenset(s.value for s in Status)


def agreement_out(row: Row, graduate: Row | None, trail: list[audit.AuditEntry] | None = None) -> dict[str, Any]:
    status = Status(row.status)
    unit, terms = row.unit, row.terms
    out: dict[str, Any] = {
        "id": row.id, "number": row.number, "flow": row.flow, "initiator": row.initiator,
        "initiator_label": INITIATOR_LABELS[Initiator(row.initiator)], "agreement_type": row.agreement_type,
        "agreement_type_label": AGREEMENT_TYPE_LABELS[AgreementType(row.agreement_type)],
        "status": status.value, "status_label": status_label(status, row.agreement_type, row.flow),
        "allowed_actions": [a.value for a in WORKFLOWS[row.flow].allowed(status)
                            if a not in (Action.EXPIRE, Action.TERMINATE)],
        "respond_by": as_utc(row.respond_by).isoformat() if row.respond_by else None,
        "accepted_at": as_utc(row.accepted_at).isoformat() if row.accepted_at else None,
        "decided_at": as_utc(row.decided_at).isoformat() if row.decided_at else None,
        "version": row.version, "employer_id": row.employer_id,
        # offline and supplementary: the signed paper's scan, which reviewers download to compare
        "has_scan": getattr(row, "scan_attachment_id", None) is not None,
        "unit": {**unit, "nature_label": employer_natures().label(unit["nature"], unit["nature"]),
                 "industry_label": industries().label(unit["industry"], unit["industry"])},
        "terms": {**terms, "position_category_label": position_categories().label(terms["position_category"],
                                                                                   terms["position_category"])},
        "graduate": None if graduate is None else {
            "id": graduate.id, "exam_number": graduate.exam_number, "name": graduate.name,
            "school_code": graduate.school_code, "school_name": graduate.school_name,
            "department_id": graduate.department_id, "department_name": graduate.department_name,
            "major_name": graduate.major_name, "education_level": graduate.education_level,
            "identity_number": graduate.identity_number_masked},
    }
    if trail is not None:
        def label(state: str | None) -> str | None:  # as the status line words it, for this flow and type
            return status_label(Status(state), row.agreement_type, row.flow) if state in _STATES else None

        out["history"] = [{"position": e.position, "action": e.action, "actor_id": e.actor_id,
                           "actor_role": e.actor_role, "from_state": e.from_state, "to_state": e.to_state,
                           "from_label": label(e.from_state), "to_label": label(e.to_state),
                           # masked as the events mask it: a reason typed before reasons were masked on
                           # the way in may name the graduate's number, and the employer reads it here
                           "reason": redact_valid_identity_numbers(e.reason) if e.reason else e.reason,
                           "request_id": e.request_id, "at": e.at.isoformat(),
                           "hash": e.hash} for e in trail]
    return out
