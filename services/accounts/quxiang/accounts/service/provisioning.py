"""Graduate accounts from the roster, and their one-time activation codes.

Provisioning (consumer of ``records.graduate.registered``): each roster row gets, once, a graduate
account (username = 考生号, no password, so it cannot log in) and a row in ``activation_codes`` keyed
by the graduate record's id. The row is the idempotency anchor: a re-delivered or re-imported row
with the same ``graduate_id`` only refreshes the name and department, never a second account or code.

Why codes are (re)generated when the school asks for them: only the argon2 hash of a code is ever
stored, so the code made at provisioning cannot be shown to anyone later, and the roster event
arrives asynchronously, with nobody to show it to. It is a placeholder no one knows. The school gets
the plain codes once, from ``POST /schools/<code>/activation-codes/issue``: for every graduate of the
school whose code was never handed out (``issued_at`` is None) and who has not activated, a fresh
code is generated, its hash replaces the placeholder, ``issued_at`` is set, and the plain codes go
into that one answer. Asking again returns only graduates imported since. Until the school issued a
code, no code activates the account (the placeholder is unknown, and ``issued_at`` is checked too).
Issuing is done in batches (``limit``; the answer says how many remain) because each code costs one
argon2 hash and a school imports thousands of graduates.

Activation: 考生号 + code + a new password. A wrong code, an unknown 考生号 and a code not issued yet
get one answer (no enumeration) and count toward the throttle of the 考生号 and of the address; an
already used code gets 409, but only when the code is right, so the answer does not tell a guesser
who has activated.

Codes are 8 characters from 31 that cannot be misread on paper (no 0/O, 1/I/L): about 40 bits.
They are hashed with lighter argon2 parameters than passwords (OWASP's minimum for argon2id),
because issuing hashes thousands at once; they are random, single-use and throttled online, and
offline cracking one from a leaked table still takes thousands of CPU-years.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2.exceptions import InvalidHashError, VerificationError

from quxiang.accounts.adapters import credentials, repository
from quxiang.accounts.domain.model import Conflict, DomainError, NotFound, User
from quxiang.accounts.service import throttle
from quxiang.accounts.service.passwords import argon2_hasher, hash_password
from quxiang.accounts.service.revocation import revoke_tokens
from quxiang.common.auth.principal import Role, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.accounts import (
    GRADUATE_ACTIVATED,
    GRADUATE_CODE_REISSUED,
    USER_CREATED,
    USER_DISABLED,
    USER_ENABLED,
)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
ISSUE_BATCH_DEFAULT = 200
ISSUE_BATCH_MAX = 1000
ACTIVATION_LIMIT = throttle.ACCOUNT_LIMIT
_code_hasher = argon2_hasher(time_cost=2, memory_cost=19456, parallelism=1)
SYSTEM = "system"  # who disabled or enabled an account when the roster did

WRONG_CODE = "考生号或激活码错误"


class InvalidActivation(DomainError):
    status = 400


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What people type from a printed list: lower case, spaces or a dash in the middle."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def _code_matches(code_hash: str, code: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, normalise_code(code))
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class RosterEntry:
    """What accounts needs of ``records.graduate.registered``."""

    graduate_id: str
    exam_number: str
    name: str
    school_code: str
    department_id: str | None
    sequence: int = 1  # the roster row's version (the event's sequence)
    withdrawn: bool = False  # records.graduate.withdrawn: the school took the graduate off its roster


def provision_graduate(uow: UnitOfWork, entry: RosterEntry, now: datetime | None = None) -> bool:
    """Create the graduate's account and placeholder code once; True if created. No commit: the
    consumer runtime commits with its inbox row."""
    now = now or datetime.now(UTC)
    existing = credentials.get_activation(uow.session, entry.graduate_id, for_update=True)
    if existing is not None:
        # Locked above: a newer event handled at once committed first, or waits for this one.
        if entry.sequence >= existing.roster_sequence:
            _refresh_from_roster(uow, existing, entry)
            if entry.sequence != existing.roster_sequence:
                credentials.update_activation(uow.session, existing.graduate, roster_sequence=entry.sequence)
                _follow_withdrawal(uow, existing, entry.withdrawn, now)
        return False
    school = repository.get_school(uow.session, entry.school_code)
    user = User(id=str(uuid.uuid4()), username=entry.exam_number, role=Role.GRADUATE, display_name=entry.name,
                scope=Scope(province=school.province if school else None, school=entry.school_code,
                            department=entry.department_id, graduate=entry.graduate_id))
    if repository.get_user_by_username(uow.session, user.username) is not None:
        # Another account already has this 考生号 as its name: an operator must look (dead letter).
        raise Conflict("username_taken", f"考生号 {entry.exam_number} 已被其他账号用作用户名")
    if entry.withdrawn:  # the first this service hears of the graduate: it was withdrawn already
        user.disabled = True
    repository.add_user(uow.session, user, created_by=None)
    credentials.add_activation(uow.session, credentials.Activation(
        graduate=entry.graduate_id, exam_number=entry.exam_number, school_code=entry.school_code,
        user_id=user.id, code_hash=_code_hasher.hash(new_code()), created_at=now, issued_at=None, used_at=None,
        roster_sequence=entry.sequence, withdrawn_at=now if entry.withdrawn else None))
    uow.record(USER_CREATED, subject=user.id, sequence=user.version, data={
        "user_id": user.id, "role": user.role.value, "province": user.scope.province,
        "school": user.scope.school, "department": user.scope.department, "graduate": user.scope.graduate})
    return True


def _follow_withdrawal(uow: UnitOfWork, activation: credentials.Activation, withdrawn: bool, now: datetime) -> None:
    """移出生源 disables the graduate's login (its tokens die everywhere); putting the graduate back
    enables it again, but only where the withdrawal was what disabled it (``withdrawn_at``): an
    account disabled for another reason stays disabled."""
    if withdrawn == (activation.withdrawn_at is not None):
        return
    user = repository.get_user(uow.session, activation.user_id, for_update=True)
    if user is None:
        return
    if withdrawn:
        if user.disable():
            repository.save_user(uow.session, user)
            uow.record(USER_DISABLED, subject=user.id, sequence=user.version,
                       data={"user_id": user.id, "disabled_by": SYSTEM})
            revoke_tokens(uow, user.id, "disabled", user.version)
            credentials.update_activation(uow.session, activation.graduate, withdrawn_at=now)
        return
    credentials.update_activation(uow.session, activation.graduate, withdrawn_at=None)
    if user.enable():
        repository.save_user(uow.session, user)
        uow.record(USER_ENABLED, subject=user.id, sequence=user.version,
                   data={"user_id": user.id, "enabled_by": SYSTEM})


def _refresh_from_roster(uow: UnitOfWork, activation: credentials.Activation, entry: RosterEntry) -> None:
    """A changed roster row: the name and department follow it, and a corrected 考生号 too while the
    graduate has not activated (afterwards it is the username the graduate logs in with). The school
    does not: the account and its code were made for that school."""
    user = repository.get_user(uow.session, activation.user_id, for_update=True)
    if user is None:
        return
    changed = user.display_name != entry.name or user.scope.department != entry.department_id
    user.display_name = entry.name
    user.scope = Scope(province=user.scope.province, school=user.scope.school, department=entry.department_id,
                       graduate=user.scope.graduate)
    if entry.exam_number != activation.exam_number and activation.used_at is None:
        taken = (credentials.get_activation_by_exam_number(uow.session, entry.exam_number) is not None
                 or repository.get_user_by_username(uow.session, entry.exam_number) is not None)
        if taken:
            raise Conflict("exam_number_taken", f"考生号 {entry.exam_number} 已属于另一名毕业生")
        credentials.update_activation(uow.session, activation.graduate, exam_number=entry.exam_number)
        user.username, changed = entry.exam_number, True
    if changed:
        repository.save_user(uow.session, user)  # no event: nothing other services keep has changed


@dataclass(frozen=True)
class IssuedCode:
    graduate_id: str
    exam_number: str
    name: str
    department_id: str | None
    activation_code: str


def issue_codes(uow: UnitOfWork, school_code: str, limit: int = ISSUE_BATCH_DEFAULT,
                now: datetime | None = None) -> tuple[list[IssuedCode], int]:
    """Fresh codes for graduates whose code was never handed out; returns them and how many remain."""
    now = now or datetime.now(UTC)
    issued = []
    for pending in credentials.unissued_codes(uow.session, school_code, min(limit, ISSUE_BATCH_MAX)):
        code = new_code()
        credentials.update_activation(uow.session, pending.graduate, code_hash=_code_hasher.hash(code),
                                      issued_at=now)
        issued.append(IssuedCode(pending.graduate, pending.exam_number, pending.name, pending.department, code))
    remaining = credentials.count_unissued_codes(uow.session, school_code)
    uow.commit()
    return issued, remaining


@dataclass(frozen=True)
class ReissuedCode(IssuedCode):
    password_cleared: bool  # it had activated: the old password no longer logs in


def reissue_code(uow: UnitOfWork, school_code: str, graduate_id: str, reissued_by: str,
                 now: datetime | None = None) -> ReissuedCode:
    """A new code for one graduate of the school who lost its code or forgot its password: the old
    code stops working. A graduate who had activated loses its password and every token, and
    activates again with the new code and a password of its choosing. The 考生号's activation and
    login throttles are cleared (a holder who locked itself out is let in with the new code).
    Records ``accounts.graduate.code_reissued`` (never the code). No commit."""
    now = now or datetime.now(UTC)
    activation = credentials.get_activation(uow.session, graduate_id, for_update=True)
    if activation is None or activation.school_code != school_code:
        raise NotFound("graduate_not_found", "该学校没有这名毕业生")
    user = repository.get_user(uow.session, activation.user_id, for_update=True)
    if user is None:
        raise NotFound("graduate_not_found", "该学校没有这名毕业生")
    if activation.withdrawn_at is not None:
        raise Conflict("graduate_withdrawn", "毕业生已被移出生源，不能发放激活码")
    if user.disabled:
        raise Conflict("account_disabled", "账号已停用，激活码无法使用")
    code = new_code()
    cleared = activation.used_at is not None
    if cleared:
        user.forget_password()
    else:
        user.version += 1  # the account's credentials changed: the event has its own version
    repository.save_user(uow.session, user)
    credentials.update_activation(uow.session, activation.graduate, code_hash=_code_hasher.hash(code),
                                  issued_at=now, used_at=None)
    throttle.reset(uow.session, throttle.activation_key(activation.exam_number))
    throttle.reset(uow.session, throttle.account_key(user.username))
    uow.record(GRADUATE_CODE_REISSUED, subject=user.id, sequence=user.version, data={
        "user_id": user.id, "graduate": activation.graduate, "school": school_code, "reissued_by": reissued_by,
        "password_cleared": cleared})
    if cleared:
        revoke_tokens(uow, user.id, "password_reset", user.version)
    return ReissuedCode(activation.graduate, activation.exam_number, user.display_name, user.scope.department,
                        code, cleared)


def activate(uow: UnitOfWork, exam_number: str, code: str, password: str, address: str | None,
             now: datetime | None = None) -> User:
    """Set the graduate's first password with the code the school handed out."""
    now = now or datetime.now(UTC)
    keys = (throttle.activation_key(exam_number), throttle.address_key(address))
    throttle.ensure_not_locked(uow.session, keys, now)
    # Counted before the check, where parallel guesses see it (see throttle.reserve_attempt).
    throttle.reserve_attempt(uow.session, [(keys[0], ACTIVATION_LIMIT), (keys[1], throttle.ADDRESS_LIMIT)], now)
    uow.commit()
    activation = credentials.get_activation_by_exam_number(uow.session, exam_number, for_update=True)
    # Verify even when there is nothing to verify against, so timing does not tell 考生号 apart.
    matches = _code_matches(activation.code_hash if activation else _PLACEHOLDER_HASH, code)
    if activation is None or activation.issued_at is None or not matches:
        raise InvalidActivation("invalid_activation", WRONG_CODE)  # the attempt stays counted
    user = repository.get_user(uow.session, activation.user_id, for_update=True)
    if activation.used_at is not None or user is None or user.disabled:
        throttle.attempt_succeeded(uow.session, keys[0], keys[1])  # the code was right: no guess
        uow.commit()
        if activation.used_at is not None:
            raise Conflict("activation_code_used", "激活码已使用，请直接登录")
        raise Conflict("account_disabled", "账号已停用，请联系学校")
    user.password_hash = hash_password(password)
    user.version += 1
    repository.save_user(uow.session, user)
    credentials.update_activation(uow.session, activation.graduate, used_at=now)
    throttle.attempt_succeeded(uow.session, keys[0], keys[1])
    uow.record(GRADUATE_ACTIVATED, subject=user.id, sequence=user.version, data={
        "user_id": user.id, "graduate": activation.graduate, "school": activation.school_code})
    uow.commit()
    return user


_PLACEHOLDER_HASH = _code_hasher.hash(new_code())
