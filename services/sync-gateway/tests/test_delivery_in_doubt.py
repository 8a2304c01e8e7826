"""What the EMS holds after unclear answers: a request that timed out may still land, so nothing of
its slot goes out before it can no longer land (a newer version would otherwise be overwritten by the
late older one); a name corrected after such a request goes out under a new key, and so does an
operator's retry; a throttled attempt does not use up the retry budget."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from quxiang.common.contracts import signing
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.ems_client import EmsClient
from quxiang.sync_gateway.adapters.tables import sync_records
from quxiang.sync_gateway.domain.delivery import CircuitBreaker, Outcome, Result, RetryPolicy
from quxiang.sync_gateway.service.worker import SyncWorker

from .events import agreement, new_id, registration, roster

pytestmark = pytest.mark.timeout(120)
EXAM = "264401990001"


def row(gateway, kind="destination"):
    with gateway.engine.connect() as conn:
        return conn.execute(select(sync_records).where(sync_records.c.exam_number == EXAM,
                                                       sync_records.c.kind == kind)).one()


@pytest.fixture
def impatient(gateway, ems):
    """A worker that gives up on a request after half a second (the EMS may still write it)."""
    worker = SyncWorker(gateway, client=EmsClient(ems.url, timeout=0.5),
                        policy=RetryPolicy(initial=0.05, maximum=0.2),
                        breaker=CircuitBreaker(threshold=100, probe_interval=0.2))
    worker.lease_seconds = 3.0  # how long a request left unanswered may take to land, here
    yield worker
    worker.close()


def test_a_late_write_never_overtakes_a_newer_version(world, gateway, impatient, ems):
    agreement_id = new_id()
    world.deliver(roster(EXAM, "李同学", 1), agreement(signing.AGREEMENT_APPROVED, agreement_id, 7, EXAM))
    ems.faults(latency_ms=1500)
    impatient.deliver_due()  # times out; the EMS writes version 1 a second later
    ems.clear_faults()
    assert row(gateway).status == "pending"
    world.deliver(agreement(signing.AGREEMENT_TERMINATED, agreement_id, 9, EXAM))
    assert impatient.deliver_due().synced == 0  # held: version 1 may still land
    time.sleep(1.5)  # ... and now it has
    assert ems.graduate(EXAM)["destination"]["platform_version"] == 1
    deadline = time.monotonic() + 10
    while row(gateway).status != "synced" and time.monotonic() < deadline:
        impatient.drain(timeout=1)
        time.sleep(0.1)
    assert row(gateway).status == "synced" and row(gateway).synced_version == 2
    held = ems.graduate(EXAM)["destination"]
    assert held["platform_version"] == 2 and held["status"] == "terminated"


def test_a_name_corrected_after_an_unanswered_request_goes_out_under_a_new_key(world, gateway, impatient, ems):
    world.deliver(roster(EXAM, "李同学", 1), registration("archive", new_id(), 3, EXAM))
    ems.faults(latency_ms=1500)
    impatient.deliver_due()  # the old name may land on the first key
    ems.clear_faults()
    world.deliver(roster(EXAM, "李同學", 2))
    time.sleep(1.5)
    deadline = time.monotonic() + 10
    while row(gateway, "archive").status == "pending" and time.monotonic() < deadline:
        impatient.drain(timeout=1)
        time.sleep(0.1)
    archive = row(gateway, "archive")
    assert archive.status == "synced", archive.last_error
    assert ems.graduate(EXAM)["archive"]["name"] == "李同學"


def test_an_operator_retry_uses_a_fresh_key(world, gateway, worker, ems):
    world.deliver(roster(EXAM, "李同学", 1), registration("archive", new_id(), 3, EXAM))
    ems.faults(error_rate=1.0)
    worker.policy = RetryPolicy(max_attempts=1, initial=0.01, maximum=0.01)
    worker.drain()
    before = row(gateway, "archive")
    assert before.status == "failed"
    ems.clear_faults()
    assert ledger.retry_failed(gateway.engine) == 1
    assert row(gateway, "archive").key_round == before.key_round + 1
    worker.drain()
    assert row(gateway, "archive").status == "synced"


def test_throttling_does_not_use_up_the_retry_budget(world, gateway, worker, ems):
    world.deliver(roster(EXAM, "李同学", 1), agreement(signing.AGREEMENT_APPROVED, new_id(), 7, EXAM))
    worker.policy = RetryPolicy(max_attempts=2, initial=0.01, maximum=0.01)
    worker.breaker.threshold = 1000
    ems.faults(throttle_rate=1.0, retry_after_s=0)
    deadline = time.monotonic() + 15
    while ems.stats()["faults"]["throttle"] < 3 and time.monotonic() < deadline:
        worker.deliver_due()
        time.sleep(0.1)
    throttled = row(gateway)
    assert throttled.status == "pending" and throttled.attempts == 0
    assert ems.stats()["faults"]["throttle"] >= 3
    ems.clear_faults()
    deadline = time.monotonic() + 15
    while row(gateway).status != "synced" and time.monotonic() < deadline:
        worker.drain(timeout=1)
        time.sleep(0.1)
    assert row(gateway).status == "synced"


def test_what_is_in_doubt():
    policy = RetryPolicy(max_attempts=3)
    throttled = Result(Outcome.THROTTLED, "HTTP 429")
    assert not policy.counts(throttled) and not policy.parks(10, throttled)
    assert policy.parks(3, Result(Outcome.UNAVAILABLE, "HTTP 503"))
    refused = EmsClient("http://127.0.0.1:9", timeout=0.5).put_record(EXAM, "destination", {}, "k")
    assert refused.outcome is Outcome.UNAVAILABLE and not refused.in_doubt  # never reached the EMS
    unresolved = EmsClient("http://no-such-host.invalid", timeout=0.5).put_record(EXAM, "destination", {}, "k")
    assert unresolved.outcome is Outcome.UNAVAILABLE and not unresolved.in_doubt
