"""deploy/nginx/gateway.conf.template on a real nginx in front of a stand-in upstream that echoes
what it received: the placeholders (what compose.yaml and Kubernetes fill in), paths passed through
unchanged, request ids kept or minted, the console's single-page fallback, and the gateway's own
errors as problem+json (413, 429, 502, 404, 403 for metrics). Seconds, not the whole stack."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from quxiang.common.stack import GATEWAY_TEMPLATE, StackError, nginx_binary, render_gateway
from quxiang.common.testing.infra import require_infra

pytestmark = pytest.mark.timeout(60)

PLACEHOLDERS = {"QX_GATEWAY_LISTEN", "QX_CONSOLE_ROOT", "QX_UPSTREAM_ACCOUNTS", "QX_UPSTREAM_RECORDS",
                "QX_UPSTREAM_SIGNING", "QX_UPSTREAM_STATS", "QX_UPSTREAM_SYNC_GATEWAY", "QX_UPSTREAM_EMS_SIM"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_placeholders_are_the_documented_ones() -> None:
    template = GATEWAY_TEMPLATE.read_text()
    assert set(re.findall(r"\$\{(QX_[A-Z_]+)\}", template)) == PLACEHOLDERS
    with pytest.raises(StackError, match="QX_UPSTREAM_STATS"):
        render_gateway(template, {name: "x" for name in PLACEHOLDERS - {"QX_UPSTREAM_STATS"}})
    rendered = render_gateway(template, {name: "127.0.0.1:1" for name in PLACEHOLDERS})
    assert not re.search(r"\$\{QX_[A-Z_]+\}", rendered) and "$request_id" in rendered and "$qx_request_id" in rendered


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _echo(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    answer = json.dumps({"path": environ["PATH_INFO"], "request_id": environ.get("HTTP_X_REQUEST_ID"),
                         "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"), "bytes": len(body)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


_ACCESS_LOGS: dict[str, Path] = {}  # the gateway's URL -> its access log


def gateway_log_path(url: str) -> Path:
    return _ACCESS_LOGS[url]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    nginx = nginx_binary()
    if nginx is None:
        if require_infra():
            pytest.fail("REQUIRE_INFRA=1 and nginx is not installed", pytrace=False)
        pytest.skip("INFRA MISSING: nginx is not installed")
    root = tmp_path_factory.mktemp("gateway")
    root.chmod(0o755)
    console = root / "console"
    console.mkdir()
    (console / "index.html").write_text("<!doctype html><title>去向</title>")
    (console / "app.js").write_text("console.log('quxiang')")
    (console / "codes.json").write_text('{"codes": [' + ", ".join(f'"{i:04d}"' for i in range(400)) + "]}")
    for folder in (console.parent, console):
        folder.chmod(0o755)
    upstream = make_server("127.0.0.1", 0, _echo, handler_class=_Quiet)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    alive = f"127.0.0.1:{upstream.server_port}"
    down = f"127.0.0.1:{free_port()}"  # nothing listens: the gateway's 502
    port = free_port()
    values = {"QX_GATEWAY_LISTEN": f"127.0.0.1:{port}", "QX_CONSOLE_ROOT": str(console),
              **{name: alive for name in PLACEHOLDERS if name.startswith("QX_UPSTREAM_")},
              "QX_UPSTREAM_STATS": down}
    (root / "gateway.conf").write_text(render_gateway(GATEWAY_TEMPLATE.read_text(), values))
    temp = Path("/tmp") / f"qx-gateway-test-{port}"
    temp.mkdir()
    (root / "nginx.conf").write_text(
        f"daemon off;\nuser root root;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log stderr;\n"
        f"events {{}}\nhttp {{\n include /etc/nginx/mime.types;\n client_body_temp_path {temp}/body;\n"
        f" proxy_temp_path {temp}/proxy;\n fastcgi_temp_path {temp}/f;\n uwsgi_temp_path {temp}/u;\n"
        f" scgi_temp_path {temp}/s;\n include {root}/gateway.conf;\n}}\n")
    access_log = (root / "access.log").open("wb")  # the template logs to stdout
    process = subprocess.Popen([nginx, "-p", str(root), "-e", "stderr", "-c", str(root / "nginx.conf")],
                               stdout=access_log, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    _ACCESS_LOGS[url] = root / "access.log"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(url + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        access_log.close()
        upstream.shutdown()
        subprocess.run(["rm", "-rf", str(temp)], check=False)


def test_paths_reach_the_services_unchanged_with_a_request_id(gateway: str) -> None:
    for service in ("accounts", "records", "signing", "sync-gateway", "ems-sim"):
        seen = requests.get(f"{gateway}/api/{service}/openapi.json", timeout=5).json()
        assert seen["path"] == f"/api/{service}/openapi.json"
        assert re.fullmatch(r"[0-9a-f]{32}", seen["request_id"]), seen
        assert seen["forwarded_for"] == "127.0.0.1"
    kept = requests.get(f"{gateway}/api/signing/x", headers={"X-Request-ID": "abc-1"}, timeout=5).json()
    assert kept["request_id"] == "abc-1"
    replaced = requests.get(f"{gateway}/api/signing/x", headers={"X-Request-ID": 'a"b'}, timeout=5).json()
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["request_id"]), replaced
    refused = requests.get(f"{gateway}/api/nothing/x", headers={"X-Request-ID": 'x","code":"forged'}, timeout=5)
    assert refused.json()["code"] == "not_found"


def test_the_access_log_keeps_the_path_not_the_query(gateway: str) -> None:
    """A query string may carry personal data (a name or an identity number searched for)."""
    number = "440106200303070017"
    requests.get(f"{gateway}/api/records/archive/registrations", params={"q": number, "status": "none"},
                 headers={"X-Request-ID": "gateway-query-1"}, timeout=5)
    log = gateway_log_path(gateway)
    deadline = time.monotonic() + 10
    while "request_id=gateway-query-1" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    line = next(line for line in log.read_text().splitlines() if "gateway-query-1" in line)
    assert '"GET /api/records/archive/registrations HTTP/1.1"' in line, line
    assert number not in line and "status=" not in line, line


def test_the_console_is_a_single_page_app(gateway: str) -> None:
    for path in ("/", "/province/statistics", "/schools/10558/roster"):
        page = requests.get(gateway + path, timeout=5)
        assert page.status_code == 200 and "<title>去向</title>" in page.text, path
    assert requests.get(gateway + "/app.js", timeout=5).text.startswith("console.log")
    assert requests.get(gateway + "/missing.js", timeout=5).status_code == 404
    # a phone on a slow line gets the console's files compressed; the APIs' answers are not (CPU)
    table = requests.get(gateway + "/codes.json", headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert table.headers.get("Content-Encoding") == "gzip" and len(table.json()["codes"]) == 400
    answer = requests.get(gateway + "/api/signing/" + "x" * 1100, headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers


def test_no_page_or_answer_can_be_framed_or_sniffed(gateway: str) -> None:
    for path in ("/", "/province/statistics", "/app.js", "/api/signing/openapi.json"):
        headers = requests.get(gateway + path, timeout=5).headers
        assert headers.get("X-Frame-Options") == "DENY", path
        assert headers.get("Content-Security-Policy") == "frame-ancestors 'none'", path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert requests.get(gateway + "/", timeout=5).headers.get("Cache-Control") == "no-cache"


def test_the_gateways_own_errors_are_problems(gateway: str) -> None:
    def problem(response: requests.Response, status: int, code: str) -> None:
        assert response.status_code == status, response.text[:300]
        assert response.headers["Content-Type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code and body["status"] == status
        assert body["request_id"] == response.headers["X-Request-ID"]

    problem(requests.post(f"{gateway}/api/signing/x", data=b"0" * (12 << 20), timeout=30), 413, "payload_too_large")
    # records takes roster files up to 50 MB
    assert requests.post(f"{gateway}/api/records/x", data=b"0" * (12 << 20), timeout=30).json()["bytes"] == 12 << 20
    problem(requests.get(f"{gateway}/api/stats/province", timeout=10), 502, "bad_gateway")
    problem(requests.get(f"{gateway}/api/unknown/x", timeout=5), 404, "not_found")
    problem(requests.get(f"{gateway}/api/signing/metrics", timeout=5), 403, "forbidden")
    statuses = [requests.post(f"{gateway}/api/accounts/auth/login", json={}, timeout=5).status_code
                for _ in range(40)]
    assert statuses[:30] == [200] * 30 and 429 in statuses, statuses
    problem(requests.post(f"{gateway}/api/accounts/auth/login", json={}, timeout=5), 429, "too_many_requests")
    assert requests.post(f"{gateway}/api/accounts/auth/refresh", json={}, timeout=5).status_code == 200
