"""The one way a Quxiang service builds its Flask app, so every service has the same error format,
request ids, probes, metrics and API documentation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import flask
import flask_smorest

from quxiang.common.config import Config
from quxiang.common.logging import configure_logging
from quxiang.common.web.body import install_body_drain
from quxiang.common.web.cache_control import install_no_store
from quxiang.common.web.errors import ProblemApi, register_error_handlers
from quxiang.common.web.health import EXTENSION_KEY as READINESS_KEY
from quxiang.common.web.health import add_readiness_check, health_blueprint
from quxiang.common.web.json_body import install_json_body_check
from quxiang.common.web.metrics import install_metrics
from quxiang.common.web.request_id import install_request_id
from quxiang.common.web.text_input import install_control_character_check

__all__ = ["API_KEY", "CONFIG_KEY", "DEFAULT_MAX_CONTENT_LENGTH", "create_app", "get_api"]

API_KEY = "qx.api"
CONFIG_KEY = "qx.config"
SERVICE_KEY = "qx.service"
# Request bodies here are JSON forms; a cap keeps one client from tying up a worker with a huge
# upload. A service that accepts files raises it (or passes None).
DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024


def create_app(
    service: str,
    config: Config,
    *,
    blueprints: Sequence[flask_smorest.Blueprint] = (),
    readiness_checks: Mapping[str, Callable[[], None]] | None = None,
    api_title: str | None = None,
    api_version: str = "1",
    configure_logs: bool = True,
    max_content_length: int | None = DEFAULT_MAX_CONTENT_LENGTH,
) -> flask.Flask:
    """Build the service's app: API + docs, problem+json errors, X-Request-ID, probes, /metrics,
    answers not stored by caches.

    The flask-smorest ``Api`` is at ``app.extensions["qx.api"]`` (or ``get_api(app)``) for
    blueprints registered later. ``configure_logs=False`` leaves process logging alone (tests,
    or a host process that configured it already).
    """
    if configure_logs:
        configure_logging(config.log_level, config.log_json, service)

    # static_folder=None: services serve no files, and the service name is not an importable
    # module Flask could locate static files relative to.
    app = flask.Flask(service, static_folder=None)
    app.config.update(
        API_TITLE=api_title or service,
        API_VERSION=api_version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        MAX_CONTENT_LENGTH=max_content_length,
    )
    # Names, schools and cities are Chinese; escaping them as \uXXXX helps no client.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[SERVICE_KEY] = service
    app.extensions[CONFIG_KEY] = config

    # Metrics hooks first, so the timer starts before any other before_request hook runs.
    install_metrics(app, service)
    register_error_handlers(app)
    api = ProblemApi(app)
    app.extensions[API_KEY] = api

    app.register_blueprint(health_blueprint())
    app.extensions.setdefault(READINESS_KEY, {})
    for name, check in (readiness_checks or {}).items():
        add_readiness_check(app, name, check)

    for blueprint in blueprints:
        api.register_blueprint(blueprint)

    install_json_body_check(app)  # first: the control character check parses the body too
    install_control_character_check(app)
    install_body_drain(app)
    install_no_store(app)
    install_request_id(app)
    return app


def get_api(app: flask.Flask) -> flask_smorest.Api:
    """The app's flask-smorest Api, e.g. to register a blueprint or a field type later."""
    return app.extensions[API_KEY]
