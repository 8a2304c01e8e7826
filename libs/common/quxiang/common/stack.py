# ruff: noqa: S603, S607, S310 - a launcher of local programs by design (nginx, rabbitmqctl, the venv's
# scripts) that polls its own gateway over http.
"""The whole suite as separate processes on this machine, behind the nginx gateway: ``make stack``.

Per service: the API under gunicorn (``deploy/gunicorn.conf.py``), its consumers (``qx-consumer``),
its relay (``qx-relay``) and its scheduled jobs (``qx-jobs``) when it has any; ems-sim (the API and
the consumer every service has); nginx in front with ``deploy/nginx/gateway.conf.template``. It uses
the machine's PostgreSQL and RabbitMQ: the databases are created and migrated and the demo data
loaded first (``quxiang.common.suite --migrate-only``, which also declares every consumer queue
before any relay publishes).

Every process is the leader of its own process group, recorded in ``<dir>/pids/<name>.pid``, logging
to ``<dir>/logs/<name>.log``; ``down`` signals the groups (gunicorn's and nginx's workers with their
master), so nothing is left behind. Settings (environment, or the dataclass in tests):

    QX_STACK_DIR                var/stack
    QX_STACK_GATEWAY_PORT       8080 (the gateway; the services take the ports after QX_STACK_BASE_PORT)
    QX_STACK_BASE_PORT          8100
    QX_STACK_DATABASE_URL_TEMPLATE  postgresql+psycopg://postgres@127.0.0.1:5432/qx_stack_{service}
    QX_STACK_BROKER_URL         amqp://guest:guest@127.0.0.1:5672/quxiang-stack (the vhost is created)
    QX_STACK_WEB_WORKERS        1 gunicorn worker per service (the machine runs all of them)
    QX_STACK_CONSOLE_ROOT       QX_CONSOLE_ROOT, else console/ (the web console's static files)

Other QX_* variables (QX_EXCHANGE, QX_QUEUE_PREFIX, QX_LOG_LEVEL, ...) reach every process as they are.

    python -m quxiang.common.stack up | down [--purge] | status | env

``env`` prints the settings operator commands need as shell exports (``eval "$(... env)"``): the
databases, the broker and the identity-number key the stack keeps in ``<dir>/data/records_id.key.b64``
(made at the first ``up``; a new ``QX_STACK_DIR`` or ``make clean`` loses it, and with it every stored
identity number: keep a copy, or set ``QX_RECORDS_ID_KEY``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[4]
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
GATEWAY_TEMPLATE = REPO / "deploy" / "nginx" / "gateway.conf.template"
DEMO_PASSWORD = "Demo2026!"  # noqa: S105 - the documented demo password, printed for the user
DEMO_LOGINS = (("province 省级用户", "demo-gd"), ("school 学校用户", "demo-zsu"),
               ("department 院系用户", "demo-zsu-cs"), ("employer 用人单位", "demo-employer"),
               ("admin 平台管理员", "demo-admin"))
# Services whose relay is not started: ems-sim is the external system's stand-in and publishes nothing.
NO_RELAY = frozenset({"ems-sim"})
_PLACEHOLDER = re.compile(r"\$\{(QX_[A-Z0-9_]+)\}")


def _bin(name: str) -> str:
    """A console script of this virtualenv (next to the running interpreter)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


@dataclass
class StackSettings:
    directory: Path = REPO / "var" / "stack"
    gateway_port: int = 8080
    base_port: int = 8100
    host: str = "127.0.0.1"
    database_url_template: str = "postgresql+psycopg://postgres@127.0.0.1:5432/qx_stack_{service}"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672/quxiang-stack"
    web_workers: int = 1
    console_root: Path = REPO / "console"
    demo_data: bool = True
    # Ports per service instead of the ones after base_port (a test takes whatever ports are free).
    service_ports: dict[str, int] = field(default_factory=dict)
    # Extra environment for every process (for example QX_EXCHANGE, QX_QUEUE_PREFIX in a test).
    env: dict[str, str] = field(default_factory=dict)
    # qx-jobs processes per service where one is not enough (a service's jobs claim their rows with
    # SKIP LOCKED or under row locks, so replicas share the work); 1 for every other service.
    jobs_replicas: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> StackSettings:
        defaults = cls()

        def get(name: str, default: object) -> str:
            return environ.get(name) or str(default)

        return cls(
            directory=Path(get("QX_STACK_DIR", defaults.directory)).resolve(),
            gateway_port=int(get("QX_STACK_GATEWAY_PORT", defaults.gateway_port)),
            base_port=int(get("QX_STACK_BASE_PORT", defaults.base_port)),
            database_url_template=get("QX_STACK_DATABASE_URL_TEMPLATE", defaults.database_url_template),
            broker_url=get("QX_STACK_BROKER_URL", defaults.broker_url),
            web_workers=int(get("QX_STACK_WEB_WORKERS", defaults.web_workers)),
            console_root=Path(environ.get("QX_STACK_CONSOLE_ROOT") or get("QX_CONSOLE_ROOT", defaults.console_root))
            .resolve(),
            demo_data=get("QX_DEMO_DATA", "true").lower() in ("1", "true", "yes", "on"),
        )

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"


class StackError(RuntimeError):
    pass


def render_gateway(template: str, values: Mapping[str, str]) -> str:
    """The template with its ``${QX_...}`` placeholders filled in (nginx's own $variables stay);
    a placeholder without a value is an error, not an empty string nginx would choke on later."""
    missing = sorted({name for name in _PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise StackError(f"no value for {', '.join(missing)} in the gateway template")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


class Stack:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.dir = settings.directory
        self.pids = self.dir / "pids"
        self.logs = self.dir / "logs"

    # --- the plan ---------------------------------------------------------------------------

    def services(self) -> list[str]:
        from quxiang.common.service import discover_services

        return list(discover_services())

    def ports(self) -> dict[str, int]:
        return {name: self.settings.service_ports.get(name, self.settings.base_port + i)
                for i, name in enumerate(self.services())}

    def environment(self) -> dict[str, str]:
        """What every process of the stack runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("QX_STACK_")}
        ports = self.ports()
        env.update({
            "QX_DATA_DIR": str(self.dir / "data"),
            "QX_DATABASE_URL_TEMPLATE": self.settings.database_url_template,
            "QX_BROKER_URL": self.settings.broker_url,
            "QX_DEMO_DATA": "true" if self.settings.demo_data else "false",
            # Services call each other directly, not through the gateway.
            "QX_JWKS_URL": f"http://{self.settings.host}:{ports['accounts']}/api/accounts/.well-known/jwks.json",
            "QX_EMS_URL": f"http://{self.settings.host}:{ports['ems-sim']}/api/ems-sim",
            "QX_RECORDS_ID_KEY": os.environ.get("QX_RECORDS_ID_KEY") or self._records_key(),
            "QX_WEB_WORKERS": str(self.settings.web_workers),
            "QX_PROXY_HOPS": "1",  # the APIs sit behind the stack's nginx
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("QX_DATABASE_URL", None)  # one URL for every service would put them in one database
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each API gets its own below; workers none
        env.update(self.settings.env)
        return env

    # What an operator command (qx-records, qx-stats, ...) needs to act on the stack's databases and
    # broker as its services do; the ports and process settings stay the stack's own.
    OPERATOR_SETTINGS = ("QX_DATA_DIR", "QX_DATABASE_URL_TEMPLATE", "QX_BROKER_URL", "QX_DEMO_DATA",
                         "QX_RECORDS_ID_KEY", "QX_RECORDS_ID_OLD_KEYS", "QX_EXCHANGE", "QX_QUEUE_PREFIX",
                         "QX_EMS_URL")

    def exports(self) -> str:
        """``export NAME=value`` lines of the settings operator commands need (the identity-number key
        among them: it is the stack's own, kept in its data folder)."""
        env = self.environment()
        return "\n".join(f"export {name}={shlex.quote(env[name])}" for name in self.OPERATOR_SETTINGS if name in env)

    def _records_key(self) -> str:
        # One identity-number key for every records process, kept with the stack's data.
        path = self.dir / "data" / "records_id.key.b64"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def commands(self) -> list[tuple[str, list[str], dict[str, str]]]:
        """(name, argv, extra environment) of every long-running process but nginx."""
        from quxiang.common.service import discover_services

        ports = self.ports()
        plan: list[tuple[str, list[str], dict[str, str]]] = []
        for name, definition in discover_services().items():
            metrics = self.dir / "prometheus" / name
            plan.append((f"{name}-api", [
                _bin("gunicorn"), "-c", str(GUNICORN_CONF), f'quxiang.common.wsgi:app_for("{name}")'],
                {"QX_WEB_BIND": f"{self.settings.host}:{ports[name]}", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}))
            plan.append((f"{name}-consumer", [_bin("qx-consumer"), name], {}))
            if name not in NO_RELAY:
                plan.append((f"{name}-relay", [_bin("qx-relay"), name], {}))
            # The definition's default is a lambda answering no jobs; a service with jobs names its
            # function (calling it here would build its engines in this process).
            if getattr(definition.jobs, "__name__", "<lambda>") != "<lambda>":
                for replica in range(max(1, self.settings.jobs_replicas.get(name, 1))):
                    plan.append((f"{name}-jobs" + (f"-{replica + 1}" if replica else ""), [_bin("qx-jobs"), name], {}))
        return plan

    # --- up ---------------------------------------------------------------------------------

    def up(self, timeout: float = 180.0, out: TextIO = sys.stdout) -> None:
        started = time.monotonic()
        nginx = nginx_binary()
        if nginx is None:
            raise StackError("nginx is not installed (Debian: apt-get install nginx; `make stack` does it)")
        if self.running():
            raise StackError(f"a stack is already running from {self.dir} (stop it with `make stack-down`)")
        for folder in (self.pids, self.logs, self.dir / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        self.ensure_vhost()
        env = self.environment()
        try:
            self._run_once("migrate", [sys.executable, "-m", "quxiang.common.suite", "--migrate-only"], env,
                           timeout=timeout)
            for name, argv, extra in self.commands():
                self._spawn(name, argv, {**env, **extra})
            self._spawn("nginx", self._nginx_command(nginx), env)
            self.wait_ready(timeout=max(10.0, timeout - (time.monotonic() - started)))
        except BaseException:
            self.down()
            raise
        self._say(out, started)

    def _say(self, out: TextIO, started: float) -> None:
        lines = [f"Quxiang stack ready in {time.monotonic() - started:.0f}s: {self.settings.gateway_url}/",
                 f"  APIs at {self.settings.gateway_url}/api/<service>/ (docs: /api/<service>/docs); "
                 f"logs in {self.logs}",
                 f"  demo logins (password {DEMO_PASSWORD}):"]
        lines += [f"    {username:<14} {role}" for role, username in DEMO_LOGINS]
        lines.append("  stop it with: make stack-down")
        print("\n".join(lines), file=out)

    def ensure_vhost(self) -> None:
        """Create the broker URL's vhost on a local RabbitMQ when it is missing (rabbitmqctl)."""
        parts = urlsplit(self.settings.broker_url)
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        if vhost == "/" or parts.hostname not in ("127.0.0.1", "localhost", "::1") or not shutil.which("rabbitmqctl"):
            return
        if _vhost_reachable(self.settings.broker_url):
            return  # rabbitmqctl starts an Erlang VM per call: seconds, so only when needed
        subprocess.run(["rabbitmqctl", "add_vhost", vhost], capture_output=True, timeout=60, check=False)
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*"],
                       capture_output=True, timeout=60, check=True)

    def _run_once(self, name: str, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            done = subprocess.run(argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                                  cwd=self.dir, check=False)
        if done.returncode != 0:
            raise StackError(f"{name} failed (exit {done.returncode}); see {self.logs / f'{name}.log'}:\n"
                             + self.tail(name))

    def _spawn(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        try:
            # Its own session: one killpg stops the process and everything it forked.
            process = subprocess.Popen(argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=self.dir, start_new_session=True)
        finally:
            log.close()
        (self.pids / f"{name}.pid").write_text(str(process.pid))

    def _nginx_command(self, nginx: str) -> list[str]:
        root = self.dir / "nginx"
        root.mkdir(parents=True, exist_ok=True)
        temp = self.nginx_temp()
        temp.mkdir(parents=True, exist_ok=True)
        ports = self.ports()
        values = {"QX_GATEWAY_LISTEN": f"{self.settings.host}:{self.settings.gateway_port}",
                  "QX_CONSOLE_ROOT": str(self.settings.console_root)}
        values |= {f"QX_UPSTREAM_{name.upper().replace('-', '_')}": f"{self.settings.host}:{port}"
                   for name, port in ports.items()}
        (root / "gateway.conf").write_text(render_gateway(GATEWAY_TEMPLATE.read_text(), values))
        user = ""
        if os.geteuid() == 0:
            # nginx's workers drop root to nobody; they write request bodies to the temp folders.
            shutil.chown(temp, "nobody", "nogroup")
            temp.chmod(0o700)
            user = "user nobody nogroup;\n"
        mime = "include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
        (root / "nginx.conf").write_text(
            "# Written by quxiang.common.stack; the gateway itself is gateway.conf.\n"
            f"{user}daemon off;\nworker_processes 1;\npid {root / 'nginx.pid'};\nerror_log stderr warn;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"    {mime}    default_type application/octet-stream;\n"
            f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
            f"    scgi_temp_path {temp}/scgi;\n"
            f"    include {root / 'gateway.conf'};\n"
            "}\n")
        test = subprocess.run([nginx, "-t", "-q", "-p", str(root), "-e", "stderr", "-c", str(root / "nginx.conf")],
                              capture_output=True, text=True, check=False)
        if test.returncode != 0:
            raise StackError(f"nginx refuses the gateway config:\n{test.stderr}")
        return [nginx, "-p", str(root), "-e", "stderr", "-c", str(root / "nginx.conf")]

    def nginx_temp(self) -> Path:
        """Where nginx's workers buffer request and response bodies. Under the system's temp folder,
        not the stack's: as root, nginx's workers run as nobody, who may not reach the stack's folder
        (a test's is under a private /tmp/pytest-of-root)."""
        digest = hashlib.sha256(str(self.dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"qx-stack-nginx-{digest}"

    def wait_ready(self, timeout: float) -> None:
        """Every service's /readyz answers 200 through the gateway; a process that died is reported."""
        deadline = time.monotonic() + timeout
        waiting = self.services()
        while waiting:
            dead = [name for name, pid in self.recorded().items() if not _alive(pid)]
            if dead:
                raise StackError(f"stopped during start: {', '.join(dead)}\n"
                                 + "\n".join(f"--- {name}\n{self.tail(name)}" for name in dead))
            waiting = [name for name in waiting if not self._ready(name)]
            if waiting and time.monotonic() > deadline:
                raise StackError(f"not ready within {timeout:.0f}s: {', '.join(waiting)}\n"
                                 + "\n".join(f"--- {n}-api\n{self.tail(f'{n}-api')}" for n in waiting))
            if waiting:
                time.sleep(0.3)

    def _ready(self, service: str) -> bool:
        try:
            with urllib.request.urlopen(f"{self.settings.gateway_url}/api/{service}/readyz", timeout=5) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- down -------------------------------------------------------------------------------

    def recorded(self) -> dict[str, int]:
        if not self.pids.exists():
            return {}
        found = {}
        for path in sorted(self.pids.glob("*.pid")):
            try:
                found[path.stem] = int(path.read_text().strip())
            except ValueError:
                path.unlink()
        return found

    def running(self) -> dict[str, int]:
        return {name: pid for name, pid in self.recorded().items() if _alive(pid)}

    def down(self, timeout: float = 20.0) -> list[str]:
        """SIGTERM every process group (nginx: SIGQUIT, its graceful stop), SIGKILL what is left
        after ``timeout``; answers the names that had to be killed."""
        groups = self.recorded()
        for name, pid in groups.items():
            _signal_group(pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(_group_alive(pid) for pid in groups.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        killed = [name for name, pid in groups.items() if _group_alive(pid)]
        for name in killed:
            _signal_group(groups[name], signal.SIGKILL)
        for name in groups:
            (self.pids / f"{name}.pid").unlink(missing_ok=True)
        shutil.rmtree(self.nginx_temp(), ignore_errors=True)
        return killed

    def purge(self) -> None:
        """Drop the stack's databases and its vhost (after ``down``)."""
        from quxiang.common.config import load_config
        from quxiang.common.migrations import drop_database

        env = self.environment()
        saved = {k: os.environ.get(k) for k in ("QX_DATABASE_URL_TEMPLATE", "QX_DATABASE_URL")}
        os.environ["QX_DATABASE_URL_TEMPLATE"] = env["QX_DATABASE_URL_TEMPLATE"]
        os.environ.pop("QX_DATABASE_URL", None)
        try:
            for name in self.services():
                drop_database(load_config(name).database_url_for(name))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        parts = urlsplit(self.settings.broker_url)
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        if vhost != "/" and shutil.which("rabbitmqctl"):
            subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60, check=False)


def _vhost_reachable(broker_url: str) -> bool:
    import amqp

    parts = urlsplit(broker_url)
    connection = amqp.Connection(host=f"{parts.hostname}:{parts.port or 5672}",
                                 userid=unquote(parts.username or "guest"), password=unquote(parts.password or "guest"),
                                 virtual_host=unquote(parts.path[1:]) or "/", connect_timeout=5)
    try:
        connection.connect()
    except Exception:  # noqa: BLE001 - missing vhost, refused access or no broker: rabbitmqctl will tell
        return False
    else:
        connection.close()
        return True


def _reap(pid: int) -> None:
    # A stack started by this process (a test's) has its leaders as children: an exited one stays
    # a zombie, alive to kill(0), until reaped.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m quxiang.common.stack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the stack and wait until every service is ready through the gateway")
    down = sub.add_parser("down", help="stop every process of the stack")
    down.add_argument("--purge", action="store_true", help="also drop its databases and its RabbitMQ vhost")
    sub.add_parser("status", help="list the stack's processes")
    sub.add_parser("env", help="the settings its processes run with, as shell exports, for operator commands: "
                               'eval "$(python -m quxiang.common.stack env)"')
    args = parser.parse_args(argv)
    stack = Stack(StackSettings.from_environment())
    try:
        if args.command == "up":
            stack.up()
        elif args.command == "down":
            killed = stack.down()
            if killed:
                print(f"killed after the grace period: {', '.join(killed)}")
            if args.purge:
                stack.purge()
            print(f"stack in {stack.dir} stopped" + (" and purged" if args.purge else ""))
        elif args.command == "env":
            print(stack.exports())
        else:
            for name, pid in stack.recorded().items():
                print(f"{name:<24} {pid:>8} {'running' if _alive(pid) else 'stopped'}")
    except StackError as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
