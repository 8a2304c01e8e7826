from __future__ import annotations

import itertools

import pytest

from quxiang.common.pii import mask_identity_number, redact_identity_numbers

ID = "11010519491231002X"


def test_mask_keeps_first_three_and_last_four() -> None:
    assert mask_identity_number(ID) == "110***********002X"
    assert mask_identity_number("440308199901011234") == "440***********1234"
    assert len(mask_identity_number(ID)) == len(ID)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ""), ("1", "*"), ("1234", "1**4"), ("12345678", "12****78"), ("123456789012", "123******012")],
)
def test_short_values_keep_at_most_half(value: str, expected: str) -> None:
    assert mask_identity_number(value) == expected


def test_redacts_in_text() -> None:
    assert redact_identity_numbers(f"身份证号{ID}。") == "身份证号110***********002X。"
    assert redact_identity_numbers(f"a={ID}, b=440308199901011234") == (
        "a=110***********002X, b=440***********1234"
    )


def test_lowercase_x_and_full_width_digits() -> None:
    assert redact_identity_numbers("11010519491231002x") == "110***********002x"
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert redact_identity_numbers(full_width) == "１１０***********００２Ｘ"


@pytest.mark.parametrize(
    "text",
    [
        "1101051949123100212",  # 19 digits: a card or order number, not an identity number
        "62220219491231002123456",  # bank card
        "order 12345678901234567",  # 17 digits
        "1101051949123100X",  # X too early
        "",
    ],
)
def test_leaves_other_numbers_alone(text: str) -> None:
    assert redact_identity_numbers(text) == text


def test_adjacent_letters_do_not_protect_an_identity_number() -> None:
    assert redact_identity_numbers(f"id:{ID}abc") == "id:110***********002Xabc"


def test_redaction_is_idempotent() -> None:
    once = redact_identity_numbers(f"x {ID} y")
    assert redact_identity_numbers(once) == once


def test_an_audit_finds_valid_numbers_only():
    from quxiang.common.pii import identity_numbers_in
    from quxiang.common.validators import make_identity_number

    number = make_identity_number("44010620000101001")
    request_id = "9da76550e7dc44c5859197204860890558ab"  # 18 digits in a row, not a number
    text = f'{{"request_id": "{request_id}", "note": "见 {number}", "masked": "440***********{number[-4:]}"}}'
    assert identity_numbers_in(text) == [number]
    assert identity_numbers_in(request_id) == []


@pytest.mark.parametrize("groups", ["{a} {b} {c}", "{a}-{b}-{c}", "{a}\u3000{b}\u3000{c}", "{a} {b}{c}", "{a}{b}-{c}"])
def test_a_number_typed_in_its_printed_groups_is_masked_birth_date_and_all(groups: str) -> None:
    from quxiang.common.validators import make_identity_number

    number = make_identity_number("44010620000101123")
    typed = groups.format(a=number[:6], b=number[6:14], c=number[14:])
    masked = redact_identity_numbers(f"原因：身份证号 {typed} 与档案不符")
    assert "20000101" not in masked and "0101" not in masked[8:-8]
    assert masked.startswith("原因：身份证号 440") and masked.endswith(f"{number[-4:]} 与档案不符")


@pytest.mark.parametrize("text", ["电话 0755-12345678-1234", "440106 2000 0101 1234 5",
                                  "order 202406 20240615 0012 shipped", "电话 138 0013 8000"])
def test_other_grouped_numbers_are_left_alone(text: str) -> None:
    assert redact_identity_numbers(text) == text


def test_an_audit_finds_a_grouped_number_as_the_number_it_is():
    from quxiang.common.pii import identity_numbers_in
    from quxiang.common.validators import make_identity_number

    number = make_identity_number("44010620000101001")
    assert identity_numbers_in(f"见 {number[:6]} {number[6:14]} {number[14:]}") == [number]


@pytest.mark.parametrize(("cuts", "separator"), [
    ((4, 8, 12, 16), " "),        # in fours, as card numbers are written
    ((6, 10, 14), " "),           # 6-4-4-4: the year apart from the month and day
    ((6, 14), "\u00a0"),         # no-break spaces, pasted from a document
    ((6, 14), "\u202f"),         # narrow no-break spaces
    ((6, 14), "."),
    ((3, 6, 10, 14), "-"),
])
def test_a_number_typed_in_any_grouping_is_masked_and_found(cuts: tuple[int, ...], separator: str) -> None:
    from quxiang.common.pii import identity_numbers_in, redact_valid_identity_numbers
    from quxiang.common.validators import make_identity_number

    number = make_identity_number("44010620030307001")
    bounds = (0, *cuts, len(number))
    typed = separator.join(number[a:b] for a, b in itertools.pairwise(bounds))
    for redact in (redact_identity_numbers, redact_valid_identity_numbers):
        masked = redact(f"身份证号：{typed}，与档案不符")
        digits = "".join(c for c in masked if c.isdigit())
        assert "20030307" not in digits and masked.endswith(f"{number[-2:]}，与档案不符"), masked
    assert identity_numbers_in(f"见{typed}。") == [number]


def test_a_number_in_a_longer_run_of_groups_is_found_at_its_group():
    from quxiang.common.pii import identity_numbers_in
    from quxiang.common.validators import make_identity_number

    number = make_identity_number("44010620030307002")
    text = f"金额 1.5 {number[:6]} {number[6:14]} {number[14:]} 元"
    assert identity_numbers_in(text) == [number]
    assert "20030307" not in redact_identity_numbers(text).replace(" ", "")
    assert redact_identity_numbers(text).startswith("金额 1.5 440")


@pytest.mark.parametrize("text", ["版本 1.2.3.4.5.6.7.8.9.1.2.3.4.5.6.7.8.9", "2026.12.07 10.30.15 共 12 人",
                                  "电话 020-8888 8888 转 1234 5678"])
def test_dotted_and_spaced_figures_that_are_no_number_are_left_alone(text: str) -> None:
    assert redact_identity_numbers(text) == text
