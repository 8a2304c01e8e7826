"""No event carries an identity number, even one a user typed into a free-text field."""

from __future__ import annotations

import pytest

from quxiang.common.contracts import destinations, records, signing
from quxiang.common.contracts.free_text import FreeText
from quxiang.common.events import catalogue
from quxiang.common.pii import identity_numbers_in, redact_valid_identity_numbers

NUMBER = "11010519491231002X"   # valid: province 11, born 1949-12-31, check character X
CREDIT_CODE = "911100001000013934"  # 18 digits, no valid birth date: a 统一社会信用代码 kept as it is


def _registration(**changes):
    transfer = {"transfer_type": "unit", "receiving_unit": f"某单位{NUMBER}", "receiving_department": "人事处",
                "address": f"广州市 {NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:]}", "postcode": "510000",
                "recipient": f"张三（{NUMBER}）", "phone": "13800000000"}
    return {"registration_id": "r1", "module": "archive", "graduate_id": "g1", "exam_number": "26440100000001",
            "name": "学生1", "school_code": "10558", "status": "school_rejected", "graduation_year": 2026,
            "transfer": transfer, "reason": f"身份证号{NUMBER}与档案不符", **changes}


def test_typed_identity_numbers_are_masked_in_every_free_text_field_of_an_event():
    event = catalogue.new_event(records.ARCHIVE_REJECTED, subject="r1", sequence=2, data=_registration(),
                                producer="records")
    text = str(event.data)
    assert identity_numbers_in(text) == [], text
    assert event.data["reason"] == "身份证号110***********002X与档案不符"
    assert event.data["transfer"]["receiving_department"] == "人事处"  # other text as it was


def test_the_fields_users_type_into_are_free_text_in_every_contract():
    # signing's and destinations' end to end: services/signing/tests/test_destinations.py
    assert isinstance(catalogue.get(signing.AGREEMENT_REJECTED).schema.fields["reason"], FreeText)
    destination = catalogue.get(destinations.DESTINATION_REJECTED).schema.fields
    assert isinstance(destination["reason"], FreeText)
    assert isinstance(destination["category_fields"].value_field, FreeText)


@pytest.mark.parametrize("text", [CREDIT_CODE, "订单 202406 20240615 0012", "学号 S000001", ""])
def test_what_is_no_valid_identity_number_stays_as_it_was(text):
    assert redact_valid_identity_numbers(text) == text


def test_free_text_longer_than_any_reason_is_refused_before_it_is_scanned():
    from marshmallow import Schema, ValidationError

    from quxiang.common.contracts.free_text import MAX_LENGTH

    schema = Schema.from_dict({"reason": FreeText()})()
    assert schema.load({"reason": "1 " * (MAX_LENGTH // 2)})["reason"] == "1 " * (MAX_LENGTH // 2)
    with pytest.raises(ValidationError) as refused:
        schema.load({"reason": "1 " * (MAX_LENGTH // 2 + 1)})
    assert str(MAX_LENGTH) in str(refused.value.messages["reason"])
