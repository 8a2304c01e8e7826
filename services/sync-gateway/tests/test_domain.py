"""The pure rules: events mapped to EMS records, the ordering rule, answers classified, backoff with
Retry-After, the circuit breaker."""

from __future__ import annotations

import random

from quxiang.sync_gateway.domain.delivery import CircuitBreaker, Outcome, Result, RetryPolicy, classify
from quxiang.sync_gateway.domain.ordering import Held, merged_anchor, supersedes
from quxiang.sync_gateway.domain.records import DESTINATION_FIELDS, desired_record, map_record

from .events import A, D, agreement, at, destination, new_id, registration


def test_agreement_maps_to_the_destination_record():
    e = agreement(A.AGREEMENT_APPROVED, new_id(), 7, "26440199001", occurred_at=at(0))
    kind, record = map_record(e.type, e.data)
    assert kind == "destination" and set(record) == set(DESTINATION_FIELDS)
    assert record["status"] == "in_force" and record["destination_code"] == "10"
    assert record["signing_date"] == "2026-04-20" and record["agreement_number"].startswith("202610558")
    ended = agreement(A.AGREEMENT_TERMINATED, e.subject, 9, "26440199001", occurred_at=at(5))
    assert map_record(ended.type, ended.data)[1]["status"] == "terminated"
    assert map_record(A.AGREEMENT_VOIDED, ended.data)[1]["status"] == "voided"


def test_destination_registration_and_transfers_map():
    e = destination(D.DESTINATION_APPROVED, new_id(), 3, "26440199002", code="85")
    kind, record = map_record(e.type, e.data)
    assert kind == "destination" and record["further_study_school"] == "中山大学"
    assert record["agreement_number"] is None and record["status"] == "in_force"
    # what signing's contract names as the EMS's: the country of 85/86, the notice of 46
    abroad = {**e.data, "country": "日本", "enlistment_notice_number": None}
    assert map_record(e.type, abroad)[1]["study_country"] == "日本"
    enlisted = {**e.data, "destination_code": "46", "enlistment_notice_number": "RW2026-0001"}
    assert map_record(e.type, enlisted)[1]["enlistment_notice_number"] == "RW2026-0001"
    assert map_record(A.AGREEMENT_APPROVED, agreement(A.AGREEMENT_APPROVED, new_id(), 7, "1").data)[1][
        "study_country"] is None
    archive = registration("archive", new_id(), 4, "26440199003")
    kind, record = map_record(archive.type, archive.data)
    assert kind == "archive" and record["transfer_number"] == "2026105580000001" and record["recipient"] == "王老师"
    hukou = registration("hukou", new_id(), 4, "26440199003")
    kind, record = map_record(hukou.type, hukou.data)
    assert kind == "hukou" and set(record) == {"transfer_type", "address", "receiving_unit", "postcode"}


def test_anchor_is_the_approval_time_or_the_end_events_time():
    approved = agreement(A.AGREEMENT_APPROVED, new_id(), 7, "x", occurred_at=at(1), approved_at=at(0))
    assert desired_record(approved.type, approved.event_id, approved.subject, 7, approved.occurred_at,
                          approved.data).anchor_at == at(0)
    ended = agreement(A.AGREEMENT_TERMINATED, new_id(), 9, "x", occurred_at=at(5))
    assert desired_record(ended.type, ended.event_id, ended.subject, 9, ended.occurred_at,
                          ended.data).anchor_at == at(5)


def test_ordering_rule():
    held = Held("A", 7, at(0))
    assert supersedes(None, "A", 1, at(0))
    assert supersedes(held, "A", 9, at(5))          # A's termination after its approval
    assert not supersedes(held, "A", 7, at(0))      # the same version again
    assert not supersedes(held, "A", 3, at(-5))     # an older version of A
    assert supersedes(held, "B", 2, at(10))         # a later aggregate's approval
    assert not supersedes(Held("B", 2, at(10)), "A", 9, at(5))  # A's end after B's approval: stays B
    assert merged_anchor(Held("A", 9, at(5)), "A", at(0)) == at(0)
    assert merged_anchor(Held("A", 9, at(5)), "B", at(7)) == at(7)


def test_answers_are_classified():
    assert classify(200).outcome is Outcome.SYNCED
    throttled = classify(429, 3.0)
    assert throttled.outcome is Outcome.THROTTLED and throttled.retry_after == 3.0
    assert classify(503).outcome is Outcome.UNAVAILABLE
    for status in (400, 404, 409, 422):
        assert classify(status).outcome is Outcome.PERMANENT


def test_backoff_grows_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(max_attempts=5, initial=1.0, maximum=8.0)
    rng = random.Random(7)
    delays = [policy.delay(n, rng=rng) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(8.0, 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(1, retry_after=30.0, rng=rng) == 30.0
    assert not policy.parks(4, Result(Outcome.UNAVAILABLE))
    assert policy.parks(5, Result(Outcome.UNAVAILABLE))
    assert policy.parks(1, Result(Outcome.PERMANENT))


def test_breaker_opens_probes_and_closes():
    breaker = CircuitBreaker(threshold=3, probe_interval=1.0, rng=random.Random(1))
    down = Result(Outcome.UNAVAILABLE, "503")
    for _ in range(2):
        breaker.record(down, 0.0)
    assert breaker.allows(0.0)
    breaker.record(down, 0.0)
    assert breaker.is_open and not breaker.allows(0.1) and not breaker.probe_due(0.1)
    assert breaker.probe_due(1.3)
    breaker.probed(False, 1.3)
    assert breaker.is_open and not breaker.probe_due(1.4)
    breaker.probed(True, 3.0)
    assert breaker.allows(3.0) and breaker.opened == 1
    breaker.record(Result(Outcome.THROTTLED, retry_after=2.0), 10.0)
    assert not breaker.allows(11.0) and breaker.allows(12.0) and not breaker.is_open


def test_the_ems_default_follows_the_port_make_run_listens_on():
    from quxiang.sync_gateway.service.settings import load_settings

    assert load_settings({}, 8637).ems_url == "http://127.0.0.1:8637/api/ems-sim"
    assert load_settings({}).ems_url == "http://127.0.0.1:8000/api/ems-sim"
    assert load_settings({"QX_EMS_URL": "https://ems.example/api"}, 8637).ems_url == "https://ems.example/api"
