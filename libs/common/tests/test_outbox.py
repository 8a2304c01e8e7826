"""The outbox on both databases the suite runs on."""

import json

import pytest
from sqlalchemy import select

from quxiang.common.bus.outbox import partition_of
from quxiang.common.bus.relay import PARK_FIRST, Relay, _split_in_order
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import OutgoingMessage
from quxiang.common.db import make_engine
from quxiang.common.events import InvalidEvent

from support import prepare_database, unit_of_work


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request, tmp_path):
    if request.param == "sqlite":
        config = request.getfixturevalue("embedded_config")
    else:
        config = request.getfixturevalue("bus_config")
    engine = make_engine(config.database_url)
    prepare_database(engine, config)
    yield engine, config
    engine.dispose()


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def test_commit_writes_the_row_and_rollback_writes_nothing(setup):
    engine, config = setup
    with unit_of_work(engine, config) as uow:
        uow.record("test.item.created", subject="s-1", sequence=1, data={"name": "a"})
        # leaving without commit rolls back
    assert rows(engine) == []
    with unit_of_work(engine, config) as uow:
        event = uow.record("test.item.created", subject="s-1", sequence=1, data={"name": "a"})
        uow.commit()
    [row] = rows(engine)
    assert row.event_id == event.event_id and row.sent_at is None
    assert row.partition == partition_of("s-1", config.outbox_partitions)
    assert json.loads(row.payload)["data"] == {"name": "a", "n": 0, "pad": ""}


def test_invalid_event_raises_and_nothing_is_half_written(setup):
    engine, config = setup
    with unit_of_work(engine, config) as uow:
        uow.record("test.item.created", subject="s", sequence=1, data={"name": "ok"})
        with pytest.raises(InvalidEvent):
            uow.record("test.item.created", subject="s", sequence=2, data={"name": 5})
    assert rows(engine) == []


class FlakyTransport:
    """Confirms everything except the messages whose id is in ``refuse``."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.published: list[OutgoingMessage] = []

    def publish_batch(self, messages, timeout):
        self.published.extend(messages)
        return ["nacked by the broker" if m.message_id in self.refuse else None for m in messages]

    def close(self):
        pass

    def heartbeat(self):
        pass


def test_a_nack_holds_back_the_rest_of_that_aggregate_only(setup):
    engine, config = setup
    with unit_of_work(engine, config) as uow:
        a1 = uow.record("test.item.created", subject="a", sequence=1, data={"name": "a"})
        a2 = uow.record("test.item.created", subject="a", sequence=2, data={"name": "a"})
        b1 = uow.record("test.item.created", subject="b", sequence=1, data={"name": "b"})
        uow.commit()
    transport = FlakyTransport(refuse={a1.event_id})
    clock = [0.0]
    relay = Relay(engine, transport, config, "testsvc", clock=lambda: clock[0])
    result = relay.publish_batch()
    assert (result.sent, result.failed) == (1, 2)
    state = {r.event_id: r for r in rows(engine)}
    assert state[b1.event_id].sent_at is not None
    assert state[a1.event_id].sent_at is None and state[a1.event_id].attempts == 1
    assert "nacked" in state[a1.event_id].last_error
    assert state[a2.event_id].sent_at is None and "held back" in state[a2.event_id].last_error
    transport.refuse.clear()
    assert relay.publish_batch().sent == 0  # the refused aggregate sits out its pause
    clock[0] += PARK_FIRST
    assert relay.publish_batch().sent == 2
    assert [m.message_id for m in transport.published[-2:]] == [a1.event_id, a2.event_id]
    assert relay.publish_batch().sent == 0


def test_an_aggregate_the_broker_keeps_refusing_does_not_stop_the_others(setup):
    # Its refused row and the rows held back behind it once filled every batch: nothing of any
    # other aggregate was published again.
    import dataclasses

    engine, config = setup
    config = dataclasses.replace(config, relay_batch=3)
    with unit_of_work(engine, config) as uow:
        stuck = [uow.record("test.item.created", subject="a", sequence=i, data={"name": "a"}) for i in range(1, 5)]
        other = uow.record("test.item.created", subject="b", sequence=1, data={"name": "b"})
        uow.commit()
    clock = [0.0]
    relay = Relay(engine, FlakyTransport(refuse={stuck[0].event_id}), config, "testsvc", clock=lambda: clock[0])
    assert relay.publish_batch().sent == 0  # a's three oldest rows: refused and held back
    assert relay.publish_batch().sent == 1  # a sits out: b goes
    state = {r.event_id: r for r in rows(engine)}
    assert state[other.event_id].sent_at is not None
    assert all(state[e.event_id].sent_at is None for e in stuck)  # a's order still holds
    pauses = []
    for _ in range(4):  # refused again each time its pause is over: the pause doubles
        clock[0] = relay._parked["a"][1] + 0.01
        relay.publish_batch()
        pauses.append(relay._parked["a"][0])
    assert pauses == [2 * PARK_FIRST, 4 * PARK_FIRST, 8 * PARK_FIRST, 16 * PARK_FIRST]
    with engine.begin() as conn:  # another relay published a's rows meanwhile
        conn.execute(outbox.update().where(outbox.c.subject == "a").values(sent_at=outbox.c.created_at))
    clock[0] += 1000
    relay.publish_batch()
    assert "a" not in relay._parked  # forgotten, not kept for ever


def test_split_in_order_unit():
    class Row:
        def __init__(self, id, subject):
            self.id, self.subject = id, subject

    sent, failed = _split_in_order([Row(1, "x"), Row(2, "y"), Row(3, "x"), Row(4, "y")],
                                   [None, "boom", None, None])
    assert sent == [1, 3] and set(failed) == {2, 4}


def test_sent_rows_are_pruned_after_retention(setup):
    engine, config = setup
    with unit_of_work(engine, config) as uow:
        uow.record("test.item.created", subject="s", sequence=1, data={"name": "a"})
        uow.record("test.item.created", subject="t", sequence=1, data={"name": "b"})
        uow.commit()
    relay = Relay(engine, FlakyTransport(), config, "testsvc")
    relay.publish_batch()
    with unit_of_work(engine, config) as uow:
        uow.record("test.item.created", subject="u", sequence=1, data={"name": "c"})
        uow.commit()
    assert relay.prune() == 0, "recently sent rows stay"
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    long_ago = datetime.now(UTC) - timedelta(hours=config.relay_retention_hours + 1)
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.subject == "s").values(created_at=long_ago, sent_at=long_ago))
    assert relay.prune() == 1
    assert sorted(r.subject for r in rows(engine)) == ["t", "u"]


def test_pruning_walks_the_oldest_rows_and_stops_at_the_first_young_one(setup):
    """Old and sent: deleted, across batches and past an old row still unsent (kept); an old row sent
    within the retention stays; the walk ends at the first row created within the retention, so
    nothing after it is read (an old row placed after it is left for a later prune)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update
    engine, config = setup
    subjects = "abcdefg"
    with unit_of_work(engine, config) as uow:
        for subject in subjects:
            uow.record("test.item.created", subject=subject, sequence=1, data={"name": subject})
        uow.commit()
    now = datetime.now(UTC)
    old = now - timedelta(hours=config.relay_retention_hours + 1)
    shape = {"a": (old, old), "b": (old, old), "c": (old, None), "d": (old, old), "e": (old, now),
             "f": (now, now), "g": (old, old)}
    with engine.begin() as conn:
        for subject, (created_at, sent_at) in shape.items():
            conn.execute(update(outbox).where(outbox.c.subject == subject).values(created_at=created_at,
                                                                                  sent_at=sent_at))
    relay = Relay(engine, FlakyTransport(), config, "testsvc")
    assert relay.prune(batch=2) == 3
    assert [r.subject for r in rows(engine)] == ["c", "e", "f", "g"]


def test_rows_are_written_whoever_commits_the_session(setup):
    engine, config = setup
    with unit_of_work(engine, config) as uow:
        uow.record("test.item.created", subject="direct", sequence=1, data={"name": "a"})
        uow.record("test.item.created", subject="direct", sequence=2, data={"name": "b"})
        uow.session.commit()  # not uow.commit(): the outbox rows must still go with it
    assert [(r.subject, r.sequence) for r in rows(engine)] == [("direct", 1), ("direct", 2)]


def test_rows_keep_awkward_text_and_the_order_of_recording(setup):
    """PostgreSQL gets the rows as one array per column: quotes, backslashes, braces, commas, NULL-like
    words and non-ASCII text must come back unchanged, and ids must follow the order of recording."""
    engine, config = setup
    awkward = ['say "hi"', "back\\slash", "{braces}", "a,b", "NULL", "", " spaced ", "去向 登记", "quote\\\"mix"]
    with unit_of_work(engine, config) as uow:
        recorded = [uow.record("test.item.created", subject=f"s-{i}-{text}", sequence=i + 1,
                               data={"name": text, "pad": text * 3})
                    for i, text in enumerate(awkward)]
        recorded += [uow.record("test.item.created", subject="many", sequence=i + 1, data={"name": f"n{i}"})
                     for i in range(300)]
        uow.commit()
    stored = rows(engine)
    assert [r.event_id for r in stored] == [e.event_id for e in recorded]
    for row, event in zip(stored, recorded, strict=True):
        assert (row.subject, row.sequence, row.event_type) == (event.subject, event.sequence, event.type)
        assert row.payload == event.to_json().decode()
        assert row.partition == partition_of(event.subject, config.outbox_partitions)
        assert row.sent_at is None and row.attempts == 0
