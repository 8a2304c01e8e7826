"""What a service tells the rest of the suite about itself, and how it is discovered.

Each service package declares one ``ServiceDefinition`` and names it under the ``quxiang.services``
entry point group in its pyproject.toml; the embedded runner, the relay and consumer commands and
the migration command find services that way, so installing a service is all it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import flask_smorest
from flask import Flask
from sqlalchemy.engine import Engine

from quxiang.common.auth import (
    Authenticator,
    KeySet,
    RevocationList,
    TokenVerifier,
    check_declarations,
    http_jwks,
    install_auth,
    revocation_consumer,
)
from quxiang.common.auth.whoami import whoami_blueprint
from quxiang.common.bus.consumer import Handler
from quxiang.common.bus.metrics import OutboxCollector
from quxiang.common.config import Config
from quxiang.common.db import make_engine, probe_engine
from quxiang.common.jobs import ScheduledJob
from quxiang.common.web import broker_check, create_app, database_check, register_collector

ENTRY_POINT_GROUP = "quxiang.services"


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # URL segment (/api/<name>/) and database name
    create_app: Callable[[Config], Flask]
    migrations_dir: Path
    # consumer name -> event type -> handler; a consumer name is global across the suite
    consumers: Callable[[], Mapping[str, Mapping[str, Handler]]] = field(default=lambda: {})
    # Puts demonstration data in place, idempotently (the suite runs it when QX_DEMO_DATA is on).
    demo: Callable[[Config], None] | None = None
    # The service's scheduled jobs (``qx-jobs <service>`` runs them; the suite in threads).
    jobs: Callable[[Config], Sequence[ScheduledJob]] = field(default=lambda config: ())

    def all_consumers(self) -> dict[str, Mapping[str, Handler]]:
        """The service's own consumers plus the one every service runs: token revocations."""
        name, handlers = revocation_consumer(self.name)
        return {**self.consumers(), name: handlers}


def discover_services() -> dict[str, ServiceDefinition]:
    found: dict[str, ServiceDefinition] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        definition = ep.load()
        if not isinstance(definition, ServiceDefinition):
            raise TypeError(f"entry point {ep.name} does not point at a ServiceDefinition")
        found[definition.name] = definition
    return dict(sorted(found.items()))


def get_service(name: str) -> ServiceDefinition:
    services = discover_services()
    try:
        return services[name]
    except KeyError:
        raise SystemExit(f"unknown service {name!r}; installed: {', '.join(services) or 'none'}") from None


ENGINE_KEY = "qx.engine"
PROBE_ENGINE_KEY = "qx.probe_engine"  # db.probe_engine: what /readyz and /metrics read through


def build_app(service: str, config: Config, *, blueprints: Sequence[flask_smorest.Blueprint] = (),
              engine: Engine | None = None, keys: KeySet | None = None, **options: object) -> Flask:
    """The app of a service with its own database: probes on the database and the broker, the
    outbox figures in /metrics, token checks with revocation, and every endpoint's access rule
    verified before it serves. The engine is at ``app.extensions["qx.engine"]``, the one the probes
    and /metrics read through (``db.probe_engine``) at ``app.extensions["qx.probe_engine"]``."""
    engine = engine or make_engine(config.database_url_for(service))
    probes = probe_engine(engine)
    app = create_app(service, config, blueprints=[whoami_blueprint(), *blueprints],
                     readiness_checks={"database": database_check(probes), "broker": broker_check(config)},
                     **options)  # type: ignore[arg-type]
    app.extensions[ENGINE_KEY] = engine
    app.extensions[PROBE_ENGINE_KEY] = probes
    register_collector(app, OutboxCollector(probes, service))
    verifier = TokenVerifier(keys or KeySet(http_jwks(config.jwks_url)), config.jwt_audience)
    install_auth(app, Authenticator(verifier, RevocationList(engine)))
    check_declarations(app)
    return app
