from __future__ import annotations

from collections.abc import Callable

import flask
import flask_smorest
from flask.testing import FlaskClient

from quxiang.common.web import get_api
from quxiang.common.web.app import API_KEY


def test_openapi_document(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"] == {"title": "demo", "version": "1"}
    assert "/registrations/{registration_id}" in spec["paths"]
    # Errors are documented with the problem schema, not flask-smorest's default one.
    assert "request_id" in spec["components"]["schemas"]["Problem"]["properties"]


def test_swagger_ui_uses_the_cdn(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_api_title_and_version(make_app: Callable[..., flask.Flask]) -> None:
    app = make_app(api_title="Registration API", api_version="2.1")
    spec = app.test_client().get("/openapi.json").get_json()
    assert spec["info"] == {"title": "Registration API", "version": "2.1"}


def test_api_is_reachable_for_late_blueprints(app: flask.Flask) -> None:
    api = get_api(app)
    assert app.extensions[API_KEY] is api
    assert isinstance(api, flask_smorest.Api)

    late = flask_smorest.Blueprint("late", __name__, url_prefix="/late")

    @late.route("/")
    def index() -> dict[str, str]:
        return {"late": "yes"}

    api.register_blueprint(late)
    assert app.test_client().get("/late/").get_json() == {"late": "yes"}


def test_chinese_text_is_not_escaped(client: FlaskClient) -> None:
    response = client.put("/registrations/1", json={"name": "韩梅梅"})
    assert "韩梅梅" in response.get_data(as_text=True)
