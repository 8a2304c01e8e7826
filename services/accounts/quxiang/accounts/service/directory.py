"""Announcing the directory again (``qx-accounts republish-directory``): every school, department,
module switched on, school agreement type and employer unit (with the stop of a stopped one), as the
events that first announced them, at the versions they have now (``quxiang.common.bus.republish``
says why and how).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from quxiang.accounts.adapters.credentials import employer_from_row
from quxiang.accounts.adapters.tables import (
    departments,
    employers,
    province_modules,
    school_agreement_types,
    schools,
    users,
)
from quxiang.accounts.service.context import Accounts
from quxiang.accounts.service.employers import unit_data
from quxiang.common.bus.republish import Announcement, record_again
from quxiang.common.contracts import accounts as contracts


@dataclass
class Republished:
    schools: int = 0
    departments: int = 0
    modules: int = 0
    agreement_types: int = 0
    units: int = 0
    stopped_units: int = 0

    def line(self) -> str:
        return (f"announced again: {self.schools} school(s), {self.departments} department(s), "
                f"{self.modules} module switch(es), {self.agreement_types} agreement type(s), "
                f"{self.units} unit(s) ({self.stopped_units} stopped)")


def republish(service: Accounts, province: str | None = None) -> Republished:
    """Record the events of the whole directory (or one province's) again, in batches."""
    done = Republished()
    with service.engine.connect() as conn:
        school_rows = conn.execute(
            select(schools.c.code, schools.c.name, schools.c.province, schools.c.version,
                   school_agreement_types.c.agreement_type, school_agreement_types.c.set_by)
            .outerjoin(school_agreement_types, school_agreement_types.c.school_code == schools.c.code)
            .where(*([schools.c.province == province] if province else []))
            .order_by(schools.c.code)).all()
        codes = {r.code for r in school_rows}
        department_rows = [r for r in conn.execute(select(departments).order_by(departments.c.school_code,
                                                                                  departments.c.code))
                           if r.school_code in codes]
        module_rows = conn.execute(select(province_modules).where(
            *([province_modules.c.province == province] if province else []))
            .order_by(province_modules.c.province, province_modules.c.module)).all()
        # a unit is a province's by its region or by its registering authority (as its oversight)
        unit_rows = conn.execute(
            select(employers, users.c.id.label("user_id"), users.c.version.label("user_version"),
                   users.c.disabled)
            .outerjoin(users, (users.c.employer == employers.c.id) & (users.c.role == "employer"))
            .where(*([(func.substr(employers.c.region, 1, 2) == province)
                      | (func.substr(employers.c.credit_code, 3, 2) == province)] if province else []))
            .order_by(employers.c.id)).all()

    events: list[Announcement] = []
    for m in module_rows:
        events.append((contracts.MODULE_ENABLED, f"{m.province}.{m.module}", 1,
                       {"province": m.province, "module": m.module, "enabled_by": m.enabled_by}))
        done.modules += 1
    for s in school_rows:
        events.append((contracts.SCHOOL_CREATED, s.code, 1,
                       {"school_code": s.code, "name": s.name, "province": s.province}))
        done.schools += 1
        if s.agreement_type is not None:
            events.append((contracts.AGREEMENT_TYPE_SET, s.code, s.version,
                           {"school_code": s.code, "province": s.province, "agreement_type": s.agreement_type,
                            "set_by": s.set_by}))
            done.agreement_types += 1
    for d in department_rows:
        events.append((contracts.DEPARTMENT_CREATED, d.id, 1,
                       {"department_id": d.id, "school_code": d.school_code, "code": d.code, "name": d.name}))
        done.departments += 1
    for u in unit_rows:
        events.append((contracts.EMPLOYER_UPDATED, u.id, u.version, unit_data(employer_from_row(u))))
        done.units += 1
        if u.disabled and u.user_id:
            # signing closes a stopped unit's invitations and agrees nothing new with it
            events.append((contracts.USER_DISABLED, u.user_id, u.user_version,
                           {"user_id": u.user_id, "disabled_by": u.stopped_by or "system", "employer_id": u.id}))
            done.stopped_units += 1
    record_again(service.unit_of_work, events)
    return done
