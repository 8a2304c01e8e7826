"""移出生源: a school takes a graduate off its roster (the student left school, or was imported by
mistake), and may put it back.

Nothing is deleted: the row stays, marked withdrawn with the reason, out of every list, count and
import, and ``records.graduate.withdrawn`` tells the other services (accounts disables the login,
signing closes open invitations and takes no new ones, stats stops counting the graduate). Putting
the graduate back is a roster change like a re-import's: ``records.graduate.updated`` at the next
version.

Only a graduate with nothing registered may be withdrawn, so that no record is left behind without
its graduate: no archive or hukou registration beyond a draft here, and nothing in signing beyond
invitations (``signing_records``, fed by signing's events). Should signing's event of an agreement
arrive after the withdrawal (the graduate accepted in the moment before it), the consumer puts the
graduate back (``reinstate_for_signing``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row

from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Principal, Scope
from quxiang.common.bus.outbox import UnitOfWork
from quxiang.common.contracts.records import GRADUATE_UPDATED, GRADUATE_WITHDRAWN
from quxiang.common.contracts.signing import INVITATION_STATUSES
from quxiang.common.db import serialize_on
from quxiang.common.pii import mask_identity_number
from quxiang.common.web.errors import ProblemError
from quxiang.records.adapters import registration_store, repository
from quxiang.records.domain.registration import MODULE_LABELS, RegistrationModule, Status
from quxiang.records.service.context import Records
from quxiang.records.service.roster import summary

logger = logging.getLogger(__name__)

def withdraw(service: Records, actor: Principal, school_code: str, graduate_id: str, reason: str) -> dict[str, Any]:
    """Take the graduate off the roster; 409 when something is registered for it. Withdrawing a
    withdrawn graduate changes nothing."""
    with service.unit_of_work() as uow:
        graduate = _school_graduate(uow, actor, school_code, graduate_id)
        if graduate.withdrawn_at is None:
            if repository.work_pending(uow.session, repository.SIGNING_RECORDS_BACKFILL):
                raise ProblemError(503, "signing_records_pending", headers={"Retry-After": "3600"},
                                   detail="系统升级后尚未补齐签约记录，暂不能移出生源：请联系运维运行 "
                                          "qx-records backfill-signing-records")
            _ensure_nothing_registered(uow, graduate)
            stamp = repository.now()
            if not repository.set_withdrawal(uow.session, graduate.id, graduate.version, at=stamp, reason=reason,
                                             by=actor.user_id):
                raise _concurrent()
            uow.record(GRADUATE_WITHDRAWN, subject=graduate.id, sequence=graduate.version + 1,
                       data={**roster_event_data(graduate, _mask(service, graduate)), "reason": reason})
            uow.commit()
            logger.info("graduate %s withdrawn from the roster of %s by %s", graduate.id, school_code, actor.user_id)
    return _answer(service, graduate_id)


def reinstate(service: Records, actor: Principal, school_code: str, graduate_id: str) -> dict[str, Any]:
    """Put a withdrawn graduate back on the roster; one on it already changes nothing."""
    with service.unit_of_work() as uow:
        graduate = _school_graduate(uow, actor, school_code, graduate_id)
        if graduate.withdrawn_at is not None:
            number = service.cipher.decrypt(graduate.identity_number_encrypted)
            holder = repository.identity_holder(uow.session, school_code, service.cipher.digests(number),
                                                graduate.graduation_year, graduate.id)
            if holder is not None:  # imported again under the right 考生号 meanwhile
                year = graduate.graduation_year
                raise ProblemError(409, "identity_number_taken", holder=holder,
                                   detail=f"该身份证号已登记在本校{year}届考生号 {holder} 名下，不能恢复")
            _put_back(uow, graduate, mask=mask_identity_number(number))
            uow.commit()
            logger.info("graduate %s put back on the roster of %s by %s", graduate.id, school_code, actor.user_id)
    return _answer(service, graduate_id)


def backfill_signing_records(service: Records, agreements: Iterable[Mapping[str, Any]],
                             destinations: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """The graduates signing held records of before records listened (an upgrade): from signing's
    snapshots, every agreement beyond an invitation and every submitted destination registration.
    Then withdrawals are allowed again. Answers how many graduates signing holds records of, and how
    many of them were not noted yet (a second run notes none)."""
    noted, graduates = 0, set()
    stamp = repository.now()
    rows = itertools.chain(((a, "snapshot:agreement") for a in agreements if a["status"] not in INVITATION_STATUSES),
                           ((d, "snapshot:destination") for d in destinations))
    while batch := list(itertools.islice(rows, 500)):
        with service.unit_of_work() as uow:
            for row, source in batch:
                graduates.add(row["graduate_id"])
                noted += repository.note_signing_record(uow.session, row["graduate_id"], source, stamp)
            uow.commit()
    with service.unit_of_work() as uow:
        repository.work_done(uow.session, repository.SIGNING_RECORDS_BACKFILL)
        uow.commit()
    return len(graduates), noted


def note_signing_record(uow: UnitOfWork, graduate_id: str, event_type: str, at: datetime) -> None:
    """Signing recorded something about the graduate (an agreement beyond an invitation, a destination
    registration): noted, so that it is never withdrawn; if it was withdrawn in the moment before (it
    accepted an invitation as the school took it off), it goes back on the roster, since its record
    lives on. The school's roster and then the graduate's row are locked first, as ``withdraw`` and an
    import take them, so none of them cross."""
    unlocked = repository.get_graduate(uow.session, graduate_id)
    if unlocked is not None:
        serialize_on(uow.session, repository.roster_lock(unlocked.school_code))
    graduate = repository.get_graduate(uow.session, graduate_id, lock="update")
    repository.note_signing_record(uow.session, graduate_id, event_type, at)
    if graduate is not None and graduate.withdrawn_at is not None:
        # Withdrawn to correct its 考生号 and imported again under the right one: putting it back would
        # count the student twice. It stays off, its signing record listed with it, for the school
        # (withdrawing the other row and putting this one back, say). The stored hash is compared: a
        # key rotated between the two imports would hide the holder (then it is put back, as before).
        holder = repository.identity_holder(uow.session, graduate.school_code, [graduate.identity_number_hash],
                                            graduate.graduation_year, graduate.id)
        if holder is not None:
            logger.warning("graduate %s stays off the roster although signing recorded %s: its identity number "
                           "is held by another graduate of school %s; the school resolves it", graduate_id,
                           event_type, graduate.school_code)
            return
        _put_back(uow, graduate, mask=None)
        logger.warning("graduate %s put back on the roster: signing recorded %s after it was withdrawn",
                       graduate_id, event_type)


def _put_back(uow: UnitOfWork, graduate: Row, *, mask: str | None) -> None:
    if not repository.set_withdrawal(uow.session, graduate.id, graduate.version, at=None, reason=None, by=None):
        raise _concurrent()
    uow.record(GRADUATE_UPDATED, subject=graduate.id, sequence=graduate.version + 1,
               data=roster_event_data(graduate, mask))


def roster_event_data(graduate: Row, mask: str | None) -> dict[str, Any]:
    """The roster event's data of a graduate row, as the import announces it: never the identity
    number; its ``mask``, where the caller has it (None: the copies keep the one they have)."""
    return {"graduate_id": graduate.id, "exam_number": graduate.exam_number, "student_number": graduate.student_number,
            "name": graduate.name, "school_code": graduate.school_code, "department_id": graduate.department_id,
            "education_level": graduate.education_level, "graduation_year": graduate.graduation_year,
            "gender": graduate.gender, "major_code": graduate.major_code, "major_name": graduate.major_name,
            "identity_number_masked": mask}


def _mask(service: Records, graduate: Row) -> str:
    return mask_identity_number(service.cipher.decrypt(graduate.identity_number_encrypted))


def _school_graduate(uow: UnitOfWork, actor: Principal, school_code: str, graduate_id: str) -> Row:
    # The roster first, as an import takes it: one putting a graduate back and an import bringing its
    # identity number under another 考生号 would each miss the other, and both stay on the roster.
    serialize_on(uow.session, repository.roster_lock(school_code))
    graduate = repository.get_graduate(uow.session, graduate_id, lock="update")
    if graduate is None or graduate.school_code != school_code or not actor.covers(
            Scope(province=graduate.province, school=graduate.school_code)):
        raise not_found()
    return graduate


def _ensure_nothing_registered(uow: UnitOfWork, graduate: Row) -> None:
    for module in RegistrationModule:
        registration = registration_store.get_registration(uow.session, graduate.id, module.value)
        if registration is not None and registration.status != Status.DRAFT.value:
            raise ProblemError(409, "graduate_has_records", module=module.value,
                               detail=f"该毕业生已提交{MODULE_LABELS[module]}，不能移出生源")
    if repository.has_signing_records(uow.session, graduate.id):
        raise ProblemError(409, "graduate_has_records", module="employment",
                           detail="该毕业生已有签约或毕业去向登记记录，不能移出生源")


def _concurrent() -> ProblemError:
    return ProblemError(409, "concurrent_change", detail="该毕业生的生源信息刚被修改，请刷新后重试")


def _answer(service: Records, graduate_id: str) -> dict[str, Any]:
    with service.unit_of_work() as uow:
        graduate = repository.get_graduate(uow.session, graduate_id)
    assert graduate is not None
    return summary(service, graduate)
