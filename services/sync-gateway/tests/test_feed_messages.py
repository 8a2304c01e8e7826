"""The feed's public message, its AsyncAPI document and the webhook signatures (no servers needed)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from quxiang.common.contracts import records
from quxiang.common.events import catalogue
from quxiang.sync_gateway.domain import signatures
from quxiang.sync_gateway.domain.asyncapi import document
from quxiang.sync_gateway.domain.feed import FEED_EVENT_TYPES, PAYLOAD_FIELDS, entry_of
from quxiang.sync_gateway.entrypoints.cli import asyncapi_text
from quxiang.sync_gateway.entrypoints.consumers import FEED_CONSUMER, consumers

from .feed_scenario import IDENTITY_NUMBER, SCHOOL_A, SCHOOL_B, roster, scenario

DOCS = Path(__file__).resolve().parents[3] / "docs" / "feed-asyncapi.json"


def feed_event_validator(doc: dict) -> jsonschema.Validator:
    schema = {"$ref": "#/components/schemas/FeedEvent", "components": doc["components"]}
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def messages_of(events):
    sequences: dict[str, int] = {}
    out = []
    for e in events:
        entry = entry_of(e.event_id, e.type, e.subject, e.sequence, e.occurred_at, e.data)
        sequences[entry.school_code] = sequences.get(entry.school_code, 0) + 1
        out.append(json.loads(json.dumps(entry.message(sequences[entry.school_code]))))
    return out


def test_every_message_of_the_scenario_validates_and_carries_no_identity_number():
    validator = feed_event_validator(document())
    messages = messages_of(scenario())
    assert {m["school_code"] for m in messages} == {SCHOOL_A, SCHOOL_B}
    for message in messages:
        validator.validate(message)
        text = json.dumps(message, ensure_ascii=False)
        assert IDENTITY_NUMBER not in text and "identity" not in text
        if message["category"] == "graduate":  # not even the masked number of the roster row
            assert "440***" not in text
        assert message["exam_number"] and message["name"] and message["schema_version"] == 1
    declined = next(m for m in messages if m["change"] == "agreement.declined")
    assert declined["payload"]["reason"] == "证件号 440***********1234 有误"  # masked, not dropped


def test_the_schema_refuses_what_the_feed_must_not_send():
    validator = feed_event_validator(document())
    message = messages_of([roster("44010600001", SCHOOL_A, "张三")])[0]
    assert message["change"] == "graduate.registered"
    leaked = {**message, "payload": {**message["payload"], "identity_number": IDENTITY_NUMBER}}
    assert not validator.is_valid(leaked)
    wrong_kind = {**message, "change": "agreement.approved"}
    assert not validator.is_valid(wrong_kind)
    assert not validator.is_valid({k: v for k, v in message.items() if k != "event_id"})


def test_the_feed_covers_roster_agreements_destinations_archive_and_hukou():
    categories = {t.split(".")[1] for t in FEED_EVENT_TYPES}
    assert categories == set(PAYLOAD_FIELDS) == {"graduate", "agreement", "destination", "archive", "hukou"}
    assert records.GRADUATE_REGISTERED in FEED_EVENT_TYPES and "signing.agreement.invited" in FEED_EVENT_TYPES
    assert all(t in catalogue for t in FEED_EVENT_TYPES)
    assert set(consumers()[FEED_CONSUMER]) == set(FEED_EVENT_TYPES)
    for fields in PAYLOAD_FIELDS.values():
        assert not any("identity" in f for f in fields)


def test_the_docs_copy_is_the_generated_document():
    assert DOCS.read_text(encoding="utf-8") == asyncapi_text(), "run: qx-sync feed-asyncapi > docs/feed-asyncapi.json"
    doc = json.loads(DOCS.read_text(encoding="utf-8"))
    assert doc["asyncapi"].startswith("3.") and "schoolQueue" in doc["channels"]
    # every local reference resolves
    refs = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    for ref in refs:
        target = doc
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


def test_signatures_verify_and_a_tampered_body_or_stale_timestamp_fails():
    body = json.dumps({"event_id": "x", "name": "张三"}, ensure_ascii=False).encode()
    headers = signatures.signed_headers("whsec_abc", body, now=1_800_000_000)
    assert headers[signatures.SIGNATURE_HEADER].startswith("v1=")
    assert signatures.verify("whsec_abc", body, headers, now=1_800_000_100)
    assert not signatures.verify("whsec_abc", body.replace("张三".encode(), "李四".encode()), headers,
                                 now=1_800_000_100)
    assert not signatures.verify("whsec_other", body, headers, now=1_800_000_100)
    assert not signatures.verify("whsec_abc", body, headers, now=1_800_000_000 + 301)  # outside the window
    assert not signatures.verify("whsec_abc", body, {**headers, signatures.TIMESTAMP_HEADER: "1800000001"},
                                 now=1_800_000_000)
    assert not signatures.verify("whsec_abc", body, {}, now=1_800_000_000)
    lower = {k.lower(): v for k, v in headers.items()}
    assert signatures.verify("whsec_abc", body, lower, now=1_800_000_000)


@pytest.mark.parametrize("bad", ["", "v1=", "v1=00", "sha256=abc"])
def test_malformed_signatures_fail(bad):
    body = b"{}"
    headers = {**signatures.signed_headers("s", body, now=100), signatures.SIGNATURE_HEADER: bad}
    assert not signatures.verify("s", body, headers, now=100)


def test_a_withdrawal_reaches_the_school_with_its_reason():
    from quxiang.common.contracts import records as records_contract
    from quxiang.sync_gateway.domain.feed import payload_of

    data = {"graduate_id": "g-1", "exam_number": "26440100000001", "name": "学生", "school_code": "10558",
            "department_id": "d", "education_level": "31", "graduation_year": 2026, "reason": "退学"}
    assert payload_of(records_contract.GRADUATE_WITHDRAWN, data)["reason"] == "退学"
    assert payload_of(records_contract.GRADUATE_UPDATED, {**data, "reason": None})["reason"] is None
