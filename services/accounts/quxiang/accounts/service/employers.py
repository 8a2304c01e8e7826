"""Employers (用人单位) register themselves: the unit and its one account, in one transaction.

The input was checked at the boundary (credit code check character, code tables, region, password
strength). Here: the credit code identifies a unit once on the platform, and the username is unique.
Both are checked before writing, for a clear answer, and again by the database's unique constraints,
for two registrations racing each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from quxiang.accounts.adapters import credentials, repository
from quxiang.accounts.adapters.credentials import EmployerAccount
from quxiang.accounts.domain.model import Conflict, Employer, NotFound, User
from quxiang.accounts.service import throttle
from quxiang.accounts.service.context import Accounts
from quxiang.accounts.service.management import Forbidden, invalid
from quxiang.accounts.service.passwords import hash_password, password_problem
from quxiang.accounts.service.revocation import revoke_tokens
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.accounts import (
    EMPLOYER_REGISTERED,
    EMPLOYER_UPDATED,
    USER_CREATED,
    USER_DISABLED,
    USER_ENABLED,
    USER_PASSWORD_RESET,
    USER_RENAMED,
)
from quxiang.common.paging import FIRST_PAGE, Page, PageRequest
from quxiang.common.reference import provinces


@dataclass(frozen=True)
class Registration:
    credit_code: str
    name: str
    nature: str
    industry: str
    region: str
    address: str
    contact_name: str
    contact_phone: str
    username: str
    password: str


def _conflict(uow: UnitOfWork, registration: Registration) -> Conflict | None:
    if repository.get_employer_by_credit_code(uow.session, registration.credit_code) is not None:
        return Conflict("employer_exists", "该统一社会信用代码的单位已注册，请使用其账号登录", field="credit_code")
    if repository.get_user_by_username(uow.session, registration.username) is not None:
        return Conflict("username_taken", "用户名已被使用，请换一个", field="username")
    return None


def register_employer(uow: UnitOfWork, registration: Registration) -> tuple[Employer, User]:
    conflict = _conflict(uow, registration)
    if conflict is not None:
        raise conflict
    employer = Employer(id=str(uuid.uuid4()), credit_code=registration.credit_code, name=registration.name,
                        nature=registration.nature, industry=registration.industry, region=registration.region,
                        address=registration.address, contact_name=registration.contact_name,
                        contact_phone=registration.contact_phone)
    user = User(id=str(uuid.uuid4()), username=registration.username, role=Role.EMPLOYER,
                display_name=registration.name, scope=Scope(employer=employer.id),
                password_hash=hash_password(registration.password))
    try:
        repository.add_employer(uow.session, employer)  # the INSERTs run now: a race fails here
        repository.add_user(uow.session, user, created_by=None)
        uow.record(EMPLOYER_REGISTERED, subject=employer.id, sequence=employer.version, data=unit_data(employer))
        uow.record(USER_CREATED, subject=user.id, sequence=user.version, data={
            "user_id": user.id, "role": user.role.value, "employer": employer.id})
        uow.commit()
    except IntegrityError:
        uow.rollback()  # a concurrent registration took the credit code or the username first
        raise _conflict(uow, registration) or Conflict("employer_exists", "单位已注册") from None
    return employer, user


def unit_data(employer: Employer) -> dict[str, object]:
    """What other services keep of a unit (never its contact person or phone)."""
    return {"employer_id": employer.id, "credit_code": employer.credit_code, "name": employer.name,
            "nature": employer.nature, "industry": employer.industry, "region": employer.region,
            "address": employer.address}


def update_employer(uow: UnitOfWork, employer_id: str, values: Mapping[str, str], actor_id: str) -> Employer:
    """The unit changes its own data (its credit code excepted). If anything changed: the next
    version, and ``accounts.employer.updated`` with all of it, so copies elsewhere take the newest.
    Agreements already made keep the unit as it was when they were made. The unit's account is
    named after the unit (as at registration), so a new name renames it too."""
    employer = credentials.get_employer(uow.session, employer_id, for_update=True)
    if employer is None:
        raise NotFound("employer_not_found", "单位不存在")
    if employer.change(values):
        credentials.save_employer(uow.session, employer)
        uow.record(EMPLOYER_UPDATED, subject=employer.id, sequence=employer.version, data=unit_data(employer))
        for user in repository.accounts_of_employer(uow.session, employer.id, for_update=True):
            if user.rename(employer.name):
                repository.save_user(uow.session, user)
                uow.record(USER_RENAMED, subject=user.id, sequence=user.version, data={
                    "user_id": user.id, "display_name": user.display_name, "changed_by": actor_id})
        uow.commit()
    return employer


# --- the province's oversight: a unit that lost its password, or whose credit code someone else took --
# Registration is self-service, so a unit proves itself to its province off the platform (its business
# licence). The province of the unit's region (or the administrator) then sets a new password for the
# unit's account and hands it over, or stops the account. Every token of the account dies either way.


def _province_of(actor: Principal) -> str | None:
    """None: the administrator, who oversees every unit."""
    if actor.role is Role.ADMIN:
        return None
    if actor.role is not Role.PROVINCE or not actor.scope.province:
        raise Forbidden("role_forbidden", "只有省级用户可以管理用人单位账号")
    return actor.scope.province


def list_employers(service: Accounts, actor: Principal, *, q: str | None = None,
                   page: PageRequest = FIRST_PAGE) -> Page[EmployerAccount]:
    """The units of the caller's province (their region), with their accounts."""
    province = _province_of(actor)
    with service.unit_of_work() as uow:
        items, total = credentials.list_employers(uow.session, province=province, q=q, offset=page.offset,
                                                  limit=page.page_size)
    return Page.of(items, total, page)


def _provinces_of(employer: Employer) -> set[str]:
    """The provinces that oversee a unit: its region's, and the one whose authority registered it
    (the credit code's 3rd and 4th characters), which a squatter or a move cannot take away."""
    return {employer.region[:2], employer.credit_code[2:4]}


def _overseen_account(uow: UnitOfWork, actor: Principal, employer_id: str) -> User:
    province = _province_of(actor)
    # The unit's row first, then its account: the order the unit's own change takes them in (the
    # other way round, a stop and the unit's edit at once deadlocked).
    employer = credentials.get_employer(uow.session, employer_id, for_update=True)
    if employer is None or (province is not None and province not in _provinces_of(employer)):
        raise NotFound("employer_not_found", "单位不存在")
    users = repository.accounts_of_employer(uow.session, employer_id, for_update=True)
    if not users:
        raise NotFound("employer_not_found", "单位不存在")
    return users[0]


def _answer(uow: UnitOfWork, employer_id: str) -> EmployerAccount:
    account = credentials.get_employer_account(uow.session, employer_id)
    assert account is not None
    return account


def reset_employer_password(service: Accounts, actor: Principal, employer_id: str,
                            new_password: str) -> EmployerAccount:
    """A new password for the unit's account (the same rules as any password); every token of the
    account is revoked and its login throttle cleared. ``accounts.user.password_reset`` records who."""
    with service.unit_of_work() as uow:
        user = _overseen_account(uow, actor, employer_id)
        problem = password_problem(new_password, user.username)
        if problem:
            raise invalid("new_password", problem)
        user.reset_password(hash_password(new_password))
        repository.save_user(uow.session, user)
        throttle.reset(uow.session, throttle.account_key(user.username))
        uow.record(USER_PASSWORD_RESET, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "reset_by": actor.user_id})
        revoke_tokens(uow, user.id, "password_reset", user.version)
        answer = _answer(uow, employer_id)
        uow.commit()
    return answer


ADMIN_STOP = "admin"


def _may_lift(actor: Principal, account: EmployerAccount) -> None:
    """Two provinces oversee a unit, and the region is the unit's own choice (a squatter picks its
    second overseer): a stop is lifted by the province that made it, by the registering authority's
    province (the credit code's), or by the administrator; one the administrator made, by it alone."""
    province, stopped_by = _province_of(actor), account.stopped_by
    if province is None or stopped_by is None or stopped_by == province:
        return
    if stopped_by != ADMIN_STOP and province == account.employer.credit_code[2:4]:
        return
    who = stopped_by_label(stopped_by)
    raise Forbidden("stopped_by_another", f"该单位账号由{who}停用，只能由其或单位登记机关所在省恢复",
                    stopped_by=stopped_by)


def stopped_by_label(stopped_by: str | None) -> str | None:
    """Who stopped a unit's account, as people read it (广东省, 平台管理员)."""
    if stopped_by is None:
        return None
    return "平台管理员" if stopped_by == ADMIN_STOP else provinces().label(stopped_by, default=stopped_by)


def set_employer_disabled(service: Accounts, actor: Principal, employer_id: str, disabled: bool) -> EmployerAccount:
    """Stop the unit's account (its tokens die) or let it log in again; idempotent. Who stopped it is
    kept (``stopped_by``), and only they or the registering authority's province lift it."""
    with service.unit_of_work() as uow:
        user = _overseen_account(uow, actor, employer_id)
        if not disabled and user.disabled:
            _may_lift(actor, _answer(uow, employer_id))
        if disabled and user.disable():
            credentials.set_stopped_by(uow.session, employer_id, _province_of(actor) or ADMIN_STOP)
            repository.save_user(uow.session, user)
            uow.record(USER_DISABLED, subject=user.id, sequence=user.version,
                       data={"user_id": user.id, "disabled_by": actor.user_id, "employer_id": employer_id})
            revoke_tokens(uow, user.id, "disabled", user.version)
        elif not disabled and user.enable():
            credentials.set_stopped_by(uow.session, employer_id, None)
            repository.save_user(uow.session, user)
            uow.record(USER_ENABLED, subject=user.id, sequence=user.version,
                       data={"user_id": user.id, "enabled_by": actor.user_id, "employer_id": employer_id})
        answer = _answer(uow, employer_id)
        uow.commit()
    return answer
