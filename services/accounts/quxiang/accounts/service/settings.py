"""功能设置: a province switches modules on, and sets each school's e-agreement type.

- A module is switched on per province, once, for good: there is no way to switch it off, and
  every request that asks for it is refused with 409 ``module_irreversible`` (``refuse_disable``).
  Switching on what is on already changes nothing and records nothing.
- Switching on 毕业去向登记与网签 (employment) sets the agreement type of every school of the
  province in the same transaction: one default for all, overridable per school; one
  ``accounts.school.agreement_type_set`` per school. Schools created later get the default.
- A school's type can be changed later (``set_school_agreement_type``). Only new invitations use the
  new type; agreements that exist keep the type they were made with. That is signing's concern:
  it takes the type from the event when an invitation is created and stores it with the agreement.
- Whether each school completed its own settings per module comes from the services that own those
  settings (records for archive and hukou, signing for employment), through their events
  (``record_school_settings``); accounts only shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.exc import IntegrityError

from quxiang.accounts.adapters import repository
from quxiang.accounts.adapters.repository import SchoolView, SettingsState
from quxiang.accounts.domain.model import AgreementType, Conflict, NotFound, refuse_switching_off
from quxiang.accounts.service.context import Accounts
from quxiang.accounts.service.management import (
    Forbidden,
    invalid,
    out_of_scope,
    province_lock,
    record_agreement_type,
    school_not_found,
)
from quxiang.common import reference
from quxiang.common.auth.principal import Module, Principal, Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts import accounts as contracts
from quxiang.common.db import serialize_on
from quxiang.common.paging import FIRST_PAGE, Page, PageRequest


@dataclass(frozen=True)
class ModuleState:
    province: str
    module: Module
    enabled: bool
    enabled_at: datetime | None = None
    enabled_by: str | None = None
    agreement_default: str | None = None  # employment only: the type new schools get


@dataclass(frozen=True)
class SchoolModuleState:
    module: Module
    enabled: bool        # the province switched the module on
    completed: bool      # the school completed its settings for it (as reported by their owner)
    updated_at: datetime | None


@dataclass(frozen=True)
class SchoolSettings:
    school_code: str
    school_name: str
    agreement_type: str | None
    modules: Mapping[Module, SchoolModuleState]


def province_not_found() -> NotFound:
    return NotFound("province_not_found", "省份不存在")


def parse_module(value: str) -> Module:
    try:
        return Module(value)
    except ValueError:
        raise NotFound("module_not_found", f"没有模块 {value}") from None


def _known_province(province: str) -> None:
    if province not in reference.provinces():
        raise province_not_found()


def _ensure_may_read(actor: Principal, province: str) -> None:
    """Admin; the province's own users; its school and department users (who need to know what is
    on). Anyone else: the province's settings do not exist for them (404)."""
    if actor.covers(Scope(province=province)):
        return
    if actor.role in (Role.SCHOOL, Role.DEPARTMENT) and actor.scope.province == province:
        return
    raise province_not_found()


def _ensure_may_change(actor: Principal, province: str) -> None:
    if actor.role not in (Role.PROVINCE, Role.ADMIN):
        raise Forbidden("role_forbidden", "只有省级用户可以设置功能")
    if not actor.covers(Scope(province=province)):
        raise out_of_scope()


def _states(uow: UnitOfWork, province: str) -> list[ModuleState]:
    switches = repository.get_province_modules(uow.session, province)
    default = repository.get_province_agreement_default(uow.session, province)
    states = []
    for module in Module:
        switch = switches.get(module)
        states.append(ModuleState(
            province=province, module=module, enabled=switch is not None,
            enabled_at=switch.enabled_at if switch else None, enabled_by=switch.enabled_by if switch else None,
            agreement_default=default if module is Module.EMPLOYMENT and switch is not None else None))
    return states


def module_states(service: Accounts, actor: Principal, province: str) -> list[ModuleState]:
    _known_province(province)
    _ensure_may_read(actor, province)
    with service.unit_of_work() as uow:
        return _states(uow, province)


def module_state(service: Accounts, actor: Principal, province: str, module: Module) -> ModuleState:
    return next(s for s in module_states(service, actor, province) if s.module is module)


def enable_module(service: Accounts, actor: Principal, province: str, module: Module, *,
                  agreement_type: str | None = None,
                  overrides: Mapping[str, str] | None = None) -> tuple[ModuleState, bool]:
    """Switch ``module`` on for ``province``: (the state, whether this call changed anything).

    Employment needs ``agreement_type`` (the default for every school of the province) and takes
    ``overrides`` {school code: type} for schools of the province. The other modules take neither.
    Already on: nothing changes, nothing is recorded, and the body is not applied again (change a
    school's type with ``set_school_agreement_type``).
    """
    _known_province(province)
    _ensure_may_change(actor, province)
    overrides = dict(overrides or {})
    if module is Module.EMPLOYMENT:
        if agreement_type is None:
            raise invalid("agreement_type", "开启毕业去向登记与网签须设置电子就业协议书类型（两方或三方协议）")
        _check_type("agreement_type", agreement_type)
        for code, value in overrides.items():
            _check_type(f"overrides.{code}", value)
    else:
        if agreement_type is not None:
            raise invalid("agreement_type", "只有毕业去向登记与网签需要设置协议类型")
        if overrides:
            raise invalid("overrides", "只有毕业去向登记与网签需要设置协议类型")

    try:
        with service.unit_of_work() as uow:
            serialize_on(uow.session, province_lock(province))  # a school created meanwhile is listed
            if module in repository.get_province_modules(uow.session, province):
                return _state_of(uow, province, module), False
            # The switch's row first: a concurrent request for the same switch waits on it here.
            repository.add_province_module(uow.session, province, module, actor.user_id, datetime.now(UTC))
            uow.record(contracts.MODULE_ENABLED, subject=f"{province}.{module.value}", sequence=1,
                       data={"province": province, "module": module.value, "enabled_by": actor.user_id})
            if module is Module.EMPLOYMENT:
                assert agreement_type is not None
                _set_all_schools(uow, actor, province, agreement_type, overrides)
            uow.commit()
            return _state_of(uow, province, module), True
    except IntegrityError:
        pass  # switched on by a concurrent request a moment ago: that one counts, this one changes nothing
    with service.unit_of_work() as uow:
        return _state_of(uow, province, module), False


def _check_type(field: str, value: str) -> None:
    if value not in {t.value for t in AgreementType}:
        raise invalid(field, f"协议类型只能是 {', '.join(t.value for t in AgreementType)}")


def _set_all_schools(uow: UnitOfWork, actor: Principal, province: str, default: str,
                     overrides: Mapping[str, str]) -> None:
    codes = repository.list_school_codes(uow.session, province)
    strangers = sorted(set(overrides) - set(codes))
    if strangers:
        # Unknown codes and other provinces' schools alike: the body names no school of this province.
        raise invalid(f"overrides.{strangers[0]}", f"{strangers[0]} 不是本省的学校", schools=strangers)
    repository.set_province_agreement_default(uow.session, province, default)
    for code in codes:
        school = repository.get_school(uow.session, code)
        assert school is not None
        record_agreement_type(uow, school, overrides.get(code, default), actor.user_id)


def _state_of(uow: UnitOfWork, province: str, module: Module) -> ModuleState:
    return next(s for s in _states(uow, province) if s.module is module)


def refuse_disable(service: Accounts, actor: Principal, province: str, module: Module) -> NoReturn:
    """Every way of asking to switch a module off ends here: 409 ``module_irreversible``, whether
    the module is on or not (there is no switching off to ask for)."""
    _known_province(province)
    _ensure_may_change(actor, province)
    raise refuse_switching_off(module)


def set_school_agreement_type(service: Accounts, actor: Principal, school_code: str,
                              agreement_type: str) -> SchoolView:
    """Change one school's agreement type after employment was switched on.

    New invitations use the new type; agreements made before keep theirs (signing stores the type
    with each agreement). The same type again records nothing.
    """
    _check_type("agreement_type", agreement_type)
    with service.unit_of_work() as uow:
        school = repository.get_school(uow.session, school_code)
        if school is None:
            raise school_not_found()
        _ensure_may_change(actor, school.province)
        # Held as the province's switch-on holds it: two changes at once compared with the same
        # type read before either wrote, and both recorded (two events, two versions, one type).
        serialize_on(uow.session, province_lock(school.province))
        if Module.EMPLOYMENT not in repository.get_province_modules(uow.session, school.province):
            raise Conflict("module_not_enabled", "本省尚未开启毕业去向登记与网签，不能设置协议类型",
                           module=Module.EMPLOYMENT.value)
        if repository.get_school_agreement_type(uow.session, school_code) != agreement_type:
            record_agreement_type(uow, school, agreement_type, actor.user_id)
            uow.commit()
        view = repository.get_school_view(uow.session, school_code)
    assert view is not None
    return view


def school_settings(service: Accounts, actor: Principal, province: str, *, q: str | None = None,
                    page: PageRequest = FIRST_PAGE) -> Page[SchoolSettings]:
    """Per school of the province: agreement type and, per module, whether it is on for the province
    and whether the school completed its settings. Province users and the admin."""
    _known_province(province)
    if actor.role not in (Role.PROVINCE, Role.ADMIN):
        raise Forbidden("role_forbidden", "只有省级用户可以查看各校设置情况")
    if not actor.covers(Scope(province=province)):
        raise province_not_found()
    with service.unit_of_work() as uow:
        views, total = repository.list_schools(uow.session, province=province, q=q, offset=page.offset,
                                               limit=page.page_size)
        enabled = repository.get_province_modules(uow.session, province)
        states = repository.settings_states(uow.session, [v.school.code for v in views])
    rows = []
    for view in views:
        modules = {}
        for module in Module:
            state = states.get((view.school.code, module.value))
            modules[module] = SchoolModuleState(module=module, enabled=module in enabled,
                                                completed=bool(state and state.completed),
                                                updated_at=state.updated_at if state else None)
        rows.append(SchoolSettings(view.school.code, view.school.name, view.agreement_type, modules))
    return Page.of(rows, total, page)


def record_school_settings(uow: UnitOfWork, *, school_code: str, module: str, completed: bool, sequence: int,
                           occurred_at: datetime) -> bool:
    """Keep the latest reported state per (school, module): an event whose sequence is not newer
    than the one kept changes nothing (redeliveries, late arrivals). True if the row changed."""
    current = repository.get_settings_state(uow.session, school_code, module, for_update=True)
    if current is not None and current.sequence >= sequence:
        return False
    repository.put_settings_state(uow.session, SettingsState(school_code, module, completed, occurred_at, sequence),
                                  exists=current is not None)
    return True
