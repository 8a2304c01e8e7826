"""Fixtures for the signing tests: the service on a fresh PostgreSQL database (the real thing) or on
SQLite, tokens signed by a test key, and the directory (schools, departments, modules, agreement
types, employers, graduates) put in place through the consumer handlers, as the events would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.tables import outbox
from quxiang.common.contracts import accounts, records
from quxiang.common.events import catalogue
from quxiang.common.testing.plugin import TEST_KID, service_fixtures
from quxiang.common.validators import make_credit_code
from quxiang.signing.bootstrap import SERVICE
from quxiang.signing.entrypoints import consumers
from quxiang.signing.entrypoints.context import EXTENSION_KEY

TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 12000, "contract_months": 36, "probation_months": 3, "contact_person": "王经理",
         "contact_phone": "13800000000", "archive_destination": "广州市人才中心", "hukou_destination": "广州市天河区",
         "remarks": "五险一金"}


config, app, client, service = service_fixtures(SERVICE, EXTENSION_KEY)


class World:
    """The directory through the consumer handlers, and callers' tokens."""

    def __init__(self, service, signing_key):
        self.service = service
        self.signing_key = signing_key
        self._sequence = 0

    def deliver(self, type_, subject, data, sequence=1):
        event = catalogue.new_event(type_, subject=subject, sequence=sequence, data=data, producer="test")
        with self.service.unit_of_work() as uow:
            consumers.HANDLERS[type_](event, uow)
            uow.commit()

    def school(self, code="10558", name="中山大学", province="44", agreement_type="three_party", enable=True):
        self.deliver(accounts.SCHOOL_CREATED, code, {"school_code": code, "name": name, "province": province})
        if enable:
            self.deliver(accounts.MODULE_ENABLED, f"{province}.employment",
                         {"province": province, "module": "employment", "enabled_by": "p"})
        if agreement_type:
            self.agreement_type(code, agreement_type, province=province)
        return code

    def agreement_type(self, code, agreement_type, province="44", sequence=None):
        self._sequence += 1
        self.deliver(accounts.AGREEMENT_TYPE_SET, code, {"school_code": code, "province": province,
                                                         "agreement_type": agreement_type, "set_by": "p"},
                     sequence=sequence or self._sequence)

    def department(self, school="10558", code="01", name="计算机学院"):
        department_id = str(uuid.uuid4())
        self.deliver(accounts.DEPARTMENT_CREATED, department_id, {"department_id": department_id, "school_code": school,
                                                                  "code": code, "name": name})
        return department_id

    def employer(self, name="广州示例信息科技有限公司", serial="MA59DEMX1", address="广州市天河区示例路1号"):
        employer_id = str(uuid.uuid4())
        self.deliver(accounts.EMPLOYER_REGISTERED, employer_id, {
            "employer_id": employer_id, "credit_code": make_credit_code(f"91440106{serial}"), "name": name,
            "nature": "39", "industry": "34", "region": "440106", "address": address})
        return employer_id

    def graduate(self, i, department_id, school="10558", sequence=1, **overrides):
        graduate_id = overrides.pop("graduate_id", None) or str(uuid.uuid4())
        data = {"graduate_id": graduate_id, "exam_number": f"26440100{i:06d}", "student_number": f"S{i:06d}",
                "name": f"学生{i}", "school_code": school, "department_id": department_id, "education_level": "31",
                "graduation_year": 2026, "gender": "M", "major_code": "080901", "major_name": "计算机科学与技术",
                "identity_number_masked": "440***********1234", **overrides}
        self.deliver(records.GRADUATE_REGISTERED, graduate_id, data, sequence=sequence)
        return graduate_id

    def headers(self, role, permissions=None, **scope):
        principal = Principal(str(uuid.uuid4()), role, Scope(**scope), permissions or {})
        token = issue_token(principal, self.signing_key, TEST_KID, self.service.config.jwt_audience, 900)
        return {"Authorization": f"Bearer {token}"}

    def school_user(self, school="10558", access=Access.WRITE, province="44"):
        return self.headers(Role.SCHOOL, {Module.EMPLOYMENT: access}, province=province, school=school)

    def department_user(self, department_id, school="10558", access=Access.WRITE):
        return self.headers(Role.DEPARTMENT, {Module.EMPLOYMENT: access}, province="44", school=school,
                            department=department_id)

    def graduate_user(self, graduate_id, school="10558"):
        return self.headers(Role.GRADUATE, province="44", school=school, graduate=graduate_id)

    def employer_user(self, employer_id):
        return self.headers(Role.EMPLOYER, employer=employer_id)

    def events(self, prefix="signing."):
        with self.service.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()
            return [e for e in (json.loads(p) for p in rows) if e["type"].startswith(prefix)]


@pytest.fixture
def world(service, signing_key):
    return World(service, signing_key)


def utcnow():
    return datetime.now(UTC)
