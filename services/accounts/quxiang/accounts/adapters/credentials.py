"""The tables behind logging in and self-service accounts: refresh tokens, activation codes, employers
by id and the signing keys' listing, read and written through a unit of work's session.

Kept apart from ``repository`` (organisations, users, settings) so the two can change independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from quxiang.accounts.adapters.tables import activation_codes, employers, refresh_tokens, signing_keys, users
from quxiang.accounts.domain.model import Employer


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# --- refresh tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRefreshToken:
    id: str
    user_id: str
    family_id: str
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


def add_refresh_token(session: Session, token: StoredRefreshToken, token_hash: str) -> None:
    session.execute(insert(refresh_tokens).values(
        id=token.id, user_id=token.user_id, family_id=token.family_id, token_hash=token_hash,
        issued_at=token.issued_at, expires_at=token.expires_at))


def get_refresh_token(session: Session, token_hash: str, *, for_update: bool = False) -> StoredRefreshToken | None:
    query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
    row = session.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        return None
    return StoredRefreshToken(id=row.id, user_id=row.user_id, family_id=row.family_id,
                              issued_at=utc(row.issued_at), expires_at=utc(row.expires_at),  # type: ignore[arg-type]
                              rotated_at=utc(row.rotated_at), revoked_at=utc(row.revoked_at))


def mark_refresh_token_rotated(session: Session, token_id: str, when: datetime) -> None:
    session.execute(update(refresh_tokens).where(refresh_tokens.c.id == token_id).values(rotated_at=when))


def revoke_refresh_family(session: Session, family_id: str, when: datetime) -> None:
    session.execute(update(refresh_tokens).where(
        refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None)).values(revoked_at=when))


# --- activation codes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    graduate: str
    exam_number: str
    school_code: str
    user_id: str
    code_hash: str
    created_at: datetime
    issued_at: datetime | None
    used_at: datetime | None
    roster_sequence: int = 0  # the roster row's version the account follows
    withdrawn_at: datetime | None = None  # when 移出生源 disabled the login (None: it did not)


def _activation(row: Row) -> Activation:
    return Activation(graduate=row.graduate, exam_number=row.exam_number, school_code=row.school_code,
                      user_id=row.user_id, code_hash=row.code_hash, created_at=utc(row.created_at),  # type: ignore[arg-type]
                      issued_at=utc(row.issued_at), used_at=utc(row.used_at), roster_sequence=row.roster_sequence,
                      withdrawn_at=utc(row.withdrawn_at))


def get_activation(session: Session, graduate: str, *, for_update: bool = False) -> Activation | None:
    query = select(activation_codes).where(activation_codes.c.graduate == graduate)
    row = session.execute(query.with_for_update() if for_update else query).first()
    return _activation(row) if row else None


def get_activation_by_exam_number(session: Session, exam_number: str, *,
                                  for_update: bool = False) -> Activation | None:
    query = select(activation_codes).where(activation_codes.c.exam_number == exam_number)
    row = session.execute(query.with_for_update() if for_update else query).first()
    return _activation(row) if row else None


def add_activation(session: Session, activation: Activation) -> None:
    session.execute(insert(activation_codes).values(
        graduate=activation.graduate, exam_number=activation.exam_number, school_code=activation.school_code,
        user_id=activation.user_id, code_hash=activation.code_hash, created_at=activation.created_at,
        issued_at=activation.issued_at, used_at=activation.used_at, roster_sequence=activation.roster_sequence,
        withdrawn_at=activation.withdrawn_at))


def update_activation(session: Session, graduate: str, **values: object) -> None:
    session.execute(update(activation_codes).where(activation_codes.c.graduate == graduate).values(**values))


@dataclass(frozen=True)
class PendingCode:
    graduate: str
    exam_number: str
    name: str
    department: str | None


def unissued_codes(session: Session, school_code: str, limit: int) -> list[PendingCode]:
    """Graduates of the school on its roster, not activated, whose code was never handed out; locked (PostgreSQL) so
    a concurrent issue waits and then skips them instead of handing out a second, different code."""
    query = (select(activation_codes.c.graduate, activation_codes.c.exam_number, users.c.display_name,
                    users.c.department)
             .join(users, users.c.id == activation_codes.c.user_id)
             .where(activation_codes.c.school_code == school_code, activation_codes.c.issued_at.is_(None),
                    activation_codes.c.used_at.is_(None), activation_codes.c.withdrawn_at.is_(None))
             .order_by(activation_codes.c.exam_number).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=activation_codes)
    return [PendingCode(r.graduate, r.exam_number, r.display_name, r.department) for r in session.execute(query)]


def count_unissued_codes(session: Session, school_code: str) -> int:
    return session.execute(select(func.count()).select_from(activation_codes).where(
        activation_codes.c.school_code == school_code, activation_codes.c.issued_at.is_(None),
        activation_codes.c.used_at.is_(None), activation_codes.c.withdrawn_at.is_(None))).scalar_one()


# --- employers -----------------------------------------------------------------------------------


def get_employer(session: Session, employer_id: str, *, for_update: bool = False) -> Employer | None:
    query = select(employers).where(employers.c.id == employer_id)
    row = session.execute(query.with_for_update() if for_update else query).first()
    return employer_from_row(row) if row is not None else None


def employer_from_row(row: Row) -> Employer:
    return Employer(id=row.id, credit_code=row.credit_code, name=row.name, nature=row.nature,
                    industry=row.industry, region=row.region, address=row.address,
                    contact_name=row.contact_name, contact_phone=row.contact_phone, version=row.version)


@dataclass(frozen=True)
class EmployerAccount:
    """A unit with its account (one per unit), as a provincial user oversees it."""

    employer: Employer
    created_at: datetime
    user_id: str | None
    username: str | None
    disabled: bool
    stopped_by: str | None = None  # a province's code or "admin": who stopped the account


def _employer_account(row: Row) -> EmployerAccount:
    return EmployerAccount(employer=employer_from_row(row), created_at=utc(row.created_at),  # type: ignore[arg-type]
                           user_id=row.user_id, username=row.username, disabled=bool(row.disabled),
                           stopped_by=row.stopped_by if row.disabled else None)


def _employer_accounts() -> Any:
    return (select(employers, users.c.id.label("user_id"), users.c.username, users.c.disabled)
            .select_from(employers.outerjoin(users, (users.c.employer == employers.c.id)
                                             & (users.c.role == "employer"))))


def list_employers(session: Session, *, province: str | None, q: str | None, offset: int,
                   limit: int) -> tuple[list[EmployerAccount], int]:
    """Units by name, those of one province or all; ``q`` is part of the name, the credit code or the
    account's username. A unit is its province's by its region or by the authority that registered
    it (the credit code's 3rd and 4th characters): the region is the unit's to change, the credit
    code is not."""
    conditions: list[Any] = []
    if province is not None:
        conditions.append(employers.c.region.startswith(province, autoescape=True)
                          | (func.substr(employers.c.credit_code, 3, 2) == province))
    if q:
        needle = q.lower()
        conditions.append(func.lower(employers.c.name).contains(needle, autoescape=True)
                          | func.lower(employers.c.credit_code).contains(needle, autoescape=True)
                          | func.lower(users.c.username).contains(needle, autoescape=True))
    base = _employer_accounts().where(*conditions)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(employers.c.name, employers.c.id).offset(offset).limit(limit)).all()
    return [_employer_account(r) for r in rows], total


def get_employer_account(session: Session, employer_id: str) -> EmployerAccount | None:
    row = session.execute(_employer_accounts().where(employers.c.id == employer_id)).first()
    return _employer_account(row) if row else None


def set_stopped_by(session: Session, employer_id: str, stopped_by: str | None) -> None:
    session.execute(update(employers).where(employers.c.id == employer_id).values(stopped_by=stopped_by))


def save_employer(session: Session, employer: Employer) -> None:
    session.execute(update(employers).where(employers.c.id == employer.id).values(
        name=employer.name, nature=employer.nature, industry=employer.industry, region=employer.region,
        address=employer.address, contact_name=employer.contact_name, contact_phone=employer.contact_phone,
        version=employer.version))


# --- signing keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKeyInfo:
    kid: str
    created_at: datetime
    retired_at: datetime | None
    removed_at: datetime | None

    @property
    def status(self) -> str:
        if self.removed_at is not None:
            return "removed"
        return "retired" if self.retired_at is not None else "signing"


def list_signing_keys(session: Session) -> list[SigningKeyInfo]:
    """Every key ever made, oldest first; never the private halves."""
    rows = session.execute(select(signing_keys.c.kid, signing_keys.c.created_at, signing_keys.c.retired_at,
                                  signing_keys.c.removed_at).order_by(signing_keys.c.created_at)).all()
    return [SigningKeyInfo(r.kid, utc(r.created_at), utc(r.retired_at), utc(r.removed_at))  # type: ignore[arg-type]
            for r in rows]
