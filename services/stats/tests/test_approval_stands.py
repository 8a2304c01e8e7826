"""A change to an approved archive/hukou registration is in review while its approval stands (records
and the EMS keep it): the graduate stays 已登记, not 审核中, in any order of the events, and the
rebuilds (from the stored aggregates and from the services' snapshots) agree."""

from __future__ import annotations

import itertools

from quxiang.stats.service import snapshots
from quxiang.stats.service.rebuild import rebuild

from .stats_events import department_created, registration, roster, school_created
from .test_rebuild_from_snapshots import _snapshots

SCHOOL, DEPARTMENT = "10558", "d-cs"
KEY = (SCHOOL, DEPARTMENT, "31", 2026)
# counters: total, employment registered/review, archive registered/review, hukou registered/review
ARCHIVE_REGISTERED = (1, 0, 0, 1, 0, 0, 0)
ARCHIVE_REVIEW = (1, 0, 0, 0, 1, 0, 0)


def _setup(world):
    world.deliver(school_created(SCHOOL, "中山大学"), department_created(DEPARTMENT, SCHOOL, "01", "计算机学院"))


def _history(graduate_id):
    """Submitted, approved, a change submitted, the change refused (the approval stands), changed again."""
    def step(outcome, sequence, status, stands):
        return registration("archive", outcome, f"arc-{graduate_id}", sequence, status, graduate_id, SCHOOL,
                            DEPARTMENT, approval_stands=stands)
    return [step("submitted", 1, "school_review", False), step("approved", 2, "approved", True),
            step("submitted", 3, "school_review", True), step("rejected", 4, "approved", True),
            step("submitted", 5, "school_review", True)]


def test_a_change_in_review_keeps_the_graduate_registered(world, service):
    _setup(world)
    events = _history("g-1")
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT), events[0])
    assert world.snapshot()[0] == {KEY: ARCHIVE_REVIEW}  # a first submission: 审核中
    world.deliver(events[1])
    assert world.snapshot()[0] == {KEY: ARCHIVE_REGISTERED}
    for e in events[2:]:
        world.deliver(e)
        assert world.snapshot()[0] == {KEY: ARCHIVE_REGISTERED}, e.type
    assert rebuild(service).drift == 0
    loaded = rebuild(service, load=snapshots.load(_snapshots([roster("g-1", SCHOOL, DEPARTMENT), *events])),
                     source="snapshots")
    assert loaded.drift == 0 and world.snapshot()[0] == {KEY: ARCHIVE_REGISTERED}


def test_an_event_of_an_older_producer_counts_by_its_status(world, service):
    # Without approval_stands (records before it) a change in review counts as 审核中, as it did.
    _setup(world)
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT),
                  registration("hukou", "approved", "huk-1", 2, "approved", "g-1", SCHOOL, DEPARTMENT),
                  registration("hukou", "submitted", "huk-1", 3, "department_review", "g-1", SCHOOL, DEPARTMENT))
    assert world.snapshot()[0] == {KEY: (1, 0, 0, 0, 0, 0, 1)}


def test_any_order_of_the_events_gives_the_newest_state(world, service):
    _setup(world)
    n = 0
    for last in (3, 4, 5):
        for order in itertools.permutations(range(last)):
            graduate_id = f"g-{n}"
            n += 1
            events = _history(graduate_id)[:last]
            world.deliver(roster(graduate_id, SCHOOL, DEPARTMENT), *(events[i] for i in order))
    assert world.snapshot()[0] == {KEY: (n, 0, 0, n, 0, 0, 0)}
    assert rebuild(service).drift == 0


def test_a_rebuild_from_the_services_finds_and_counts_what_older_events_left_in_review(world, service):
    # Events of a records before approval_stands left the change 审核中; the services' snapshots say
    # the approval stands. The rebuild reports the graduate whose standing it changed (it reloads every
    # graduate, so it compares with the rows as they were before).
    _setup(world)
    old = [registration("archive", "approved", "arc-1", 2, "approved", "g-1", SCHOOL, DEPARTMENT),
           registration("archive", "submitted", "arc-1", 3, "school_review", "g-1", SCHOOL, DEPARTMENT)]
    world.deliver(roster("g-1", SCHOOL, DEPARTMENT), roster("g-2", SCHOOL, DEPARTMENT), *old)
    assert world.snapshot()[0] == {KEY: (2, 0, 0, 0, 1, 0, 0)}
    assert rebuild(service, fix=False).drift == 0  # the stored aggregates cannot tell
    now = [*old[:1], registration("archive", "submitted", "arc-1", 3, "school_review", "g-1", SCHOOL, DEPARTMENT,
                                  approval_stands=True)]
    source = _snapshots([roster("g-1", SCHOOL, DEPARTMENT), roster("g-2", SCHOOL, DEPARTMENT), *now])
    dry = rebuild(service, load=snapshots.load(source), source="snapshots", fix=False)
    assert dry.graduates_fixed == 1 and "graduate g-1: none/review/none -> none/registered/none" in dry.samples
    assert world.snapshot()[0] == {KEY: (2, 0, 0, 0, 1, 0, 0)}  # a dry run changes nothing
    report = rebuild(service, load=snapshots.load(source), source="snapshots")
    assert report.graduates_fixed == 1 and report.counter_rows_fixed == 1
    assert world.snapshot()[0] == {KEY: (2, 0, 0, 1, 0, 0, 0)}
    again = rebuild(service, load=snapshots.load(source), source="snapshots")
    assert again.drift == 0, again.lines()
