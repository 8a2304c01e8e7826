"""Fixtures for the web tests: a small service with one blueprint exercising each error path."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import marshmallow as ma
import pytest

from quxiang.common import context
from quxiang.common.config import Config, load_config
from quxiang.common.logging import configure_logging
from quxiang.common.web import ProblemError, create_app
from quxiang.common.web.blueprint import Blueprint


class AddressSchema(ma.Schema):
    city = ma.fields.String(required=True)


class RegistrationSchema(ma.Schema):
    name = ma.fields.String(required=True)
    age = ma.fields.Integer()
    address = ma.fields.Nested(AddressSchema)


class PageSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1)


def make_blueprint() -> Blueprint:
    # A fresh blueprint per app: flask-smorest records documentation on the blueprint object.
    bp = Blueprint("registrations", __name__, url_prefix="/registrations")

    @bp.route("/<int:registration_id>", methods=["PUT"])
    @bp.arguments(RegistrationSchema)
    @bp.response(200, RegistrationSchema)
    def put(data: dict[str, Any], registration_id: int) -> dict[str, Any]:
        return data

    @bp.route("/<int:registration_id>", methods=["GET"])
    @bp.response(200)
    def get(registration_id: int) -> dict[str, Any]:
        logging.getLogger("tests.web.view").info("reading registration %s", registration_id)
        return {"id": registration_id, "request_id": context.current_correlation_id()}

    @bp.route("/", methods=["GET"])
    @bp.arguments(PageSchema, location="query")
    @bp.response(200)
    def listing(args: dict[str, Any]) -> dict[str, Any]:
        return {"page": args["page"]}

    @bp.route("/boom")
    def boom() -> None:
        raise RuntimeError("db password=hunter2 for 11010519491231002X")

    @bp.route("/conflict", methods=["POST"])
    def conflict() -> None:
        raise ProblemError(409, "already_submitted", detail="The registration was already submitted.",
                           type="urn:quxiang:problem:already-submitted", current_state="submitted")

    @bp.route("/manual-validation", methods=["POST"])
    def manual_validation() -> None:
        RegistrationSchema().load({"address": {}})

    @bp.route("/abort-500")
    def abort_500() -> None:
        flask.abort(500, "internal detail that must stay private")

    @bp.route("/abort-conflict")
    def abort_conflict() -> None:
        from flask_smorest import abort

        abort(409, message="Version mismatch.")

    @bp.route("/tagged")
    @bp.etag
    @bp.response(200)
    def tagged() -> dict[str, Any]:
        return {"value": 1}

    return bp


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config("demo", {"QX_DATA_DIR": str(tmp_path)})


@pytest.fixture
def make_app(config: Config) -> Callable[..., flask.Flask]:
    def factory(**kwargs: Any) -> flask.Flask:
        kwargs.setdefault("blueprints", [make_blueprint()])
        kwargs.setdefault("configure_logs", False)
        return create_app(kwargs.pop("service", "demo"), config, **kwargs)

    return factory


@pytest.fixture
def app(make_app: Callable[..., flask.Flask]) -> flask.Flask:
    return make_app()


@pytest.fixture
def client(app: flask.Flask) -> flask.testing.FlaskClient:
    return app.test_client()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Our JSON root handler writing into a buffer; removed afterwards so tests don't leak it."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging("INFO", True, "demo", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
