"""The roster import's fast paths give what the validated, row-by-row paths give: the outbox rows
(quxiang.common.bus.bulk), the COPY text, the UUIDs, the identity checks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from quxiang.common.bus.bulk import TrustedEvents, copy_text, uuid4_strings
from quxiang.common.bus.outbox import outbox_row
from quxiang.common.context import event_context
from quxiang.common.contracts.records import GRADUATE_REGISTERED, GRADUATE_UPDATED
from quxiang.common.events import InvalidEvent, catalogue
from quxiang.common.validators import (
    InvalidIdentifier,
    check_identity_matches_gender,
    gender_of_identity_number,
    identity_check_char,
    identity_gender,
    validate_identity_number,
)

from .roster_data import identity

DATA = {"graduate_id": "g-1", "exam_number": "26440100000001", "student_number": None, "name": '学生"\\\t一',
        "school_code": "10558", "department_id": "d-1", "education_level": "31", "graduation_year": 2026,
        "gender": "F", "major_code": "080901", "major_name": "计算机科学与技术",
        "identity_number_masked": "440***********003X"}


@pytest.mark.parametrize("type_", [GRADUATE_REGISTERED, GRADUATE_UPDATED])
def test_a_trusted_row_is_the_validated_row(type_):
    when = datetime(2026, 6, 1, 8, 30, 1, 250, tzinfo=UTC)
    with event_context("cause-1", "corr-1"):
        fast = TrustedEvents(type_, producer="records", partitions=16, occurred_at=when).row(
            "g-1", 3, DATA, event_id="e-1")
        slow = outbox_row(catalogue.new_event(type_, subject="g-1", sequence=3, data=DATA, producer="records",
                                              event_id="e-1", occurred_at=when), 16)
    assert fast.pop("created_at") == when  # outbox_row stamps the row when it is made
    slow.pop("created_at")
    assert fast == slow
    assert json.loads(fast["payload"])["correlation_id"] == "corr-1"


def test_rows_from_data_encoded_by_the_producer():
    when = datetime(2026, 6, 1, tzinfo=UTC)
    encoded = TrustedEvents(GRADUATE_UPDATED, producer="records", partitions=16, occurred_at=when)
    plain = TrustedEvents(GRADUATE_UPDATED, producer="records", partitions=16, occurred_at=when)
    data_json = json.dumps(DATA, ensure_ascii=False, separators=(",", ":"))
    assert encoded.row_json("g-1", 2, data_json, event_id="e-1") == plain.row("g-1", 2, DATA, event_id="e-1")
    line = encoded.line_json("g-1", 2, data_json).split("\t")
    assert line[1:5] == [GRADUATE_UPDATED, "g-1", "2", str(plain.row("g-1", 2, DATA)["partition"])]
    assert line[5] == copy_text(plain.payload(line[0], "g-1", 2, DATA)) and line[6:] == [when.isoformat(), "0"]
    for other in (json.dumps(DATA, ensure_ascii=False), json.dumps(DATA, separators=(",", ":"))):
        with pytest.raises(InvalidEvent, match="encoded"):  # spaces, or escaped Chinese: another JSON text
            TrustedEvents(GRADUATE_UPDATED, producer="records", partitions=16).row_json("g-1", 2, other)


def test_the_import_encodes_its_event_data_as_the_schema_would():
    from quxiang.records.domain.roster import RosterRow
    from quxiang.records.service.roster_import import _event_json, _json

    row = RosterRow(2, "A1", None, '名"字\\\t', "F", identity(3, male=False), "01", "dep-1", "080901", "计算机",
                    "31", "440106", 2026, None, None)
    data_json = _event_json("g-9", _json("10558"), row)
    TrustedEvents(GRADUATE_REGISTERED, producer="records", partitions=4).row_json("g-9", 1, data_json)  # checks it
    assert json.loads(data_json)["identity_number_masked"].count("*") == 11


def test_data_unlike_the_schema_is_refused_at_the_first_row():
    events = TrustedEvents(GRADUATE_REGISTERED, producer="records", partitions=4)
    with pytest.raises(InvalidEvent, match="not what the schema gives"):
        events.row("g-1", 1, {k: v for k, v in DATA.items() if k != "gender"})  # a field left out
    with pytest.raises(InvalidEvent, match="not what the schema gives"):
        events.row("g-1", 1, dict(reversed(DATA.items())))  # another order: another JSON
    with pytest.raises(InvalidEvent, match="invalid data"):
        events.row("g-1", 1, {**DATA, "graduation_year": "soon"})
    events.row("g-1", 1, DATA)


def test_trusted_rows_get_fresh_ids_and_refuse_a_bad_sequence():
    events = TrustedEvents(GRADUATE_REGISTERED, producer="records", partitions=4)
    ids = {events.row("g-1", 1, DATA)["event_id"] for _ in range(3000)}
    assert len(ids) == 3000
    with pytest.raises(InvalidEvent):
        events.row("g-1", 0, DATA)


def test_uuid4_strings_are_version_4_uuids():
    values = uuid4_strings(5000)
    assert len(set(values)) == 5000
    for value in values:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_copy_text_escapes_what_copy_reads_specially():
    assert copy_text("plain 文字") == "plain 文字"
    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"


def test_identity_checks_agree_with_the_definition():
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for n in range(0, 10**17, 7_777_777_777_777):
        first17 = f"{n:017d}"
        expected = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
        assert identity_check_char(first17) == expected
    number = identity(3, male=False)
    assert validate_identity_number(f" {number.lower()} ") == number
    assert validate_identity_number("４４" + number[2:]) == number  # full-width digits
    assert gender_of_identity_number(number) == identity_gender(number) == "F"
    with pytest.raises(InvalidIdentifier) as mismatch:
        check_identity_matches_gender(number, "男")
    assert mismatch.value.code == "gender_mismatch"
    for bad, code in ((" " + number[:17], "length"), (number[:16] + "٣" + number[17], "charset")):
        with pytest.raises(InvalidIdentifier) as caught:
            validate_identity_number(bad)
        assert caught.value.code == code
