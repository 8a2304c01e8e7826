"""`make run`'s one-process suite: every installed service mounted, migrated, probed; on the embedded
default and switched to PostgreSQL and RabbitMQ by the environment."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.test import Client

from quxiang.common.service import discover_services
from quxiang.common.suite import build_suite

SERVICES = {"accounts", "ems-sim", "records", "signing", "stats", "sync-gateway"}


def probe_every_service(monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    suite = build_suite(load_base())
    client = Client(suite.app)
    index = client.get("/api/").json
    assert set(index["services"]) == set(suite.services) >= SERVICES
    assert client.get("/api/no-such-service/x").status_code == 404
    for method in ("POST", "PUT", "DELETE"):  # problem+json with a request id, whatever the method
        for path in ("/api/no-such-service/x", "/api/"):
            missing = client.open(path, method=method)
            assert missing.status_code in (404, 405) and missing.content_type == "application/problem+json", path
            assert missing.json["request_id"]
    for name in suite.services:
        ready = client.get(f"/api/{name}/readyz")
        assert ready.status_code == 200, (name, ready.json)
        spec = client.get(f"/api/{name}/openapi.json")
        assert spec.status_code == 200
        missing = client.get(f"/api/{name}/no-such-thing")
        assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/problem+json")
    workers = {name for name, _ in suite.workers}
    assert {f"relay-{name}" for name in suite.services} <= workers
    return suite


def load_base():
    from quxiang.common.config import load_config

    return load_config("quxiang")


def test_every_service_is_discovered():
    assert set(discover_services()) >= SERVICES


def test_embedded_suite_serves_every_service(monkeypatch, tmp_path):
    probe_every_service(monkeypatch, {"QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": "embedded"})
    assert {p.name for p in tmp_path.iterdir()} >= {"signing.db", "sync_gateway.db"}


def test_suite_on_postgresql_and_rabbitmq(monkeypatch, tmp_path, postgres, rabbitmq):
    prefix = f"qx_t_{uuid.uuid4().hex[:8]}"
    template = postgres.url_for(prefix + "_{service}")
    try:
        suite = probe_every_service(monkeypatch, {
            "QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": rabbitmq.url, "QX_DATABASE_URL_TEMPLATE": template,
            "QX_EXCHANGE": f"{prefix}.events", "QX_QUEUE_PREFIX": prefix})
        assert not list(tmp_path.glob("*.db")), "nothing may fall back to SQLite"
    finally:
        for name in SERVICES:
            postgres.drop_database(template.format(service=name.replace("-", "_")))
    assert suite.services


def test_the_console_is_served_at_the_root_with_the_api_index_beside_it(monkeypatch, tmp_path):
    console = tmp_path / "console"
    (console / "js").mkdir(parents=True)
    (console / "index.html").write_text("<!doctype html><title>去向</title>", encoding="utf-8")
    (console / "js" / "app.js").write_text("export {};", encoding="utf-8")
    monkeypatch.setenv("QX_CONSOLE_ROOT", str(console))
    suite = probe_every_service(monkeypatch, {"QX_DATA_DIR": str(tmp_path / "data"), "QX_BROKER_URL": "embedded"})
    client = Client(suite.app)
    home = client.get("/")
    assert home.status_code == 200 and "去向" in home.text and home.mimetype == "text/html"
    script = client.get("/js/app.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert client.get("/province/stats").text == home.text, "a route of the app answers index.html"
    assert client.get("/js/missing.js").status_code == 404
    assert client.get("/../secret.txt").text == home.text
    assert client.get("/api/accounts/readyz").status_code == 200


def test_the_repository_console_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("QX_CONSOLE_ROOT", raising=False)
    suite = probe_every_service(monkeypatch, {"QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": "embedded"})
    home = Client(suite.app).get("/")
    assert home.status_code == 200 and '<div id="app"' in home.text


@pytest.mark.parametrize("bad", ["redis://nowhere"])
def test_a_bad_broker_url_stops_the_suite_with_its_name(monkeypatch, tmp_path, bad):
    from quxiang.common.config import ConfigError

    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QX_BROKER_URL", bad)
    with pytest.raises(ConfigError, match="QX_BROKER_URL"):
        build_suite(load_base())


def test_each_migration_is_logged_under_its_own_service(monkeypatch, tmp_path, capfd):
    # Logging was configured by the first app built, so the first service's migrations went unlogged
    # and every later one was labelled with the service before it.
    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QX_BROKER_URL", "embedded")
    monkeypatch.setenv("QX_LOG_JSON", "false")
    build_suite(load_base())
    lines = [line for line in capfd.readouterr().err.splitlines() if "Running upgrade" in line]
    labelled = {line.split("[", 1)[1].split(" ", 1)[0] for line in lines}
    assert labelled == {name for name, d in discover_services().items()}, labelled
    [withdrawal] = [line for line in lines if "移出生源" in line and "-> 0006" in line]
    assert "[records " in withdrawal, withdrawal
