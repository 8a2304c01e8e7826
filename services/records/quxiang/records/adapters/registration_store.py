"""Reading and writing archive and hukou registrations, their history, the schools' settings, the
switched-on modules and the transfer number counters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quxiang.common.db import conflict_insert
from quxiang.records.adapters.repository import Bind, now
from quxiang.records.adapters.tables import (
    graduate_confirmations,
    province_modules,
    registration_history,
    registrations,
    school_module_settings,
    transfer_counters,
)
from quxiang.records.domain.registration import Status

# --- switched-on modules (accounts.module.enabled) -----------------------------------------------


# The reads of every registration request, built once with bound parameters: building a statement
# (and its cache key) costs several times what running it does.
_MODULE = select(province_modules.c.province).where(province_modules.c.province == bindparam("province"),
                                                    province_modules.c.module == bindparam("module"))
_SETTINGS = select(school_module_settings).where(school_module_settings.c.school_code == bindparam("school_code"),
                                                 school_module_settings.c.module == bindparam("module"))
_SETTINGS_FOR_UPDATE = _SETTINGS.with_for_update()
_SETTINGS_FOR_SHARE = _SETTINGS.with_for_update(read=True)
# Both in one statement (what every registration request checks): whether the province switched the
# module on, and the school's settings of it, NULL columns while it has none.
_ENABLED = select(exists().where(province_modules.c.province == bindparam("province"),
                                 province_modules.c.module == bindparam("module")).label("enabled")).subquery("m")
_AVAILABILITY = select(_ENABLED.c.enabled, school_module_settings).select_from(_ENABLED.outerjoin(
    school_module_settings, and_(school_module_settings.c.school_code == bindparam("school_code"),
                                 school_module_settings.c.module == bindparam("module"))))
_REGISTRATION = select(registrations).where(registrations.c.graduate_id == bindparam("graduate_id"),
                                            registrations.c.module == bindparam("module"))
_REGISTRATION_FOR_UPDATE = _REGISTRATION.with_for_update()
_HISTORY = (select(registration_history).where(registration_history.c.registration_id == bindparam("registration_id"))
            .order_by(registration_history.c.version, registration_history.c.at))
# The writes, the same: the columns come as parameters (an UPDATE sets the columns named by the
# parameters other than its own bind names).
_INSERT_REGISTRATION = insert(registrations)
_UPDATE_REGISTRATION = update(registrations).where(registrations.c.id == bindparam("b_id"),
                                                   registrations.c.version == bindparam("b_expected_version"))
_INSERT_HISTORY = insert(registration_history)
_TRANSFER_COUNTER = (transfer_counters.c.school_code == bindparam("b_school_code"),
                     transfer_counters.c.year == bindparam("b_year"))
_ADVANCE_TRANSFER_COUNTER = (update(transfer_counters).where(*_TRANSFER_COUNTER)
                             .values(last=transfer_counters.c.last + 1).returning(transfer_counters.c.last))
_INSERT_TRANSFER_COUNTER = insert(transfer_counters)


def module_enabled(bind: Bind, province: str, module: str) -> bool:
    return bind.execute(_MODULE, {"province": province, "module": module}).first() is not None


def enable_module(bind: Bind, province: str, module: str, at: datetime) -> None:
    """Idempotent: a module, once on, stays on; a replayed event changes nothing."""
    if not module_enabled(bind, province, module):
        bind.execute(insert(province_modules).values(province=province, module=module, enabled_at=at))


# --- the schools' settings -----------------------------------------------------------------------


def enabled_and_settings(bind: Bind, province: str | None, school_code: str, module: str) -> tuple[bool, Row | None]:
    """Whether ``province`` switched ``module`` on, and the school's settings of it (None: not saved)."""
    row = bind.execute(_AVAILABILITY, {"province": province, "school_code": school_code, "module": module}).one()
    return bool(row.enabled), (row if row.school_code is not None else None)


def get_settings(bind: Bind, school_code: str, module: str, *, for_update: bool = False,
                 shared: bool = False) -> Row | None:
    """The school's settings of ``module``; ``shared`` holds them (FOR SHARE) until the transaction
    ends, as a step that routes by them must: switching department review off waits for it, then
    counts what it sent to a department."""
    statement = _SETTINGS_FOR_UPDATE if for_update else _SETTINGS_FOR_SHARE if shared else _SETTINGS
    return bind.execute(statement, {"school_code": school_code, "module": module}).first()


def awaiting_department(bind: Bind, school_code: str, module: str) -> int:
    """How many of the school's registrations of ``module`` wait for a department's review."""
    return bind.execute(select(func.count()).select_from(registrations).where(
        registrations.c.school_code == school_code, registrations.c.module == module,
        registrations.c.status == Status.DEPARTMENT_REVIEW.value)).scalar_one()


def add_settings_if_absent(bind: Bind, school_code: str, module: str, *, department_review: bool, deadline: date,
                           notice: str | None, updated_by: str) -> None:
    """The settings' row at version 0 unless there is one (a concurrent first save waits for the
    other's row here, then finds it); ``put_settings`` then writes the first version over it, in the
    same transaction, so no reader sees version 0."""
    values = {"department_review": department_review, "deadline": deadline, "notice": notice, "version": 0,
              "updated_by": updated_by, "updated_at": now()}
    bind.execute(conflict_insert(bind, school_module_settings)
                 .values(school_code=school_code, module=module, **values).on_conflict_do_nothing())


def put_settings(bind: Bind, school_code: str, module: str, *, department_review: bool, deadline: date,
                 notice: str | None, version: int, updated_by: str) -> None:
    values = {"department_review": department_review, "deadline": deadline, "notice": notice, "version": version,
              "updated_by": updated_by, "updated_at": now()}
    bind.execute(update(school_module_settings).where(school_module_settings.c.school_code == school_code,
                                                      school_module_settings.c.module == module)
                 .values(**values))


# --- registrations -------------------------------------------------------------------------------


def get_registration(bind: Bind, graduate_id: str, module: str, *, for_update: bool = False) -> Row | None:
    return bind.execute(_REGISTRATION_FOR_UPDATE if for_update else _REGISTRATION,
                        {"graduate_id": graduate_id, "module": module}).first()


def insert_registration(bind: Bind, values: dict[str, Any]) -> None:
    bind.execute(_INSERT_REGISTRATION, values)


def update_registration(bind: Bind, registration_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on the version: False if someone else changed it meanwhile."""
    result = bind.execute(_UPDATE_REGISTRATION, {"b_id": registration_id, "b_expected_version": expected_version,
                                                 **values})
    return result.rowcount == 1


def add_history(bind: Bind, *, registration_id: str, version: int, action: str, level: str, actor_id: str,
                actor_role: str, status: str, reason: str | None, snapshot: dict[str, Any] | None,
                at: datetime) -> None:
    bind.execute(_INSERT_HISTORY, {
        "id": str(uuid.uuid4()), "registration_id": registration_id, "version": version, "action": action,
        "level": level, "actor_id": actor_id, "actor_role": actor_role, "status": status, "reason": reason,
        "snapshot": snapshot, "at": at})


# The school's approvals are the only steps that make a registration approved; their snapshot is the
# data approved.
_LAST_APPROVAL = (select(registration_history)
                  .where(registration_history.c.registration_id == bindparam("registration_id"),
                         registration_history.c.action == "school_approve")
                  .order_by(registration_history.c.version.desc()).limit(1))


def last_approval(bind: Bind, registration_id: str) -> Row | None:
    """The registration's last approval (its ``snapshot``: the transfer data approved), if any."""
    return bind.execute(_LAST_APPROVAL, {"registration_id": registration_id}).first()


def history(bind: Bind, registration_id: str) -> list[Row]:
    return list(bind.execute(_HISTORY, {"registration_id": registration_id}))


def next_transfer_serial(bind: Session, school_code: str, year: int) -> int:
    """The next serial of the school's transfer numbers for a graduation year. The row is locked by
    the update until the caller's transaction ends, so two approvals never share a serial."""
    for _ in range(2):
        last = bind.execute(_ADVANCE_TRANSFER_COUNTER, {"b_school_code": school_code, "b_year": year}).scalar()
        if last is not None:
            return int(last)
        try:
            with bind.begin_nested():  # the first of the year; a concurrent first loses and updates
                bind.execute(_INSERT_TRANSFER_COUNTER, {"school_code": school_code, "year": year, "last": 1})
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"transfer counter of {school_code}/{year} could not be claimed")


# --- confirmations of the base data --------------------------------------------------------------


def get_confirmation(bind: Bind, graduate_id: str) -> Row | None:
    return bind.execute(select(graduate_confirmations)
                        .where(graduate_confirmations.c.graduate_id == graduate_id)).first()


def put_confirmation(bind: Bind, *, graduate_id: str, school_code: str, status: str, note: str | None,
                     graduate_version: int) -> None:
    """The graduate's answer, replacing any earlier one. One upsert: two answers at once (a
    double click) both succeed, the later one kept, instead of the second failing on the key."""
    values = {"school_code": school_code, "status": status, "note": note, "graduate_version": graduate_version,
              "updated_at": now()}
    statement = conflict_insert(bind, graduate_confirmations).values(graduate_id=graduate_id, **values)
    bind.execute(statement.on_conflict_do_update(index_elements=["graduate_id"], set_=values))
