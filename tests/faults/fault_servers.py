"""A RabbitMQ node and a PostgreSQL cluster of the fault suite's own, in a temp folder on free ports.

The machine's shared servers (5672, 5432) carry other people's tests, so the suite never restarts
them: it restarts these. Both run as real servers (the Debian packages' binaries), so a restart is a
real restart: connections drop, the quorum queues and the databases come back from disk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ServerUnavailable(RuntimeError):
    """The binaries are missing or the server would not start."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise ServerUnavailable(f"{what} not listening on {port} within {timeout:.0f}s")


@dataclass
class PrivateRabbitMQ:
    """``rabbitmq-server`` with its own node name, ports, data, logs, config, cookie (its HOME) and
    no plugins (the management and prometheus listeners would clash with the shared node's)."""

    directory: Path
    port: int = 0
    dist_port: int = 0
    node: str = ""
    process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return (RABBIT_BIN / "rabbitmq-server").exists() and (RABBIT_BIN / "rabbitmqctl").exists()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        base = self.directory
        return {**{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
                "HOME": str(base / "home"),
                "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
                "RABBITMQ_NODENAME": self.node,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(base / "log"),
                "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
                "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
                "ERL_EPMD_ADDRESS": "127.0.0.1"}

    def start(self, timeout: float = 60.0) -> None:
        if not self.available():
            raise ServerUnavailable(f"no RabbitMQ server binaries in {RABBIT_BIN}")
        base = self.directory
        for sub in ("home", "mnesia", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.dist_port = self.dist_port or free_port()
        self.node = self.node or f"qxfaults{uuid.uuid4().hex[:6]}@localhost"
        (base / "rabbitmq-env.conf").write_text("# the fault suite's node: everything is in the environment\n")
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(
            "loopback_users = none\n"
            # Queue counts (list_queues) fresh within half a second: the checker waits on them.
            "collect_statistics_interval = 500\n"
            "log.console = false\nlog.file.level = warning\n"
            # A 2-core box shared with other tests: no alarms from its memory or disk use.
            "vm_memory_high_watermark.absolute = 2GB\ndisk_free_limit.absolute = 50MB\n")
        self._launch()
        self.wait_running(timeout)

    def _launch(self) -> None:
        log = open(self.directory / "server.out", "ab")
        try:
            self.process = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self._env(), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=self.directory, start_new_session=True)
        finally:
            log.close()

    def ctl(self, *args: str, timeout: float = 60.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self._env(),
                              capture_output=True, text=True, timeout=timeout, check=check)

    def wait_running(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerUnavailable("rabbitmq-server exited:\n" + self._tail())
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.3)
        raise ServerUnavailable(f"RabbitMQ {self.node} not up within {timeout:.0f}s:\n" + self._tail())

    def _tail(self) -> str:
        path = self.directory / "server.out"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no output)"

    def restart(self, down_seconds: float = 0.0) -> None:
        """The broker application stopped and started again (``stop_app``/``start_app``): every
        connection drops, the listener closes, queues and messages come back from disk, as in a
        restart of the server; the Erlang VM stays (a whole VM restart costs this box ~40 s)."""
        self.ctl("stop_app")
        time.sleep(down_seconds)
        self.ctl("start_app")
        self.ctl("await_startup")
        self.wait_running()

    def close_all_connections(self, reason: str = "fault suite: dropping every connection") -> None:
        self.ctl("close_all_connections", reason)

    def stop(self) -> None:
        if self.process is None:
            return
        self.ctl("stop", timeout=60, check=False)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PrivatePostgres:
    """A PostgreSQL 15 cluster (initdb + pg_ctl) run as the ``postgres`` OS user, trust auth."""

    directory: Path
    port: int = 0

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists() and shutil.which("runuser") is not None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *argv: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise ServerUnavailable(f"{argv[0]} failed ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-1500:]}")
        return done

    def start(self) -> None:
        if not self.available():
            raise ServerUnavailable(f"no PostgreSQL 15 binaries in {PG_BIN} (or no runuser)")
        self.port = self.port or free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--no-locale", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            # Its own socket folder and port. fsync off: the faults kill the server, never the machine,
            # and the WAL a killed server wrote is in the OS's cache. synchronous_commit stays on: with
            # it off an immediate shutdown loses commits the APIs already answered 200 to.
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.directory}'\nmax_connections = 300\n"
                       "fsync = off\nfull_page_writes = off\nshared_buffers = 64MB\n")
        self._start()

    def _start(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"),
                          "-w", "-t", "60", "start")
        _wait_port(self.port, 30, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def start_again(self) -> None:
        self._start()

    def restart(self, down_seconds: float = 0.0, mode: str = "immediate") -> None:
        """A real restart: ``immediate`` drops every connection at once, as a crash would (the cluster
        recovers from its WAL on start)."""
        self.stop(mode)
        time.sleep(down_seconds)
        self._start()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except ServerUnavailable:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)
