"""What the deployment tests share: the repository's files, and what the code says each service runs."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from quxiang.common.config import load_config
from quxiang.common.service import discover_services

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceFacts:
    name: str
    consumers: tuple[str, ...]
    has_jobs: bool


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServiceFacts]:
    """Every installed service (entry points), with its consumers and whether it has scheduled jobs."""
    data_dir = tmp_path_factory.mktemp("deploy-services")
    facts = {}
    for name, definition in discover_services().items():
        # jobs() builds the service's objects; on the embedded defaults nothing connects anywhere.
        config = load_config(name, {"QX_DATA_DIR": str(data_dir)})
        facts[name] = ServiceFacts(name, tuple(definition.all_consumers()), bool(definition.jobs(config)))
    assert facts, "no service is installed: run make install"
    return facts


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def load_script(relative: str) -> ModuleType:
    """Import one of deploy/'s scripts (they are not a package: the image runs them by path)."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(f"qx_deploy_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_definitions_script() -> ModuleType:
    return load_script("deploy/docker/load_definitions.py")


@pytest.fixture(scope="session")
def qx_worker_script() -> ModuleType:
    return load_script("deploy/docker/qx_worker.py")


# -- Kustomize, the part these manifests use ----------------------------------------------------
# kustomize is not on this machine (nor a cluster): this builds what `kubectl kustomize` would for
# the features the manifests use, and refuses any other, so nothing is validated by pretence.

KUSTOMIZE_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "labels", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
POD_TEMPLATE_KINDS = {"Deployment": ("spec", "template"), "Job": ("spec", "template")}


def kustomize_build(folder: Path) -> list[dict]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KUSTOMIZE_KEYS
    if unknown:
        raise NotImplementedError(f"{folder}: the test's kustomize does not know {sorted(unknown)}")
    objects: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = (folder / resource).resolve()
        if path.is_dir():
            objects.extend(kustomize_build(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    for patch in kustomization.get("patches", []):
        _apply_patch(objects, patch)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
            elif obj["kind"] == "Namespace":
                obj["metadata"]["name"] = kustomization["namespace"]
    for entry in kustomization.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            raise NotImplementedError("labels on selectors or templates")
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(entry["pairs"])
    for image in kustomization.get("images", []):
        for container in containers(objects):
            name, _, _tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}" if "newTag" in image \
                    else image.get("newName", name)
    return objects


def _apply_patch(objects: list[dict], patch: dict) -> None:
    target = patch["target"]
    matches = [o for o in objects if o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"]]
    if len(matches) != 1:
        raise ValueError(f"patch target {target} matches {len(matches)} objects")
    for operation in yaml.safe_load(patch["patch"]):
        if operation["op"] not in {"replace", "add"}:
            raise NotImplementedError(operation["op"])
        *parents, last = operation["path"].strip("/").split("/")
        node = matches[0]
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if operation["op"] == "replace" and last not in node:
            raise ValueError(f"replace of a missing {operation['path']}")
        node[last] = operation["value"]


def pod_spec(obj: dict) -> dict | None:
    path = POD_TEMPLATE_KINDS.get(obj["kind"])
    if path is None:
        return None
    node = obj
    for key in path:
        node = node[key]
    return node["spec"]


def containers(objects: list[dict]) -> list[dict]:
    found = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec is not None:
            found.extend(spec.get("initContainers", []) + spec["containers"])
    return found


@pytest.fixture(scope="session")
def k8s_builds() -> dict[str, list[dict]]:
    """The base and every overlay, built."""
    builds = {"base": kustomize_build(ROOT / "deploy/k8s/base")}
    for overlay in sorted((ROOT / "deploy/k8s/overlays").iterdir()):
        builds[overlay.name] = kustomize_build(overlay)
    return builds


@pytest.fixture(scope="session")
def k8s_helpers() -> ModuleType:
    """pod_spec, containers and kustomize_build for the tests (conftest is not importable by name)."""
    return sys.modules[__name__]


@pytest.fixture(scope="session")
def k8s_generator() -> ModuleType:
    return load_script("deploy/k8s/generate.py")
