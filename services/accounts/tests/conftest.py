"""Fixtures for the accounts tests: the service on a fresh PostgreSQL database (the real thing) or
on SQLite, with a client and a way to put users in place."""

from __future__ import annotations

import uuid

import pytest

from quxiang.accounts.adapters import repository
from quxiang.accounts.bootstrap import SERVICE
from quxiang.accounts.domain.model import School, User, default_permissions
from quxiang.accounts.entrypoints.context import EXTENSION_KEY
from quxiang.accounts.service.passwords import hash_password
from quxiang.common.auth.principal import Role, Scope
from quxiang.common.testing.plugin import DATABASES, migrated_service_config


@pytest.fixture(params=DATABASES)
def config(request, tmp_path):
    return migrated_service_config(request, tmp_path, SERVICE)


@pytest.fixture
def app(config):
    app = SERVICE.create_app(config)
    yield app
    app.extensions[EXTENSION_KEY].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service(app):
    return app.extensions[EXTENSION_KEY]


class Seed:
    """Puts organisations and users straight into the database (bypassing the API under test)."""

    def __init__(self, service):
        self.service = service

    def school(self, code="10558", name="中山大学", province="44"):
        with self.service.unit_of_work() as uow:
            if repository.get_school(uow.session, code) is None:
                repository.add_school(uow.session, School(code=code, name=name, province=province))
                uow.commit()
        return code

    def user(self, role, username=None, password="Passw0rd!", **scope):
        user = User(id=str(uuid.uuid4()), username=username or f"{role.value}-{uuid.uuid4().hex[:6]}",
                    role=role, display_name=username or role.value, scope=Scope(**scope),
                    permissions=default_permissions(role), password_hash=hash_password(password))
        with self.service.unit_of_work() as uow:
            repository.add_user(uow.session, user, created_by=None)
            uow.commit()
        return user


@pytest.fixture
def seed(service):
    return Seed(service)


__all__ = ["Role"]
