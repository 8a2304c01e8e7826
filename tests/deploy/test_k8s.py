"""deploy/k8s: every manifest valid against the Kubernetes schemas (kubernetes-validate, offline),
the KEDA objects checked for their structure, every service's API and worker there with probes,
resources, budgets and autoscaling, and secrets only in Secrets."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from quxiang.common.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests promise to work on
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
SECRET_NAME = re.compile(r"PASS|KEY|SECRET|TOKEN|_URL_TEMPLATE|BROKER_URL|ADMIN_URL", re.IGNORECASE)
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]*@")


def _by(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def _pod_labels(obj: dict) -> dict[str, str]:
    return obj["spec"]["template"]["metadata"]["labels"]


def test_generated_service_files_are_up_to_date(services: dict[str, Any], k8s_generator: ModuleType) -> None:
    folder = ROOT / "deploy/k8s/base/services"
    for name, facts in services.items():
        info = k8s_generator.ServiceInfo(name, facts.consumers, facts.has_jobs)
        path = folder / f"{name}.yaml"
        assert path.exists() and path.read_text(encoding="utf-8") == k8s_generator.render(info), (
            f"{path.relative_to(ROOT)} is out of date: run .venv/bin/python deploy/k8s/generate.py "
            "(and list a new service's file in deploy/k8s/base/kustomization.yaml)")
    assert {p.stem for p in folder.glob("*.yaml")} == set(services), "a file for a service that is not installed"


def test_the_generator_script_checks_and_writes(tmp_path: Path, k8s_generator: ModuleType,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    info = k8s_generator.ServiceInfo("demo", ("demo.auth",), False)
    monkeypatch.setattr(k8s_generator, "installed_services", lambda: [info])
    monkeypatch.setattr(k8s_generator, "SERVICES_DIR", tmp_path)
    monkeypatch.setattr(k8s_generator, "HERE", tmp_path)
    assert k8s_generator.main(["--check"]) == 1  # missing
    assert k8s_generator.main([]) == 0
    assert k8s_generator.main(["--check"]) == 0
    (tmp_path / "gone.yaml").write_text("")
    assert k8s_generator.main(["--check"]) == 1  # a service that is not installed


def test_every_manifest_is_valid_against_the_kubernetes_schemas(k8s_builds: dict[str, list[dict]]) -> None:
    checked = 0
    for build, objects in k8s_builds.items():
        for obj in objects:
            if obj["kind"] in KEDA_KINDS:
                continue
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{build}: {obj['kind']} {obj['metadata']['name']}: {exc.message} at "
                            f"{'/'.join(map(str, exc.path))}")
            checked += 1
    assert checked > 30


def test_the_validator_refuses_a_broken_manifest(k8s_builds: dict[str, list[dict]]) -> None:
    hpa = yaml.safe_load(yaml.safe_dump(_by(k8s_builds["base"], "HorizontalPodAutoscaler", "signing-api")))
    hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] = "seventy"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)
    deployment = yaml.safe_load(yaml.safe_dump(_by(k8s_builds["base"], "Deployment", "signing-api")))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def _check_scaled_object(obj: dict, objects: list[dict]) -> list[str]:
    """KEDA's ScaledObject is a CRD, not in the Kubernetes schemas: its structure, checked here."""
    problems = []
    if obj.get("apiVersion") != "keda.sh/v1alpha1":
        problems.append("apiVersion must be keda.sh/v1alpha1")
    spec = obj.get("spec", {})
    allowed = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod",
               "triggers", "advanced", "fallback", "idleReplicaCount", "initialCooldownPeriod"}
    problems += [f"unknown spec field {k}" for k in set(spec) - allowed]
    target = spec.get("scaleTargetRef", {}).get("name")
    deployments = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == target]
    if not deployments:
        problems.append(f"scaleTargetRef {target!r} is no Deployment")
    low, high = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        problems.append("minReplicaCount/maxReplicaCount must be integers, min <= max")
    auths = {o["metadata"]["name"] for o in objects if o["kind"] == "TriggerAuthentication"}
    triggers = spec.get("triggers") or []
    if not triggers:
        problems.append("no triggers")
    for trigger in triggers:
        metadata = trigger.get("metadata", {})
        if trigger.get("type") != "rabbitmq":
            problems.append(f"trigger type {trigger.get('type')!r}")
        if metadata.get("mode") not in {"QueueLength", "MessageRate"}:
            problems.append(f"mode {metadata.get('mode')!r}")
        value = metadata.get("value")
        if not (isinstance(value, str) and value.isdigit()):  # KEDA's metadata is a map of strings
            problems.append("value must be a number as a string")
        if metadata.get("protocol") not in {"amqp", "http", "auto"}:
            problems.append(f"protocol {metadata.get('protocol')!r}")
        if "host" in metadata:
            problems.append("host in metadata would put the broker's password in the manifest")
        if trigger.get("authenticationRef", {}).get("name") not in auths:
            problems.append(f"authenticationRef {trigger.get('authenticationRef')} is no TriggerAuthentication")
    return problems


def test_keda_objects_have_the_structure_keda_expects(k8s_builds: dict[str, list[dict]]) -> None:
    for build, objects in k8s_builds.items():
        for obj in objects:
            if obj["kind"] == "ScaledObject":
                assert not _check_scaled_object(obj, objects), (build, obj["metadata"]["name"])
            if obj["kind"] == "TriggerAuthentication":
                assert obj["apiVersion"] == "keda.sh/v1alpha1"
                for ref in obj["spec"]["secretTargetRef"]:
                    assert set(ref) == {"parameter", "name", "key"} and ref["parameter"] == "host"


def test_the_scaled_object_check_catches_mistakes(k8s_builds: dict[str, list[dict]]) -> None:
    objects = k8s_builds["base"]
    broken = yaml.safe_load(yaml.safe_dump(_by(objects, "ScaledObject", "stats-worker")))
    broken["spec"]["scaleTargetRef"]["name"] = "stats-workers"
    broken["spec"]["triggers"][0]["metadata"]["host"] = "amqp://quxiang:secret@rabbitmq:5672/"
    broken["spec"]["triggers"][0]["metadata"]["value"] = 1000
    broken["spec"]["minReplicas"] = 1
    assert len(_check_scaled_object(broken, objects)) == 4


def test_every_service_has_its_api_and_worker(k8s_builds: dict[str, list[dict]], services: dict[str, Any]) -> None:
    objects = k8s_builds["base"]
    for name, facts in services.items():
        api = _by(objects, "Deployment", f"{name}-api")
        (container,) = api["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py",
                                        f'quxiang.common.wsgi:app_for("{name}")']
        service = _by(objects, "Service", f"{name}-api")
        assert service["spec"]["selector"].items() <= _pod_labels(api).items()
        assert service["spec"]["ports"][0]["port"] == 8000
        hpa = _by(objects, "HorizontalPodAutoscaler", f"{name}-api")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-api"}
        worker = _by(objects, "Deployment", f"{name}-worker")
        (container,) = worker["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "deploy/docker/qx_worker.py", name, "relay", "consumer",
                                        *(["jobs"] if facts.has_jobs else [])]
        for component in ("api", "worker"):
            budget = _by(objects, "PodDisruptionBudget", f"{name}-{component}")
            deployment = _by(objects, "Deployment", f"{name}-{component}")
            assert budget["spec"]["selector"]["matchLabels"].items() <= _pod_labels(deployment).items()
        scaled = _by(objects, "ScaledObject", f"{name}-worker")
        queues = {t["metadata"]["queueName"] for t in scaled["spec"]["triggers"]}
        assert queues == {f"qx.{consumer}" for consumer in facts.consumers}, f"{name}: scale on every consumer queue"
        # KEDA makes its own HPA for the worker: a second one would fight it.
        assert not [h for h in objects if h["kind"] == "HorizontalPodAutoscaler"
                    and h["spec"]["scaleTargetRef"]["name"] == f"{name}-worker"]
    for component in ("api", "worker"):
        deployment = _by(objects, "Deployment", f"sync-gateway-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        sources = {s.get("secretRef", {}).get("name") for s in container["envFrom"]}
        assert "quxiang-broker-admin" in sources, "the school feed makes broker users (docs/feed.md)"
    listed = yaml.safe_load((ROOT / "deploy/k8s/base/kustomization.yaml").read_text())["resources"]
    assert {f"services/{name}.yaml" for name in services} <= set(listed)


def test_probes_and_resources(k8s_builds: dict[str, list[dict]], k8s_helpers: ModuleType) -> None:
    objects = k8s_builds["base"]
    for obj in objects:
        spec = k8s_helpers.pod_spec(obj)
        if spec is None:
            continue
        for container in spec["containers"]:
            resources = container.get("resources", {})
            where = f"{obj['kind']} {obj['metadata']['name']}"
            assert resources.get("requests", {}).keys() >= {"cpu", "memory"}, where
            assert "memory" in resources.get("limits", {}), where
            if obj["kind"] == "Deployment":
                assert "livenessProbe" in container, where
        name = obj["metadata"]["name"]
        if obj["kind"] == "Deployment" and name.endswith("-api"):
            container = spec["containers"][0]
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"  # never the dependencies
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["ports"][0]["containerPort"] == 8000
            assert spec.get("securityContext", {}).get("runAsNonRoot") is True


def test_secrets_stay_in_secrets(k8s_builds: dict[str, list[dict]], k8s_helpers: ModuleType) -> None:
    for build, objects in k8s_builds.items():
        assert not [o for o in objects if o["kind"] == "Secret"], "Secrets are made by the operator, not committed"
        for obj in objects:
            if obj["kind"] == "ConfigMap":
                for key, value in obj["data"].items():
                    assert not SECRET_NAME.search(key) and not CREDENTIALS_IN_URL.search(value), (build, key)
        for container in k8s_helpers.containers(objects):
            for item in container.get("env", []):
                if SECRET_NAME.search(item["name"]):
                    assert "secretKeyRef" in item.get("valueFrom", {}), f"{item['name']} must come from a Secret"
                assert not CREDENTIALS_IN_URL.search(str(item.get("value", "")))


def test_every_secret_the_manifests_read_is_documented(k8s_builds: dict[str, list[dict]],
                                                       k8s_helpers: ModuleType) -> None:
    operations = (ROOT / "docs/operations.md").read_text()
    objects = k8s_builds["base"]
    referenced: set[tuple[str, str | None]] = set()
    for container in k8s_helpers.containers(objects):
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                referenced.add((source["secretRef"]["name"], None))
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                referenced.add((ref["name"], ref["key"]))
    for obj in objects:
        if obj["kind"] == "TriggerAuthentication":
            referenced.update((ref["name"], ref["key"]) for ref in obj["spec"]["secretTargetRef"])
    for name, key in referenced:
        assert f"create secret generic {name}" in operations, f"docs/operations.md: how to create {name}"
        if key:
            assert key in operations


def test_configuration_names_only_known_settings(k8s_builds: dict[str, list[dict]], k8s_helpers: ModuleType) -> None:
    documented = set(re.findall(r"`(QX_[A-Z0-9_]+)`", (ROOT / "docs/configuration.md").read_text()))
    known = documented | {s.env for s in SETTINGS} | {"QX_BROKER_ADMIN_URL", "QX_WEB_WORKERS"}
    config = _by(k8s_builds["base"], "ConfigMap", "quxiang-config")
    assert set(config["data"]) <= known
    assert config["data"]["QX_JWKS_URL"].startswith("http://accounts-api:8000/api/accounts/")
    assert config["data"]["QX_EMS_URL"] == "http://ems-sim-api:8000/api/ems-sim"
    for container in k8s_helpers.containers(k8s_builds["base"]):
        assert {e["name"] for e in container.get("env", []) if e["name"].startswith("QX_")} <= known


def test_migrations_job_does_what_compose_does(k8s_builds: dict[str, list[dict]], compose: dict) -> None:
    job = _by(k8s_builds["base"], "Job", "migrations")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == compose["services"]["migrations"]["command"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    sources = {s.get("secretRef", {}).get("name") for s in container["envFrom"]}
    assert {"quxiang-connections", "quxiang-broker-admin"} <= sources
    assert "QX_RECORDS_ID_KEY" in {e["name"] for e in container["env"]}


def test_gateway_routes_to_every_service(k8s_builds: dict[str, list[dict]], services: dict[str, Any]) -> None:
    objects = k8s_builds["base"]
    placeholders = set(re.findall(r"\$\{(QX_[A-Z_]+)\}", (ROOT / "deploy/nginx/gateway.conf.template").read_text()))
    config = _by(objects, "ConfigMap", "quxiang-gateway")["data"]
    assert placeholders <= set(config)
    for name in services:
        upstream = config[f"QX_UPSTREAM_{name.upper().replace('-', '_')}"]
        host, port = upstream.split(":")
        assert _by(objects, "Service", host)["spec"]["ports"][0]["port"] == int(port)
    gateway = _by(objects, "Deployment", "gateway")
    assert _by(objects, "Service", "gateway")["spec"]["selector"].items() <= _pod_labels(gateway).items()
    assert re.search(r"^FROM nginx:\S+ AS gateway$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def test_production_pins_released_images_and_namespaces_everything(k8s_builds: dict[str, list[dict]],
                                                                   k8s_helpers: ModuleType) -> None:
    objects = k8s_builds["production"]
    for container in k8s_helpers.containers(objects):
        image = container["image"]
        assert "/" in image and ":" in image and not image.endswith(":latest"), image
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "quxiang", obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["quxiang.io/environment"] == "production"
    assert _by(objects, "HorizontalPodAutoscaler", "accounts-api")["spec"]["minReplicas"] == 3


def test_the_kustomize_stand_in_refuses_what_it_does_not_implement(tmp_path: Path, k8s_helpers: ModuleType) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(NotImplementedError, match="configMapGenerator"):
        k8s_helpers.kustomize_build(tmp_path)
