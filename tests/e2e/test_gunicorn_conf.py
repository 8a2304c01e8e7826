"""deploy/gunicorn.conf.py with a real gunicorn: the workers it asks for, the app under
/api/<service>/ and at the root, the docs page's link keeping the prefix, the access log's request
id, and /metrics adding up every worker's counts in multiprocess mode (the folder emptied first)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from quxiang.common.stack import GUNICORN_CONF

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path, subprocess.Popen[bytes]]]:
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    metrics = tmp_path / "prom"
    metrics.mkdir()
    (metrics / "counter_4242.db").write_bytes(b"left by an earlier run")
    access_log = tmp_path / "access.log"
    port = free_port()
    env = {**os.environ, "QX_DATA_DIR": str(tmp_path), "QX_BROKER_URL": "embedded", "QX_WEB_WORKERS": "2",
           "QX_WEB_BIND": f"127.0.0.1:{port}", "QX_WEB_ACCESS_LOG": str(access_log),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics), "QX_LOG_LEVEL": "WARNING"}
    for name in ("QX_DATABASE_URL", "QX_DATABASE_URL_TEMPLATE"):
        env.pop(name, None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen([gunicorn, "-c", str(GUNICORN_CONF), 'quxiang.common.wsgi:app_for("ems-sim")'],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "gunicorn did not answer within 60s"
            time.sleep(0.2)
        yield url, metrics, access_log, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_app_under_its_prefix_and_at_the_root(served) -> None:
    url, _, access_log, process = served
    under = requests.get(f"{url}/api/ems-sim/healthz", headers={"X-Request-ID": "conf-test-1"}, timeout=5)
    assert under.status_code == 200 and under.headers["X-Request-ID"] == "conf-test-1"
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    document = requests.get(f"{url}/api/ems-sim/openapi.json", timeout=5).json()
    assert "/graduates/{exam_number}" in document["paths"]
    docs = requests.get(f"{url}/api/ems-sim/docs", timeout=5).text
    assert "/api/ems-sim/openapi.json" in docs
    assert requests.get(f"{url}/api/other/healthz", timeout=5).status_code == 404

    workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(workers) == 2, workers
    deadline = time.monotonic() + 10
    while "request_id=conf-test-1" not in (access_log.read_text() if access_log.exists() else ""):
        assert time.monotonic() < deadline, access_log.read_text() if access_log.exists() else "no access log"
        time.sleep(0.2)
    line = next(line for line in access_log.read_text().splitlines() if "conf-test-1" in line)
    assert '"GET /api/ems-sim/healthz HTTP/1.1" 200' in line


def test_the_access_log_keeps_the_path_not_the_query(served) -> None:
    """A query string may carry personal data (a name or an identity number searched for)."""
    url, _, access_log, _ = served
    number = "440106200303070017"
    answer = requests.get(f"{url}/api/ems-sim/healthz", params={"kind": "archive", "school_code": number},
                          headers={"X-Request-ID": "conf-test-query"}, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    deadline = time.monotonic() + 10
    while "request_id=conf-test-query" not in (access_log.read_text() if access_log.exists() else ""):
        assert time.monotonic() < deadline, access_log.read_text() if access_log.exists() else "no access log"
        time.sleep(0.2)
    line = next(line for line in access_log.read_text().splitlines() if "conf-test-query" in line)
    assert '"GET /api/ems-sim/healthz HTTP/1.1"' in line and number not in line and "kind=" not in line, line


def test_metrics_add_up_every_worker(served) -> None:
    url, metrics, _, _ = served
    assert not (metrics / "counter_4242.db").exists(), "the metrics folder is emptied at start"
    # A new connection each (no session), so both workers take some.
    answers = [requests.get(f"{url}/api/ems-sim/healthz", timeout=5) for _ in range(40)]
    assert all(r.status_code == 200 for r in answers)
    pids = {re.sub(r"\D", "", path.stem) for path in metrics.glob("*.db")}
    assert len(pids) == 2, sorted(metrics.iterdir())
    text = requests.get(f"{url}/metrics", timeout=5).text
    served_count = re.search(
        r'qx_http_requests_total\{method="GET",route="/healthz",service="ems-sim",status="200"\} (\d+)', text)
    assert served_count is not None, text[:2000]
    # The 40 and the fixture's probe (more if a slow probe timed out on our side), whichever of the
    # two workers answers the scrape: neither served all 40 alone.
    assert int(served_count.group(1)) >= 41
