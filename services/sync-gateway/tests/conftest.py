"""Fixtures for the sync-gateway tests: the service on a fresh PostgreSQL database (the real thing)
or on SQLite, tokens signed by a test key, the real ems-sim served over HTTP on a free port in a
thread (its own SQLite database), and a World that builds the events signing and records publish and
feeds them through the consumer handlers, one transaction each, as the consumer runtime does."""

from __future__ import annotations

import dataclasses
import socket
import threading
import types
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from quxiang.common.auth import KeySet
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token, public_jwk
from quxiang.common.testing.plugin import DATABASES, migrated_service_config
from quxiang.ems_sim.bootstrap import SERVICE as EMS_SERVICE
from quxiang.ems_sim.bootstrap import create_app as create_ems_app
from quxiang.ems_sim.entrypoints.context import EXTENSION_KEY as EMS_KEY
from quxiang.sync_gateway.bootstrap import SERVICE, create_app
from quxiang.sync_gateway.domain.delivery import CircuitBreaker, RetryPolicy
from quxiang.sync_gateway.entrypoints import consumers
from quxiang.sync_gateway.entrypoints.context import EXTENSION_KEY
from quxiang.sync_gateway.service.worker import SyncWorker

KID = "test-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EmsServer:
    """The real ems-sim app behind a werkzeug server; admin calls for faults, counters and drift."""

    def __init__(self, app, url):
        self.app = app
        self.url = url
        self.http = requests.Session()

    def faults(self, **settings):
        assert self.http.put(f"{self.url}/admin/faults", json=settings).status_code == 200

    def clear_faults(self):
        assert self.http.delete(f"{self.url}/admin/faults").status_code == 200

    def stats(self):
        return self.http.get(f"{self.url}/admin/stats").json()

    def writes(self, kind="destination"):
        return self.stats()["writes"][kind]

    def tamper(self, exam_number, kind, fields=None, delete=False):
        body = {"exam_number": exam_number, "kind": kind}
        body.update({"delete": True} if delete else {"fields": fields})
        response = self.http.post(f"{self.url}/admin/tamper", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def graduate(self, exam_number):
        response = self.http.get(f"{self.url}/graduates/{exam_number}")
        return response.json() if response.status_code == 200 else None


@pytest.fixture
def ems(request, tmp_path, monkeypatch):
    monkeypatch.delenv("QX_EMS_FAULTS", raising=False)
    shim = types.SimpleNamespace(param="sqlite", getfixturevalue=request.getfixturevalue,
                                 addfinalizer=request.addfinalizer)
    folder = tmp_path / "ems"
    folder.mkdir()
    config = migrated_service_config(shim, folder, EMS_SERVICE)
    app = create_ems_app(config)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield EmsServer(app, f"http://127.0.0.1:{port}")
    server.shutdown()
    app.extensions[EMS_KEY].engine.dispose()


@pytest.fixture(params=DATABASES)
def base_config(request, tmp_path):
    return migrated_service_config(request, tmp_path, SERVICE)


@pytest.fixture
def sync_batch():
    """QX_SYNC_BATCH of the tests; test_delivery parametrizes it to run both ways (POST /batch, PUT)."""
    return "10"


@pytest.fixture
def config(base_config, request, sync_batch):
    url = request.getfixturevalue("ems").url if "ems" in request.fixturenames else "http://127.0.0.1:9/none"
    extra = {**base_config.extra, "QX_EMS_URL": url, "QX_SYNC_CONCURRENCY": "8", "QX_SYNC_MAX_ATTEMPTS": "4",
             "QX_SYNC_PROBE_INTERVAL": "0.2", "QX_SYNC_BATCH": sync_batch}
    return dataclasses.replace(base_config, extra=extra)


@pytest.fixture(scope="session")
def signing_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def app(config, signing_key):
    keys = KeySet(lambda: {"keys": [public_jwk(signing_key, KID)]}, min_refetch=0)
    app = create_app(config, keys=keys)
    yield app
    app.extensions[EXTENSION_KEY].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def gateway(app):
    return app.extensions[EXTENSION_KEY]


@pytest.fixture
def worker(gateway):
    """A worker with short backoff, so tests wait tenths of seconds, not minutes."""
    worker = SyncWorker(gateway, policy=RetryPolicy(initial=0.05, maximum=0.2),
                        breaker=CircuitBreaker(threshold=3, probe_interval=0.2))
    yield worker
    worker.close()


class World:
    """Delivers events through the consumer handlers; mints callers' tokens."""

    def __init__(self, gateway, signing_key):
        self.gateway = gateway
        self.signing_key = signing_key

    def deliver(self, *events):
        for e in events:
            with self.gateway.unit_of_work() as uow:
                consumers.HANDLERS[e.type](e, uow)
                uow.commit()

    def headers(self, role, permissions=None, **scope):
        principal = Principal(str(uuid.uuid4()), role, Scope(**scope), permissions or {})
        token = issue_token(principal, self.signing_key, KID, self.gateway.config.jwt_audience, 900)
        return {"Authorization": f"Bearer {token}"}

    def province_user(self, province="44"):
        return self.headers(Role.PROVINCE, province=province)

    def school_user(self, school, access=Access.READ, province="44", archive=None, hukou=None):
        """``access`` to every module unless ``archive`` or ``hukou`` says otherwise."""
        return self.headers(Role.SCHOOL, {Module.EMPLOYMENT: access, Module.ARCHIVE: archive or access,
                                          Module.HUKOU: hukou or access}, province=province, school=school)


@pytest.fixture
def world(gateway, signing_key):
    return World(gateway, signing_key)
