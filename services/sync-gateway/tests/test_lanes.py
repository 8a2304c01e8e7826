"""A worker's lanes: a record that arrives while another lane's request hangs is delivered at once,
and the lanes share one listener, so an idle worker claims as often as one lane would."""

from __future__ import annotations

import threading
import time

import pytest

from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.adapters.wakeup import SQLITE_POLL
from quxiang.sync_gateway.domain.delivery import Outcome, Result
from quxiang.sync_gateway.service import worker as worker_module
from quxiang.sync_gateway.service.worker import IDLE_WAIT, SyncWorker

from .events import A, agreement, new_id

pytestmark = pytest.mark.timeout(60)


class HangingEms:
    """Answers every write at once, except the first record's, which waits until released."""

    def __init__(self, hanging_exam: str) -> None:
        self.hanging_exam = hanging_exam
        self.release = threading.Event()
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def put_record(self, exam_number, kind, body, key):
        with self.lock:
            self.sent.append(exam_number)
        if exam_number == self.hanging_exam:
            self.release.wait(20)
        return Result(Outcome.SYNCED, write="created")

    def put_records(self, writes):
        return [self.put_record(w.exam_number, w.kind, w.body, w.key) for w in writes]

    def probe(self):
        return True

    def close(self):
        self.release.set()


def _run(worker: SyncWorker, seconds: float) -> threading.Thread:
    thread = threading.Thread(target=worker.run_for, args=(seconds,), daemon=True)
    thread.start()
    return thread


def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_record_is_not_held_behind_a_hanging_request(world, gateway):
    first, second = "26440199501", "26440199502"
    ems = HangingEms(first)
    worker = SyncWorker(gateway, client=ems)
    assert worker.lanes == 3
    try:
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, first))
        running = _run(worker, 4.0)
        assert _until(lambda: first in ems.sent)
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, second))
        assert _until(lambda: second in ems.sent), "the second record waited for the first one's request"
        assert not ems.release.is_set()
    finally:
        ems.release.set()
        running.join(10)
        worker.close()
    with gateway.engine.connect() as conn:
        assert ledger.counts(conn) == {"synced": 2}


def test_idle_lanes_claim_as_often_as_one_lane(world, gateway, monkeypatch):
    """Three idle lanes: only the one on the listener wakes to look for due retries, where each lane
    used to wait on a listener of its own and look as often as the others."""
    claims = []
    real_claim = ledger.claim
    monkeypatch.setattr(worker_module.ledger, "claim", lambda *a, **k: claims.append(1) or real_claim(*a, **k))
    worker = SyncWorker(gateway, client=HangingEms("none"))
    seconds = 1.5
    try:
        worker.run_for(seconds)
    finally:
        worker.close()
    period = IDLE_WAIT if gateway.engine.dialect.name == "postgresql" else SQLITE_POLL
    one_lane = seconds / period
    assert len(claims) <= 1.5 * one_lane + worker.lanes, (len(claims), one_lane)


class SlowEms(HangingEms):
    timeout = 25.0  # seconds to connect, and again to answer


def test_a_claim_outlasts_the_slowest_round_of_every_lane(world, gateway, monkeypatch):
    # With 3 lanes sharing one pool, a lane's request may wait behind the other lanes' before it
    # spends its own timeout twice (connect, answer). Had the lease been shorter, another lane could
    # send the row's newer version meanwhile and the older one land after it, for the EMS to keep.
    leases = []
    real_claim = ledger.claim
    monkeypatch.setattr(worker_module.ledger, "claim",
                        lambda engine, limit, lease, *a, **k: leases.append(lease) or real_claim(engine, limit, lease,
                                                                                                  *a, **k))
    ems = SlowEms("none")
    worker = SyncWorker(gateway, client=ems)
    try:
        world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, "26440199503"))
        worker.deliver_due()
    finally:
        worker.close()
    slowest_round = worker.lanes * 2 * ems.timeout
    assert leases and min(leases) > slowest_round, (leases, slowest_round)
    assert worker_module.lease_for(1.0, 1) == worker_module.LEASE_SECONDS  # never below the floor


class OddAnswerEms:
    """Writes, and answers 200 with a JSON body that is not an object."""

    timeout = 10.0

    def __init__(self):
        import requests

        from quxiang.sync_gateway.adapters.ems_client import EmsClient

        self.client = EmsClient("http://127.0.0.1:9")

        def put(url, **kwargs):
            response = requests.Response()
            response.status_code, response._content = 200, b"null"
            return response

        self.client.session.put = put

    def put_record(self, exam_number, kind, body, key):
        return self.client.put_record(exam_number, kind, body, key)

    def probe(self):
        return True

    def close(self):
        self.client.close()


def test_a_2xx_whose_body_is_not_an_object_still_settles_the_row(world, gateway):
    world.deliver(agreement(A.AGREEMENT_APPROVED, new_id(), 7, "26440199504"))
    worker = SyncWorker(gateway, client=OddAnswerEms())
    try:
        assert worker.deliver_due().synced == 1
    finally:
        worker.close()
    with gateway.engine.connect() as conn:
        assert ledger.counts(conn) == {"synced": 1}


def test_an_error_in_a_lane_reaches_the_job_instead_of_dying_unheard(world, gateway, monkeypatch):
    worker = SyncWorker(gateway, client=HangingEms("none"))
    assert worker.lanes > 1

    def broken():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(worker, "deliver_due", broken)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            worker.run_for(0.5)
    finally:
        worker.close()
