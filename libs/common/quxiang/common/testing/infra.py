"""Finding the real PostgreSQL and RabbitMQ for tests, and giving each run its own databases and vhost.

Order of preference: URLs from the environment, then the local servers at their default
addresses, then testcontainers where a Docker engine answers. When none is there, tests that need
the server are skipped with a loud summary, or fail when REQUIRE_INFRA=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
RUN_ID = uuid.uuid4().hex[:8]


def require_infra() -> bool:
    return os.environ.get("REQUIRE_INFRA", "") not in ("", "0", "false", "no")


def _port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no usable engine"
        return False


@dataclass
class Postgres:
    admin_url: str  # a SQLAlchemy URL to the maintenance database
    created: list[str] = field(default_factory=list)
    container: object | None = None

    def _admin(self):  # noqa: ANN202 - psycopg connection
        import psycopg

        conninfo = self.admin_url.replace("postgresql+psycopg://", "postgresql://")
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create_database(self, label: str = "db", template: str | None = None) -> str:
        """A new database, empty or a copy of ``template`` (a database name; nobody may be connected
        to it while it is copied)."""
        name = f"qx_t_{RUN_ID}_{label}_{uuid.uuid4().hex[:6]}".lower().replace("-", "_")
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with suppress(ValueError):
            self.created.remove(name)

    def cleanup(self) -> None:
        for name in list(self.created):
            with suppress(Exception):
                self.drop_database(self.url_for(name))
        if self.container is not None:
            self.container.stop()


@dataclass
class RabbitMQ:
    base_url: str  # amqp URL without a vhost path
    vhost: str | None = None
    isolation: str = "vhost"  # or "names": a shared vhost, unique exchange and queue names per test
    container: object | None = None

    @property
    def url(self) -> str:
        if self.vhost is None:
            return self.base_url
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path="/" + quote(self.vhost, safe="")))

    def rabbitmqctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=True)

    @property
    def can_admin(self) -> bool:
        """rabbitmqctl reaches the broker only when it runs on this machine."""
        return self.isolation == "vhost"

    def close_all_connections(self) -> None:
        self.rabbitmqctl("close_all_connections", "-p", self.vhost or "/", "test: dropping every connection")

    def cleanup(self) -> None:
        if self.vhost is not None and self.isolation == "vhost":
            with suppress(Exception):
                self.rabbitmqctl("delete_vhost", self.vhost)
        if self.container is not None:
            self.container.stop()


def find_postgres() -> Postgres | None:
    url = os.environ.get("QX_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    if _port_open(url, 5432):
        return Postgres(admin_url=url)
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="psycopg")
        container.start()
        return Postgres(admin_url=container.get_connection_url(), container=container)
    return None


def find_rabbitmq() -> RabbitMQ | None:
    url = os.environ.get("QX_TEST_AMQP_URL", DEFAULT_AMQP)
    container = None
    if not _port_open(url, 5672):
        if not _docker_available():
            return None
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-management")
        container.start()
        params = container.get_connection_params()
        url = f"amqp://guest:guest@{params.host}:{params.port}/"
    broker = RabbitMQ(base_url=url, container=container)
    vhost = f"qx-test-{RUN_ID}"
    local = container is None and urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
    if local and shutil.which("rabbitmqctl"):
        try:
            broker.rabbitmqctl("add_vhost", vhost)
            user = urlsplit(url).username or "guest"
            broker.rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
            broker.vhost = vhost
            return broker
        except (subprocess.SubprocessError, OSError):
            pass
    # No way to make a vhost: share the URL's vhost and isolate by names instead.
    broker.isolation = "names"
    return broker
