"""compose.yaml: valid against the Compose specification, every service's API and worker there,
healthchecks, start order, the environment each process needs, and no secret written into it."""

from __future__ import annotations

import importlib.resources
import json
import re
import shlex
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from quxiang.common.config import SETTINGS, load_config

ROOT = Path(__file__).resolve().parents[2]

APP_IMAGE_SERVICES_EXTRA = {"migrations"}
INFRA = {"postgres", "rabbitmq", "gateway", "prometheus", "grafana"}
SECRET_NAME = re.compile(r"PASS|KEY|SECRET|TOKEN", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


def _app_services(compose: dict) -> dict[str, dict]:
    return {name: spec for name, spec in compose["services"].items() if name not in INFRA}


def _env(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _interpolate(value: str, given: dict[str, str] | None = None) -> str:
    """What compose makes of a value: required variables get a stand-in, defaults apply."""
    given = given or {}

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"]
        if name in given:
            return given[name]
        if op.endswith("?"):
            return f"stand-in-{name.lower()}"
        return arg if op.endswith("-") else ""

    return INTERPOLATION.sub(replace, value)


def _command(spec: dict) -> list[str]:
    command = spec["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_compose_file_is_valid_against_the_compose_specification(compose: dict) -> None:
    schema = json.loads((importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
                         / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_specification_check_catches_a_broken_file(compose: dict) -> None:
    schema = json.loads((importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
                         / "compose-spec.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["accounts-api"]["healthcheck"]["interval"] = ["10s"]
    broken["services"]["accounts-api"]["depends_on"]["migrations"]["condition"] = "service_finished"
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))
    assert len(errors) >= 2


def test_every_service_has_its_api_and_worker(compose: dict, services: dict[str, Any]) -> None:
    for name, facts in services.items():
        api = compose["services"].get(f"{name}-api")
        worker = compose["services"].get(f"{name}-worker")
        assert api is not None, f"compose.yaml has no {name}-api"
        assert worker is not None, f"compose.yaml has no {name}-worker"
        assert _command(api) == ["gunicorn", "-c", "deploy/gunicorn.conf.py", f'quxiang.common.wsgi:app_for("{name}")']
        expected = ["python", "deploy/docker/qx_worker.py", name, "relay", "consumer"]
        if facts.has_jobs:
            expected.append("jobs")  # qx-jobs refuses a service without jobs, which would stop the worker
        assert _command(worker) == expected, f"{name}-worker runs {_command(worker)}"
    known = {f"{n}-{kind}" for n in services for kind in ("api", "worker")} | APP_IMAGE_SERVICES_EXTRA
    assert set(_app_services(compose)) == known, "a container for a service that is not installed"


def test_app_containers_share_one_image_built_from_the_dockerfile(compose: dict) -> None:
    images = set()
    for name, spec in _app_services(compose).items():
        build = spec.get("build")
        assert build and build["context"] == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile", name
        images.add(spec["image"])
        assert spec.get("restart") in {"unless-stopped", "always"} or name == "migrations"
    assert len(images) == 1
    assert (ROOT / "Dockerfile").is_file()


def test_every_long_running_container_has_a_healthcheck(compose: dict) -> None:
    for name, spec in compose["services"].items():
        if name == "migrations":
            assert spec.get("restart") == "no"  # a one-shot: done is done
            continue
        health = spec.get("healthcheck")
        assert health and health.get("test"), f"{name} has no healthcheck"
        test = " ".join(health["test"])
        if name.endswith("-api"):
            assert "/readyz" in test and ":8000" in test, f"{name} should check readiness (database and broker)"
        if name.endswith("-worker"):
            assert ":9100/metrics" in test, name


def test_start_order(compose: dict, services: dict[str, Any]) -> None:
    specs = compose["services"]
    graph = {name: set(spec.get("depends_on") or {}) for name, spec in specs.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - reported as the failure
        pytest.fail(f"depends_on has a cycle: {exc.args[1]}")
    assert order.index("migrations") > max(order.index("postgres"), order.index("rabbitmq"))
    for target, condition in (specs["migrations"]["depends_on"]).items():
        assert condition["condition"] == "service_healthy", target
    for name in services:
        for kind in ("api", "worker"):
            deps = specs[f"{name}-{kind}"]["depends_on"]
            assert deps["migrations"]["condition"] == "service_completed_successfully", f"{name}-{kind}"
        assert specs["gateway"]["depends_on"][f"{name}-api"]["condition"] == "service_healthy"
    for name, spec in specs.items():
        for target, condition in (spec.get("depends_on") or {}).items():
            assert target in specs, f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert specs[target].get("healthcheck"), f"{name} waits for {target}, which has no healthcheck"
            if condition["condition"] == "service_completed_successfully":
                assert specs[target].get("restart") == "no", f"{target} never completes"


def test_referenced_files_exist(compose: dict) -> None:
    for name, spec in compose["services"].items():
        for volume in spec.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                # The console's files come with the console work; the mount itself is what matters here.
                if source == "./console" and not (ROOT / "console").exists():
                    continue
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        if "command" in spec:
            for word in _command(spec):
                for path in re.findall(r"deploy/[\w./-]+\.\w+", word):
                    assert (ROOT / path).is_file(), f"{name} runs missing {path}"
    copied = re.findall(r"^COPY\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    for source in copied:
        assert (ROOT / source).exists(), f"the Dockerfile copies missing {source}"


def test_the_dockerfile_installs_every_service(services: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    for path in sorted((ROOT / "services").glob("*/pyproject.toml")):
        folder = path.parent.relative_to(ROOT).as_posix()
        assert f"-e {folder}" in dockerfile, f"the image does not install {folder}"
        assert f"COPY {folder}/pyproject.toml" in dockerfile, f"the image does not resolve {folder}'s dependencies"
    for needed in ("!requirements.lock", "!libs/", "!services/", "!deploy/gunicorn.conf.py", "!deploy/docker/",
                   "!deploy/rabbitmq/"):
        assert needed in dockerignore, f".dockerignore leaves out {needed}"
    assert "fonts-wqy-microhei" in dockerfile and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^USER (?!0\b|root\b)\S+", dockerfile, re.MULTILINE), "the image must not run as root"


def test_every_process_gets_the_configuration_it_needs(compose: dict, services: dict[str, Any]) -> None:
    for name, spec in _app_services(compose).items():
        env = {k: _interpolate(v) for k, v in _env(spec).items()}
        service = name.rsplit("-", 1)[0] if name != "migrations" else "accounts"
        config = load_config(service, env)  # refuses a template without {service}, a bad broker URL...
        assert config.database_url_for(service).startswith("postgresql+psycopg://"), name
        assert "@postgres:5432/" in config.database_url_for(service), name
        assert config.broker_url.startswith("amqp://") and "@rabbitmq:5672/" in config.broker_url, name
        assert config.jwks_url.startswith("http://accounts-api:8000/api/accounts/"), name
        holds_key = service == "records" or name == "migrations"  # migrations build every service's app
        assert bool(env.get("QX_RECORDS_ID_KEY")) == holds_key, f"{name}: only records holds the key"
        if service == "sync-gateway":
            assert env["QX_EMS_URL"] == "http://ems-sim-api:8000/api/ems-sim"
            # the school feed's broker users (docs/feed.md)
            assert env["QX_BROKER_ADMIN_URL"].startswith("http://quxiang:"), name
    migrations = _env(compose["services"]["migrations"])
    assert migrations.get("QX_BROKER_ADMIN_URL", "").startswith("http://"), "load_definitions needs the management API"


def test_only_known_settings_are_set(compose: dict) -> None:
    documented = set(re.findall(r"`(QX_[A-Z0-9_]+)`", (ROOT / "docs/configuration.md").read_text()))
    known = documented | {s.env for s in SETTINGS} | {"QX_BROKER_ADMIN_URL"}
    for name, spec in _app_services(compose).items():
        unknown = {k for k in _env(spec) if k.startswith("QX_")} - known
        assert not unknown, f"{name} sets {unknown}: a typo, or a setting docs/configuration.md does not know"


def test_no_secret_is_written_into_the_file(compose: dict) -> None:
    raw = (ROOT / "compose.yaml").read_text()
    for name, spec in compose["services"].items():
        for key, value in _env(spec).items():
            secret = SECRET_NAME.search(key) and not key.endswith("_USER")
            with_credentials = re.search(r"://[^/@\s]*:[^/@\s]*@", value)
            if not (secret or with_credentials):
                continue
            if key == "QX_RECORDS_ID_OLD_KEYS":
                assert value == "${QX_RECORDS_ID_OLD_KEYS:-}", name
                continue
            parts = INTERPOLATION.findall(value)
            assert parts, f"{name}: {key} holds a literal secret"
            if secret:
                assert INTERPOLATION.fullmatch(value), f"{name}: {key} must be exactly one variable"
            for _var, op, _arg in parts:
                if (with_credentials and _var in {"QX_POSTGRES_PASSWORD", "QX_RABBITMQ_PASSWORD"}) or secret:
                    assert op == ":?", f"{name}: {key} must not fall back to a default secret"
    assert "guest:guest" not in raw


def test_the_secret_check_catches_a_literal() -> None:
    spec = {"environment": {"QX_RECORDS_ID_KEY": "c2VjcmV0"}}
    assert not INTERPOLATION.findall(_env(spec)["QX_RECORDS_ID_KEY"])
    assert _interpolate("${A:-x}/${B:?need}/${C}", {"C": "c"}) == "x/stand-in-b/c"


def test_env_example_lists_every_required_variable() -> None:
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "compose.yaml").read_text()))
    example = (ROOT / "deploy/compose.env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    assert required <= listed, f"deploy/compose.env.example misses {required - listed}"


def test_gateway_fills_every_placeholder_of_the_template(compose: dict, services: dict[str, Any]) -> None:
    template = ROOT / "deploy/nginx/gateway.conf.template"
    placeholders = set(re.findall(r"\$\{(QX_[A-Z_]+)\}", template.read_text()))
    gateway = compose["services"]["gateway"]
    env = _env(gateway)
    assert placeholders <= set(env), f"the gateway leaves {placeholders - set(env)} unset"
    for name in services:
        upstream = env[f"QX_UPSTREAM_{name.upper().replace('-', '_')}"]
        assert upstream == f"{name}-api:8000"
    mounts = gateway["volumes"]
    assert any(m.startswith("./deploy/nginx/gateway.conf.template:/etc/nginx/templates/") for m in mounts)
    assert any(m.split(":")[1] == env["QX_CONSOLE_ROOT"] for m in mounts), "the console folder is not mounted"


def test_prometheus_scrapes_every_api_and_worker(compose: dict, services: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets: dict[str, set[str]] = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.setdefault(job["job_name"], set()).update(static["targets"])
    for name in services:
        assert f"{name}-api:8000" in targets["quxiang-api"], name
        assert f"{name}-worker:9100" in targets["quxiang-worker"], name
    every = set().union(*targets.values())
    hosts = {t.split(":")[0] for t in every} - {"127.0.0.1"}
    assert hosts <= set(compose["services"]), f"scrapes {hosts - set(compose['services'])}"
    assert "rabbitmq:15692" in targets["rabbitmq"]
    plugins = (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins


def _metric_names_in_code() -> set[str]:
    names = set()
    for path in [*ROOT.glob("libs/common/quxiang/**/*.py"), *ROOT.glob("services/*/quxiang/**/*.py")]:
        names.update(re.findall(r"""["'](qx_[a-z_]+)["']""", path.read_text(encoding="utf-8")))
    return names


def test_dashboard_reads_metrics_the_code_exports() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/quxiang.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {re.sub(r"_(bucket|total|count|sum)$", "", m) for e in exprs for m in re.findall(r"\bqx_[a-z_]+", e)}
    missing = used - _metric_names_in_code()
    assert not missing, f"the dashboard reads metrics no code exports: {missing}"
    for key in ("qx_http_request_duration_seconds", "qx_outbox_backlog", "qx_outbox_oldest_age_seconds",
                "qx_sync_lag_seconds"):
        assert key in used, f"the dashboard lacks {key}"
    text = " ".join(exprs)
    assert "rabbitmq_queue_messages_ready" in text and '.dlq"' in text, "consumer lag and DLQ depth panels"
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yaml").read_text())
    uids = {d["uid"] for d in datasource["datasources"]}
    assert {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])} <= uids

