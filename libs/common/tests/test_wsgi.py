"""The gunicorn entry: behind the gateway the client's address is the one nginx saw, taken from
X-Forwarded-For as far back as QX_PROXY_HOPS says; without proxies the header is not believed."""

from __future__ import annotations

import flask
import pytest

from quxiang.common.wsgi import app_for


def _peer_app(monkeypatch, tmp_path, hops: str | None) -> flask.Flask:
    monkeypatch.setenv("QX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QX_BROKER_URL", "embedded")
    monkeypatch.setenv("QX_LOG_JSON", "false")
    if hops is None:
        monkeypatch.delenv("QX_PROXY_HOPS", raising=False)
    else:
        monkeypatch.setenv("QX_PROXY_HOPS", hops)
    app = app_for("ems-sim")
    app.add_url_rule("/peer", "peer", lambda: flask.request.remote_addr or "")
    return app


@pytest.mark.parametrize(("hops", "forwarded", "seen"), [
    ("1", "203.0.113.7", "203.0.113.7"),                  # the gateway's view of the client
    ("1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),          # what the client wrote itself is not believed
    ("2", "198.51.100.9, 10.0.0.2", "198.51.100.9"),       # an Ingress before the gateway
    (None, "203.0.113.7", "10.9.9.9"),                    # make run: no proxy, the connection's address
])
def test_the_client_address_is_taken_as_many_hops_back_as_there_are_proxies(monkeypatch, tmp_path, hops,
                                                                             forwarded, seen):
    app = _peer_app(monkeypatch, tmp_path, hops)
    answer = app.test_client().get("/api/ems-sim/peer", headers={"X-Forwarded-For": forwarded},
                                   environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert answer.get_data(as_text=True) == seen


def test_a_negative_count_of_proxies_is_refused(monkeypatch):
    from quxiang.common.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="QX_PROXY_HOPS"):
        load_config("ems-sim", {"QX_PROXY_HOPS": "-1"})
