"""Fixtures for the records tests: the service on a fresh PostgreSQL database (the real thing) or
on SQLite, tokens signed by a test key, and the local schools and departments put in place through
the consumer handlers (as accounts' events would)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from quxiang.common.auth.principal import DEFAULT_PERMISSIONS, Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.tables import outbox
from quxiang.common.contracts.accounts import DEPARTMENT_CREATED, SCHOOL_CREATED
from quxiang.common.events import catalogue
from quxiang.common.testing.plugin import TEST_KID, service_fixtures
from quxiang.records.bootstrap import SERVICE
from quxiang.records.entrypoints.consumers import on_department_created, on_school_created
from quxiang.records.entrypoints.context import EXTENSION_KEY

config, app, client, service = service_fixtures(SERVICE, EXTENSION_KEY)


class World:
    """Schools, departments (via the consumer handlers) and callers' tokens."""

    def __init__(self, service, signing_key):
        self.service = service
        self.signing_key = signing_key

    def _deliver(self, handler, type_, subject, data):
        event = catalogue.new_event(type_, subject=subject, sequence=1, data=data, producer="accounts")
        with self.service.unit_of_work() as uow:
            handler(event, uow)
            uow.commit()

    def school(self, code="10558", name="中山大学", province="44"):
        self._deliver(on_school_created, SCHOOL_CREATED, code, {"school_code": code, "name": name,
                                                                 "province": province})
        return code

    def department(self, school_code="10558", code="01", name="计算机学院"):
        department_id = str(uuid.uuid4())
        self._deliver(on_department_created, DEPARTMENT_CREATED, department_id,
                      {"department_id": department_id, "school_code": school_code, "code": code, "name": name})
        return department_id

    def headers(self, role, permissions=None, **scope):
        if permissions is None:
            permissions = dict(DEFAULT_PERMISSIONS) if role in (Role.SCHOOL, Role.DEPARTMENT) else {}
        principal = Principal(str(uuid.uuid4()), role, Scope(**scope), permissions)
        token = issue_token(principal, self.signing_key, TEST_KID, self.service.config.jwt_audience, 900)
        return {"Authorization": f"Bearer {token}"}

    def school_user(self, school="10558", access=Access.WRITE):
        return self.headers(Role.SCHOOL, {Module.EMPLOYMENT: access}, province="44", school=school)

    def events(self, type_=None):
        query = select(outbox.c.payload).order_by(outbox.c.id)
        if type_:
            query = query.where(outbox.c.event_type == type_)
        with self.service.engine.connect() as conn:
            return [json.loads(p) for p in conn.execute(query).scalars()]


@pytest.fixture
def world(service, signing_key):
    return World(service, signing_key)
