"""The bus on the real RabbitMQ and PostgreSQL: every guarantee the foundation promises."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import amqp
import kombu
import pytest
from sqlalchemy import func, select

from quxiang.common.bus.amqp import AmqpTransport
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import QueueSpec, TransportError
from quxiang.common.config import Config
from quxiang.common.db import make_engine

from bus_harness import bus, spawn, wait_for
from support import TYPES, effect_counts, effects_in_order, prepare_database, produce, unit_of_work

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def engine(bus_config: Config):
    engine = make_engine(bus_config.database_url)
    prepare_database(engine, bus_config)
    yield engine
    engine.dispose()


def pending(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar()


def worker_spec(config: Config) -> QueueSpec:
    return QueueSpec.for_consumer("worker", TYPES, config)


def test_rollback_publishes_nothing_and_commit_publishes_exactly_once(engine, bus_config):
    with bus(engine, bus_config) as running:
        with unit_of_work(engine, bus_config) as uow:
            uow.record("test.item.created", subject="rolled-back", sequence=1, data={"name": "x"})
            uow.rollback()
        committed = produce(engine, bus_config, "committed", 1)
        wait_for(lambda: effect_counts(engine)[committed.event_id] == 1, message="the committed event")
        wait_for(lambda: pending(engine) == 0, message="the outbox to drain")
    assert effect_counts(engine) == {committed.event_id: 1}
    assert set(running.deliveries) == {committed.event_id}
    assert running.deliveries[committed.event_id] == 1


def test_relay_killed_after_publish_before_marking_sent(engine, bus_config, tmp_path: Path):
    events = [produce(engine, bus_config, f"agg-{i}", 1) for i in range(5)]
    marker = tmp_path / "relay-died"
    with bus(engine, bus_config, relays=0) as running:
        dying = spawn(bus_config, "relay", "die-after-publish", marker)
        assert dying.wait(timeout=60) == -signal.SIGKILL
        assert marker.exists(), "the relay must have published before dying"
        assert pending(engine) == 5, "nothing was marked sent"
        wait_for(lambda: sum(running.deliveries.values()) >= 5, message="the first publication")
        relay = spawn(bus_config, "relay", "normal", marker)
        try:
            wait_for(lambda: pending(engine) == 0, message="the second relay to mark the rows")
            wait_for(lambda: sum(running.deliveries.values()) >= 10, message="the republished copies")
        finally:
            relay.terminate()
            assert relay.wait(timeout=30) == 0
    assert all(running.deliveries[e.event_id] == 2 for e in events), running.deliveries
    assert effect_counts(engine) == {e.event_id: 1 for e in events}


def test_consumer_killed_in_handler_gets_the_message_again(engine, bus_config, tmp_path: Path):
    marker = tmp_path / "consumer-died"
    event = produce(engine, bus_config, "crash", 1)
    transport = AmqpTransport(bus_config)
    transport.declare_consumer(worker_spec(bus_config))
    with bus(engine, bus_config, consumer=False):
        dying = spawn(bus_config, "consumer", "die-in-handler", marker)
        assert dying.wait(timeout=60) == -signal.SIGKILL
        assert marker.read_text() == event.event_id
        assert effect_counts(engine) == {}, "the killed handler's transaction must not have committed"
        survivor = spawn(bus_config, "consumer", "die-in-handler", marker)
        try:
            wait_for(lambda: effect_counts(engine)[event.event_id] == 1, message="the redelivery")
        finally:
            survivor.terminate()
            assert survivor.wait(timeout=30) == 0
    assert effect_counts(engine) == {event.event_id: 1}


def test_sigterm_finishes_the_message_in_hand(engine, bus_config, tmp_path: Path):
    marker = tmp_path / "handling"
    transport = AmqpTransport(bus_config)
    transport.declare_consumer(worker_spec(bus_config))
    event = produce(engine, bus_config, "slow", 1)
    with bus(engine, bus_config, consumer=False):
        consumer = spawn(bus_config, "consumer", "slow", marker)
        wait_for(marker.exists, message="the handler to start")
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(timeout=30) == 0
    assert effect_counts(engine) == {event.event_id: 1}
    assert transport.dead_letters(worker_spec(bus_config), 10) == []


def test_failing_handler_dead_letters_after_retries_while_others_flow_and_replay_works(engine, bus_config):
    broken = {"poison"}

    def handler(event, uow):
        if event.subject in broken:
            raise RuntimeError(f"cannot handle {event.subject}")
        from support import effect_handler

        effect_handler(event, uow)

    spec = worker_spec(bus_config)
    transport = AmqpTransport(bus_config)
    with bus(engine, bus_config, handler=handler) as running:
        poison = produce(engine, bus_config, "poison", 1)
        healthy = [produce(engine, bus_config, f"ok-{i}", 1) for i in range(20)]
        wait_for(lambda: all(effect_counts(engine)[e.event_id] == 1 for e in healthy),
                 message="healthy messages to flow past the failing one")
        wait_for(lambda: len(transport.dead_letters(spec, 10)) == 1, message="the dead letter")
        assert running.deliveries[poison.event_id] == spec.max_attempts
        [dead] = transport.dead_letters(spec, 10)
        assert dead.message_id == poison.event_id
        assert dead.attempts == spec.max_attempts
        assert "RuntimeError: cannot handle poison" in dead.error
        assert dead.routing_key == "test.item.created"
        assert json.loads(dead.body)["event_id"] == poison.event_id
        assert len(transport.dead_letters(spec, 10)) == 1, "listing must not consume"

        broken.clear()
        assert transport.replay_dead_letters(spec, None, 100) == 1
        wait_for(lambda: effect_counts(engine)[poison.event_id] == 1, message="the replayed message")
    assert transport.dead_letters(spec, 10) == []
    assert sum(effect_counts(engine).values()) == 21


def test_invalid_message_is_dead_lettered_at_once(engine, bus_config):
    spec = worker_spec(bus_config)
    transport = AmqpTransport(bus_config)
    with bus(engine, bus_config) as running:
        conn = kombu.Connection(bus_config.broker_url)
        channel = conn.connection.channel()
        # With publisher confirms, as the relay publishes: a publish the broker has not confirmed may
        # be lost when its connection closes at once (a quorum queue enqueues asynchronously). Without
        # them this test lost the second message now and then, and waited in vain for its dead letter.
        channel.confirm_select()
        bad_data = {"event_id": str(uuid.uuid4()), "type": "test.item.created", "version": 1,
                    "occurred_at": "2026-11-28T00:00:00Z", "producer": "x", "correlation_id": None,
                    "causation_id": None, "subject": "s", "sequence": 1, "data": {"n": "not a number"}}
        for body, message_id in ((b"not json at all", "garbage"), (json.dumps(bad_data).encode(), "bad-data")):
            channel.basic_publish_confirm(amqp.Message(body, message_id=message_id, delivery_mode=2),
                                          exchange=bus_config.exchange, routing_key="test.item.created",
                                          confirm_timeout=10)
        conn.release()
        dead: dict[str, object] = {}

        def both_dead_lettered() -> bool:
            dead.clear()
            dead.update((d.message_id, d) for d in transport.dead_letters(spec, 10))
            return len(dead) >= 2

        wait_for(both_dead_lettered, message="both dead letters")
        assert set(dead) == {"garbage", "bad-data"}
        assert running.deliveries["garbage"] == 1 and running.deliveries["bad-data"] == 1
        assert dead["garbage"].error.startswith("invalid_event")
        assert "name" in dead["bad-data"].error and "n" in dead["bad-data"].error
        # Replaying all of them replays each once, though they are back in the DLQ at once: what the
        # queue held when the replay began, not what keeps arriving.
        for _ in range(3):
            assert transport.replay_dead_letters(spec, None, 100) == 2
            wait_for(both_dead_lettered, message="both dead letters again")
        assert running.deliveries["garbage"] == 4
    assert effect_counts(engine) == {}


def test_unrouted_events_are_kept(engine, bus_config):
    with bus(engine, bus_config, consumer=False):
        event = produce(engine, bus_config, "nobody-listens", 1)
        wait_for(lambda: pending(engine) == 0, message="the relay to publish")
    conn = kombu.Connection(bus_config.broker_url)
    channel = conn.connection.channel()
    message = channel.basic_get(f"{bus_config.queue_prefix}.unrouted", no_ack=True)
    conn.release()
    assert message is not None and message.properties["message_id"] == event.event_id


def test_relay_and_consumer_recover_when_the_broker_drops_every_connection(engine, bus_config, rabbitmq):
    if not rabbitmq.can_admin:
        pytest.skip("needs rabbitmqctl on the broker's machine")
    with bus(engine, bus_config) as running:
        before = [produce(engine, bus_config, f"before-{i}", 1) for i in range(20)]
        wait_for(lambda: len(effect_counts(engine)) == 20, message="events before the drop")
        rabbitmq.close_all_connections()
        during = [produce(engine, bus_config, f"during-{i}", 1) for i in range(20)]
        rabbitmq.close_all_connections()
        after = [produce(engine, bus_config, f"after-{i}", 1) for i in range(20)]
        everything = before + during + after
        wait_for(lambda: len(effect_counts(engine)) == 60, timeout=60, message="every event after reconnecting")
        wait_for(lambda: pending(engine) == 0, message="the outbox to drain")
    assert effect_counts(engine) == {e.event_id: 1 for e in everything}
    assert running.deliveries.keys() >= {e.event_id for e in everything}


def test_two_relays_never_duplicate_or_reorder_an_aggregate(engine, bus_config):
    aggregates = [f"agg-{i}" for i in range(10)]
    with bus(engine, bus_config, relays=2) as running:
        for sequence in range(1, 31):
            for aggregate in aggregates:
                produce(engine, bus_config, aggregate, sequence)
        wait_for(lambda: sum(effect_counts(engine).values()) == 300, timeout=60, message="all 300 events")
        wait_for(lambda: pending(engine) == 0, message="the outbox to drain")
    assert all(count == 1 for count in running.deliveries.values()), "a relay published twice"
    assert len(running.deliveries) == 300
    seen: dict[str, list[int]] = {}
    for subject, sequence in effects_in_order(engine):
        seen.setdefault(subject, []).append(sequence)
    assert seen == {aggregate: list(range(1, 31)) for aggregate in aggregates}


def test_idle_connections_stay_up_across_many_heartbeat_intervals(engine, bus_config, caplog):
    """The relay's publisher and the consumer's retry connection are rarely read; they must still
    answer the broker's heartbeats instead of declaring it gone and reconnecting."""
    config = replace(bus_config, broker_heartbeat=1)
    with caplog.at_level(logging.WARNING), bus(engine, config) as running:
        first = produce(engine, config, "before-idle", 1)
        wait_for(lambda: effect_counts(engine)[first.event_id] == 1, message="the first event")
        time.sleep(4.5)  # more than two heartbeat intervals with nothing to do
        second = produce(engine, config, "after-idle", 1)
        wait_for(lambda: effect_counts(engine)[second.event_id] == 1, message="the second event")
    assert running.deliveries == {first.event_id: 1, second.event_id: 1}
    complaints = [r.getMessage() for r in caplog.records if "heartbeat" in r.getMessage().lower()
                  or "reconnecting" in r.getMessage() or "retrying in" in r.getMessage()]
    assert complaints == []


def test_a_failed_second_connection_releases_the_first(bus_config):
    # The consumer and the dead-letter replay each open two connections; while the broker flaps,
    # the second failing must not leave the first open until the heartbeat (or for ever).
    transport = AmqpTransport(bus_config)
    spec = worker_spec(bus_config)
    transport.declare_consumer(spec)
    made = []
    real = transport._connect

    def flaky():
        if len(made) % 2 == 1:
            made.append(None)
            raise TransportError("cannot connect to the broker: flapping")
        made.append(real())
        return made[-1]

    transport._connect = flaky
    try:
        for _ in range(3):
            with pytest.raises(TransportError):
                transport.consume(spec, lambda batch: [], threading.Event())
        with pytest.raises(TransportError):
            transport.replay_dead_letters(spec, None, 10)
        opened = [c for c in made if c is not None]
        assert len(opened) == 4
        assert not [c for c in opened if c.connected]
    finally:
        for conn in made:
            if conn is not None and conn.connected:
                conn.release()
        transport.close()
