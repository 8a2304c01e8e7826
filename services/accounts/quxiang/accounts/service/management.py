"""账号管理: schools, departments and the accounts that manage them, with module permissions.

Every use case takes the service context and the caller (a ``Principal``, a plain value) and checks
scope here, so the API, the demo command and any later caller obey the same rules. Changes and
their events are written in one transaction (``UnitOfWork``).

Who manages whom (``domain.model.MANAGES``): a provincial user its province's school accounts, a
school user its school's department accounts, the platform administrator all of them and the
provincial accounts.

Scope, one rule for every endpoint:

- Reading something outside the caller's scope answers 404, as if it did not exist: a school, its
  departments, an account. Changing an account outside it (permissions, disabling) is 404 too: an
  account is an object addressed by an opaque id, and its existence is not revealed.
- Acting *within* a scope the caller does not hold answers 403 ``out_of_scope``: creating a school
  in another province, an account for a school of another province, a department or a department
  account in another school. The named target (a school code or department id in the path or the
  body) must exist first: an unknown one is 404 (``school_not_found``, ``department_not_found``).
  School codes are the public national 学校代码, so 403 versus 404 tells nobody anything new.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quxiang.accounts.adapters import repository
from quxiang.accounts.adapters.repository import AccountView, SchoolView
from quxiang.accounts.domain.model import (
    MANAGES,
    Conflict,
    Department,
    DomainError,
    NotFound,
    School,
    User,
    may_manage,
)
from quxiang.accounts.service import throttle
from quxiang.accounts.service.context import Accounts
from quxiang.accounts.service.passwords import hash_password, password_problem
from quxiang.accounts.service.revocation import revoke_tokens
from quxiang.common import reference
from quxiang.common.auth.principal import (
    DEFAULT_PERMISSIONS,
    PERMISSION_MODULE_LABELS,
    PERMISSIONED_ROLES,
    Access,
    Module,
    Principal,
    Role,
    Scope,
)
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import accounts as contracts
from quxiang.common.db import serialize_on
from quxiang.common.paging import FIRST_PAGE, Page, PageRequest

T = TypeVar("T")



# --- errors --------------------------------------------------------------------------------------


class Forbidden(DomainError):
    status = 403


def invalid(field: str, message: str, **details: object) -> DomainError:
    """Bad input found by a rule rather than by the request schema: 422 naming ``field``."""
    return DomainError("validation_error", message, field=field, **details)


def out_of_scope() -> Forbidden:
    return Forbidden("out_of_scope", "超出账号的管理范围")


def school_not_found(field: str | None = None) -> NotFound:
    return NotFound("school_not_found", "学校不存在", **({"field": field} if field else {}))


def account_not_found() -> NotFound:
    return NotFound("account_not_found", "账号不存在")


# --- scope helpers -------------------------------------------------------------------------------


def school_scope(school: School) -> Scope:
    return Scope(province=school.province, school=school.code)


def can_see_school(actor: Principal, school: School) -> bool:
    """Admin: every school; province: its own; school and department users: their own school."""
    if actor.covers(school_scope(school)):
        return True
    return actor.role is Role.DEPARTMENT and actor.scope.school == school.code


def _narrow(own: str | None, requested: str | None) -> tuple[bool, str | None]:
    """Combine the caller's own scope value with a requested filter: (possible, value)."""
    if own is None:
        return True, requested
    if requested is not None and requested != own:
        return False, own
    return True, own


# --- organisations -------------------------------------------------------------------------------


def create_school(service: Accounts, actor: Principal, *, code: str, name: str, province: str) -> SchoolView:
    """A province user creates a school of its province; the admin anywhere. If the province has
    switched 毕业去向登记与网签 on, the new school gets the province's default agreement type."""
    if province not in reference.provinces():
        raise invalid("province", f"未知的省份代码 {province}")
    if not actor.covers(Scope(province=province)):
        raise out_of_scope()
    with service.unit_of_work() as uow:
        if repository.get_school(uow.session, code) is not None:
            raise Conflict("school_exists", f"学校代码 {code} 已存在", field="code")
        school = School(code=code, name=name, province=province)
        # The province's switches are read below: a concurrent switch-on of employment lists the
        # province's schools, and would not see this one (see settings.enable_module).
        serialize_on(uow.session, province_lock(province))
        with _duplicate_is(Conflict("school_exists", f"学校代码 {code} 已存在", field="code")):
            repository.add_school(uow.session, school)
        uow.record(contracts.SCHOOL_CREATED, subject=code, sequence=1,
                   data={"school_code": code, "name": name, "province": province})
        default = _province_default_if_enabled(uow.session, province)
        if default is not None:
            record_agreement_type(uow, school, default, actor.user_id)
        _commit(uow, Conflict("school_exists", f"学校代码 {code} 已存在", field="code"))
        view = repository.get_school_view(uow.session, code)
    assert view is not None
    return view


def province_lock(province: str) -> str:
    """The key that serialises creating a province's schools with switching its modules on."""
    return f"accounts.province.{province}"


def _province_default_if_enabled(session: Session, province: str) -> str | None:
    if Module.EMPLOYMENT not in repository.get_province_modules(session, province):
        return None
    return repository.get_province_agreement_default(session, province)


def record_agreement_type(uow: UnitOfWork, school: School, agreement_type: str, set_by: str) -> None:
    """Set a school's agreement type and record ``accounts.school.agreement_type_set``."""
    repository.set_school_agreement_type(uow.session, school.code, agreement_type, set_by)
    version = repository.next_school_version(uow.session, school.code)
    uow.record(contracts.AGREEMENT_TYPE_SET, subject=school.code, sequence=version,
               data={"school_code": school.code, "province": school.province,
                     "agreement_type": agreement_type, "set_by": set_by})


def list_schools(service: Accounts, actor: Principal, *, province: str | None = None, q: str | None = None,
                 page: PageRequest = FIRST_PAGE) -> Page[SchoolView]:
    """Province users see their province's schools, school and department users their school. A
    ``province`` filter naming another province is refused (403 ``out_of_scope``)."""
    school: str | None = None
    possible = True
    if actor.role is not Role.ADMIN and province is not None and province != actor.scope.province:
        raise out_of_scope()
    if actor.role is Role.PROVINCE:
        possible, province = _narrow(actor.scope.province, province)
    elif actor.role in (Role.SCHOOL, Role.DEPARTMENT):
        school = actor.scope.school
        if school is None:
            possible = False
    elif actor.role is not Role.ADMIN:
        raise Forbidden("role_forbidden", "无权查看学校列表")
    if not possible:
        return Page.of([], 0, page)
    with service.unit_of_work() as uow:
        items, total = repository.list_schools(uow.session, province=province, school=school, q=q,
                                               offset=page.offset, limit=page.page_size)
    return Page.of(items, total, page)


def get_school(service: Accounts, actor: Principal, code: str) -> SchoolView:
    with service.unit_of_work() as uow:
        view = repository.get_school_view(uow.session, code)
    if view is None or not can_see_school(actor, view.school):
        raise school_not_found()
    return view


def create_department(service: Accounts, actor: Principal, school_code: str, *, code: str,
                      name: str) -> Department:
    """A school user adds a department (院系) to its school; the admin to any school."""
    if actor.role not in (Role.SCHOOL, Role.ADMIN):
        raise Forbidden("role_forbidden", "只有学校用户可以添加院系")
    with service.unit_of_work() as uow:
        school = repository.get_school(uow.session, school_code)
        if school is None:
            raise school_not_found()
        if not actor.covers(school_scope(school)):
            raise out_of_scope()
        duplicate = Conflict("department_exists", f"院系代码 {code} 已存在", field="code")
        if repository.get_department_by_code(uow.session, school_code, code) is not None:
            raise duplicate
        department = Department(id=str(uuid.uuid4()), school_code=school_code, code=code, name=name)
        with _duplicate_is(duplicate):
            repository.add_department(uow.session, department)
        uow.record(contracts.DEPARTMENT_CREATED, subject=department.id, sequence=1,
                   data={"department_id": department.id, "school_code": school_code, "code": code, "name": name})
        _commit(uow, duplicate)
    return department


def list_departments(service: Accounts, actor: Principal, school_code: str) -> list[Department]:
    with service.unit_of_work() as uow:
        school = repository.get_school(uow.session, school_code)
        if school is None or not can_see_school(actor, school):
            raise school_not_found()
        return repository.list_departments(uow.session, school_code)


# --- accounts ------------------------------------------------------------------------------------


def _ensure_manages(actor: Principal, role: Role) -> None:
    if not may_manage(actor.role, role):
        managed = "、".join(sorted(r.value for r in MANAGES.get(actor.role, frozenset()))) or "无"
        raise Forbidden("role_forbidden", f"无权管理此类账号（可管理：{managed}）")


def _account_scope(session: Session, actor: Principal, role: Role, *, province: str | None,
                   school_code: str | None, department_id: str | None) -> Scope:
    """The scope of a new account, from the organisation the request names; checks the caller's."""
    if role is Role.PROVINCE:
        if province is None or province not in reference.provinces():
            raise invalid("province", f"未知的省份代码 {province}")
        scope = Scope(province=province)
    elif role is Role.SCHOOL:
        if school_code is None:
            raise invalid("school_code", "缺少学校代码")
        school = repository.get_school(session, school_code)
        if school is None:
            raise school_not_found("school_code")
        scope = school_scope(school)
    elif role is Role.DEPARTMENT:
        if department_id is None:
            raise invalid("department_id", "缺少院系")
        department = repository.get_department(session, department_id)
        school = repository.get_school(session, department.school_code) if department else None
        if department is None or school is None:
            raise NotFound("department_not_found", "院系不存在", field="department_id")
        scope = Scope(province=school.province, school=school.code, department=department.id)
    else:
        raise Forbidden("role_forbidden", "此类账号不在账号管理中创建")
    if not actor.covers(scope):
        raise out_of_scope()
    return scope


def _min_access(a: Access, b: Access) -> Access:
    return a if b.allows(a) else b


def _granted(actor: Principal, role: Role, requested: Mapping[Module, Access] | None) -> dict[Module, Access]:
    """The module rights of a new account: the requested ones over the defaults (read-write, none,
    none). A school user cannot hand a department more than it holds itself: an explicit request
    above its own rights is refused, a default above them is lowered to them."""
    if role not in PERMISSIONED_ROLES:
        if requested:
            raise invalid("permissions", "只有学校和院系账号有模块权限")
        return {}
    granted: dict[Module, Access] = {}
    for module in Module:
        if requested is not None and module in requested:
            granted[module] = requested[module]
        else:
            granted[module] = _min_access(DEFAULT_PERMISSIONS[module], actor.access_to(module))
    _ensure_within_own(actor, granted)
    return granted


def _ensure_within_own(actor: Principal, permissions: Mapping[Module, Access]) -> None:
    for module, access in permissions.items():
        own = actor.access_to(module)
        if not own.allows(access):
            raise Forbidden("exceeds_own_permission",
                            f"不能授予高于本账号的{PERMISSION_MODULE_LABELS[module]}权限",
                            module=module.value, own=own.value, requested=access.value)


def create_account(service: Accounts, actor: Principal, role: Role, *, username: str, display_name: str,
                   password: str, permissions: Mapping[Module, Access] | None = None,
                   province: str | None = None, school_code: str | None = None,
                   department_id: str | None = None) -> AccountView:
    """Create a province (admin), school (province user) or department (school user) account.

    ``permissions`` may name some modules only; the others take the defaults (employment
    read-write, archive none, hukou none). Records ``accounts.user.created``.
    """
    _ensure_manages(actor, role)
    problem = password_problem(password, username)
    if problem:
        raise invalid("password", problem)
    taken = Conflict("username_taken", f"用户名 {username} 已被使用", field="username")
    with service.unit_of_work() as uow:
        scope = _account_scope(uow.session, actor, role, province=province, school_code=school_code,
                               department_id=department_id)
        granted = _granted(actor, role, permissions)
        if role is Role.DEPARTMENT:
            assert scope.school is not None
            asked = {m: a for m, a in granted.items() if permissions is not None and m in permissions}
            _ensure_within_school(uow.session, scope.school, asked)
            granted = _within_school(uow.session, scope.school, granted)  # defaults: lowered, not refused
        if repository.get_user_by_username(uow.session, username) is not None:
            raise taken
        user = User(id=str(uuid.uuid4()), username=username, role=role, display_name=display_name,
                    scope=scope, permissions=granted,
                    password_hash=hash_password(password))
        if role is Role.SCHOOL:
            assert scope.school is not None
            serialize_on(uow.session, school_lock(scope.school))
        with _duplicate_is(taken):
            repository.add_user(uow.session, user, created_by=actor.user_id)
        uow.record(contracts.USER_CREATED, subject=user.id, sequence=user.version, data={
            "user_id": user.id, "role": role.value, "province": scope.province, "school": scope.school,
            "department": scope.department, "graduate": None, "employer": None,
            "permissions": _permissions_data(user.permissions) if user.permissions else None})
        if role is Role.SCHOOL:
            assert scope.school is not None
            # the school's first account sets its ceiling: a department made before it is held to it
            _cap_departments(uow, scope.school, actor)
        _commit(uow, taken)
        view = repository.get_account_view(uow.session, user.id)
    assert view is not None
    return view


def create_admin(service: Accounts, *, username: str, display_name: str, password: str) -> AccountView:
    """The platform administrator, created by an operator command (nobody manages it through the
    API). Records ``accounts.user.created``."""
    problem = password_problem(password, username)
    if problem:
        raise invalid("password", problem)
    taken = Conflict("username_taken", f"用户名 {username} 已被使用", field="username")
    with service.unit_of_work() as uow:
        if repository.get_user_by_username(uow.session, username) is not None:
            raise taken
        user = User(id=str(uuid.uuid4()), username=username, role=Role.ADMIN, display_name=display_name,
                    scope=Scope(), password_hash=hash_password(password))
        repository.add_user(uow.session, user, created_by=None)
        uow.record(contracts.USER_CREATED, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "role": Role.ADMIN.value})
        _commit(uow, taken)
        view = repository.get_account_view(uow.session, user.id)
    assert view is not None
    return view


def list_accounts(service: Accounts, actor: Principal, role: Role, *, province: str | None = None,
                  school: str | None = None, department: str | None = None, q: str | None = None,
                  disabled: bool | None = None, page: PageRequest = FIRST_PAGE) -> Page[AccountView]:
    """The accounts of ``role`` the caller manages, within its scope only. A filter naming another
    province (or, for a school user, another school) is refused with 403 ``out_of_scope``, as the
    other services' lists do; a school of another province named by a province user lists nothing."""
    _ensure_manages(actor, role)
    possible = True
    if actor.role is not Role.ADMIN:
        ok_province, province = _narrow(actor.scope.province, province)
        ok_school, school = _narrow(actor.scope.school, school) if actor.role is Role.SCHOOL else (True, school)
        if not (ok_province and ok_school):
            raise out_of_scope()
        if actor.role is Role.PROVINCE and actor.scope.province is None:
            possible = False
        if actor.role is Role.SCHOOL and actor.scope.school is None:
            possible = False
    if not possible:
        return Page.of([], 0, page)
    with service.unit_of_work() as uow:
        items, total = repository.list_accounts(uow.session, role=role, province=province, school=school,
                                                department=department, q=q, disabled=disabled,
                                                offset=page.offset, limit=page.page_size)
    return Page.of(items, total, page)


def _managed_user(session: Session, actor: Principal, role: Role, user_id: str, *,
                  for_update: bool = False) -> User:
    user = repository.get_user(session, user_id, for_update=for_update)
    if user is None or user.role is not role or not actor.covers(user.scope):
        raise account_not_found()
    return user


def get_account(service: Accounts, actor: Principal, role: Role, user_id: str) -> AccountView:
    _ensure_manages(actor, role)
    with service.unit_of_work() as uow:
        _managed_user(uow.session, actor, role, user_id)
        view = repository.get_account_view(uow.session, user_id)
    assert view is not None
    return view


def change_permissions(service: Accounts, actor: Principal, role: Role, user_id: str,
                       permissions: Mapping[Module, Access]) -> AccountView:
    """Replace a school or department account's module rights. If anything changed: records
    ``accounts.user.permissions_changed`` and revokes the account's tokens, so no token issued
    before keeps the old rights at any service. The same rights again change nothing."""
    _ensure_manages(actor, role)
    if role not in PERMISSIONED_ROLES:
        raise invalid("permissions", "只有学校和院系账号有模块权限")
    with service.unit_of_work() as uow:
        user = _managed_user(uow.session, actor, role, user_id)
        _ensure_within_own(actor, permissions)
        assert user.scope.school is not None  # school and department accounts belong to a school
        serialize_on(uow.session, school_lock(user.scope.school))
        user = _managed_user(uow.session, actor, role, user_id, for_update=True)
        if role is Role.DEPARTMENT:
            _ensure_within_school(uow.session, user.scope.school, permissions)
        if user.change_permissions(permissions):
            _save_permissions(uow, user, actor)
            if role is Role.SCHOOL:
                _cap_departments(uow, user.scope.school, actor)
            uow.commit()
        view = repository.get_account_view(uow.session, user_id)
    assert view is not None
    return view


def disable_account(service: Accounts, actor: Principal, role: Role, user_id: str) -> AccountView:
    """Disable an account: it can no longer log in and its tokens die everywhere. Records
    ``accounts.user.disabled``; disabling a disabled account changes nothing."""
    def disable(uow: UnitOfWork, user: User) -> None:
        uow.record(contracts.USER_DISABLED, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "disabled_by": actor.user_id})
        revoke_tokens(uow, user.id, "disabled", user.version)

    return _change_account(service, actor, role, user_id, User.disable, disable)


def enable_account(service: Accounts, actor: Principal, role: Role, user_id: str) -> AccountView:
    """Enable a disabled account again (its holder is back): it may log in again with its password.
    Records ``accounts.user.enabled``; enabling an enabled account changes nothing."""
    def enabled(uow: UnitOfWork, user: User) -> None:
        uow.record(contracts.USER_ENABLED, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "enabled_by": actor.user_id})

    return _change_account(service, actor, role, user_id, User.enable, enabled)


def rename_account(service: Accounts, actor: Principal, role: Role, user_id: str, display_name: str) -> AccountView:
    """Change an account's display name (修改学校账号信息). Records ``accounts.user.renamed``."""
    def renamed(uow: UnitOfWork, user: User) -> None:
        uow.record(contracts.USER_RENAMED, subject=user.id, sequence=user.version, data={
            "user_id": user.id, "display_name": display_name, "changed_by": actor.user_id})

    return _change_account(service, actor, role, user_id, lambda user: user.rename(display_name), renamed)


def _change_account(service: Accounts, actor: Principal, role: Role, user_id: str,
                    change: Callable[[User], bool], then: Callable[[UnitOfWork, User], None]) -> AccountView:
    """One change to an account the caller manages, under its row lock: if ``change`` changed it,
    saved, ``then`` (its event, its revocations) and committed; the account as it is now."""
    _ensure_manages(actor, role)
    with service.unit_of_work() as uow:
        user = _managed_user(uow.session, actor, role, user_id, for_update=True)
        if change(user):
            repository.save_user(uow.session, user)
            then(uow, user)
            uow.commit()
        view = repository.get_account_view(uow.session, user_id)
    assert view is not None
    return view


def reset_password(service: Accounts, actor: Principal, role: Role, user_id: str, new_password: str) -> None:
    """Set a new password for an account the caller manages (its holder forgot it): the same rules
    as any password, and every token of the account is revoked, so whoever held the old one is out.
    Records ``accounts.user.password_reset`` (never the password)."""
    _ensure_manages(actor, role)
    with service.unit_of_work() as uow:
        user = _managed_user(uow.session, actor, role, user_id, for_update=True)
        problem = password_problem(new_password, user.username)
        if problem:
            raise invalid("new_password", problem)
        user.reset_password(hash_password(new_password))
        repository.save_user(uow.session, user)
        throttle.reset(uow.session, throttle.account_key(user.username))  # the holder locked itself out
        uow.record(contracts.USER_PASSWORD_RESET, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "reset_by": actor.user_id})
        revoke_tokens(uow, user.id, "password_reset", user.version)
        uow.commit()


def school_lock(school_code: str) -> str:
    """The key that serialises changes to a school's account rights, so that the school's highest
    right, read under it, is the one every department account is held to."""
    return f"accounts.school.{school_code}"


def _school_ceiling(session: Session, school_code: str) -> dict[Module, Access] | None:
    """The highest right any of the school's accounts holds per module (what the province granted
    the school); None while the school has no school account yet."""
    accounts = repository.accounts_of_school(session, school_code, Role.SCHOOL)
    if not accounts:
        return None
    ceiling = dict.fromkeys(Module, Access.NONE)
    for account in accounts:
        for module, access in account.permissions.items():
            if access.allows(ceiling[module]):
                ceiling[module] = access
    return ceiling


def _ensure_within_school(session: Session, school_code: str, permissions: Mapping[Module, Access]) -> None:
    """A department account holds no right above its school's. Checked under the school's lock
    (and again after the caller's own rights from its token), so a change to the school's rights
    made meanwhile is the one that counts."""
    serialize_on(session, school_lock(school_code))
    ceiling = _school_ceiling(session, school_code)
    if ceiling is None:
        return
    for module, access in permissions.items():
        if not ceiling[module].allows(access):
            raise Forbidden("exceeds_school_permission",
                            f"不能授予高于本校账号的{PERMISSION_MODULE_LABELS[module]}权限",
                            module=module.value, school=ceiling[module].value, requested=access.value)


def _within_school(session: Session, school_code: str, permissions: Mapping[Module, Access]) -> dict[Module, Access]:
    """``permissions`` lowered to the school's highest rights (unchanged while it has no account)."""
    ceiling = _school_ceiling(session, school_code)
    if ceiling is None:
        return dict(permissions)
    return {module: _min_access(access, ceiling[module]) for module, access in permissions.items()}


def _cap_departments(uow: UnitOfWork, school_code: str, actor: Principal) -> int:
    """After a school account's rights changed: every department account of the school holding a
    right above the school's highest is lowered to it, with its own event and its tokens revoked.
    A province that takes a module away from a school takes it from the school's departments too."""
    ceiling = _school_ceiling(uow.session, school_code)
    if ceiling is None:  # no school account: nothing to hold the departments to
        return 0
    lowered_count = 0
    for department_user in repository.accounts_of_school(uow.session, school_code, Role.DEPARTMENT,
                                                         for_update=True):
        lowered = {module: _min_access(department_user.permissions.get(module, Access.NONE), ceiling[module])
                   for module in Module}
        if department_user.change_permissions(lowered):
            _save_permissions(uow, department_user, actor)
            lowered_count += 1
    return lowered_count


def cap_all_departments(service: Accounts) -> int:
    """Hold every school's department accounts to the school's highest right (the operator command
    ``qx-accounts cap-departments``): for accounts granted before this rule existed, each lowered
    one with its event and its tokens revoked, as a province's change would. Answers how many."""
    system = Principal(user_id="system", role=Role.ADMIN, scope=Scope())
    with service.unit_of_work() as uow:
        schools = repository.schools_with_department_accounts(uow.session)
    lowered = 0
    for school_code in schools:
        with service.unit_of_work() as uow:
            serialize_on(uow.session, school_lock(school_code))
            lowered += _cap_departments(uow, school_code, system)
            uow.commit()
    return lowered


def _save_permissions(uow: UnitOfWork, user: User, actor: Principal) -> None:
    repository.save_user(uow.session, user)
    uow.record(contracts.USER_PERMISSIONS_CHANGED, subject=user.id, sequence=user.version, data={
        "user_id": user.id, "permissions": _permissions_data(user.permissions), "changed_by": actor.user_id})
    revoke_tokens(uow, user.id, "permissions_changed", user.version)


def _permissions_data(permissions: Mapping[Module, Access]) -> dict[str, str]:
    return {m.value: permissions.get(m, Access.NONE).value for m in Module}


@contextmanager
def _duplicate_is(conflict: DomainError) -> Iterator[None]:
    """The row a concurrent request inserted first, between our check and our insert: the same
    conflict as the check's (the insert runs at once, before the commit)."""
    try:
        yield
    except IntegrityError:
        raise conflict from None


def _commit(uow: UnitOfWork, on_duplicate: DomainError) -> None:
    """Commit; a unique constraint hit by a concurrent request is the same conflict as ours."""
    try:
        uow.commit()
    except IntegrityError:
        raise on_duplicate from None
