"""quxiang.common.web.blueprint: argument schemas are built once, and sharing them leaks nothing
from one request into the next."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from quxiang.common.config import load_config
from quxiang.common.web import create_app
from quxiang.common.web.blueprint import Blueprint


class CountedArgs(ma.Schema):
    built: ClassVar[int] = 0
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    tags = ma.fields.List(ma.fields.String(), load_default=list)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).built += 1
        super().__init__(*args, **kwargs)


def _client() -> Any:
    bp = Blueprint("counted", __name__, url_prefix="/counted")

    @bp.route("", methods=["POST"])
    @bp.arguments(CountedArgs)
    def post(args: dict[str, Any]) -> dict[str, Any]:
        return args

    config = load_config("web-test", {"QX_DATABASE_URL": "sqlite://", "QX_BROKER_URL": "embedded"})
    return create_app("web-test", config, blueprints=[bp], configure_logs=False).test_client()


def test_an_argument_schema_is_built_once_for_every_request() -> None:
    client = _client()
    CountedArgs.built = 0
    for n in range(5):
        assert client.post("/counted", json={"name": f"n{n}"}).status_code == 200
    assert CountedArgs.built == 1


def test_a_shared_schema_keeps_nothing_from_the_request_before() -> None:
    client = _client()
    bad = client.post("/counted", json={"name": "", "tags": "not-a-list"})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"name", "tags"}
    good = client.post("/counted", json={"name": "张三"})
    assert good.status_code == 200
    assert good.get_json() == {"name": "张三", "tags": []}  # no tags carried over, the default is fresh
    again = client.post("/counted", json={"name": "李四", "tags": ["a"]})
    assert again.get_json() == {"name": "李四", "tags": ["a"]}
    assert client.post("/counted", json={"name": "王五"}).get_json()["tags"] == []
