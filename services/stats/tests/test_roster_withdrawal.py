"""移出生源 in the figures: a graduate taken off the roster is counted nowhere (总人数 included) until
records puts it back, whatever order the events come in, and a rebuild agrees."""

from __future__ import annotations

import itertools

from quxiang.stats.service.rebuild import rebuild

from .stats_events import department_created, roster, school_created

SCHOOL, DEPARTMENT = "10558", "d-cs"


def totals(world):
    rows, _, _, schools = world.snapshot()
    return rows.get((SCHOOL, DEPARTMENT, "31", 2026), (0,))[0], schools.get((SCHOOL, "31", 2026), (0,))[0]


def test_a_withdrawn_graduate_is_not_counted_until_put_back(world, service):
    world.deliver(school_created(SCHOOL, "中山大学"), department_created(DEPARTMENT, SCHOOL, "01", "计算机学院"))
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT), roster("g-2", SCHOOL, DEPARTMENT))
    assert totals(world) == (2, 2)
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT, sequence=2, withdrawn=True))
    assert totals(world) == (1, 1)
    assert rebuild(service).drift == 0
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT, sequence=2, withdrawn=True))  # redelivered
    assert totals(world) == (1, 1)
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT, sequence=3, updated=True))
    assert totals(world) == (2, 2)
    assert rebuild(service).drift == 0


def _history(graduate_id, last):
    """A graduate registered, withdrawn, put back, withdrawn again: its events up to ``last``."""
    return [roster(graduate_id, SCHOOL, DEPARTMENT),
            roster(graduate_id, SCHOOL, DEPARTMENT, sequence=2, withdrawn=True),
            roster(graduate_id, SCHOOL, DEPARTMENT, sequence=3, updated=True),
            roster(graduate_id, SCHOOL, DEPARTMENT, sequence=4, withdrawn=True)][:last]


def test_any_order_of_the_roster_events_gives_the_same_figures(world, service):
    world.deliver(school_created(SCHOOL, "中山大学"), department_created(DEPARTMENT, SCHOOL, "01", "计算机学院"))
    counted = 0
    for last in (2, 3, 4):
        for n, order in enumerate(itertools.permutations(_history("x", last))):
            graduate_id = f"g-{last}-{n}"
            history = {e.sequence: e for e in _history(graduate_id, last)}
            world.deliver(*(history[o.sequence] for o in order))
            counted += last == 3  # on the roster after its newest event
            assert totals(world) == (counted, counted), (last, [e.sequence for e in order])
    assert rebuild(service).drift == 0
