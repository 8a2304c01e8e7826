"""Fixtures for the stats tests: the service on a fresh PostgreSQL database (the real thing) or on
SQLite, tokens signed by a test key, and a World that builds the events the other services publish
and feeds them through the consumer handlers, one transaction each (``deliver``) or a batch in one
transaction as the consumer runtime does (``deliver_batch``)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token
from quxiang.common.testing.plugin import TEST_KID, service_fixtures
from quxiang.stats.adapters.tables import counters, destination_counters, graduates, school_counters
from quxiang.stats.bootstrap import SERVICE
from quxiang.stats.domain.model import COUNTER_COLUMNS
from quxiang.stats.entrypoints import consumers
from quxiang.stats.entrypoints.context import EXTENSION_KEY

config, app, client, service = service_fixtures(SERVICE, EXTENSION_KEY)


class World:
    """Delivers events through the consumer handlers; mints callers' tokens; reads the counters."""

    def __init__(self, service, signing_key):
        self.service = service
        self.signing_key = signing_key

    def deliver(self, *events):
        for e in events:
            with self.service.unit_of_work() as uow:
                consumers.HANDLERS[e.type](e, uow)
                uow.commit()

    def deliver_batch(self, events):
        """As the consumer runtime: a batch in one transaction, an event id once."""
        with self.service.unit_of_work() as uow:
            seen = set()
            for e in events:
                if e.event_id not in seen:
                    seen.add(e.event_id)
                    consumers.HANDLERS[e.type](e, uow)
            uow.commit()

    def snapshot(self):
        """Counters (non-zero rows), destination counters, graduates' standings, per-school counters."""
        with self.service.engine.connect() as conn:
            rows = {}
            for r in conn.execute(select(counters)):
                values = tuple(getattr(r, c) for c in COUNTER_COLUMNS)
                if any(values):
                    rows[(r.school_code, r.department_id, r.education_level, r.graduation_year)] = values
            drows = {(r.school_code, r.department_id, r.education_level, r.graduation_year, r.destination_code): r.count
                     for r in conn.execute(select(destination_counters)) if r.count}
            schools = {}
            for r in conn.execute(select(school_counters)):
                values = tuple(getattr(r, c) for c in COUNTER_COLUMNS)
                if any(values):
                    schools[(r.school_code, r.education_level, r.graduation_year)] = values
            grads = {r.id: (r.roster_sequence, r.school_code, r.department_id, r.employment, r.archive, r.hukou,
                            r.destination_code) for r in conn.execute(select(graduates))}
        return rows, drows, grads, schools

    def headers(self, role, permissions=None, **scope):
        principal = Principal(str(uuid.uuid4()), role, Scope(**scope), permissions or {})
        token = issue_token(principal, self.signing_key, TEST_KID, self.service.config.jwt_audience, 900)
        return {"Authorization": f"Bearer {token}"}

    def province_user(self, province="44"):
        return self.headers(Role.PROVINCE, province=province)

    def school_user(self, school, access=Access.READ, province="44", archive=None, hukou=None):
        """``access`` to every module unless ``archive`` or ``hukou`` says otherwise."""
        return self.headers(Role.SCHOOL, self._permissions(access, archive, hukou), province=province, school=school)

    def department_user(self, school, department, access=Access.READ, province="44", archive=None, hukou=None):
        return self.headers(Role.DEPARTMENT, self._permissions(access, archive, hukou), province=province,
                            school=school, department=department)

    @staticmethod
    def _permissions(access, archive, hukou):
        return {Module.EMPLOYMENT: access, Module.ARCHIVE: archive or access, Module.HUKOU: hukou or access}


@pytest.fixture
def world(service, signing_key):
    return World(service, signing_key)


def new_id():
    return str(uuid.uuid4())
