"""Reading the owning services' snapshots over HTTP: the real records and signing apps, served on
local ports, answer the rebuild's paged requests with an admin's token; a province's token is
refused before anything is emptied."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from quxiang.common.auth import KeySet
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token, public_jwk
from quxiang.common.migrations import upgrade
from quxiang.common.service import discover_services
from quxiang.common.testing.plugin import make_test_config
from quxiang.stats.service import snapshots


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sources(tmp_path):
    key = Ed25519PrivateKey.generate()
    keys = KeySet(lambda: {"keys": [public_jwk(key, "k")]}, min_refetch=0)
    servers, urls, audience = [], {}, None
    for name in ("records", "signing"):
        definition = discover_services()[name]
        config = make_test_config(name, f"sqlite:///{tmp_path}/{name}.db", "embedded", tmp_path)
        upgrade(config, definition)
        audience = config.jwt_audience
        port = _port()
        server = make_server("127.0.0.1", port, definition.create_app(config, keys=keys), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{port}"

    def token(role: Role, **scope: str) -> str:
        return issue_token(Principal(str(uuid.uuid4()), role, Scope(**scope)), key, "k", audience, 300)

    yield urls, token
    for server in servers:
        server.shutdown()


def test_the_snapshots_are_read_from_the_real_services(sources):
    urls, token = sources
    found = snapshots.from_services(urls["records"], urls["signing"], token(Role.ADMIN))
    assert list(found.graduates) == [] and list(found.aggregates) == []  # fresh services: nothing yet


def test_a_province_token_is_refused_before_anything_happens(sources):
    urls, token = sources
    with pytest.raises(snapshots.NotAnAdminToken, match="admin"):
        snapshots.from_services(urls["records"], urls["signing"], token(Role.PROVINCE, province="44"))
    with pytest.raises(snapshots.NotAnAdminToken):
        snapshots.require_admin_token("not a token")


def test_a_refused_request_stops_the_rebuild(sources):
    urls, token = sources
    forged = token(Role.ADMIN)[:-4] + "AAAA"  # the services check the signature
    with pytest.raises(Exception, match="401"):
        snapshots.from_services(urls["records"], urls["signing"], forged)


@pytest.fixture
def console_page():
    """What a gateway's root answers at any path it does not route: the console's HTML page."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<!doctype html><title>Quxiang</title>"]

    port = _port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_a_url_without_the_services_path_is_named_not_a_traceback(sources, console_page, tmp_path, monkeypatch,
                                                                   capsys):
    urls, token = sources
    with pytest.raises(snapshots.SnapshotUnreadable, match="/api/records"):
        list(snapshots.from_services(console_page, urls["signing"], token(Role.ADMIN)).graduates)
    # a wrong signing URL names signing's path, not records'
    with pytest.raises(snapshots.SnapshotUnreadable, match="as http://gateway/api/signing"):
        list(snapshots.from_services(urls["records"], console_page, token(Role.ADMIN)).aggregates)
    from quxiang.stats.bootstrap import SERVICE
    from quxiang.stats.entrypoints import cli

    config = make_test_config("stats", f"sqlite:///{tmp_path}/stats.db", "embedded", tmp_path)
    upgrade(config, SERVICE)
    monkeypatch.setenv("QX_DATABASE_URL", config.database_url)
    code = cli.main(["rebuild", "--from-services", "--records-url", console_page, "--signing-url", urls["signing"],
                     "--token", token(Role.ADMIN)])
    assert code == 1
    assert "cannot read the snapshots, nothing changed" in capsys.readouterr().err
