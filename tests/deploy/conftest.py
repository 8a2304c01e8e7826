"""What the deployment tests share: the repository's files, and what the code says each service runs."""

from __future__ import annotations

import importlib.util
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
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_definitions_script() -> ModuleType:
    return load_script("deploy/docker/load_definitions.py")


@pytest.fixture(scope="session")
def qx_worker_script() -> ModuleType:
    return load_script("deploy/docker/qx_worker.py")
