"""Reading and writing the signing tables through a session or a connection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quxiang.common.db import conflict_insert
from quxiang.common.uploads import Upload
from quxiang.signing.adapters.destination_tables import destination_registrations
from quxiang.signing.adapters.tables import (
    HELD_STATUSES,
    agreement_counters,
    agreements,
    attachments,
    departments,
    employers,
    graduates,
    province_modules,
    school_settings,
    schools,
    terminations,
)
from quxiang.signing.domain.destination import Status as DestinationStatus
from quxiang.signing.domain.online import Status

Bind = Session | Connection


def _upsert(bind: Bind, table: Any, key: dict[str, Any], values: dict[str, Any]) -> None:
    where = [table.c[k] == v for k, v in key.items()]
    if bind.execute(update(table).where(*where).values(**values)).rowcount == 0:
        bind.execute(insert(table).values(**key, **values))


# --- local copies ---------------------------------------------------------------------------------


def upsert_school(bind: Bind, code: str, name: str, province: str) -> None:
    _upsert(bind, schools, {"code": code}, {"name": name, "province": province})


def set_agreement_type(bind: Bind, code: str, province: str, agreement_type: str, sequence: int) -> None:
    """Keeps the newest by the event's sequence: a late, older event changes nothing."""
    current = bind.execute(select(schools).where(schools.c.code == code)).first()
    if current is None:  # the school's own event has not arrived yet: its name follows
        bind.execute(insert(schools).values(code=code, name=code, province=province, agreement_type=agreement_type,
                                            agreement_type_sequence=sequence))
    else:  # the condition in the UPDATE too: a newer event committed since the read keeps its type
        bind.execute(update(schools).where(schools.c.code == code, schools.c.agreement_type_sequence < sequence)
                     .values(agreement_type=agreement_type, agreement_type_sequence=sequence))


def upsert_department(bind: Bind, department_id: str, school_code: str, code: str, name: str) -> None:
    _upsert(bind, departments, {"id": department_id}, {"school_code": school_code, "code": code, "name": name})


def enable_module(bind: Bind, province: str, module: str, at: datetime) -> None:
    exists = bind.execute(select(province_modules.c.province).where(
        province_modules.c.province == province, province_modules.c.module == module)).first()
    if not exists:
        bind.execute(insert(province_modules).values(province=province, module=module, enabled_at=at))


_MODULE_ENABLED = select(province_modules.c.province).where(province_modules.c.province == bindparam("province"),
                                                            province_modules.c.module == bindparam("module"))


def module_enabled(bind: Bind, province: str, module: str) -> bool:
    return bind.execute(_MODULE_ENABLED, {"province": province, "module": module}).first() is not None


def apply_employer(bind: Bind, values: dict[str, Any], sequence: int) -> None:
    """The unit as accounts announced it (registered or changed); an older version than the one
    kept changes nothing. Agreements keep their own copy of the unit, taken at invitation."""
    # One statement: an update racing the registration's insert waits for it and then applies
    # (an UPDATE first, then INSERT .. DO NOTHING, lost the update when the two met).
    statement = conflict_insert(bind, employers).values(**values, sequence=sequence)
    fresh = {k: statement.excluded[k] for k in values if k != "id"}
    bind.execute(statement.on_conflict_do_update(index_elements=["id"], set_={**fresh, "sequence": sequence},
                                                 where=employers.c.sequence < statement.excluded.sequence))


def set_employer_stopped(bind: Bind, employer_id: str, stopped: bool, sequence: int) -> bool | None:
    """A province stopped (or resumed) the unit's account; ``sequence`` is the account's version, and
    an older one than the one applied changes nothing. True if the unit is newly stopped or resumed,
    False if not, None if the unit is not known here (yet)."""
    if bind.execute(select(employers.c.id).where(employers.c.id == employer_id)).first() is None:
        return None
    return bind.execute(update(employers).where(
        employers.c.id == employer_id, employers.c.stopped_sequence < sequence).values(
        stopped=stopped, stopped_sequence=sequence)).rowcount > 0


def employer_stopped(bind: Bind, employer_id: str | None) -> bool:
    if employer_id is None:
        return False
    return bool(bind.execute(select(employers.c.stopped).where(employers.c.id == employer_id)).scalar())


def open_invitations_of_employer(bind: Bind, employer_id: str) -> list[Row]:
    """The unit's invitations still open, locked in id order (as ``open_invitations``)."""
    return bind.execute(select(agreements).where(agreements.c.employer_id == employer_id,
                                                 agreements.c.status == "invited")
                        .order_by(agreements.c.id).with_for_update()).all()


# What a graduate's agreements, terminations and destination registrations copy from the roster
# row: the department scopes who reviews and lists them, the education level and graduation year
# what a list filters on (a graduate who defers to next year is listed, and counted, there).
_FOLLOW_THE_GRADUATE = ("department_id", "education_level", "graduation_year")


def apply_graduate(bind: Bind, values: dict[str, Any], sequence: int) -> bool:
    """The roster row as records announced it; an older version than the one kept changes nothing.
    A re-import that moves the graduate to another department (or level, or year) moves the graduate's
    records with it: the new department reviews and lists them, the old one no longer does. True if
    the row was written (a newer version than the one kept)."""
    while True:
        current = bind.execute(select(graduates.c.sequence, *(graduates.c[name] for name in _FOLLOW_THE_GRADUATE))
                               .where(graduates.c.id == values["id"])).first()
        if current is None:
            bind.execute(insert(graduates).values(**values, sequence=sequence))
            return True
        if current.sequence >= sequence:
            return False
        moved = {name: values.get(name) for name in _FOLLOW_THE_GRADUATE if values.get(name) != getattr(current, name)}
        if moved:
            # The agreements first, then the graduate: the order accepting, resubmitting and
            # submitting a scan take them in (the other way round, the two deadlocked).
            bind.execute(select(agreements.c.id).where(agreements.c.graduate_id == values["id"])
                         .order_by(agreements.c.id).with_for_update()).all()
        # Only over the version read: another consumer may have committed a newer (or another) event
        # of this graduate since, and then what moved is read again.
        read = and_(graduates.c.id == values["id"], graduates.c.sequence == current.sequence)
        if bind.execute(update(graduates).where(read).values(**values, sequence=sequence)
                        .returning(graduates.c.id)).first() is None:
            continue
        for table in (agreements, terminations, destination_registrations):
            changes = {name: value for name, value in moved.items() if name in table.c}
            if changes:
                bind.execute(update(table).where(table.c.graduate_id == values["id"]).values(**changes))
        return True


# The reads every request makes, built once with bound parameters: building a statement (and its
# cache key) costs several times what running it does.
_SCHOOL = select(schools).where(schools.c.code == bindparam("code"))
_EMPLOYER = select(employers).where(employers.c.id == bindparam("employer_id"))
_GRADUATE_ROW = (select(graduates, schools.c.province, schools.c.name.label("school_name"),
                        departments.c.name.label("department_name"))
                 .outerjoin(schools, schools.c.code == graduates.c.school_code)
                 .outerjoin(departments, departments.c.id == graduates.c.department_id))
_GRADUATE = _GRADUATE_ROW.where(graduates.c.id == bindparam("graduate_id"))
_GRADUATE_BY_EXAM_NUMBER = _GRADUATE_ROW.where(graduates.c.exam_number == bindparam("exam_number"),
                                               graduates.c.name == bindparam("name"))
_GRADUATE_BY_EXAM_NUMBER_SHARED = _GRADUATE_BY_EXAM_NUMBER.with_for_update(read=True, of=graduates)
_SETTINGS = select(school_settings).where(school_settings.c.school_code == bindparam("school_code"))
_SETTINGS_FOR_UPDATE = _SETTINGS.with_for_update()
_SETTINGS_FOR_SHARE = _SETTINGS.with_for_update(read=True)
_AGREEMENT = select(agreements).where(agreements.c.id == bindparam("agreement_id"))
_AGREEMENT_FOR_UPDATE = _AGREEMENT.with_for_update()
# The agreement with its school's province (None while the school is unknown), what scope checks need.
_AGREEMENT_IN_PROVINCE = (select(agreements, schools.c.province.label("school_province"))
                          .outerjoin(schools, schools.c.code == agreements.c.school_code)
                          .where(agreements.c.id == bindparam("agreement_id")))
_AGREEMENT_IN_PROVINCE_FOR_UPDATE = _AGREEMENT_IN_PROVINCE.with_for_update(of=agreements)


def get_school(bind: Bind, code: str) -> Row | None:
    return bind.execute(_SCHOOL, {"code": code}).first()


def get_employer(bind: Bind, employer_id: str) -> Row | None:
    return bind.execute(_EMPLOYER, {"employer_id": employer_id}).first()


def graduate_by_exam_number(bind: Bind, exam_number: str, name: str, *, shared: bool = False) -> Row | None:
    """The graduate an invitation names by 考生号 and name (both must match); ``shared``: its row
    share-locked until the commit, so the roster's withdrawal of the graduate (which writes the row)
    comes wholly before or after the invitation."""
    statement = _GRADUATE_BY_EXAM_NUMBER_SHARED if shared else _GRADUATE_BY_EXAM_NUMBER
    return bind.execute(statement, {"exam_number": exam_number, "name": name}).first()


def get_graduate(bind: Bind, graduate_id: str) -> Row | None:
    return bind.execute(_GRADUATE, {"graduate_id": graduate_id}).first()


# --- settings -----------------------------------------------------------------------------------


def get_settings(bind: Bind, school_code: str, *, for_update: bool = False, shared: bool = False) -> Row | None:
    """The school's signing settings; ``shared`` holds them (FOR SHARE) until the transaction ends, as
    a step that routes by them must: switching department review off waits for it, then counts what
    it sent to a department."""
    statement = _SETTINGS_FOR_UPDATE if for_update else _SETTINGS_FOR_SHARE if shared else _SETTINGS
    return bind.execute(statement, {"school_code": school_code}).first()


def awaiting_department(bind: Bind, school_code: str) -> int:
    """How many of the school's agreements (and offline applications) and destination registrations
    wait for a department's review."""
    waiting = bind.execute(select(func.count()).select_from(agreements).where(
        agreements.c.school_code == school_code,
        agreements.c.status.in_([Status.DEPARTMENT_REVIEW.value, Status.APPLICATION_DEPARTMENT_REVIEW.value])
    )).scalar_one()
    t = destination_registrations
    return waiting + bind.execute(select(func.count()).select_from(t).where(
        t.c.school_code == school_code, t.c.status == DestinationStatus.DEPARTMENT_REVIEW.value)).scalar_one()


def add_settings_if_absent(bind: Bind, school_code: str, *, updated_by: str) -> None:
    """The settings' row at version 0 unless there is one (a concurrent first save waits for the
    other's row here, then finds it); ``put_settings`` then writes the first version over it in the
    same transaction, so no reader sees version 0."""
    bind.execute(conflict_insert(bind, school_settings).values(
        school_code=school_code, department_review=True, notice=None, version=0, updated_by=updated_by,
        updated_at=datetime.now(UTC)).on_conflict_do_nothing(index_elements=["school_code"]))


def put_settings(bind: Bind, school_code: str, values: dict[str, Any]) -> None:
    _upsert(bind, school_settings, {"school_code": school_code}, values)


# --- agreements ---------------------------------------------------------------------------------


def get_agreement(bind: Bind, agreement_id: str, *, for_update: bool = False) -> Row | None:
    return bind.execute(_AGREEMENT_FOR_UPDATE if for_update else _AGREEMENT, {"agreement_id": agreement_id}).first()


def agreement_in_province(bind: Bind, agreement_id: str, *, for_update: bool = False) -> Row | None:
    """The agreement's columns and ``school_province``, in one statement (``for_update`` locks the
    agreement's row only)."""
    return bind.execute(_AGREEMENT_IN_PROVINCE_FOR_UPDATE if for_update else _AGREEMENT_IN_PROVINCE,
                        {"agreement_id": agreement_id}).first()


# Every change's writes, built once: building an INSERT or UPDATE (and its cache key) cost more
# than running it. The columns come as parameters; an UPDATE sets the columns named by the
# parameters other than its own ``b_`` bind names (column-named binds are reserved in an UPDATE).
_INSERT_AGREEMENT = insert(agreements)
_UPDATE_AGREEMENT = update(agreements).where(agreements.c.id == bindparam("b_id"),
                                             agreements.c.version == bindparam("b_expected_version"))
# The statuses spelled out: an IN list is expanded into the statement at every execution.
_HELD = select(agreements).where(agreements.c.graduate_id == bindparam("graduate_id"), or_(
    *(agreements.c.status == status for status in HELD_STATUSES)))


_OVERDUE_INVITATION = select(agreements).where(
    agreements.c.employer_id == bindparam("employer_id"), agreements.c.graduate_id == bindparam("graduate_id"),
    agreements.c.status == "invited", agreements.c.respond_by < bindparam("at")).with_for_update()


def open_invitations(bind: Bind, graduate_id: str) -> list[Row]:
    """The graduate's invitations still open, locked in id order (agreements before the graduate's
    row, as accepting one takes them)."""
    return bind.execute(select(agreements).where(agreements.c.graduate_id == graduate_id,
                                                 agreements.c.status == "invited")
                        .order_by(agreements.c.id).with_for_update()).all()


def overdue_invitation(bind: Bind, employer_id: str, graduate_id: str, at: datetime) -> Row | None:
    """The employer's invitation to the graduate still open past its deadline (the expiry job has not
    come round yet), locked."""
    return bind.execute(_OVERDUE_INVITATION, {"employer_id": employer_id, "graduate_id": graduate_id,
                                              "at": at}).first()


def insert_agreement(bind: Bind, values: dict[str, Any]) -> None:
    bind.execute(_INSERT_AGREEMENT, values)


def update_agreement(bind: Bind, agreement_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on the version: False if another transaction changed it first."""
    return bind.execute(_UPDATE_AGREEMENT, {**values, "b_id": agreement_id,
                                            "b_expected_version": expected_version}).rowcount == 1


def held_agreement(bind: Bind, graduate_id: str) -> Row | None:
    """The agreement the graduate holds (applied for, accepted, under review, approved or asked to
    void: ``HELD_STATUSES``), if any; the partial unique index allows one at most."""
    return bind.execute(_HELD, {"graduate_id": graduate_id}).first()


def expired_invitations(bind: Bind, now: datetime, limit: int) -> list[str]:
    query = (select(agreements.c.id).where(agreements.c.status == "invited", agreements.c.respond_by < now)
             .order_by(agreements.c.respond_by).limit(limit))
    return list(bind.execute(query).scalars())


_ADVANCE_SERIAL = (update(agreement_counters)
                   .where(agreement_counters.c.year == bindparam("b_year"),
                          agreement_counters.c.school_code == bindparam("b_school_code"),
                          agreement_counters.c.education_level == bindparam("b_education_level"))
                   .values(last=agreement_counters.c.last + 1).returning(agreement_counters.c.last))


def next_serial(bind: Session, year: int, school_code: str, education_level: str) -> int:
    """The next agreement serial for (year, school, level). The update locks the counter row until
    the caller's transaction ends, so two agreements never share a number."""
    key = {"b_year": year, "b_school_code": school_code, "b_education_level": education_level}
    for _ in range(2):
        advanced = bind.execute(_ADVANCE_SERIAL, key).scalar()
        if advanced is not None:
            return int(advanced)
        try:
            with bind.begin_nested():  # the first of its kind; a concurrent first loses and updates
                bind.execute(insert(agreement_counters).values(year=year, school_code=school_code,
                                                               education_level=education_level, last=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"agreement counter {year}/{school_code}/{education_level} could not be claimed")


# --- attachments ---------------------------------------------------------------------------------


def add_attachment(bind: Bind, *, owner_type: str, owner_id: str, kind: str, upload: Upload,
                   uploaded_by: str, at: datetime) -> str:
    """Keep an uploaded document (``quxiang.common.uploads.read_upload`` checked it); answers its id."""
    attachment_id = str(uuid.uuid4())
    bind.execute(insert(attachments).values(
        id=attachment_id, owner_type=owner_type, owner_id=owner_id, kind=kind, filename=upload.filename,
        content_type=upload.content_type, size=upload.size, sha256=upload.sha256, data=upload.data,
        uploaded_by=uploaded_by, uploaded_at=at))
    return attachment_id


def get_attachment(bind: Bind, attachment_id: str) -> Row | None:
    return bind.execute(select(attachments).where(attachments.c.id == attachment_id)).first()


def attachment_summaries(bind: Bind, owner_type: str, owner_id: str) -> list[Row]:
    """The owner's attachments without their bytes, oldest first."""
    query = (select(attachments.c.id, attachments.c.kind, attachments.c.filename, attachments.c.content_type,
                    attachments.c.size, attachments.c.sha256, attachments.c.uploaded_by, attachments.c.uploaded_at)
             .where(attachments.c.owner_type == owner_type, attachments.c.owner_id == owner_id)
             .order_by(attachments.c.uploaded_at))
    return list(bind.execute(query))


# --- terminations --------------------------------------------------------------------------------


def get_termination(bind: Bind, termination_id: str, *, for_update: bool = False) -> Row | None:
    query = select(terminations).where(terminations.c.id == termination_id)
    return bind.execute(query.with_for_update() if for_update else query).first()


def insert_termination(bind: Bind, values: dict[str, Any]) -> None:
    bind.execute(insert(terminations).values(**values))


def update_termination(bind: Bind, termination_id: str, expected_version: int, values: dict[str, Any]) -> bool:
    return bind.execute(update(terminations).where(terminations.c.id == termination_id,
                                                   terminations.c.version == expected_version)
                        .values(**values)).rowcount == 1


def terminations_of(bind: Bind, agreement_id: str) -> list[Row]:
    return list(bind.execute(select(terminations).where(terminations.c.agreement_id == agreement_id)
                             .order_by(terminations.c.created_at)))
