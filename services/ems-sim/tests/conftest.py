"""Fixtures for the ems-sim tests: the service on a fresh PostgreSQL database (the real thing) or on
SQLite, and a small client that sends writes with idempotency keys."""

from __future__ import annotations

import uuid

import pytest

from quxiang.common.testing.plugin import DATABASES, migrated_service_config
from quxiang.ems_sim.bootstrap import SERVICE, create_app
from quxiang.ems_sim.entrypoints.context import EXTENSION_KEY


@pytest.fixture(params=DATABASES)
def config(request, tmp_path):
    return migrated_service_config(request, tmp_path, SERVICE)


@pytest.fixture
def app(config, monkeypatch):
    monkeypatch.delenv("QX_EMS_FAULTS", raising=False)
    app = create_app(config)
    yield app
    app.extensions[EXTENSION_KEY].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service(app):
    return app.extensions[EXTENSION_KEY]


class Ems:
    """Calls with a fresh Idempotency-Key unless one is given."""

    def __init__(self, client):
        self.client = client

    def _headers(self, key):
        return {"Idempotency-Key": key or str(uuid.uuid4())}

    def put(self, exam_number, kind, body, key=None):
        return self.client.put(f"/graduates/{exam_number}/{kind}", json=body, headers=self._headers(key))

    def patch(self, exam_number, kind, body, key=None):
        return self.client.patch(f"/graduates/{exam_number}/{kind}", json=body, headers=self._headers(key))

    def delete(self, exam_number, kind, key=None):
        return self.client.delete(f"/graduates/{exam_number}/{kind}", headers=self._headers(key))

    def stats(self):
        return self.client.get("/admin/stats").get_json()

    def writes(self, kind=None):
        counts = self.stats()["writes"]
        kinds = [kind] if kind else list(counts)
        return sum(sum(counts[k].values()) for k in kinds)


@pytest.fixture
def ems(client):
    return Ems(client)
