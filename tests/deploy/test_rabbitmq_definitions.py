"""deploy/rabbitmq/definitions.json agrees with what the bus declares, and the broker takes both.

RabbitMQ refuses a redeclaration whose arguments differ (PRECONDITION_FAILED), so the exchanges in
the file must be exactly the code's, and the policy must match every consumer queue with the values
the code gives those queues as arguments."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from quxiang.common.bus.amqp import AmqpTransport
from quxiang.common.bus.transport import QueueSpec
from quxiang.common.config import load_config
from quxiang.common.service import discover_services
from quxiang.common.testing.infra import RabbitMQ, require_infra

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy/rabbitmq/definitions.json"
MANAGEMENT = ("127.0.0.1", 15672)


class RecordingChannel:
    """Stands in for a channel to see which arguments the transport declares with (no broker)."""

    def __init__(self) -> None:
        self.exchanges: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.bindings: list[tuple[str, str, str]] = []

    def exchange_declare(self, name: str, type: str, durable: bool, auto_delete: bool,
                         arguments: dict | None = None) -> None:
        self.exchanges[name] = {"type": type, "durable": durable, "auto_delete": auto_delete,
                                "arguments": arguments or {}}

    def queue_declare(self, name: str, durable: bool, auto_delete: bool, arguments: dict | None = None) -> None:
        self.queues[name] = {"durable": durable, "auto_delete": auto_delete, "arguments": arguments or {}}

    def queue_bind(self, queue: str, exchange: str, routing_key: str) -> None:
        self.bindings.append((exchange, queue, routing_key))

    def close(self) -> None:
        pass


class _Conn:
    def __init__(self, channel: RecordingChannel) -> None:
        self.connection = self
        self._channel = channel

    def channel(self) -> RecordingChannel:
        return self._channel


def _declared(specs: list[QueueSpec]) -> RecordingChannel:
    channel = RecordingChannel()
    transport = AmqpTransport(load_config("deploy-test", {}))
    transport._connect = lambda: _Conn(channel)  # type: ignore[method-assign]
    for spec in specs:
        transport.declare_consumer(spec)
    return channel


def _all_specs() -> list[QueueSpec]:
    config = load_config("deploy-test", {})
    return [QueueSpec.for_consumer(name, tuple(handlers), config)
            for definition in discover_services().values()
            for name, handlers in definition.all_consumers().items()]


@pytest.fixture(scope="module")
def definitions() -> dict[str, Any]:
    return json.loads(DEFINITIONS.read_text())


def test_exchanges_are_exactly_what_the_bus_declares(definitions: dict[str, Any]) -> None:
    declared = _declared(_all_specs()[:1])
    in_file = {e["name"]: {"type": e["type"], "durable": e["durable"], "auto_delete": e["auto_delete"],
                           "arguments": e["arguments"]} for e in definitions["exchanges"]}
    assert in_file == declared.exchanges
    unrouted = load_config("deploy-test", {}).queue_prefix + ".unrouted"
    queue = next(q for q in definitions["queues"] if q["name"] == unrouted)
    assert {k: queue[k] for k in ("durable", "auto_delete", "arguments")} == declared.queues[unrouted]
    assert {(b["source"], b["destination"], b["routing_key"]) for b in definitions["bindings"]} == {
        (exchange, queue, key) for exchange, queue, key in declared.bindings if queue == unrouted}


def test_no_object_names_a_vhost_or_a_user(definitions: dict[str, Any]) -> None:
    # Loaded into the vhost of QX_BROKER_URL; users and passwords stay out of the repository.
    assert not {"users", "permissions", "vhosts"} & set(definitions)
    for kind in ("exchanges", "queues", "bindings", "policies"):
        assert all("vhost" not in item for item in definitions.get(kind, [])), kind


def test_policy_covers_every_consumer_queue_with_the_codes_values(definitions: dict[str, Any]) -> None:
    specs = _all_specs()
    declared = _declared(specs)
    (policy,) = [p for p in definitions["policies"] if p["name"] == "qx-consumer-queues"]
    pattern = re.compile(policy["pattern"])
    for spec in specs:
        assert pattern.search(spec.queue), f"the policy misses {spec.queue}"
        for other in (spec.dead_letter_queue, *(spec.retry_queue(t) for t in range(len(spec.retry_delays)))):
            assert not pattern.search(other), f"the policy should not apply to {other}"
        arguments = declared.queues[spec.queue]["arguments"]
        assert arguments["x-queue-type"] == "quorum"
        assert policy["definition"] == {
            "delivery-limit": arguments["x-delivery-limit"],
            "dead-letter-exchange": arguments["x-dead-letter-exchange"],
            "dead-letter-strategy": arguments["x-dead-letter-strategy"],
            "overflow": arguments["x-overflow"],
        }
    assert not pattern.search("qx.unrouted")


# -- against the real broker ------------------------------------------------------------------


@pytest.fixture
def vhost(rabbitmq: RabbitMQ) -> Iterator[str]:
    if not rabbitmq.can_admin:
        pytest.skip("the broker is not on this machine: rabbitmqctl cannot make a vhost")
    try:
        socket.create_connection(MANAGEMENT, timeout=2).close()
    except OSError:
        if require_infra():
            pytest.fail("REQUIRE_INFRA=1 and the RabbitMQ management API (port 15672) is not reachable")
        pytest.skip("INFRA MISSING: the RabbitMQ management API (port 15672) is not reachable")
    name = f"qx-deploy-{uuid.uuid4().hex[:8]}"
    rabbitmq.rabbitmqctl("add_vhost", name)
    rabbitmq.rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmq.rabbitmqctl("delete_vhost", name)


def _env(vhost: str) -> dict[str, str]:
    return {"QX_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            "QX_BROKER_ADMIN_URL": "http://guest:guest@127.0.0.1:15672"}


def test_the_broker_takes_the_file_and_then_the_code_declares_every_queue(
        vhost: str, load_definitions_script: ModuleType) -> None:
    env = _env(vhost)
    assert load_definitions_script.load(DEFINITIONS, env, wait=10) == vhost
    # Loading again (every deployment does) changes nothing and is accepted.
    load_definitions_script.load(DEFINITIONS, env, wait=10)
    config = load_config("deploy-test", env)
    transport = AmqpTransport(config)
    specs = [QueueSpec.for_consumer(name, tuple(handlers), config)
             for definition in discover_services().values()
             for name, handlers in definition.all_consumers().items()]
    try:
        for spec in specs:
            transport.declare_consumer(spec)  # raises on PRECONDITION_FAILED
    finally:
        transport.close()
    listed = subprocess.run(["rabbitmqctl", "list_queues", "-p", vhost, "--no-table-headers", "-q", "name", "policy"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    rows = (line.partition("\t") for line in listed.splitlines() if line)
    policies = {name: policy.strip() for name, _, policy in rows}
    for spec in specs:
        assert policies[spec.queue] == "qx-consumer-queues"
        assert policies[spec.dead_letter_queue] == ""


def test_a_file_the_broker_refuses_is_reported(vhost: str, load_definitions_script: ModuleType,
                                               tmp_path: Path) -> None:
    broken = json.loads(DEFINITIONS.read_text())
    broken["policies"][0]["definition"]["overflow"] = "sometimes"
    path = tmp_path / "definitions.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(load_definitions_script.DefinitionsError, match="refused"):
        load_definitions_script.load(path, _env(vhost), wait=5)


def test_other_names_than_the_files_are_refused(load_definitions_script: ModuleType) -> None:
    definitions = json.loads(DEFINITIONS.read_text())
    with pytest.raises(load_definitions_script.DefinitionsError, match="QX_EXCHANGE"):
        load_definitions_script.check_names(definitions, {"QX_EXCHANGE": "other.events"})
    with pytest.raises(load_definitions_script.DefinitionsError):
        load_definitions_script.check_names(definitions, {"QX_QUEUE_PREFIX": "staging"})
    load_definitions_script.check_names(definitions, {})


def test_an_unreachable_management_api_is_reported_after_the_wait(load_definitions_script: ModuleType) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"QX_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/", "QX_BROKER_ADMIN_URL": f"http://u:p@127.0.0.1:{port}"}
    with pytest.raises(load_definitions_script.DefinitionsError, match="did not answer"):
        load_definitions_script.load(DEFINITIONS, env, wait=0)


def test_the_vhost_comes_from_the_broker_url(load_definitions_script: ModuleType) -> None:
    assert load_definitions_script.vhost_of("amqp://u:p@h:5672/") == "/"
    assert load_definitions_script.vhost_of("amqp://u:p@h:5672") == "/"
    assert load_definitions_script.vhost_of("amqp://u:p@h:5672/prod%2Fqx") == "prod/qx"
    request = load_definitions_script.import_request("http://a%40b:p%3Aw@mq:15672/", "prod/qx", b"{}")
    assert request.full_url == "http://mq:15672/api/definitions/prod%2Fqx"
    assert request.get_header("Authorization") == "Basic YUBiOnA6dw=="
