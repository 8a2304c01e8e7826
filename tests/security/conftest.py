"""The security suite's world: built once per run (every service on a PostgreSQL database of its
own, the demo data, a scripted run through the APIs), with every log record of the run captured."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from security_scenario import populate
from security_world import CapturingHandler, World, build_world, drop_world, principals


@pytest.fixture(scope="package")
def log_capture() -> CapturingHandler:
    handler = CapturingHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture(scope="package")
def world(postgres, tmp_path_factory, log_capture) -> World:
    root = logging.getLogger()
    world = build_world(postgres, tmp_path_factory.mktemp("security"))
    # The apps set the root level from their config; the audit of the logs wants everything.
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        populate(world)
        yield world
    finally:
        root.setLevel(previous)
        drop_world(world, postgres)


@pytest.fixture(scope="package")
def callers(world):
    return principals(world.ids)


@pytest.fixture
def tokens(world, callers) -> dict[str, dict[str, str]]:
    """Fresh for each test: a logout in one test revokes the tokens issued before it."""
    return {name: {"Authorization": f"Bearer {world.token(principal, ttl=3600)}"}
            for name, principal in callers.items()}
