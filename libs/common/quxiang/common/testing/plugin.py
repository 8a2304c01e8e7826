"""pytest plugin (loaded by the top-level conftest.py): real-infrastructure fixtures for every package.

Fixtures:
- ``postgres``: the PostgreSQL server (skips or fails when missing, see REQUIRE_INFRA);
- ``pg_url``: a fresh database for one test, dropped afterwards;
- ``rabbitmq``: the broker with this run's own vhost;
- ``bus_config``: a Config pointing at a fresh database and a fresh set of exchange and queue names;
- ``embedded_config``: the same on SQLite and the embedded bus in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from quxiang.common.config import Config, load_config
from quxiang.common.migrations import upgrade
from quxiang.common.service import ServiceDefinition
from quxiang.common.testing.infra import Postgres, RabbitMQ, find_postgres, find_rabbitmq, require_infra

_skipped_for_infra: list[str] = []
_state: dict[str, object] = {}


def _missing(what: str) -> None:
    message = f"{what} is not reachable"
    if require_infra():
        pytest.fail(f"REQUIRE_INFRA=1 and {message}", pytrace=False)
    pytest.skip(f"INFRA MISSING: {message}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if "postgres" not in _state:
        _state["postgres"] = find_postgres()
    server = _state["postgres"]
    if server is None:
        _missing("PostgreSQL")
    yield server  # type: ignore[misc]


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    if "rabbitmq" not in _state:
        _state["rabbitmq"] = find_rabbitmq()
    broker = _state["rabbitmq"]
    if broker is None:
        _missing("RabbitMQ")
    yield broker  # type: ignore[misc]


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


def database_url(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> str:
    """The run's PostgreSQL database (``pg_url``) for ``database`` "postgresql", else a SQLite file in
    ``tmp_path``: for a test parametrized over both that builds its service's config itself."""
    return request.getfixturevalue("pg_url") if database == "postgresql" else f"sqlite:///{tmp_path}/db.sqlite"


def make_test_config(service: str, database_url: str, broker_url: str, data_dir: Path,
                     **overrides: str) -> Config:
    names = uuid.uuid4().hex[:8]
    env = {
        "QX_DATA_DIR": str(data_dir),
        "QX_DATABASE_URL": database_url,
        "QX_BROKER_URL": broker_url,
        "QX_EXCHANGE": f"qx.events.{names}",
        "QX_QUEUE_PREFIX": f"qx.{names}",
        "QX_CONSUMER_RETRY_DELAYS": "0.2,0.4",
        "QX_RELAY_IDLE_WAIT": "0.5",
        "QX_BROKER_HEARTBEAT": "10",
        "QX_LOG_JSON": "false",
    }
    env.update(overrides)
    return load_config(service, env)


DATABASES = ["postgresql", "sqlite"]


def migrated_service_config(request: pytest.FixtureRequest, tmp_path: Path, definition: ServiceDefinition) -> Config:
    """A service's Config on a fresh, migrated database: PostgreSQL (a database of its own) when
    ``request.param`` is "postgresql", else SQLite in ``tmp_path``. A service's conftest uses it as
    ``@pytest.fixture(params=DATABASES)``, so its tests run on both.

    The migrations run once per service and session, into a template (a PostgreSQL template
    database, a SQLite file); each test gets a copy, which is much faster than migrating each time.
    The migrations themselves are tested by each service's round-trip test."""
    if request.param == "postgresql":
        postgres: Postgres = request.getfixturevalue("postgres")
        template = _pg_template(postgres, definition, request.getfixturevalue("tmp_path_factory"))
        url = postgres.create_database(definition.name.replace("-", "_"), template=template)
        request.addfinalizer(lambda: postgres.drop_database(url))
    else:
        path = tmp_path / f"{definition.name.replace('-', '_')}.db"
        shutil.copyfile(_sqlite_template(definition, request.getfixturevalue("tmp_path_factory")), path)
        url = f"sqlite:///{path}"
    return make_test_config(definition.name, url, "embedded", tmp_path)


def _pg_template(postgres: Postgres, definition: ServiceDefinition, factory: pytest.TempPathFactory) -> str:
    key = f"pg-template:{definition.name}"
    if key not in _state:
        url = postgres.create_database(f"tpl_{definition.name.replace('-', '_')}")
        upgrade(make_test_config(definition.name, url, "embedded", factory.mktemp("template")), definition)
        _state[key] = urlsplit(url).path.lstrip("/")
    return str(_state[key])


def _sqlite_template(definition: ServiceDefinition, factory: pytest.TempPathFactory) -> Path:
    key = f"sqlite-template:{definition.name}"
    if key not in _state:
        folder = factory.mktemp("template")
        path = folder / "template.db"
        upgrade(make_test_config(definition.name, f"sqlite:///{path}", "embedded", folder), definition)
        _state[key] = path
    return Path(str(_state[key]))


@pytest.fixture
def bus_config(pg_url: str, rabbitmq: RabbitMQ, tmp_path: Path) -> Config:
    return make_test_config("testsvc", pg_url, rabbitmq.url, tmp_path)


@pytest.fixture
def embedded_config(tmp_path: Path) -> Config:
    return make_test_config("testsvc", f"sqlite:///{tmp_path / 'testsvc.db'}", "embedded", tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    # Tests log in hundreds of times: argon2 at its production cost would take minutes of CI.
    # Processes the tests start (stacks, gunicorn) inherit it. See quxiang.accounts.service.passwords.
    os.environ.setdefault("QX_PASSWORD_HASHING", "fast-for-tests")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for key in ("postgres", "rabbitmq"):
        server = _state.pop(key, None)
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A session fixture's skip is raised again for every test using it, but the fixture body runs
    # once: count the reports instead.
    if report.skipped and isinstance(report.longrepr, tuple) and "INFRA MISSING" in str(report.longrepr[2]):
        _skipped_for_infra.append(str(report.longrepr[2]).split(": ", 2)[-1].replace(" is not reachable", ""))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_for_infra:
        counts = {what: _skipped_for_infra.count(what) for what in sorted(set(_skipped_for_infra))}
        line = ", ".join(f"{n} test(s) needing {what}" for what, n in counts.items())
        terminalreporter.write_sep("!", "INFRASTRUCTURE MISSING", red=True, bold=True)
        terminalreporter.write_line(f"SKIPPED {line}: they did not run. Start the servers or set "
                                    "QX_TEST_POSTGRES_URL / QX_TEST_AMQP_URL; CI sets REQUIRE_INFRA=1.",
                                    red=True, bold=True)


# --- a service's app under test, with tokens signed by a key of the test run ------------------------

TEST_KID = "test-key"


@pytest.fixture(scope="session")
def signing_key() -> Any:
    """The run's token signing key (what accounts' keyring is in production)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def test_keys(private_key: Any) -> Any:
    """The KeySet a service under test verifies tokens with: the run's public key only."""
    from quxiang.common.auth import KeySet
    from quxiang.common.auth.tokens import public_jwk

    return KeySet(lambda: {"keys": [public_jwk(private_key, TEST_KID)]}, min_refetch=0)


def service_fixtures(definition: ServiceDefinition, extension_key: str) -> tuple[Any, ...]:
    """The fixtures every service's tests start from, for its conftest to bind:
    ``config, app, client, service = service_fixtures(SERVICE, EXTENSION_KEY)``. ``config`` runs
    each test on PostgreSQL and on SQLite (``migrated_service_config``); ``app`` verifies tokens
    signed with ``signing_key``; ``service`` is what the app keeps under ``extension_key``."""

    @pytest.fixture(params=DATABASES, name="config")
    def config_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
        return migrated_service_config(request, tmp_path, definition)

    @pytest.fixture(name="app")
    def app_fixture(config: Config, signing_key: Any) -> Iterator[Any]:
        app = definition.create_app(config, keys=test_keys(signing_key))  # type: ignore[call-arg]
        yield app
        app.extensions[extension_key].engine.dispose()

    @pytest.fixture(name="client")
    def client_fixture(app: Any) -> Any:
        return app.test_client()

    @pytest.fixture(name="service")
    def service_fixture(app: Any) -> Any:
        return app.extensions[extension_key]

    return config_fixture, app_fixture, client_fixture, service_fixture
