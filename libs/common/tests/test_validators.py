from __future__ import annotations

import datetime as dt

import pytest

from quxiang.common.validators import (
    InvalidIdentifier,
    check_identity_matches_gender,
    credit_code_check_char,
    identity_check_char,
    identity_gender,
    make_credit_code,
    make_identity_number,
    validate_credit_code,
    validate_identity_number,
)

# Independent re-implementations, written from the standards' formulas rather than from the module
# (the ISO 7064 MOD 11-2 recursion, and GB 32100's weights as powers of 3 mod 31), so a shared
# mistake in a weight table cannot make both sides agree.


def iso7064_mod11_2(digits: str) -> str:
    p = 0
    for ch in digits:
        p = (p + int(ch)) * 2 % 11
    return "0123456789X"[(12 - p) % 11]


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return USCC_CHARS[(31 - total % 31) % 31]


# 11010519491231002X is the worked example of GB 11643-1999 (a woman born 1949-12-31 in 北京朝阳).
GB_SAMPLE = "11010519491231002X"
# The 17th digit is the sequence number's last: odd for men, even for women.
MALE_ID = "11010519900307001" + iso7064_mod11_2("11010519900307001")
FEMALE_ID = "44030520010228002" + iso7064_mod11_2("44030520010228002")

TODAY = dt.date(2026, 6, 30)


def test_reimplementations_agree_with_the_standards_examples():
    assert iso7064_mod11_2(GB_SAMPLE[:17]) == "X"
    assert gb32100_check("91350100M000100Y4") == "3"


@pytest.mark.parametrize("number", [GB_SAMPLE, MALE_ID, FEMALE_ID])
def test_valid_identity_numbers(number):
    assert validate_identity_number(number, today=TODAY) == number


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_a_residence_permit_of_hong_kong_macao_and_taiwan_residents_is_an_identity_number(prefix):
    # 港澳台居民居住证: graduates from there hold one, of the same form as a resident identity card
    number = make_identity_number(prefix + "20040615001")
    assert validate_identity_number(number, today=TODAY) == number


def test_identity_check_char_matches_independent_implementation():
    for first17 in ["11010519491231002", "44030520010228002", "65010219991231999", "66000020000101000"]:
        assert identity_check_char(first17) == iso7064_mod11_2(first17)
        assert make_identity_number(first17) == first17 + iso7064_mod11_2(first17)


def test_identity_number_normalisation():
    assert validate_identity_number(GB_SAMPLE.lower()) == GB_SAMPLE
    assert validate_identity_number(f"  {GB_SAMPLE}\t") == GB_SAMPLE
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    assert validate_identity_number(full_width) == GB_SAMPLE


def reason_of(func, value, **kwargs) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as info:
        func(value, **kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    return err


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("11010519491231002", "length", "18位"),
        ("11010519491231002X1", "length", "18位"),
        ("", "length", "18位"),
        ("11010519491231002Y", "charset", "数字"),
        ("1101051949123100X2", "charset", "数字"),
        ("11010519491231A02X", "charset", "数字"),
        ("11010519491231002" + "1", "check_char", "校验码"),
        (make_identity_number("11010520230230001"), "birth_date", "有效日期"),  # 30 February
        (make_identity_number("11010519991301001"), "birth_date", "有效日期"),  # month 13
        (make_identity_number("11010518991231001"), "birth_date", "1900"),
        (make_identity_number("11010520260701001"), "birth_date", "晚于今天"),  # TODAY + 1
        (make_identity_number("71010519900101001"), "region", "省级"),  # Taiwan's permits are 830000
        (make_identity_number("81010119900101001"), "region", "省级"),  # a permit's prefix is 810000 whole
        (make_identity_number("99010519900101001"), "region", "省级"),
        (make_identity_number("00010519900101001"), "region", "省级"),
    ],
)
def test_identity_number_failures(value, code, words):
    err = reason_of(validate_identity_number, value, today=TODAY)
    assert err.code == code
    assert err.field == "身份证号"
    assert words in err.reason
    assert str(err).startswith("身份证号：")


def test_gb_example_born_1880_is_refused_as_before_1900():
    # 440524188001010014 is GB 11643's other published example; its check char is right.
    assert iso7064_mod11_2("44052418800101001") == "4"
    assert reason_of(validate_identity_number, "440524188001010014").code == "birth_date"


def test_today_defaults_to_the_real_date():
    tomorrow = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=2)
    future = make_identity_number("110105" + tomorrow.strftime("%Y%m%d") + "001")
    assert reason_of(validate_identity_number, future).code == "birth_date"


def test_identity_errors_name_the_field_and_never_echo_the_number():
    err = reason_of(validate_identity_number, "11010519491231002" + "1", field="毕业生身份证号")
    assert err.field == "毕业生身份证号"
    assert "毕业生身份证号" in str(err)
    assert "11010519491231002" not in str(err)
    assert "19491231" not in str(err)


def test_identity_number_must_be_text():
    assert reason_of(validate_identity_number, 110105194912310021).code == "type"


def test_gender_from_the_17th_digit():
    assert identity_gender(GB_SAMPLE) == "F"  # 17th digit 2
    assert identity_gender(MALE_ID) == "M"  # 17th digit 1
    assert identity_gender(FEMALE_ID) == "F"
    for digit in "0123456789":
        number = make_identity_number("1101051990030700" + digit)
        assert identity_gender(number) == ("M" if int(digit) % 2 else "F")


def test_gender_validates_the_number_first():
    with pytest.raises(InvalidIdentifier):
        identity_gender("11010519491231002" + "1")


@pytest.mark.parametrize("gender", ["F", "f", "女", "2"])
def test_gender_matches(gender):
    check_identity_matches_gender(GB_SAMPLE, gender)


@pytest.mark.parametrize("gender", ["M", "男", "1"])
def test_gender_mismatch(gender):
    with pytest.raises(InvalidIdentifier) as info:
        check_identity_matches_gender(GB_SAMPLE, gender)
    assert info.value.code == "gender_mismatch"
    assert "身份证号" in str(info.value)


def test_unknown_gender_value_is_a_plain_error():
    with pytest.raises(ValueError, match="gender"):
        check_identity_matches_gender(GB_SAMPLE, "X")


def test_make_identity_number_needs_17_digits():
    for bad in ["1101051949123100", "110105194912310021", "1101051949123100A"]:
        with pytest.raises(ValueError):
            make_identity_number(bad)


# --- 统一社会信用代码 ---

# Public codes printed on business licences and in the national enterprise credit system; their
# check characters verify with gb32100_check. 100000 is the region of centrally registered bodies.
PUBLIC_CREDIT_CODES = [
    "91350100M000100Y43",  # the brief's example (福州, 市场监管 registered enterprise)
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "12100000400000624D",  # a centrally registered public institution (机构编制, 事业单位, 100000)
]


@pytest.mark.parametrize("code", PUBLIC_CREDIT_CODES)
def test_valid_public_credit_codes(code):
    assert gb32100_check(code[:17]) == code[17]
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code


def test_credit_code_check_char_matches_independent_implementation():
    samples = ["91350100M000100Y4", "51110000500000ABC", "N2370281MA3C00000", "Y1660000123456789", "11100000000000000"]
    for first17 in samples:
        assert credit_code_check_char(first17) == gb32100_check(first17)
        made = make_credit_code(first17.lower())
        assert made == first17 + gb32100_check(first17)
        assert validate_credit_code(made) == made


def test_check_value_zero_maps_to_the_first_char():
    # (31 - 0) % 31 == 0: a weighted sum divisible by 31 must give "0", not an index error.
    first17 = "00000000000000000"
    assert credit_code_check_char(first17) == "0"


def test_credit_code_normalisation():
    full_width = "９１３５０１００Ｍ０００１００Ｙ４３"
    assert validate_credit_code(f" {full_width} ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("91350100M000100Y4", "length", "18位"),
        ("91350100M000100Y433", "length", "18位"),
        ("91350100M000100I43", "charset", "I"),
        ("91350100M000100O43", "charset", "O"),
        ("91350100M0001Z0S4V", "charset", "S"),
        ("91350100M000100Y4-", "charset", "-"),
        ("91350100M000100Y44", "check_char", "校验码"),
        ("91350100M000100Y4" + "Y", "check_char", "校验码"),
        (make_credit_code("B1350100M000100Y4"), "registration_authority", "登记管理部门"),
        (make_credit_code("90350100M000100Y4"), "category", "机构类别"),
        (make_credit_code("9A350100M000100Y4"), "category", "机构类别"),
        (make_credit_code("91710100M000100Y4"), "region", "行政区划"),  # 71: not a platform province
        (make_credit_code("91990100M000100Y4"), "region", "行政区划"),
        (make_credit_code("91101000M000100Y4"), "region", "行政区划"),  # 10 but not 100000
        (make_credit_code("9135A100M000100Y4"), "region", "行政区划"),
    ],
)
def test_credit_code_failures(value, code, words):
    err = reason_of(validate_credit_code, value)
    assert err.code == code
    assert err.field == "统一社会信用代码"
    assert words in err.reason
    assert str(err).startswith("统一社会信用代码：")


def test_credit_code_error_names_a_custom_field():
    err = reason_of(validate_credit_code, "91350100M000100Y44", field="单位统一社会信用代码")
    assert str(err).startswith("单位统一社会信用代码：")


def test_make_credit_code_rejects_bad_input():
    for bad in ["91350100M000100Y", "91350100M000100Y43", "91350100M000100I4"]:
        with pytest.raises(ValueError):
            make_credit_code(bad)
