import json
import uuid
from datetime import UTC, datetime

import marshmallow
import pytest

from quxiang.common.context import event_context, request_context
from quxiang.common.events import (
    Catalogue,
    DuplicateRegistration,
    EventError,
    InvalidEvent,
    UnknownEventType,
)


class Data(marshmallow.Schema):
    graduate_id = marshmallow.fields.String(required=True)
    year = marshmallow.fields.Integer(required=True)


@pytest.fixture
def catalogue():
    c = Catalogue()
    c.register("records.graduate.imported", Data, version=2, description="a roster row was imported")
    return c


def new(catalogue, **overrides):
    kwargs = {"subject": "g-1", "sequence": 1, "data": {"graduate_id": "g-1", "year": 2026}, "producer": "records"}
    kwargs.update(overrides)
    return catalogue.new_event("records.graduate.imported", **kwargs)


def test_an_event_carries_the_whole_envelope(catalogue):
    with request_context("req-42"):
        event = new(catalogue)
    assert uuid.UUID(event.event_id)
    assert event.version == 2 and event.producer == "records" and event.subject == "g-1"
    assert event.correlation_id == "req-42" and event.causation_id is None
    assert event.occurred_at.tzinfo is UTC
    body = json.loads(event.to_json())
    assert set(body) == {"event_id", "type", "version", "occurred_at", "producer", "correlation_id",
                         "causation_id", "subject", "sequence", "data"}
    assert body["occurred_at"].endswith("Z")


def test_events_recorded_while_handling_an_event_are_caused_by_it(catalogue):
    with event_context("parent-event", "req-1"):
        event = new(catalogue)
    assert (event.causation_id, event.correlation_id) == ("parent-event", "req-1")


def test_registration_is_once_and_names_are_checked(catalogue):
    with pytest.raises(DuplicateRegistration):
        catalogue.register("records.graduate.imported", Data)
    with pytest.raises(EventError, match="service"):
        catalogue.register("GraduateImported", Data)
    with pytest.raises(EventError, match="version"):
        catalogue.register("records.graduate.deleted", Data, version=0)


def test_recording_an_unregistered_type_raises(catalogue):
    with pytest.raises(UnknownEventType):
        catalogue.new_event("records.graduate.vanished", subject="g", sequence=1, data={}, producer="records")


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"data": {"graduate_id": "g-1"}}, "year"),
    ({"data": {"graduate_id": "g-1", "year": "soon"}}, "year"),
    ({"data": {"graduate_id": "g-1", "year": 2026, "extra": 1}}, "extra"),
    ({"sequence": 0}, "sequence"),
    ({"subject": ""}, "subject"),
    ({"occurred_at": datetime(2026, 1, 1)}, "time zone"),
])
def test_invalid_data_raises_naming_the_problem(catalogue, overrides, fragment):
    with pytest.raises(InvalidEvent, match=fragment):
        new(catalogue, **overrides)


def test_decode_round_trips_and_validates_again(catalogue):
    event = new(catalogue)
    assert catalogue.decode(event.to_json()) == event
    body = event.to_dict()
    for broken, fragment in (
        ({**body, "version": 1}, "version"),
        ({**body, "data": {"graduate_id": 3}}, "invalid data"),
        ({k: v for k, v in body.items() if k != "subject"}, "lacks subject"),
        ({**body, "event_id": "nope"}, "bad envelope"),
        ({**body, "sequence": "1"}, "sequence"),
    ):
        with pytest.raises(InvalidEvent, match=fragment):
            catalogue.decode(json.dumps(broken))
    with pytest.raises(InvalidEvent, match="not JSON"):
        catalogue.decode(b"\xff\xfe")
    with pytest.raises(UnknownEventType):
        catalogue.decode(json.dumps({**body, "type": "records.graduate.gone"}))


def test_a_consumer_drops_a_field_a_newer_producer_added_and_a_producer_may_not_send_one(catalogue):
    # A rolling upgrade: the producer adds an optional field before its consumers know it. The old
    # consumer goes on without it instead of dead-lettering the event; a producer still may not
    # send a field its own schema lacks (a typo would otherwise vanish).
    body = new(catalogue).to_dict()
    newer = {**body, "data": {**body["data"], "approval_stands": True}}
    assert catalogue.decode(json.dumps(newer)).data == {"graduate_id": "g-1", "year": 2026}
    with pytest.raises(InvalidEvent, match="approval_stands"):
        new(catalogue, data={"graduate_id": "g-1", "year": 2026, "approval_stands": True})
    with pytest.raises(InvalidEvent, match="invalid data"):  # what it knows is still checked
        catalogue.decode(json.dumps({**newer, "data": {**newer["data"], "year": "soon"}}))


def test_event_ids_are_random_version_4_uuids_in_canonical_form():
    from quxiang.common.events import new_event_id

    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for event_id in ids:
        parsed = uuid.UUID(event_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == event_id


@pytest.mark.parametrize(("sent", "received"), [
    ("0B6C7A8E-1111-4222-8333-944455556666", "0b6c7a8e-1111-4222-8333-944455556666"),
    ("{0b6c7a8e-1111-4222-8333-944455556666}", "0b6c7a8e-1111-4222-8333-944455556666"),
    ("0b6c7a8e111142228333944455556666", "0b6c7a8e-1111-4222-8333-944455556666"),
])
def test_decode_normalises_the_event_id(catalogue, sent, received):
    body = json.loads(new(catalogue).to_json())
    body["event_id"] = sent
    assert catalogue.decode(json.dumps(body)).event_id == received


@pytest.mark.parametrize("bad", ["not-a-uuid", "0b6c7a8e-1111-4222-8333-94445555666", 42, None])
def test_decode_refuses_a_bad_event_id(catalogue, bad):
    body = json.loads(new(catalogue).to_json())
    body["event_id"] = bad
    with pytest.raises(InvalidEvent):
        catalogue.decode(json.dumps(body))


@pytest.mark.parametrize(("body", "fragment"), [
    # A valid ISO instant whose conversion to UTC leaves the calendar: OverflowError, not ValueError.
    (lambda good: {**good, "occurred_at": "9999-12-31T23:59:59-01:00"}, "bad envelope"),
    (lambda good: {**good, "occurred_at": "2026-06-01T08:00:00"}, "time zone"),
])
def test_decode_refuses_an_instant_it_cannot_place(catalogue, body, fragment):
    good = json.loads(new(catalogue).to_json())
    with pytest.raises(InvalidEvent, match=fragment):
        catalogue.decode(json.dumps(body(good)))


def test_decode_refuses_json_nested_too_deep(catalogue):
    with pytest.raises(InvalidEvent, match="not JSON"):
        catalogue.decode(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
