"""The consumer runtime's decisions, without a broker: what happens to a delivery and why."""

import json

import pytest

from quxiang.common.bus.consumer import ConsumerRuntime, in_lock_order, locks_first
from quxiang.common.bus.transport import Ack, DeadLetter, Delivery, Retry
from quxiang.common.db import make_engine

from support import CATALOGUE, TYPES, effect_counts, effect_handler, prepare_database


class NoTransport:
    def close(self):
        pass


@pytest.fixture
def runtime_for(embedded_config):
    def build(handler=effect_handler, url=None):
        engine = make_engine(url or embedded_config.database_url)
        if url is None:
            prepare_database(engine, embedded_config)
        return ConsumerRuntime("worker", dict.fromkeys(TYPES, handler), engine, NoTransport(), embedded_config,
                               producer="testsvc", catalogue=CATALOGUE)
    return build


def delivery_of(event, attempt=0):
    return Delivery(body=event.to_json(), headers={"x-qx-attempt": attempt}, routing_key=event.type,
                    message_id=event.event_id, redelivered=False)


def an_event(subject="s"):
    return CATALOGUE.new_event("test.item.created", subject=subject, sequence=1, data={"name": "x"},
                               producer="testsvc")


def test_a_redelivered_event_is_acked_without_running_the_handler_again(runtime_for):
    runtime = runtime_for()
    event = an_event()
    assert runtime.handle(delivery_of(event)) == Ack()
    assert runtime.handle(delivery_of(event)) == Ack(duplicate=True)
    assert effect_counts(runtime.engine) == {event.event_id: 1}


def test_failures_climb_the_retry_tiers_then_dead_letter(runtime_for):
    def failing(event, uow):
        effect_handler(event, uow)  # written, then rolled back with the failure
        raise ValueError("the handler cannot cope")

    runtime = runtime_for(failing)
    event = an_event()
    tiers = [runtime.handle(delivery_of(event, attempt)) for attempt in range(runtime.spec.max_attempts)]
    assert tiers[:-1] == [Retry(tier=i, error="ValueError: the handler cannot cope")
                          for i in range(len(runtime.spec.retry_delays))]
    assert tiers[-1] == DeadLetter("ValueError: the handler cannot cope")
    assert effect_counts(runtime.engine) == {}
    assert runtime.handle(delivery_of(event)) != Ack(duplicate=True), "a failed event is not marked handled"


def test_an_event_type_without_a_handler_is_dead_lettered(runtime_for):
    runtime = runtime_for()
    other = CATALOGUE.new_event("test.item.updated", subject="s", sequence=1, data={"name": "x"}, producer="t")
    runtime.handlers.pop("test.item.updated")
    outcome = runtime.handle(delivery_of(other))
    assert isinstance(outcome, DeadLetter) and outcome.error.startswith("no_handler")


def test_an_unreachable_database_does_not_spend_the_message_retries(runtime_for):
    runtime = runtime_for(url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    outcome = runtime.handle(delivery_of(an_event(), attempt=1))
    assert isinstance(outcome, Retry) and outcome.counts is False and outcome.tier == 0


def test_identity_numbers_in_errors_are_masked(runtime_for):
    def failing(event, uow):
        raise ValueError("bad graduate 110105194912310021")

    outcome = runtime_for(failing).handle(delivery_of(an_event(), attempt=99))
    assert isinstance(outcome, DeadLetter)
    assert "19491231" not in outcome.error and "110" in outcome.error


def test_a_body_that_is_not_an_event_is_dead_lettered_with_the_reason(runtime_for):
    runtime = runtime_for()
    body = json.dumps({"type": "test.item.created"}).encode()
    outcome = runtime.handle(Delivery(body=body, headers={}, routing_key="x", message_id="m", redelivered=False))
    assert isinstance(outcome, DeadLetter) and "lacks" in outcome.error


def test_a_batch_with_a_bad_message_settles_every_other_one_normally(runtime_for):
    def picky(event, uow):
        if event.subject == "poison":
            raise ValueError("poisoned")
        effect_handler(event, uow)

    runtime = runtime_for(picky)
    first, poison, second = an_event("a"), an_event("poison"), an_event("b")
    outcomes = runtime.handle_batch([delivery_of(first), delivery_of(poison), delivery_of(second),
                                     delivery_of(first)])
    assert outcomes == [Ack(), Retry(tier=0, error="ValueError: poisoned"), Ack(), Ack(duplicate=True)]
    assert effect_counts(runtime.engine) == {first.event_id: 1, second.event_id: 1}


def test_a_batch_handles_everything_in_one_transaction_and_dedupes(runtime_for):
    runtime = runtime_for()
    events = [an_event(f"s{i}") for i in range(5)]
    assert runtime.handle_batch([delivery_of(e) for e in events]) == [Ack()] * 5
    again = runtime.handle_batch([delivery_of(e) for e in events[:2]] + [delivery_of(an_event("new"))])
    assert again == [Ack(duplicate=True), Ack(duplicate=True), Ack()]
    assert sum(effect_counts(runtime.engine).values()) == 6


@pytest.mark.parametrize("body", [
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,  # RecursionError in the JSON parser
    json.dumps({**json.loads(an_event().to_json()), "occurred_at": "9999-12-31T23:59:59-01:00"}).encode(),
])
def test_a_message_that_breaks_the_decoder_is_dead_lettered_not_raised(runtime_for, body):
    runtime = runtime_for()
    good = an_event("after")
    outcomes = runtime.handle_batch([Delivery(body=body, headers={}, routing_key="x", message_id="m",
                                              redelivered=False), delivery_of(good)])
    assert isinstance(outcomes[0], DeadLetter) and outcomes[1] == Ack()
    assert effect_counts(runtime.engine) == {good.event_id: 1}


def test_an_error_no_check_foresaw_in_decoding_dead_letters_the_one_message(runtime_for, monkeypatch):
    runtime = runtime_for()
    real = runtime.catalogue.decode

    def decode(body):
        if b"poison" in body:
            raise KeyError("a bug in a schema")
        return real(body)

    monkeypatch.setattr(runtime.catalogue, "decode", decode)
    poison, good = an_event("poison"), an_event("fine")
    outcomes = runtime.handle_batch([delivery_of(poison), delivery_of(good)])
    assert isinstance(outcomes[0], DeadLetter) and outcomes[0].error.startswith("undecodable: KeyError")
    assert outcomes[1] == Ack()


def test_a_database_gone_while_checking_a_duplicate_retries_without_spending_attempts(runtime_for, monkeypatch):
    from sqlalchemy.exc import IntegrityError, OperationalError

    def clashing(event, uow):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    def gone(event):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    runtime = runtime_for(clashing)
    monkeypatch.setattr(runtime, "_already_handled", gone)
    outcome = runtime.handle(delivery_of(an_event(), attempt=3))
    assert isinstance(outcome, Retry) and outcome.counts is False and "server closed" in outcome.error


class BreakingTransport:
    """Consuming raises an error that is not the transport's the first time, then stops the loop."""

    def __init__(self, stop):
        self.stop, self.consumed, self.closed = stop, 0, 0

    def declare_consumer(self, spec):
        pass

    def consume(self, spec, handle, stop):
        self.consumed += 1
        if self.consumed == 1:
            raise RuntimeError("a bug met once")
        self.stop.set()

    def close(self):
        self.closed += 1


def test_the_loop_survives_an_unexpected_error_and_consumes_again(embedded_config, monkeypatch):
    import threading

    from quxiang.common.bus import consumer

    monkeypatch.setattr(consumer.Backoff, "next", lambda self: 0.01)
    stop = threading.Event()
    transport = BreakingTransport(stop)
    engine = make_engine(embedded_config.database_url)
    prepare_database(engine, embedded_config)
    runtime = ConsumerRuntime("worker", dict.fromkeys(TYPES, effect_handler), engine, transport, embedded_config,
                              producer="testsvc", catalogue=CATALOGUE)
    worker = threading.Thread(target=runtime.run, args=(stop,))
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert transport.consumed == 2, "the loop ended with the error instead of consuming again"
    assert transport.closed >= 2  # the broken connection dropped, and the last close on the way out


def test_a_batch_applies_its_events_in_the_order_of_the_rows_their_handlers_lock_first(runtime_for):
    seen = []

    @locks_first(lambda event: event.subject)
    def by_subject(event, uow):
        seen.append((event.subject, event.sequence))

    runtime = runtime_for()
    runtime.handlers = {"test.item.created": by_subject, "test.item.updated": effect_handler}

    def event(subject, sequence, kind="test.item.created"):
        return CATALOGUE.new_event(kind, subject=subject, sequence=sequence, data={"name": "x"}, producer="testsvc")

    batch = [event("b", 1), event("a", 1), event("b", 2), event("plain", 1, "test.item.updated"), event("a", 2)]
    assert runtime.handle_batch([delivery_of(e) for e in batch]) == [Ack()] * 5
    # one subject's events keep their order; subjects in key order; undeclared handlers first
    assert seen == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert list(effect_counts(runtime.engine)) == [batch[3].event_id]
    plain = [event("z", 1, "test.item.updated"), event("y", 1, "test.item.updated")]
    assert in_lock_order(plain, runtime.handlers) == plain  # nobody declared: as they came
