"""The read model's rules without a database."""

from __future__ import annotations

import itertools

from quxiang.common.reference import destination_categories
from quxiang.stats.domain.figures import Category, breakdown, module_figures
from quxiang.stats.domain.model import (
    Aggregate,
    CounterKey,
    Graduate,
    Kind,
    Standing,
    State,
    deltas,
    standing,
    state_of,
)

KEY = CounterKey("10558", "d", "31", 2026)


def test_states_follow_the_status_not_the_event():
    assert state_of(Kind.AGREEMENT, "approved") is State.REGISTERED
    assert state_of(Kind.AGREEMENT, "void_review") is State.REGISTERED
    assert state_of(Kind.AGREEMENT, "terminated") is State.NONE
    assert state_of(Kind.AGREEMENT, "invited") is State.NONE
    assert state_of(Kind.AGREEMENT, "application_school_review") is State.REVIEW
    assert state_of(Kind.DESTINATION, "voided") is State.NONE
    assert state_of(Kind.ARCHIVE, "school_rejected") is State.NONE
    assert state_of(Kind.HUKOU, "school_review") is State.REVIEW
    # a change to an approved archive/hukou registration, in review: the approval stands
    assert state_of(Kind.HUKOU, "school_review", approval_stands=True) is State.REGISTERED
    assert state_of(Kind.ARCHIVE, "department_review", approval_stands=True) is State.REGISTERED
    assert Aggregate("r", Kind.ARCHIVE, "department_review", approval_stands=True).state is State.REGISTERED


def test_standing_takes_the_furthest_state_in_any_order():
    aggs = [Aggregate("a1", Kind.AGREEMENT, "terminated", "10"), Aggregate("d1", Kind.DESTINATION, "approved", "80"),
            Aggregate("a2", Kind.AGREEMENT, "department_review", "10"), Aggregate("r1", Kind.HUKOU, "approved")]
    results = {standing(p) for p in itertools.permutations(aggs)}
    assert results == {Standing(State.REGISTERED, State.NONE, State.REGISTERED, "80")}


def test_deltas_move_only_on_a_real_change():
    g = Graduate(KEY, Standing(State.REVIEW))
    assert not deltas(g, g)
    assert not deltas(Graduate(None, Standing()), Graduate(None, Standing(State.REGISTERED, destination_code="10")))
    d = deltas(g, Graduate(KEY, Standing(State.REGISTERED, destination_code="10")))
    assert d.counters == {KEY: {"employment_review": -1, "employment_registered": 1}}
    assert d.destinations == {(KEY, "10"): 1}
    moved = CounterKey("10558", "e", "31", 2026)
    d = deltas(g, Graduate(moved, g.standing))
    assert d.counters == {KEY: {"total": -1, "employment_review": -1}, moved: {"total": 1, "employment_review": 1}}


def test_the_three_add_up_to_the_total():
    f = module_figures({"total": 10, "employment_registered": 4, "employment_review": 1, "hukou_review": 2})
    assert f["employment"] == {"total": 10, "registered": 4, "review": 1, "unregistered": 5}
    assert f["hukou"]["unregistered"] == 8 and f["archive"]["unregistered"] == 10


def test_breakdown_parents_groups_and_placement():
    categories = [Category(c.code, c.parent_code, c.name_zh, c.group, c.placement_bucket)
                  for c in destination_categories()]
    out = breakdown({"10": 3, "502": 1, "75": 1, "76": 1, "801": 2, "70": 2, "99": 1}, 20, categories)
    counts = {c["code"]: c["count"] for c in out["categories"]}
    assert counts["50"] == 1 and counts["502"] == 1 and counts["80"] == 2 and counts["99"] == 1
    parts = {p["bucket"]: p["count"] for p in out["placement"]["parts"]}
    assert parts == {"unit_employment": 4, "entrepreneurship": 1, "freelance": 1, "further_study": 2}
    assert out["placement"]["count"] == 8 and out["placement"]["rate"] == 0.4
    groups = {g["group"]: g["count"] for g in out["groups"]}
    assert groups == {"employed_at_unit": 4, "not_at_unit": 4, "not_placed": 2, "unknown": 1}
    assert breakdown({}, 0, categories)["placement"]["rate"] == 0.0


def test_the_placement_parts_add_up_to_the_placement_rate():
    from itertools import product

    from quxiang.stats.domain.figures import rate, rates_adding_up

    assert rates_adding_up([1, 1, 0, 0], 3) == [0.3334, 0.3333, 0.0, 0.0]
    assert rates_adding_up([0, 0], 0) == [0.0, 0.0]
    for parts in product(range(4), repeat=4):
        for whole in (sum(parts), sum(parts) + 1, 7, 9, 13):
            if whole < sum(parts) or whole == 0:
                continue
            rates = rates_adding_up(list(parts), whole)
            assert round(sum(rates), 4) == rate(sum(parts), whole), (parts, whole)
            assert all(abs(r - p / whole) < 0.0001 for r, p in zip(rates, parts, strict=True)), (parts, whole)
