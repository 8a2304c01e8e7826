"""Builders of the events the other services publish, as stats receives them."""

from __future__ import annotations

from quxiang.common.contracts import accounts, destinations, records, signing
from quxiang.common.events import catalogue


def event(type_, subject, data, sequence=1):
    return catalogue.new_event(type_, subject=subject, sequence=sequence, data=data, producer="test")


# --- the events other services publish ----------------------------------------------------------

def school_created(code, name, province="44"):
    return event(accounts.SCHOOL_CREATED, code, {"school_code": code, "name": name, "province": province})


def department_created(department_id, school, code, name):
    return event(accounts.DEPARTMENT_CREATED, department_id, {"department_id": department_id, "school_code": school,
                                                              "code": code, "name": name})


def module_enabled(module, province="44"):
    return event(accounts.MODULE_ENABLED, f"{province}.{module}", {"province": province, "module": module,
                                                                   "enabled_by": "p"})


def agreement_type_set(school, agreement_type, sequence, province="44"):
    return event(accounts.AGREEMENT_TYPE_SET, school, {"school_code": school, "province": province,
                                                       "agreement_type": agreement_type, "set_by": "p"}, sequence)


def settings_updated(school, module, completed, sequence):
    type_ = signing.SCHOOL_SETTINGS_UPDATED if module == "employment" else records.SCHOOL_SETTINGS_UPDATED
    return event(type_, school if module == "employment" else f"{school}.{module}",
                 {"school_code": school, "module": module, "completed": completed}, sequence)


def roster(graduate_id, school, department, level="31", year=2026, sequence=1, updated=False, withdrawn=False):
    type_ = records.GRADUATE_UPDATED if updated else records.GRADUATE_REGISTERED
    data = {"graduate_id": graduate_id, "exam_number": f"E{graduate_id[:8]}", "name": "学生", "school_code": school,
            "department_id": department, "education_level": level, "graduation_year": year}
    if withdrawn:
        type_, data["reason"] = records.GRADUATE_WITHDRAWN, "退学"
    return event(type_, graduate_id, data, sequence)


def _who(graduate_id, school, department, level, year):
    return {"graduate_id": graduate_id, "exam_number": f"E{graduate_id[:8]}", "name": "学生", "school_code": school,
            "department_id": department, "education_level": level, "graduation_year": year}


def agreement(type_, agreement_id, sequence, status, graduate_id, school, department=None, level="31", year=2026,
              flow="online"):
    return event(type_, agreement_id, {
        "agreement_id": agreement_id, "agreement_number": f"N{agreement_id[:6]}", "agreement_type": "three_party",
        "initiator": "employer", "flow": flow, "status": status, **_who(graduate_id, school, department, level, year),
        "destination_code": "10", "unit_name": "单位", "credit_code": "91440106MA59DEMX1X", "unit_nature": "39",
        "unit_industry": "34", "unit_region": "440106", "position_category": "10"}, sequence)


def destination(type_, registration_id, sequence, status, graduate_id, school, code, department=None, level="31",
                year=2026):
    return event(type_, registration_id, {
        "registration_id": registration_id, **_who(graduate_id, school, department, level, year), "status": status,
        "destination_code": code, "fields": {}}, sequence)


def registration(module, outcome, registration_id, sequence, status, graduate_id, school, department=None,
                 level="31", year=2026, approval_stands=None):
    extra = {} if approval_stands is None else {"approval_stands": approval_stands}  # None: an older producer
    return event(records.REGISTRATION_EVENTS[(module, outcome)], registration_id, {
        "registration_id": registration_id, "module": module, **_who(graduate_id, school, department, level, year),
        "status": status, "transfer": {"transfer_type": "1"}, **extra}, sequence)


A = signing
D = destinations
