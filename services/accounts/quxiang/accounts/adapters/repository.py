"""Reading and writing the accounts aggregates through a unit of work's session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from quxiang.accounts.adapters.tables import (
    departments,
    employers,
    province_agreement_defaults,
    province_modules,
    school_agreement_types,
    school_settings_state,
    schools,
    users,
)
from quxiang.accounts.domain.model import Department, Employer, School, User
from quxiang.common.auth.principal import Access, Module, Role, Scope

_PERMISSION_COLUMNS = {Module.EMPLOYMENT: "perm_employment", Module.ARCHIVE: "perm_archive", Module.HUKOU: "perm_hukou"}


def _user(row: Row) -> User:
    permissions = {m: Access(getattr(row, col)) for m, col in _PERMISSION_COLUMNS.items() if getattr(row, col)}
    return User(id=row.id, username=row.username, role=Role(row.role), display_name=row.display_name,
                scope=Scope(province=row.province, school=row.school, department=row.department,
                            graduate=row.graduate, employer=row.employer),
                permissions=permissions, password_hash=row.password_hash, disabled=row.disabled,
                version=row.version)


def _user_values(user: User) -> dict[str, object]:
    values: dict[str, object] = {
        "username": user.username, "role": user.role.value, "display_name": user.display_name,
        "province": user.scope.province, "school": user.scope.school, "department": user.scope.department,
        "graduate": user.scope.graduate, "employer": user.scope.employer,
        "password_hash": user.password_hash, "disabled": user.disabled, "version": user.version,
    }
    for module, column in _PERMISSION_COLUMNS.items():
        access = user.permissions.get(module)
        values[column] = access.value if access else None
    return values


# Read on every /me and on every change to an account: built once (building costs more than running).
_USER = select(users).where(users.c.id == bindparam("user_id"))
_USER_FOR_UPDATE = _USER.with_for_update()


def get_user(bind: Session | Connection, user_id: str, *, for_update: bool = False) -> User | None:
    row = bind.execute(_USER_FOR_UPDATE if for_update else _USER, {"user_id": user_id}).first()
    return _user(row) if row else None


def accounts_of_school(session: Session, school_code: str, role: Role, *, for_update: bool = False) -> list[User]:
    """A school's accounts of ``role``, disabled ones included, by id (the order rows are locked in)."""
    query = select(users).where(users.c.school == school_code, users.c.role == role.value).order_by(users.c.id)
    return [_user(row) for row in session.execute(query.with_for_update() if for_update else query)]


def accounts_of_employer(session: Session, employer_id: str, *, for_update: bool = False) -> list[User]:
    query = select(users).where(users.c.employer == employer_id).order_by(users.c.id)
    return [_user(row) for row in session.execute(query.with_for_update() if for_update else query)]


def schools_with_department_accounts(session: Session) -> list[str]:
    query = select(users.c.school).where(users.c.role == Role.DEPARTMENT.value, users.c.school.is_not(None))
    return sorted(set(session.execute(query.distinct()).scalars()))


def get_user_by_username(session: Session, username: str) -> User | None:
    row = session.execute(select(users).where(users.c.username == username)).first()
    return _user(row) if row else None


def add_user(session: Session, user: User, created_by: str | None) -> None:
    session.execute(insert(users).values(id=user.id, created_at=datetime.now(UTC), created_by=created_by,
                                         **_user_values(user)))


def save_user(session: Session, user: User) -> None:
    session.execute(update(users).where(users.c.id == user.id).values(**_user_values(user)))


def get_school(session: Session, code: str) -> School | None:
    row = session.execute(select(schools).where(schools.c.code == code)).first()
    return School(code=row.code, name=row.name, province=row.province) if row else None


def add_school(session: Session, school: School) -> None:
    session.execute(insert(schools).values(code=school.code, name=school.name, province=school.province,
                                           created_at=datetime.now(UTC)))


def get_department(session: Session, department_id: str) -> Department | None:
    row = session.execute(select(departments).where(departments.c.id == department_id)).first()
    return Department(id=row.id, school_code=row.school_code, code=row.code, name=row.name) if row else None


def add_department(session: Session, department: Department) -> None:
    session.execute(insert(departments).values(id=department.id, school_code=department.school_code,
                                               code=department.code, name=department.name,
                                               created_at=datetime.now(UTC)))


def get_employer_by_credit_code(session: Session, credit_code: str) -> Employer | None:
    row = session.execute(select(employers).where(employers.c.credit_code == credit_code)).first()
    if row is None:
        return None
    return Employer(id=row.id, credit_code=row.credit_code, name=row.name, nature=row.nature,
                    industry=row.industry, region=row.region, address=row.address,
                    contact_name=row.contact_name, contact_phone=row.contact_phone)


def add_employer(session: Session, employer: Employer) -> None:
    session.execute(insert(employers).values(
        id=employer.id, credit_code=employer.credit_code, name=employer.name, nature=employer.nature,
        industry=employer.industry, region=employer.region, address=employer.address,
        contact_name=employer.contact_name, contact_phone=employer.contact_phone, created_at=datetime.now(UTC)))


# --- Lists, organisations and function settings (账号管理, 功能设置) -------------------------------------
# Added for the management and settings use cases; the functions above are unchanged.


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _contains(column: ColumnElement, text_: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with ``%`` and ``_`` in the search text taken literally."""
    return func.lower(column).contains(text_.lower(), autoescape=True)


@dataclass(frozen=True)
class SchoolView:
    school: School
    agreement_type: str | None  # None until the province switched employment on


@dataclass(frozen=True)
class AccountView:
    user: User
    school_name: str | None
    department_code: str | None
    department_name: str | None


def _school_view_query() -> Select:
    return (select(schools.c.code, schools.c.name, schools.c.province,
                   school_agreement_types.c.agreement_type)
            .select_from(schools.outerjoin(school_agreement_types,
                                           school_agreement_types.c.school_code == schools.c.code)))


def _school_view(row: Row) -> SchoolView:
    return SchoolView(School(code=row.code, name=row.name, province=row.province), row.agreement_type)


def get_school_view(session: Session, code: str) -> SchoolView | None:
    row = session.execute(_school_view_query().where(schools.c.code == code)).first()
    return _school_view(row) if row else None


def list_schools(session: Session, *, province: str | None = None, school: str | None = None,
                 q: str | None = None, offset: int = 0, limit: int = 20) -> tuple[list[SchoolView], int]:
    """Schools by code, filtered by province, one school, and ``q`` in the code or the name."""
    conditions: list[ColumnElement[bool]] = []
    if province is not None:
        conditions.append(schools.c.province == province)
    if school is not None:
        conditions.append(schools.c.code == school)
    if q:
        conditions.append(or_(_contains(schools.c.code, q), _contains(schools.c.name, q)))
    total = session.execute(select(func.count()).select_from(schools).where(*conditions)).scalar_one()
    rows = session.execute(_school_view_query().where(*conditions).order_by(schools.c.code)
                           .offset(offset).limit(limit)).all()
    return [_school_view(r) for r in rows], total


def list_school_codes(session: Session, province: str) -> list[str]:
    return list(session.execute(select(schools.c.code).where(schools.c.province == province)
                                .order_by(schools.c.code)).scalars())


def next_school_version(session: Session, code: str) -> int:
    """Bump the school aggregate's version (locking its row on PostgreSQL) and return the new one."""
    session.execute(update(schools).where(schools.c.code == code).values(version=schools.c.version + 1))
    return session.execute(select(schools.c.version).where(schools.c.code == code)).scalar_one()


def list_departments(session: Session, school_code: str) -> list[Department]:
    rows = session.execute(select(departments).where(departments.c.school_code == school_code)
                           .order_by(departments.c.code)).all()
    return [Department(id=r.id, school_code=r.school_code, code=r.code, name=r.name) for r in rows]


def get_department_by_code(session: Session, school_code: str, code: str) -> Department | None:
    row = session.execute(select(departments).where(departments.c.school_code == school_code,
                                                    departments.c.code == code)).first()
    return Department(id=row.id, school_code=row.school_code, code=row.code, name=row.name) if row else None


def _account_query() -> Select:
    return (select(users, schools.c.name.label("school_name"), departments.c.code.label("department_code"),
                   departments.c.name.label("department_name"))
            .select_from(users.outerjoin(schools, schools.c.code == users.c.school)
                         .outerjoin(departments, departments.c.id == users.c.department)))


def _account_view(row: Row) -> AccountView:
    return AccountView(user=_user(row), school_name=row.school_name, department_code=row.department_code,
                       department_name=row.department_name)


def get_account_view(session: Session, user_id: str) -> AccountView | None:
    row = session.execute(_account_query().where(users.c.id == user_id)).first()
    return _account_view(row) if row else None


def list_accounts(session: Session, *, role: Role, province: str | None = None, school: str | None = None,
                  department: str | None = None, q: str | None = None, disabled: bool | None = None,
                  offset: int = 0, limit: int = 20) -> tuple[list[AccountView], int]:
    """Accounts of one role by school, then username; ``q`` matches the username or display name."""
    conditions: list[ColumnElement[bool]] = [users.c.role == role.value]
    for column, value in ((users.c.province, province), (users.c.school, school),
                          (users.c.department, department), (users.c.disabled, disabled)):
        if value is not None:
            conditions.append(column == value)
    if q:
        conditions.append(or_(_contains(users.c.username, q), _contains(users.c.display_name, q)))
    total = session.execute(select(func.count()).select_from(users).where(*conditions)).scalar_one()
    rows = session.execute(_account_query().where(*conditions)
                           .order_by(users.c.school, departments.c.code, users.c.username)
                           .offset(offset).limit(limit)).all()
    return [_account_view(r) for r in rows], total


@dataclass(frozen=True)
class ModuleSwitch:
    module: Module
    enabled_at: datetime
    enabled_by: str


def get_province_modules(session: Session, province: str) -> dict[Module, ModuleSwitch]:
    rows = session.execute(select(province_modules).where(province_modules.c.province == province)).all()
    known = {m.value for m in Module}
    return {Module(r.module): ModuleSwitch(Module(r.module), _utc(r.enabled_at), r.enabled_by)  # type: ignore[arg-type]
            for r in rows if r.module in known}


def add_province_module(session: Session, province: str, module: Module, enabled_by: str,
                        enabled_at: datetime) -> None:
    session.execute(insert(province_modules).values(province=province, module=module.value,
                                                    enabled_at=enabled_at, enabled_by=enabled_by))


def get_province_agreement_default(session: Session, province: str) -> str | None:
    return session.execute(select(province_agreement_defaults.c.agreement_type).where(
        province_agreement_defaults.c.province == province)).scalar()


def set_province_agreement_default(session: Session, province: str, agreement_type: str) -> None:
    done = session.execute(update(province_agreement_defaults).where(
        province_agreement_defaults.c.province == province).values(agreement_type=agreement_type))
    if done.rowcount == 0:
        session.execute(insert(province_agreement_defaults).values(province=province,
                                                                   agreement_type=agreement_type))


def get_school_agreement_type(session: Session, school_code: str) -> str | None:
    return session.execute(select(school_agreement_types.c.agreement_type).where(
        school_agreement_types.c.school_code == school_code)).scalar()


def set_school_agreement_type(session: Session, school_code: str, agreement_type: str, set_by: str) -> None:
    now = datetime.now(UTC)
    done = session.execute(update(school_agreement_types).where(
        school_agreement_types.c.school_code == school_code).values(
        agreement_type=agreement_type, set_at=now, set_by=set_by))
    if done.rowcount == 0:
        session.execute(insert(school_agreement_types).values(school_code=school_code, agreement_type=agreement_type,
                                                              set_at=now, set_by=set_by))


@dataclass(frozen=True)
class SettingsState:
    school_code: str
    module: str
    completed: bool
    updated_at: datetime
    sequence: int


def _settings_state(row: Row) -> SettingsState:
    return SettingsState(row.school_code, row.module, row.completed, _utc(row.updated_at),  # type: ignore[arg-type]
                         row.sequence)


def get_settings_state(session: Session, school_code: str, module: str, *,
                       for_update: bool = False) -> SettingsState | None:
    query = select(school_settings_state).where(school_settings_state.c.school_code == school_code,
                                                school_settings_state.c.module == module)
    row = session.execute(query.with_for_update() if for_update else query).first()
    return _settings_state(row) if row else None


def put_settings_state(session: Session, state: SettingsState, *, exists: bool) -> None:
    values = {"completed": state.completed, "updated_at": state.updated_at, "sequence": state.sequence}
    if exists:
        session.execute(update(school_settings_state).where(
            school_settings_state.c.school_code == state.school_code,
            school_settings_state.c.module == state.module).values(**values))
    else:
        session.execute(insert(school_settings_state).values(school_code=state.school_code, module=state.module,
                                                             **values))


def settings_states(session: Session, school_codes: list[str]) -> dict[tuple[str, str], SettingsState]:
    if not school_codes:
        return {}
    rows = session.execute(select(school_settings_state).where(
        school_settings_state.c.school_code.in_(school_codes))).all()
    return {(r.school_code, r.module): _settings_state(r) for r in rows}
