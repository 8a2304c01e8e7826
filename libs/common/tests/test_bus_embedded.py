"""The same guarantees on the embedded bus (SQLite, in-process), which has no TTL or dead-lettering
of its own: retries wait by time, dead letters are kept, messages survive a restart."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from quxiang.common.bus.embedded import EmbeddedTransport, topic_matches
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import OutgoingMessage, QueueSpec
from quxiang.common.config import Config
from quxiang.common.db import make_engine

from bus_harness import bus, wait_for
from support import TYPES, effect_counts, effect_handler, effects_in_order, prepare_database, produce, unit_of_work

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def engine(embedded_config: Config):
    engine = make_engine(embedded_config.database_url)
    prepare_database(engine, embedded_config)
    yield engine
    engine.dispose()


def pending(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar()


@pytest.mark.parametrize(("pattern", "key", "expected"), [
    ("a.b.c", "a.b.c", True),
    ("a.*.c", "a.b.c", True),
    ("a.*", "a.b.c", False),
    ("a.#", "a.b.c", True),
    ("a.#", "a", True),
    ("#", "x.y", True),
    ("#.c", "a.b.c", True),
    ("a.#.c", "a.c", True),
    ("a.#.c", "a.b.d", False),
    ("*.b", "b", False),
    ("a.b", "a.b.c", False),
])
def test_topic_matching_follows_amqp(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_rollback_publishes_nothing_and_commit_publishes_exactly_once(engine, embedded_config):
    with bus(engine, embedded_config) as running:
        with unit_of_work(engine, embedded_config) as uow:
            uow.record("test.item.created", subject="rolled-back", sequence=1, data={"name": "x"})
        committed = produce(engine, embedded_config, "committed", 1)
        wait_for(lambda: effect_counts(engine)[committed.event_id] == 1, message="the committed event")
        wait_for(lambda: pending(engine) == 0, message="the outbox to drain")
    assert effect_counts(engine) == {committed.event_id: 1}
    assert dict(running.deliveries) == {committed.event_id: 1}


def test_failing_handler_retries_with_delay_then_dead_letters_and_replays(engine, embedded_config):
    broken = {"poison"}

    def handler(event, uow):
        if event.subject in broken:
            raise RuntimeError(f"cannot handle {event.subject} 11010519491231002X")
        effect_handler(event, uow)

    spec = QueueSpec.for_consumer("worker", TYPES, embedded_config)
    transport = EmbeddedTransport(embedded_config)
    with bus(engine, embedded_config, handler=handler) as running:
        poison = produce(engine, embedded_config, "poison", 1)
        healthy = [produce(engine, embedded_config, f"ok-{i}", 1) for i in range(10)]
        wait_for(lambda: all(effect_counts(engine)[e.event_id] == 1 for e in healthy), message="healthy ones")
        wait_for(lambda: len(transport.dead_letters(spec, 10)) == 1, message="the dead letter")
        assert running.deliveries[poison.event_id] == spec.max_attempts
        [dead] = transport.dead_letters(spec, 10)
        assert dead.message_id == poison.event_id and dead.attempts == spec.max_attempts
        assert "RuntimeError: cannot handle poison" in dead.error
        assert "19491231" not in dead.error, "identity numbers never travel in error text"
        broken.clear()
        assert transport.replay_dead_letters(spec, ["some-other-id"], 10) == 0
        assert transport.replay_dead_letters(spec, [poison.event_id], 10) == 1
        wait_for(lambda: effect_counts(engine)[poison.event_id] == 1, message="the replayed message")
    assert transport.dead_letters(spec, 10) == []


def test_invalid_and_unknown_messages_are_dead_lettered_at_once(engine, embedded_config):
    spec = QueueSpec.for_consumer("worker", TYPES, embedded_config)
    transport = EmbeddedTransport(embedded_config)
    with bus(engine, embedded_config, relays=0) as running:
        unknown = {"event_id": "5c1b2d0e-8f4a-4b8e-9d1e-2f3a4b5c6d7e", "type": "test.item.deleted", "version": 1,
                   "occurred_at": "2026-11-28T00:00:00Z", "producer": "x", "correlation_id": None,
                   "causation_id": None, "subject": "s", "sequence": 1, "data": {}}
        transport.declare_consumer(QueueSpec.for_consumer("worker", ("test.#",), embedded_config))
        transport.publish_batch([OutgoingMessage("test.item.created", b"{not json", "garbage"),
                                 OutgoingMessage("test.item.deleted", json.dumps(unknown).encode(), "unknown")], 1)
        wait_for(lambda: len(transport.dead_letters(spec, 10)) == 2, message="two dead letters")
    dead = {d.message_id: d.error for d in transport.dead_letters(spec, 10)}
    assert dead["garbage"].startswith("invalid_event")
    assert dead["unknown"].startswith("unknown_event_type")
    assert running.deliveries == {"garbage": 1, "unknown": 1}


def test_messages_survive_a_restart_and_unrouted_ones_are_kept(engine, embedded_config):
    spec = QueueSpec.for_consumer("worker", TYPES, embedded_config)
    EmbeddedTransport(embedded_config).declare_consumer(spec)
    with bus(engine, embedded_config, consumer=False):
        event = produce(engine, embedded_config, "survivor", 1)
        wait_for(lambda: pending(engine) == 0, message="the relay to publish")
    # A new transport on the same file, as after a process restart.
    restarted = EmbeddedTransport(embedded_config)
    assert restarted.queue_depth(spec.queue) == 1
    assert restarted.queue_depth(f"{embedded_config.queue_prefix}.unrouted") == 0
    restarted.publish_batch([OutgoingMessage("nobody.listens.here", b"{}", "lonely")], 1)
    assert restarted.queue_depth(f"{embedded_config.queue_prefix}.unrouted") == 1
    with bus(engine, embedded_config, relays=0):
        wait_for(lambda: effect_counts(engine)[event.event_id] == 1, message="the surviving message")


def test_two_relays_on_one_outbox_keep_order_and_never_duplicate(engine, embedded_config):
    with bus(engine, embedded_config, relays=2) as running:
        for sequence in range(1, 11):
            for aggregate in ("a", "b", "c"):
                produce(engine, embedded_config, aggregate, sequence)
        wait_for(lambda: sum(effect_counts(engine).values()) == 30, message="all events")
    assert all(n == 1 for n in running.deliveries.values())
    order: dict[str, list[int]] = {}
    for subject, sequence in effects_in_order(engine):
        order.setdefault(subject, []).append(sequence)
    assert order == {a: list(range(1, 11)) for a in ("a", "b", "c")}
