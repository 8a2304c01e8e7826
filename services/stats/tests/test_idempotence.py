"""Exact under redelivery, duplicates and reordering: the same events in any order, any number of
times, one per transaction or in batches, leave the same graduates and the same counters."""

from __future__ import annotations

import random

import pytest

from .scenario import events
from .stats_events import A, D, agreement, destination, registration, roster


def _stream(seed):
    """A busier stream: 60 graduates over two schools' departments, each with a random history."""
    rnd = random.Random(seed)
    out = list(events())
    for i in range(60):
        g = f"00000000-0000-0000-0000-{i:012d}"
        school, department = ("10558", "00000000-0000-0000-0000-000000000001") if i % 2 else (
            "10561", "00000000-0000-0000-0000-000000000003")
        out.append(roster(g, school, department, level=rnd.choice(["11", "31"]), year=rnd.choice([2025, 2026])))
        if rnd.random() < 0.3:  # moved to another year by a re-import
            out.append(roster(g, school, department, year=2026, sequence=2, updated=True))
        choice = rnd.random()
        if choice < 0.4:
            steps = [("invited", A.AGREEMENT_INVITED), ("department_review", A.AGREEMENT_ACCEPTED),
                     ("school_review", A.AGREEMENT_DEPARTMENT_APPROVED), ("approved", A.AGREEMENT_APPROVED),
                     ("terminated", A.AGREEMENT_TERMINATED)][: rnd.randint(1, 5)]
            out += [agreement(t, f"a-{i}", n + 1, s, g, school) for n, (s, t) in enumerate(steps)]
        elif choice < 0.8:
            code = rnd.choice(["11", "75", "76", "80", "801", "85", "70", "502"])
            steps = [("department_review", D.DESTINATION_SUBMITTED),
                     ("school_review", D.DESTINATION_DEPARTMENT_APPROVED), ("approved", D.DESTINATION_APPROVED),
                     ("void_review", D.DESTINATION_VOID_REQUESTED),
                     ("voided", D.DESTINATION_VOIDED)][: rnd.randint(1, 5)]
            out += [destination(t, f"d-{i}", n + 1, s, g, school, code) for n, (s, t) in enumerate(steps)]
        for module in ("archive", "hukou"):
            if rnd.random() < 0.5:
                end = rnd.choice([("approved", "approved"), ("rejected", "school_rejected")])
                out += [registration(module, "submitted", f"{module}-{i}", 1, "department_review", g, school),
                        registration(module, end[0], f"{module}-{i}", 2, end[1], g, school)]
    return out


@pytest.fixture
def stream():
    return _stream(7)


def test_shuffled_and_repeated_streams_give_the_same_result(world, app, config, stream):
    world.deliver(*stream)
    expected = world.snapshot()
    assert expected[0], "the scenario counts something"
    # the same events again, shuffled, each twice: nothing moves
    again = stream * 2
    random.Random(1).shuffle(again)
    world.deliver(*again)
    assert world.snapshot() == expected


def test_a_shuffled_stream_on_an_empty_model_gives_the_same_result(service, signing_key, stream, tmp_path, request):
    """Two read models: one fed in order, one shuffled with duplicates in consumer-sized batches."""
    from .conftest import World

    ordered = World(service, signing_key)
    ordered.deliver(*stream)
    expected = ordered.snapshot()
    with service.engine.begin() as conn:  # start over on the same database
        from quxiang.stats.adapters.tables import READ_MODEL_TABLES
        for table in reversed(READ_MODEL_TABLES):
            conn.execute(table.delete())
    shuffled = stream + random.Random(2).sample(stream, len(stream) // 3)
    random.Random(3).shuffle(shuffled)
    for start in range(0, len(shuffled), 25):
        ordered.deliver_batch(shuffled[start:start + 25])
    assert ordered.snapshot() == expected


def test_a_redelivered_event_changes_nothing(world):
    g = "00000000-0000-0000-0000-00000000abcd"
    world.deliver(roster(g, "10558", None))
    approved = agreement(A.AGREEMENT_APPROVED, "a-x", 4, "approved", g, "10558")
    world.deliver(approved)
    once = world.snapshot()
    world.deliver(approved, approved)
    world.deliver_batch([approved, approved])
    assert world.snapshot() == once
    # an older event arriving late changes nothing either
    world.deliver(agreement(A.AGREEMENT_ACCEPTED, "a-x", 2, "department_review", g, "10558"))
    assert world.snapshot() == once
    rows = once[0]
    assert list(rows.values()) == [(1, 1, 0, 0, 0, 0, 0)]
