"""Reading and writing the accounts aggregates through a unit of work's session."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from quxiang.accounts.adapters.tables import departments, employers, schools, users
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


def get_user(session: Session, user_id: str, *, for_update: bool = False) -> User | None:
    query = select(users).where(users.c.id == user_id)
    row = session.execute(query.with_for_update() if for_update else query).first()
    return _user(row) if row else None


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
