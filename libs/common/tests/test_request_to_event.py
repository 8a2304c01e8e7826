"""An HTTP request's id becomes the correlation id of the events its use case records."""

import json

from sqlalchemy import select

from quxiang.common.bus.outbox import UnitOfWork, make_session_factory
from quxiang.common.bus.tables import outbox
from quxiang.common.db import make_engine
from quxiang.common.web import create_app
from quxiang.common.web.blueprint import Blueprint

from support import CATALOGUE, prepare_database


def test_request_id_is_the_correlation_id_of_recorded_events(embedded_config):
    engine = make_engine(embedded_config.database_url)
    prepare_database(engine, embedded_config)
    blueprint = Blueprint("items", __name__, url_prefix="/items")

    @blueprint.route("/<name>", methods=["POST"])
    def create(name):
        with UnitOfWork(make_session_factory(engine), "testsvc", embedded_config.outbox_partitions, CATALOGUE) as uow:
            uow.record("test.item.created", subject=name, sequence=1, data={"name": name})
            uow.commit()
        return {"ok": True}

    app = create_app("testsvc", embedded_config, blueprints=[blueprint], configure_logs=False)
    client = app.test_client()
    assert client.post("/items/a", headers={"X-Request-ID": "req-from-gateway"}).status_code == 200
    made_up = client.post("/items/b").headers["X-Request-ID"]
    with engine.connect() as conn:
        payloads = {r.subject: json.loads(r.payload) for r in conn.execute(select(outbox))}
    assert payloads["a"]["correlation_id"] == "req-from-gateway"
    assert payloads["b"]["correlation_id"] == made_up and made_up != "req-from-gateway"
    assert payloads["a"]["causation_id"] is None
