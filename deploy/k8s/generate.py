"""Write deploy/k8s/base/services/<service>.yaml for every installed service.

    .venv/bin/python deploy/k8s/generate.py          # rewrite the files
    .venv/bin/python deploy/k8s/generate.py --check  # exit 1 if a file is missing or differs

Each file holds what one service runs on: the API (Deployment, Service, PodDisruptionBudget,
HorizontalPodAutoscaler on CPU) and the worker (Deployment running relay, consumers and, where the
service has them, scheduled jobs; a PodDisruptionBudget; a KEDA ScaledObject on the length of the
service's consumer queues). The services come from their entry points, the consumers and jobs from
their definitions, so a new service or consumer shows up here by running this again
(tests/deploy/test_k8s.py fails until then). Sizes per service are in SIZING below.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SERVICES_DIR = HERE / "base" / "services"
IMAGE = "quxiang"
API_PORT = 8000
METRICS_PORT = 9100
# Names of the Secrets the operator creates (docs/operations.md), not secrets.
CONNECTIONS_SECRET = "quxiang-connections"  # noqa: S105
RECORDS_KEY_SECRET = "quxiang-records-key"  # noqa: S105
BROKER_ADMIN_SECRET = "quxiang-broker-admin"  # noqa: S105
CONFIG_MAP = "quxiang-config"
# Secrets a service reads beyond the connections: sync-gateway's school feed makes each school's broker
# user through the management API (docs/feed.md).
EXTRA_SECRETS = {"sync-gateway": (BROKER_ADMIN_SECRET,)}
TRIGGER_AUTH = "quxiang-rabbitmq"
# Messages waiting per worker replica before KEDA adds one (QX_CONSUMER_BATCH is 250: a few batches).
QUEUE_LENGTH_PER_REPLICA = 1000


@dataclass(frozen=True)
class Sizing:
    api_replicas: tuple[int, int] = (2, 6)  # the HPA's min and max
    api_cpu: str = "500m"
    api_memory: str = "512Mi"
    web_workers: int = 3
    worker_replicas: tuple[int, int] = (1, 4)  # KEDA's min and max
    worker_cpu: str = "250m"
    worker_memory: str = "384Mi"


SIZING: dict[str, Sizing] = {
    "accounts": Sizing(api_replicas=(2, 8)),  # every login, every token refresh, the JWKS
    # a 50 MB roster import is read whole and validated before anything is written
    "records": Sizing(api_memory="1Gi"),
    "signing": Sizing(api_replicas=(2, 8), api_memory="768Mi"),  # agreement PDFs
    "stats": Sizing(worker_replicas=(1, 3)),
    "sync-gateway": Sizing(worker_cpu="500m", worker_memory="512Mi"),
    # a stand-in, not production: one of each
    "ems-sim": Sizing(api_replicas=(1, 1), worker_replicas=(1, 1)),
}


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    consumers: tuple[str, ...]
    has_jobs: bool


def installed_services() -> list[ServiceInfo]:
    from quxiang.common.config import load_config
    from quxiang.common.service import discover_services

    infos = []
    with tempfile.TemporaryDirectory() as data_dir:
        for name, definition in discover_services().items():
            # jobs() builds the service's objects; on the embedded defaults nothing connects anywhere.
            config = load_config(name, {"QX_DATA_DIR": data_dir})
            infos.append(ServiceInfo(name, tuple(definition.all_consumers()), bool(definition.jobs(config))))
    return infos


def _labels(service: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"{service}-{component}", "app.kubernetes.io/part-of": "quxiang",
            "app.kubernetes.io/component": component, "quxiang.io/service": service}


def _selector(service: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"{service}-{component}"}


def _env(service: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    if service == "records":
        env = [{"name": name, "valueFrom": {"secretKeyRef": {"name": RECORDS_KEY_SECRET, "key": name,
                                                             "optional": optional}}}
               for name, optional in (("QX_RECORDS_ID_KEY", False), ("QX_RECORDS_ID_OLD_KEYS", True))]
    return env


def _env_from(service: str) -> list[dict[str, Any]]:
    return [{"configMapRef": {"name": CONFIG_MAP}}, {"secretRef": {"name": CONNECTIONS_SECRET}},
            *({"secretRef": {"name": name}} for name in EXTRA_SECRETS.get(service, ()))]


SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
# Writable places of a read-only container: /tmp (gunicorn's and the worker's metrics folders, and
# the temporary files of roster imports, uploaded then copied, up to 2 x 50 MB, and of exports,
# some 550 MB for 400,000 rows: on disk, not in memory, where they would count against the pod's
# memory limit) and QX_DATA_DIR.
VOLUMES = [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
           {"name": "data", "emptyDir": {"sizeLimit": "64Mi"}}]
MOUNTS = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "data", "mountPath": "/var/lib/quxiang"}]  # noqa: S108


def _pod(service: str, component: str, container: dict[str, Any], port: int) -> dict[str, Any]:
    return {
        "metadata": {"labels": _labels(service, component),
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                                     "prometheus.io/path": "/metrics"}},
        "spec": {
            "terminationGracePeriodSeconds": 45,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": VOLUMES,
        },
    }


def api_objects(info: ServiceInfo, size: Sizing) -> Iterator[dict[str, Any]]:
    name = f"{info.name}-api"
    http_get = {"port": "http"}
    container = {
        "name": "api",
        "image": IMAGE,
        "command": ["gunicorn", "-c", "deploy/gunicorn.conf.py", f'quxiang.common.wsgi:app_for("{info.name}")'],
        "ports": [{"name": "http", "containerPort": API_PORT}],
        "envFrom": _env_from(info.name),
        "env": [{"name": "QX_WEB_WORKERS", "value": str(size.web_workers)}, *_env(info.name)],
        # Liveness never looks at dependencies: a database outage must not restart every replica.
        "startupProbe": {"httpGet": {**http_get, "path": "/healthz"}, "periodSeconds": 2, "failureThreshold": 60},
        "livenessProbe": {"httpGet": {**http_get, "path": "/healthz"}, "periodSeconds": 10, "timeoutSeconds": 3,
                          "failureThreshold": 3},
        "readinessProbe": {"httpGet": {**http_get, "path": "/readyz"}, "periodSeconds": 5, "timeoutSeconds": 4,
                           "failureThreshold": 2},
        "resources": {"requests": {"cpu": size.api_cpu, "memory": size.api_memory},
                      "limits": {"memory": size.api_memory}},
        "securityContext": SECURITY,
        "volumeMounts": MOUNTS,
        # Terminating, a pod keeps serving a few seconds while the endpoints drop it: stopping at
        # once, gunicorn closed its listener while the gateway still sent it requests (502s at every
        # rollout).
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "10"]}}},
    }
    pod = _pod(info.name, "api", container, API_PORT)
    # The preStop pause, then gunicorn's graceful stop (QX_WEB_GRACEFUL_TIMEOUT, 30 s), with room.
    pod["spec"]["terminationGracePeriodSeconds"] = 50
    yield {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "labels": _labels(info.name, "api")},
           "spec": {"replicas": size.api_replicas[0], "selector": {"matchLabels": _selector(info.name, "api")},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                    "template": pod}}
    yield {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": _labels(info.name, "api")},
           "spec": {"selector": _selector(info.name, "api"),
                    "ports": [{"name": "http", "port": API_PORT, "targetPort": "http"}]}}
    budget: dict[str, Any] = {"minAvailable": 1} if size.api_replicas[0] > 1 else {"maxUnavailable": 1}
    yield {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "labels": _labels(info.name, "api")},
           "spec": {**budget, "selector": {"matchLabels": _selector(info.name, "api")}}}
    yield {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": name, "labels": _labels(info.name, "api")},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": size.api_replicas[0], "maxReplicas": size.api_replicas[1],
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}}}


def worker_command(info: ServiceInfo) -> list[str]:
    return ["python", "deploy/docker/qx_worker.py", info.name, "relay", "consumer",
            *(["jobs"] if info.has_jobs else [])]


def worker_objects(info: ServiceInfo, size: Sizing, queue_prefix: str) -> Iterator[dict[str, Any]]:
    name = f"{info.name}-worker"
    container = {
        "name": "worker",
        "image": IMAGE,
        "command": worker_command(info),
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        "envFrom": _env_from(info.name),
        "env": _env(info.name),
        # The metrics port answers only while every process of the worker runs.
        "livenessProbe": {"tcpSocket": {"port": "metrics"}, "initialDelaySeconds": 10, "periodSeconds": 15,
                          "failureThreshold": 4},
        "resources": {"requests": {"cpu": size.worker_cpu, "memory": size.worker_memory},
                      "limits": {"memory": size.worker_memory}},
        "securityContext": SECURITY,
        "volumeMounts": MOUNTS,
    }
    if not container["env"]:
        del container["env"]
    yield {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "labels": _labels(info.name, "worker")},
           "spec": {"replicas": size.worker_replicas[0], "selector": {"matchLabels": _selector(info.name, "worker")},
                    "template": _pod(info.name, "worker", container, METRICS_PORT)}}
    yield {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "labels": _labels(info.name, "worker")},
           "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(info.name, "worker")}}}
    yield {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
           "metadata": {"name": name, "labels": _labels(info.name, "worker")},
           "spec": {"scaleTargetRef": {"name": name},
                    "minReplicaCount": size.worker_replicas[0], "maxReplicaCount": size.worker_replicas[1],
                    "pollingInterval": 15, "cooldownPeriod": 300,
                    "triggers": [{"type": "rabbitmq", "name": consumer.replace(".", "-"),
                                  "metadata": {"protocol": "amqp", "mode": "QueueLength",
                                               "queueName": f"{queue_prefix}.{consumer}",
                                               "value": str(QUEUE_LENGTH_PER_REPLICA)},
                                  "authenticationRef": {"name": TRIGGER_AUTH}}
                                 for consumer in info.consumers]}}


class _PlainDumper(yaml.SafeDumper):
    """Writes shared pieces out in full each time: no YAML anchors for a reader to chase."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(info: ServiceInfo, queue_prefix: str = "qx") -> str:
    size = SIZING.get(info.name, Sizing())
    objects = [*api_objects(info, size), *worker_objects(info, size, queue_prefix)]
    header = (f"# {info.name}: API and worker. Generated by deploy/k8s/generate.py from the service's definition "
              f"(consumers: {', '.join(info.consumers) or 'none'}; jobs: {'yes' if info.has_jobs else 'none'}).\n"
              "# Edit SIZING there, not this file.\n")
    return header + yaml.dump_all(objects, Dumper=_PlainDumper, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report files that are missing or differ")
    args = parser.parse_args(argv)
    wanted = {SERVICES_DIR / f"{info.name}.yaml": render(info) for info in installed_services()}
    if args.check:
        stale = [str(p.relative_to(HERE)) for p, text in wanted.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        extra = [str(p.relative_to(HERE)) for p in SERVICES_DIR.glob("*.yaml") if p not in wanted]
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        for path in extra:
            print(f"no such service: {path}", file=sys.stderr)
        return 1 if stale or extra else 0
    SERVICES_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
