"""Archive (档案) and hukou (户口) registration: the school's settings, the graduate's draft and
submission, the department's and the school's reviews, the transfer number, the events.

Graduates may use a module only once their province switched it on (accounts.module.enabled) and
their school completed its settings, and only until the school's deadline (China time). Every step
locks the registration row and checks its version, so two reviewers never both decide; every
submission and decision is kept in the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.records import REGISTRATION_EVENTS, SCHOOL_SETTINGS_UPDATED
from quxiang.common.db import reading
from quxiang.common.pii import mask_identity_number, redact_valid_identity_numbers
from quxiang.common.review_settings import refuse_department_review_off
from quxiang.common.times import china_today, iso_utc, latest_deadline
from quxiang.common.web.errors import ProblemError
from quxiang.records.adapters import registration_store as store
from quxiang.records.adapters import repository
from quxiang.records.domain.registration import (
    ACTION_LABELS,
    LEVEL_LABELS,
    MODULE_LABELS,
    REVIEW_ACTIONS,
    STATUS_LABELS,
    Action,
    Decision,
    InvalidTransfer,
    Level,
    RefusedTransition,
    RegistrationModule,
    Status,
    Transfer,
    allowed_actions,
    check_transfer,
    next_status,
    transfer_number,
    transfer_type,
)
from quxiang.records.service.context import Records

MAX_REASON = 500
_REJECTED = (Status.DEPARTMENT_REJECTED, Status.SCHOOL_REJECTED)
MAX_NOTICE = 2000




# --- availability and the school's settings ------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Whether the graduates of a school may use a module today, and if not, why."""

    enabled: bool             # the province switched the module on
    settings: Row | None      # the school's settings (completed once saved)
    today: date

    @property
    def open(self) -> bool:
        return self.refusal is None

    @property
    def refusal(self) -> tuple[str, str] | None:
        if not self.enabled:
            return "module_not_enabled", "省级用户尚未开通该模块"
        if self.settings is None:
            return "settings_incomplete", "学校尚未完成该模块的设置"
        if self.today > self.settings.deadline:
            return "deadline_passed", f"登记已于 {self.settings.deadline.isoformat()} 截止"
        return None

    def as_dict(self) -> dict[str, Any]:
        refusal = self.refusal
        return {"enabled": self.enabled, "settings_completed": self.settings is not None,
                "department_review": self.settings.department_review if self.settings else None,
                "deadline": self.settings.deadline.isoformat() if self.settings else None,
                "notice": self.settings.notice if self.settings else None, "open": refusal is None,
                "reason": refusal[1] if refusal else None}


def availability(bind: repository.Bind, province: str | None, school_code: str,
                 module: RegistrationModule) -> Availability:
    enabled, settings = store.enabled_and_settings(bind, province, school_code, module.value)
    return Availability(province is not None and enabled, settings, china_today())


def school_or_404(bind: repository.Bind, school_code: str) -> Row:
    school = repository.get_school(bind, school_code)
    if school is None:
        raise not_found()
    return school


def settings_view(service: Records, actor: Principal, school_code: str, module: RegistrationModule) -> dict[str, Any]:
    with reading(service.engine) as conn:
        school = school_or_404(conn, school_code)
        _ensure_covers(actor, Scope(province=school.province, school=school_code, department=actor.scope.department))
        state = availability(conn, school.province, school_code, module)
        return _settings_out(school_code, module, state)


def _settings_out(school_code: str, module: RegistrationModule, state: Availability) -> dict[str, Any]:
    settings = state.settings
    return {"school_code": school_code, "module": module.value, "module_label": MODULE_LABELS[module],
            **state.as_dict(), "completed": settings is not None,
            "version": settings.version if settings else 0,
            "updated_at": iso_utc(settings.updated_at) if settings else None}


def put_settings(service: Records, actor: Principal, school_code: str, module: RegistrationModule, *,
                 department_review: bool, deadline: date, notice: str | None) -> dict[str, Any]:
    """Save the school's settings of a module: completed from then on (an event accounts shows)."""
    notice = (notice or "").strip() or None
    if notice and len(notice) > MAX_NOTICE:
        raise ProblemError(422, "invalid_notice", detail=f"说明不能超过{MAX_NOTICE}个字符", field="notice")
    today = china_today()
    if deadline < today:
        # A slip of the keyboard (2020 for 2026) would close the module for the whole school at once.
        raise ProblemError(422, "deadline_in_the_past", detail=f"登记截止日期不能早于今天（{today.isoformat()}）",
                           field="deadline")
    latest = latest_deadline(today)
    if deadline > latest:
        # The same slip the other way (2207 for 2027) would keep the module open for good.
        raise ProblemError(422, "deadline_too_far", detail=f"登记截止日期不能晚于 {latest.isoformat()}",
                           field="deadline")
    with service.unit_of_work() as uow:
        school = school_or_404(uow.session, school_code)
        _ensure_allowed(actor, Scope(province=school.province, school=school_code))
        # The guide: the school completes its settings after the province switched the module on.
        if not availability(uow.session, school.province, school_code, module).enabled:
            raise ProblemError(403, "module_not_enabled", detail="省级用户尚未开通该模块，暂不能设置")
        values = {"department_review": department_review, "deadline": deadline, "notice": notice,
                  "updated_by": actor.user_id}
        current = store.get_settings(uow.session, school_code, module.value, for_update=True)
        if current is not None and current.department_review and not department_review:
            refuse_department_review_off(store.awaiting_department(uow.session, school_code, module.value), "登记")
        if current is None:
            # Two first saves at once: one creates the row, the other waits for it and then
            # updates it as the second version (a plain INSERT made the other a 500).
            store.add_settings_if_absent(uow.session, school_code, module.value, **values)
            current = store.get_settings(uow.session, school_code, module.value, for_update=True)
            assert current is not None
        version = current.version + 1
        store.put_settings(uow.session, school_code, module.value, version=version, **values)
        uow.record(SCHOOL_SETTINGS_UPDATED, subject=f"{school_code}.{module.value}", sequence=version,
                   data={"school_code": school_code, "module": module.value, "completed": True})
        uow.commit()
    return settings_view(service, actor, school_code, module)


# --- a graduate's registration -------------------------------------------------------------------


def detail(service: Records, actor: Principal, graduate_id: str, module: RegistrationModule) -> dict[str, Any]:
    """The registration with its review history (a graduate with none yet: status 未填写)."""
    with reading(service.engine) as conn:
        graduate = _visible_graduate(conn, actor, graduate_id)
        registration = store.get_registration(conn, graduate_id, module.value)
        history = store.history(conn, registration.id) if registration else []
        state = availability(conn, graduate.province, graduate.school_code, module)
    return _out(service, graduate, module, registration, history, state)


def _as_written(service: Records, uow: UnitOfWork, graduate: Row, module: RegistrationModule,
                state: Availability) -> dict[str, Any]:
    """The detail a change answers with, read in the change's own transaction just before it commits:
    exactly what it wrote, without reading the graduate and the settings a second time."""
    registration = store.get_registration(uow.session, graduate.id, module.value)
    history = store.history(uow.session, registration.id) if registration else []
    return _out(service, graduate, module, registration, history, state)


def save_draft(service: Records, actor: Principal, graduate_id: str, module: RegistrationModule,
               data: dict[str, Any]) -> dict[str, Any]:
    transfer = _checked(module, data, complete=False)
    return _graduate_step(service, actor, graduate_id, module, Action.SAVE, transfer)


def submit(service: Records, actor: Principal, graduate_id: str, module: RegistrationModule,
           data: dict[str, Any] | None) -> dict[str, Any]:
    """Submit ``data`` (or, with none, the saved draft) for review."""
    transfer = _checked(module, data, complete=True) if data else None
    return _graduate_step(service, actor, graduate_id, module, Action.SUBMIT, transfer)


def review(service: Records, actor: Principal, graduate_id: str, module: RegistrationModule, decision: Decision,
           reason: str | None) -> dict[str, Any]:
    """A department or school user's decision; the level follows the caller's role."""
    level = {Role.DEPARTMENT: Level.DEPARTMENT, Role.SCHOOL: Level.SCHOOL}.get(actor.role)
    if level is None:
        raise ProblemError(403, "role_forbidden", detail="只有院系或学校用户可以审核")
    reason = (reason or "").strip() or None
    if decision is Decision.REJECT and not reason:
        raise ProblemError(422, "reason_required", detail="审核不通过时必须填写原因", field="reason")
    if reason and len(reason) > MAX_REASON:
        raise ProblemError(422, "invalid_reason", detail=f"原因不能超过{MAX_REASON}个字符", field="reason")
    action = REVIEW_ACTIONS[(level, decision)]
    with service.unit_of_work() as uow:
        graduate = _visible_graduate(uow.session, actor, graduate_id)
        state = availability(uow.session, graduate.province, graduate.school_code, module)
        if not state.enabled:
            raise ProblemError(403, "module_not_enabled", detail="省级用户尚未开通该模块")
        registration = store.get_registration(uow.session, graduate_id, module.value, for_update=True)
        current = Status(registration.status) if registration else Status.NONE
        target = _move(current, action)
        assert registration is not None  # a registration in review exists: NONE allows no review
        stamp = repository.now()
        values: dict[str, Any] = {"status": target.value, "version": registration.version + 1,
                                  "department_id": graduate.department_id, "updated_at": stamp}
        if target in (Status.APPROVED, Status.DEPARTMENT_REJECTED, Status.SCHOOL_REJECTED):
            values["decided_at"] = stamp
        if target is Status.APPROVED:
            values["approved_once"] = True
        if target is Status.APPROVED and module is RegistrationModule.ARCHIVE and not registration.transfer_number:
            serial = store.next_transfer_serial(uow.session, graduate.school_code, graduate.graduation_year)
            values["transfer_number"] = transfer_number(graduate.graduation_year, graduate.school_code, serial)
        snapshot = _transfer_of(registration).as_dict()
        standing, published = target, snapshot
        approval = store.last_approval(uow.session, registration.id) if target in _REJECTED else None
        if approval is not None:
            # A change to an approved registration was refused: the approval stands, with its data (the
            # EMS holds it, and the graduate keeps a registration instead of none).
            standing, published = Status.APPROVED, dict(approval.snapshot)
            values.update(status=Status.APPROVED.value, **published)
        if not store.update_registration(uow.session, registration.id, registration.version, values):
            raise _concurrent()
        store.add_history(uow.session, registration_id=registration.id, version=values["version"],
                          action=action.value, level=level.value, actor_id=actor.user_id,
                          actor_role=actor.role.value, status=target.value, reason=reason, snapshot=snapshot,
                          at=stamp)
        outcome = {Status.APPROVED: "approved", Status.DEPARTMENT_REJECTED: "rejected",
                   Status.SCHOOL_REJECTED: "rejected"}.get(target)
        if outcome:  # a department approval only hands the registration on to the school
            _record(uow, module, outcome, graduate, registration.id, values["version"], standing, published,
                    transfer_number=values.get("transfer_number", registration.transfer_number), level=level,
                    reviewer_id=actor.user_id, reason=reason, submitted_at=registration.submitted_at,
                    decided_at=stamp, approval_stands=standing is Status.APPROVED)
        answer = _as_written(service, uow, graduate, module, state)
        uow.commit()
    return answer


def _graduate_step(service: Records, actor: Principal, graduate_id: str, module: RegistrationModule, action: Action,
                   transfer: Transfer | None) -> dict[str, Any]:
    if actor.role is not Role.GRADUATE:
        raise ProblemError(403, "role_forbidden", detail="只有毕业生本人可以填写和提交")
    try:
        with service.unit_of_work() as uow:
            graduate = _visible_graduate(uow.session, actor, graduate_id, lock="share")
            if graduate.withdrawn_at is not None:
                raise withdrawn_graduate()
            state = availability(uow.session, graduate.province, graduate.school_code, module)
            refusal = state.refusal
            if refusal:
                raise ProblemError(403, refusal[0], detail=refusal[1])
            registration = store.get_registration(uow.session, graduate_id, module.value, for_update=True)
            current = Status(registration.status) if registration else Status.NONE
            # Read again and held: a school switching department review off meanwhile would count
            # the department's pending registrations without this one, and leave it waiting there.
            settings = store.get_settings(uow.session, graduate.school_code, module.value, shared=True)
            target = _move(current, action, department_review=(settings or state.settings).department_review)
            if transfer is None:  # submitting the saved draft as it is: it must be complete now
                transfer = _checked(module, _transfer_of(registration).as_dict() if registration else {},
                                    complete=True)
            stamp = repository.now()
            values: dict[str, Any] = {"status": target.value, "department_id": graduate.department_id,
                                      **transfer.as_dict(), "updated_at": stamp}
            if action is Action.SUBMIT:
                values.update(submitted_at=stamp, decided_at=None)
            if registration is None:
                registration_id, version = str(uuid.uuid4()), 1
                store.insert_registration(uow.session, {
                    "id": registration_id, "graduate_id": graduate_id, "module": module.value,
                    "school_code": graduate.school_code, "version": 1, "created_at": stamp,
                    "transfer_number": None, "submitted_at": None, "decided_at": None, **values})
            else:
                registration_id, version = registration.id, registration.version + 1
                if not store.update_registration(uow.session, registration.id, registration.version,
                                                 {**values, "version": version}):
                    raise _concurrent()
            if action is Action.SUBMIT:
                snapshot = transfer.as_dict()
                # A change to an approved registration: the approval stands until a review replaces it
                # (the EMS keeps it, and the statistics keep counting the graduate as registered).
                approval_stands = registration is not None and bool(registration.approved_once)
                store.add_history(uow.session, registration_id=registration_id, version=version,
                                  action=action.value, level=Level.GRADUATE.value, actor_id=actor.user_id,
                                  actor_role=actor.role.value, status=target.value, reason=None, snapshot=snapshot,
                                  at=stamp)
                _record(uow, module, "submitted", graduate, registration_id, version, target, snapshot,
                        transfer_number=registration.transfer_number if registration else None, level=None,
                        reviewer_id=None, reason=None, submitted_at=stamp, decided_at=None,
                        approval_stands=approval_stands)
            answer = _as_written(service, uow, graduate, module, state)
            uow.commit()
    except IntegrityError:  # a concurrent first save of the same registration
        raise _concurrent() from None
    return answer


def _move(current: Status, action: Action, *, department_review: bool = True) -> Status:
    try:
        return next_status(current, action, department_review=department_review)
    except RefusedTransition as exc:
        raise ProblemError(409, "invalid_state", detail=str(exc), **exc.as_problem()) from None


def _concurrent() -> ProblemError:
    return ProblemError(409, "concurrent_change", detail="登记信息刚被其他操作修改，请刷新后重试")


def _checked(module: RegistrationModule, data: dict[str, Any], *, complete: bool) -> Transfer:
    try:
        return check_transfer(module, data, complete=complete)
    except InvalidTransfer as exc:
        raise ValidationError(exc.errors) from None  # 422 with the reasons per field, as for any body


def _transfer_of(row: Row) -> Transfer:
    return Transfer(transfer_type=row.transfer_type, receiving_unit=row.receiving_unit,
                    receiving_department=row.receiving_department, address=row.address, postcode=row.postcode,
                    recipient=row.recipient, phone=row.phone)


def withdrawn_graduate() -> ProblemError:
    return ProblemError(409, "graduate_withdrawn", detail="该毕业生已被学校移出生源")


def _visible_graduate(bind: repository.Bind, actor: Principal, graduate_id: str, *, lock: str | None = None) -> Row:
    graduate = repository.get_graduate(bind, graduate_id, lock=lock)
    if graduate is None:
        raise not_found()
    scope = Scope(province=graduate.province, school=graduate.school_code, department=graduate.department_id,
                  graduate=graduate.id)
    if not actor.covers(scope):
        raise not_found()
    return graduate


def _ensure_covers(actor: Principal, scope: Scope) -> None:
    if not actor.covers(scope):
        raise not_found()


def _ensure_allowed(actor: Principal, scope: Scope) -> None:
    if not actor.covers(scope):
        raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")


def _record(uow: UnitOfWork, module: RegistrationModule, outcome: str, graduate: Row, registration_id: str,
            version: int, status: Status, transfer: dict[str, Any], *, transfer_number: str | None,
            level: Level | None, reviewer_id: str | None, reason: str | None, submitted_at: datetime | None,
            decided_at: datetime | None, approval_stands: bool) -> None:
    """One registration event; what the employment management system needs, never an identity number."""
    uow.record(REGISTRATION_EVENTS[(module.value, outcome)], subject=registration_id, sequence=version, data={
        "registration_id": registration_id, "module": module.value, "graduate_id": graduate.id,
        "exam_number": graduate.exam_number, "name": graduate.name, "school_code": graduate.school_code,
        "department_id": graduate.department_id, "education_level": graduate.education_level,
        "graduation_year": graduate.graduation_year, "status": status.value, "transfer": transfer,
        "transfer_number": transfer_number, "level": level.value if level else None, "reviewer_id": reviewer_id,
        "reason": reason, "submitted_at": iso_utc(submitted_at), "decided_at": iso_utc(decided_at),
        "graduate_version": graduate.version, "approval_stands": approval_stands})



# --- the answer ----------------------------------------------------------------------------------


def transfer_out(module: RegistrationModule, row: Row | None) -> dict[str, Any]:
    """The transfer as answers show it: identity numbers typed into its free text masked."""
    if row is None or row.transfer_type is None:
        return {"transfer_type": None, "transfer_type_label": None}
    kind = transfer_type(module, row.transfer_type)
    return {**_masked(_transfer_of(row).as_dict()), "transfer_type_label": kind.name_zh if kind else row.transfer_type}


def _masked(transfer: Mapping[str, Any]) -> dict[str, Any]:
    """Free text (a transfer's fields, a history snapshot's) with every valid identity number masked,
    for every caller: as the events' FreeText, since free text is never the place for a full number.
    Masked when shown, not when stored, so that rows written before are masked too."""
    return {key: redact_valid_identity_numbers(value) if isinstance(value, str) else value
            for key, value in transfer.items()}


def _out(service: Records, graduate: Row, module: RegistrationModule, registration: Row | None, history: list[Row],
         state: Availability) -> dict[str, Any]:
    status = Status(registration.status) if registration else Status.NONE
    return {
        "graduate_id": graduate.id, "module": module.value, "module_label": MODULE_LABELS[module],
        "registration_id": registration.id if registration else None,
        "status": status.value, "status_label": STATUS_LABELS[status],
        "transfer": transfer_out(module, registration),
        "transfer_number": registration.transfer_number if registration else None,
        "version": registration.version if registration else 0,
        "submitted_at": iso_utc(registration.submitted_at) if registration else None,
        "decided_at": iso_utc(registration.decided_at) if registration else None,
        # a change under review does not undo an earlier approval (its data: the history's last school_approve)
        "approval_stands": bool(registration.approved_once) if registration else False,
        "allowed_actions": [a.value for a in allowed_actions(status, enabled=state.enabled, module_open=state.open)],
        "availability": state.as_dict(),
        "graduate": {"exam_number": graduate.exam_number, "name": graduate.name, "school_code": graduate.school_code,
                     "department_id": graduate.department_id, "department_name": graduate.department_name,
                     "major_code": graduate.major_code, "major_name": graduate.major_name,
                     "education_level": graduate.education_level, "origin_region": graduate.origin_region,
                     "graduation_year": graduate.graduation_year,
                     "identity_number": mask_identity_number(service.cipher.decrypt(
                         graduate.identity_number_encrypted))},
        "history": [{"version": h.version, "action": h.action, "action_label": ACTION_LABELS[Action(h.action)],
                     "level": h.level, "level_label": LEVEL_LABELS[Level(h.level)], "actor_id": h.actor_id,
                     "actor_role": h.actor_role, "status": h.status, "status_label": STATUS_LABELS[Status(h.status)],
                     "reason": redact_valid_identity_numbers(h.reason), "transfer": h.snapshot and _masked(h.snapshot),
                     "at": iso_utc(h.at)} for h in history],
    }
