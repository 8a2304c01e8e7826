"""What `make stack` would start, and with which settings, without starting anything."""

from __future__ import annotations

from pathlib import Path

from quxiang.common.stack import GUNICORN_CONF, Stack, StackSettings


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = StackSettings.from_environment({
        "QX_STACK_DIR": str(tmp_path), "QX_STACK_GATEWAY_PORT": "9080", "QX_STACK_BASE_PORT": "9100",
        "QX_STACK_DATABASE_URL_TEMPLATE": "postgresql+psycopg://postgres@db/x_{service}",
        "QX_STACK_BROKER_URL": "amqp://guest:guest@mq:5672/v", "QX_STACK_WEB_WORKERS": "3",
        "QX_CONSOLE_ROOT": str(tmp_path / "console"), "QX_DEMO_DATA": "false"})
    assert (settings.directory, settings.gateway_port, settings.web_workers) == (tmp_path, 9080, 3)
    assert settings.console_root == tmp_path / "console" and settings.demo_data is False
    assert settings.gateway_url == "http://127.0.0.1:9080"
    defaults = StackSettings.from_environment({})
    assert defaults.gateway_port == 8080 and defaults.directory.parts[-2:] == ("var", "stack")


def test_every_service_runs_its_api_consumers_relay_and_jobs(tmp_path: Path) -> None:
    stack = Stack(StackSettings(directory=tmp_path, base_port=9100, service_ports={"stats": 7001}))
    plan = {name: (argv, extra) for name, argv, extra in stack.commands()}
    services = stack.services()
    assert {"accounts", "records", "signing", "stats", "sync-gateway", "ems-sim"} <= set(services)
    for service in services:
        argv, extra = plan[f"{service}-api"]
        assert argv[1:] == ["-c", str(GUNICORN_CONF), f'quxiang.common.wsgi:app_for("{service}")']
        assert extra["QX_WEB_BIND"].endswith(f":{stack.ports()[service]}")
        assert extra["PROMETHEUS_MULTIPROC_DIR"].startswith(str(tmp_path))
        assert plan[f"{service}-consumer"][0][1:] == [service]
    assert plan["stats-api"][1]["QX_WEB_BIND"] == "127.0.0.1:7001"
    assert "ems-sim-relay" not in plan and "records-relay" in plan
    # Only the services with scheduled jobs get a qx-jobs process (it refuses to run without any).
    assert sorted(name for name in plan if name.endswith("-jobs")) == ["signing-jobs", "sync-gateway-jobs"]

    env = stack.environment()
    ports = stack.ports()
    assert env["QX_JWKS_URL"] == f"http://127.0.0.1:{ports['accounts']}/api/accounts/.well-known/jwks.json"
    assert env["QX_EMS_URL"] == f"http://127.0.0.1:{ports['ems-sim']}/api/ems-sim"
    assert env["QX_RECORDS_ID_KEY"] == stack.environment()["QX_RECORDS_ID_KEY"]  # one key for every process
    assert "QX_DATABASE_URL" not in env


def test_a_service_s_jobs_can_run_as_several_processes(tmp_path: Path) -> None:
    stack = Stack(StackSettings(directory=tmp_path, jobs_replicas={"signing": 3, "stats": 2}))
    plan = {name: argv for name, argv, _ in stack.commands()}
    signing_jobs = sorted(name for name in plan if name.startswith("signing-jobs"))
    assert signing_jobs == ["signing-jobs", "signing-jobs-2", "signing-jobs-3"]
    assert {tuple(plan[name][1:]) for name in signing_jobs} == {("signing",)}
    assert [name for name in plan if name.startswith("sync-gateway-jobs")] == ["sync-gateway-jobs"]
    assert not any(name.startswith("stats-jobs") for name in plan)  # no jobs to run: no process either


def test_env_gives_operator_commands_the_stack_s_databases_broker_and_key(tmp_path: Path) -> None:
    import shlex
    import subprocess
    import sys

    stack = Stack(StackSettings(directory=tmp_path,
                                database_url_template="postgresql+psycopg://postgres@db/st_{service}"))
    exported = dict(line.removeprefix("export ").split("=", 1) for line in stack.exports().splitlines())
    values = {k: shlex.split(v)[0] for k, v in exported.items()}
    assert values["QX_DATABASE_URL_TEMPLATE"] == "postgresql+psycopg://postgres@db/st_{service}"
    assert values["QX_RECORDS_ID_KEY"] == (tmp_path / "data" / "records_id.key.b64").read_text().strip()
    assert values["QX_DATA_DIR"] == str(tmp_path / "data") and "QX_BROKER_URL" in values
    # a shell that evaluates them runs an operator command against the stack's settings
    script = f'eval "$({sys.executable} -m quxiang.common.stack env)"; echo "$QX_RECORDS_ID_KEY"'
    shown = subprocess.run(["bash", "-c", script], env={"QX_STACK_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == values["QX_RECORDS_ID_KEY"]
