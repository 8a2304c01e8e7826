"""The platform under attack: every service's app in this process, each on its own PostgreSQL
database of the run, the events carried between them by a synchronous pump (the outboxes read in
order and handed to every consumer's handlers through the real consumer runtime, inbox and all),
and tokens signed by accounts' own keyring, which every service verifies.

The pump stands in for relay + RabbitMQ so the world is built deterministically and fast; the
messaging itself is tested elsewhere (tests/test_suite.py, the bus tests)."""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from quxiang.common.auth import KeySet
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import Ack, Delivery
from quxiang.common.migrations import upgrade
from quxiang.common.service import ServiceDefinition, discover_services
from quxiang.common.testing.infra import Postgres
from quxiang.common.testing.plugin import make_test_config

ENGINE_KEY = "qx.engine"
# The world has no DNS: the schools' webhooks point at a loopback address (never called: no jobs run).
SETTINGS = {"sync-gateway": {"QX_FEED_WEBHOOK_ALLOW_PRIVATE": "true"}}


@dataclass
class ServiceUnderTest:
    name: str
    definition: ServiceDefinition
    app: Flask
    engine: Engine

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()


class CapturingHandler(logging.Handler):
    """Every log record of the run, rendered in full (message, arguments, traceback, extras)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        self.lines.append(f"{record.name} {record.levelname} {text} {extras!r}")


_STANDARD_ATTRS = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


@dataclass
class World:
    services: dict[str, ServiceUnderTest]
    runtimes: list[ConsumerRuntime]
    urls: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    unsettled: list[tuple[str, str, str]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    # -- events -----------------------------------------------------------------------------
    def pump(self, rounds: int = 30) -> int:
        """Deliver every unsent event to every consumer that handles its type, until none is left."""
        moved = 0
        for _ in range(rounds):
            batch = 0
            for service in self.services.values():
                with service.engine.begin() as conn:
                    rows = conn.execute(select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.payload)
                                        .where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id)).all()
                    if rows:
                        conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in rows]))
                                     .values(sent_at=datetime.now(UTC)))
                for row in rows:
                    self.events.append(json.loads(row.payload))
                    for runtime in self.runtimes:
                        if row.event_type in runtime.handlers:
                            outcome = runtime.handle(Delivery(body=row.payload.encode(), headers={},
                                                              routing_key=row.event_type, message_id=row.event_id,
                                                              redelivered=False))
                            if not isinstance(outcome, Ack):
                                self.unsettled.append((runtime.name, row.event_type, repr(outcome)))
                batch += len(rows)
            moved += batch
            if not batch:
                return moved
        raise AssertionError("the events did not settle")

    # -- callers ----------------------------------------------------------------------------
    def token(self, principal: Principal, ttl: int = 900, now: float | None = None, audience: str | None = None) -> str:
        accounts = self.services["accounts"].app.extensions["qx.accounts"]
        kid, key = accounts.keyring.signing_key()
        return issue_token(principal, key, kid, audience or accounts.config.jwt_audience, ttl, now=now)

    def client(self, service: str) -> FlaskClient:
        return self.services[service].client

    def close(self) -> None:
        for service in self.services.values():
            service.engine.dispose()
            for value in service.app.extensions.values():
                engine = getattr(value, "engine", None)
                if isinstance(engine, Engine):
                    engine.dispose()


def build_world(postgres: Postgres, data_dir: Path) -> World:
    services: dict[str, ServiceUnderTest] = {}
    runtimes: list[ConsumerRuntime] = []
    urls: list[str] = []
    definitions = discover_services()
    accounts_keys: KeySet | None = None
    for name in ["accounts", *[n for n in definitions if n != "accounts"]]:
        definition = definitions[name]
        url = postgres.create_database(f"sec_{name.replace('-', '_')}")
        urls.append(url)
        config = make_test_config(name, url, "embedded", data_dir, **SETTINGS.get(name, {}))
        upgrade(config, definition)
        if "keys" in inspect.signature(definition.create_app).parameters:
            app = definition.create_app(config, keys=accounts_keys)  # type: ignore[call-arg]
        else:
            app = definition.create_app(config)
        if name == "accounts":
            keyring = app.extensions["qx.accounts"].keyring
            keyring.signing_key()
            accounts_keys = KeySet(keyring.jwks, min_refetch=0)
        engine = app.extensions[ENGINE_KEY]
        services[name] = ServiceUnderTest(name, definition, app, engine)
        for consumer, handlers in definition.all_consumers().items():
            runtimes.append(ConsumerRuntime(consumer, handlers, engine, transport=None,  # type: ignore[arg-type]
                                            config=config, producer=name))
        if definition.demo is not None:
            definition.demo(config)
    return World(services, runtimes, urls)


def drop_world(world: World, postgres: Postgres) -> None:
    world.close()
    for url in world.urls:
        postgres.drop_database(url)


# --- the people of the world ---------------------------------------------------------------------

W, R, N = Access.WRITE, Access.READ, Access.NONE


def permissions(level: Access) -> dict[Module, Access]:
    return {module: level for module in Module}


def new_id() -> str:
    return str(uuid.uuid4())


def principals(ids: dict[str, str]) -> dict[str, Principal]:
    """Every caller of the matrix, by name: in scope of the world's objects and out of it."""
    school, other_school = "10558", "10561"
    dept, other_dept = ids["department"], ids["other_department"]
    g44 = {"province": "44", "school": school}
    callers = {
        "admin": (Role.ADMIN, Scope(), {}),
        "province": (Role.PROVINCE, Scope(province="44"), {}),
        "school_w": (Role.SCHOOL, Scope(**g44), permissions(W)),
        "school_r": (Role.SCHOOL, Scope(**g44), permissions(R)),
        "school_n": (Role.SCHOOL, Scope(**g44), permissions(N)),
        "department_w": (Role.DEPARTMENT, Scope(**g44, department=dept), permissions(W)),
        "department_r": (Role.DEPARTMENT, Scope(**g44, department=dept), permissions(R)),
        "graduate": (Role.GRADUATE, Scope(**g44, graduate=ids["graduate"]), {}),
        "employer": (Role.EMPLOYER, Scope(employer=ids["employer"]), {}),
        "other_province": (Role.PROVINCE, Scope(province="11"), {}),
        "other_school": (Role.SCHOOL, Scope(province="44", school=other_school), permissions(W)),
        "other_department": (Role.DEPARTMENT, Scope(**g44, department=other_dept), permissions(W)),
        "other_graduate": (Role.GRADUATE, Scope(**g44, graduate=ids["other_graduate"]), {}),
        "other_employer": (Role.EMPLOYER, Scope(employer=ids["other_employer"]), {}),
    }
    # the callers with an account of their own carry its id (see scenario.REAL_CALLERS)
    return {name: Principal(ids.get(f"user:{name}") or new_id(), role, scope, perms)
            for name, (role, scope, perms) in callers.items()}


def iter_rules(app: Flask) -> Iterator[tuple[str, str]]:
    """(method, rule) of every endpoint an app serves, HEAD and OPTIONS aside."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, rule.rule
