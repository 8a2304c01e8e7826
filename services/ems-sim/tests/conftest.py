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


def destination(**overrides):
    body = {"school_code": "10558", "name": "张三", "platform_version": 1, "destination_code": "10",
            "unit_name": "广州示例信息科技有限公司", "credit_code": "91440101MA59TEST01", "unit_nature": "39",
            "unit_industry": "I65", "unit_region": "440106", "position_category": "13",
            "signing_date": "2026-05-20", "agreement_number": "XY2026000001", "further_study_school": None,
            "further_study_programme": None, "status": "in_force"}
    body.update(overrides)
    return body


def archive(**overrides):
    body = {"school_code": "10558", "name": "张三", "platform_version": 1, "transfer_type": "1",
            "receiving_unit": "广州市人才服务中心", "receiving_department": "档案科",
            "address": "广州市天河区示例路1号",
            "postcode": "510000", "recipient": "李四", "phone": "020-12345678", "transfer_number": "DA2026000001"}
    body.update(overrides)
    return body


def hukou(**overrides):
    body = {"school_code": "10558", "name": "张三", "platform_version": 1, "transfer_type": "2",
            "address": "广州市天河区示例路1号", "receiving_unit": "广州市公安局天河分局", "postcode": "510000"}
    body.update(overrides)
    return body


BODIES = {"destination": destination, "archive": archive, "hukou": hukou}


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
