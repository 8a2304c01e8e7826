"""Two stats consumers at once on PostgreSQL: batches holding the same graduates in opposite order
take them in one order (the graduate's id) and wait for each other instead of deadlocking."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.transport import Ack, Delivery
from quxiang.common.contracts import signing as A
from quxiang.stats.adapters.tables import aggregates
from quxiang.stats.entrypoints import consumers
from quxiang.stats.service import ingest

from .stats_events import agreement, roster, school_created


def _deliveries(events):
    return [Delivery(body=e.to_json(), headers={}, routing_key=e.type, message_id=e.event_id, redelivered=False)
            for e in events]


@pytest.mark.parametrize("config", ["postgresql"], indirect=True)
def test_batches_of_the_same_graduates_in_opposite_order_do_not_deadlock(world, service, config, monkeypatch,
                                                                          caplog):
    school = "10558"
    first, second = sorted(str(uuid.uuid4()) for _ in range(2))
    world.deliver(school_created(school, "中山大学"), roster(first, school, None), roster(second, school, None))
    batches = {
        "one": [agreement(A.AGREEMENT_INVITED, "ag-1a", 1, "invited", first, school),
                agreement(A.AGREEMENT_INVITED, "ag-1b", 1, "invited", second, school)],
        "two": [agreement(A.AGREEMENT_INVITED, "ag-2b", 1, "invited", second, school),
                agreement(A.AGREEMENT_INVITED, "ag-2a", 1, "invited", first, school)],
    }
    real_apply = ingest.apply_aggregate
    paused = set()

    def apply_then_pause(*args, **kwargs):
        real_apply(*args, **kwargs)
        if threading.current_thread().name not in paused:  # the other batch takes its first graduate meanwhile
            paused.add(threading.current_thread().name)
            time.sleep(0.5)

    monkeypatch.setattr(ingest, "apply_aggregate", apply_then_pause)
    outcomes = {}

    def consume(name):
        runtime = ConsumerRuntime(consumers.GRADUATES_CONSUMER, consumers.GRADUATE_HANDLERS, service.engine, None,
                                  config, producer="stats")
        outcomes[name] = runtime.handle_batch(_deliveries(batches[name]))

    with caplog.at_level(logging.INFO, logger="quxiang.common.bus.consumer"):
        workers = [threading.Thread(target=consume, args=(name,), name=name) for name in batches]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
    assert outcomes == {"one": [Ack(), Ack()], "two": [Ack(), Ack()]}
    assert not [r for r in caplog.records if "handling one by one" in r.getMessage()], "a batch deadlocked"
    with service.engine.connect() as conn:
        applied = set(conn.execute(select(aggregates.c.id)).scalars())
    assert applied == {"ag-1a", "ag-1b", "ag-2a", "ag-2b"}


def test_a_directory_batch_takes_its_schools_in_one_order():
    """The directory's events lock their school's row: a batch applies them by school code (one
    school's in the order they came), so two batches holding 10558 and 10559 in opposite order wait
    for each other instead of deadlocking and handling their events one by one."""
    from quxiang.common.bus.consumer import in_lock_order

    from .stats_events import agreement_type_set, settings_updated

    came = [agreement_type_set("10559", "two_party", 2), settings_updated("10558", "employment", True, 1),
            agreement_type_set("10558", "two_party", 2), agreement_type_set("10559", "three_party", 3)]
    ordered = in_lock_order(came, consumers.DIRECTORY_HANDLERS)
    assert [(e.data["school_code"], e.sequence) for e in ordered] == [("10558", 1), ("10558", 2), ("10559", 2),
                                                                      ("10559", 3)]
