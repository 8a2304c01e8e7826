"""The fault suite's stack: a RabbitMQ node and a PostgreSQL cluster of its own (restarted by the
faults; the machine's shared servers are never touched), the whole multi-process stack on them, the
workload's graduates set up once; the table of results at the end of the run."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fault_harness import FULL, RESULTS, Harness, ps, table
from fault_servers import PrivatePostgres, PrivateRabbitMQ, ServerUnavailable
from fault_workload import Workload

from quxiang.common.stack import Stack, StackError, nginx_binary
from quxiang.common.testing.infra import require_infra
from quxiang.common.testing.stack_run import isolated_settings


def _missing(message: str) -> None:
    if require_infra():
        pytest.fail(f"REQUIRE_INFRA=1 and {message}", pytrace=False)
    pytest.skip(f"INFRA MISSING: {message}")


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    if nginx_binary() is None:
        _missing("nginx is not installed (make installs it: `make stack` or `make test`)")
    if not (PrivateRabbitMQ.available() and PrivatePostgres.available()):
        _missing("the fault suite needs rabbitmq-server and PostgreSQL 15 binaries to run servers of its own")
    base = Path(tempfile.mkdtemp(prefix="qx-faults-"))
    base.chmod(0o755)  # the postgres OS user reaches its cluster folder
    rabbit, postgres = PrivateRabbitMQ(base / "rabbit"), PrivatePostgres(base / "pg")
    stack: Stack | None = None
    workload: Workload | None = None
    try:
        started = time.monotonic()
        try:
            rabbit.start()
            postgres.start()
        except ServerUnavailable as exc:
            _missing(f"a private server would not start: {exc}")
        run = uuid.uuid4().hex[:8]
        settings = isolated_settings(
            base / "stack", run, "faults", postgres.url_for, rabbit.url, own_vhost=False, broker_url=rabbit.url,
            env={"QX_CONSUMER_RETRY_DELAYS": "1,2,5", "QX_SYNC_PROBE_INTERVAL": "0.5", "QX_BROKER_HEARTBEAT": "10"})
        stack = Stack(settings)
        try:
            stack.up(timeout=150)
        except StackError as exc:
            pytest.fail(str(exc), pytrace=False)
        print(f"\nprivate servers and stack up in {time.monotonic() - started:.1f}s")
        workload = Workload(settings.gateway_url,
                            f"http://127.0.0.1:{settings.service_ports['accounts']}")
        flows = 6 if FULL else 3
        workload.set_up(graduates=flows * 10 + 4)
        print(f"workload set up in {time.monotonic() - started:.1f}s")
        yield Harness(stack, rabbit, postgres, workload, flows_per_fault=flows, settle_timeout=90 if FULL else 60)
    finally:
        if workload is not None:
            workload.close()
        if stack is not None:
            groups = stack.recorded()
            stack.down()
            left = ps(groups)
            assert not left, f"stack processes outlived stack-down:\n{left}"
        rabbit.destroy()
        postgres.destroy()
        shutil.rmtree(base, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("fault suite: every source of truth after each fault")
        terminalreporter.write_line(table(RESULTS))
