"""Check digits and structure of the two national identifiers the platform takes as input.

- 公民身份号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence (odd
  for men), and an ISO 7064 MOD 11-2 check character.
- 统一社会信用代码 (GB 32100-2015): registration authority, organisation category, 6-digit region
  code of the registering authority, 9-character organisation code, and a MOD 31 check character.

Both are typed by hand (graduates, employers' HR staff) and a single wrong digit would otherwise
only surface when the employment management system rejects the synced record, after the review
chain has finished. The functions are pure: no I/O beyond the packaged province table.

Error messages name the field and the reason but never echo the value: an identity number must not
reach logs or error payloads (see ``quxiang.common.pii``), and its birth-date digits are as
sensitive as the whole.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Literal

from quxiang.common.reference import provinces
from quxiang.common.times import china_today

__all__ = [
    "CREDIT_CODE_CHARSET",
    "CREDIT_CODE_REGISTRATION_AUTHORITIES",
    "InvalidIdentifier",
    "check_identity_matches_gender",
    "credit_code_check_char",
    "gender_of_identity_number",
    "identity_check_char",
    "identity_gender",
    "make_credit_code",
    "make_identity_number",
    "validate_credit_code",
    "validate_identity_number",
]

Gender = Literal["M", "F"]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
# The weighted sum of the 17 digits, three at a time: group text -> its share of the sum.
_ID_GROUPS = tuple((start, min(start + 3, 17)) for start in range(0, 17, 3))
_ID_GROUP_SUMS = tuple(
    {f"{n:0{end - start}d}": sum(int(d) * w for d, w in zip(f"{n:0{end - start}d}", _ID_WEIGHTS[start:end],
                                                              strict=True))
     for n in range(10 ** (end - start))}
    for start, end in _ID_GROUPS)

# GB 32100 leaves out I, O, Z, S and V, which read like 1, 0, 2, 5 and U on paper.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}

# 登记管理部门码: GB 32100-2015 table 1 plus the later assignments (A for the Central Military
# Commission's establishment office, N for agriculture: rural collective economic organisations).
# A new authority letter must be added here, or its codes are refused.
CREDIT_CODE_REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监督管理（工商）",
    "A": "中央军委改革和编制办公室",
    "N": "农业农村",
    "Y": "其他",
}

# Organisations registered with a central authority carry 100000 (中华人民共和国) as the region:
# ministries, universities under the Ministry of Education, Academy institutes. They employ many
# graduates, so the region check must let this one non-provincial code through.
_NATIONAL_REGION = "100000"

# Birth dates are judged on the calendar day in China, not on the server's clock, so a graduate
# born "today" in Beijing is not in the future on a UTC host.
_EARLIEST_BIRTH = dt.date(1900, 1, 1)

# 港澳台居民居住证: graduates from Hong Kong, Macao and Taiwan at mainland universities hold an
# 18-digit number of the same form (birth date, check character) under these address codes.
RESIDENCE_PERMIT_PREFIXES = frozenset({"810000", "820000", "830000"})

# Gender values seen in rosters: the platform's own M/F, Chinese, and GB/T 2261.1 codes 1/2.
_GENDER_ALIASES: dict[str, Gender] = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F"}


# C0 control characters but tab, newline and carriage return, and DEL: no user types them, PostgreSQL
# cannot store NUL in text, and a spreadsheet export cannot hold any of them. Lone surrogates too
# (JSON can spell one, "\ud800"): no database encoding can store them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_CHARACTER_REASON = "含有不允许的控制字符"

# Characters that show nothing (zero-width spaces and joiners, direction marks, the BOM: Unicode's
# format characters), and line breaks, which a one-line field of a document or a list cannot hold.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_LINE_BREAK = re.compile(r"[\r\n\u0085\u2028\u2029]")
ONE_LINE_REASON = "不能换行"


def without_invisible(text: str) -> str:
    """``text`` without the characters that show nothing, trimmed: what is left to read."""
    return _INVISIBLE.sub("", text).strip()


def breaks_lines(text: str) -> bool:
    return bool(_LINE_BREAK.search(text))


class InvalidIdentifier(ValueError):
    """An identity number or credit code that fails a check; ``reason`` says which, in Chinese.

    ``code`` is a stable machine word for the failed check (``length``, ``charset``,
    ``check_char``, ...) so APIs and tests can branch without parsing the message.
    """

    def __init__(self, field: str, reason: str, code: str = "invalid") -> None:
        self.field = field
        self.reason = reason
        self.code = code
        super().__init__(f"{field}：{reason}")


def _normalise(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(field, "必须是文本", "type")
    # NFKC turns full-width digits and letters (１２３Ｘ, typed with Chinese input methods) into
    # ASCII; spreadsheet cells often carry stray spaces.
    return unicodedata.normalize("NFKC", value).strip().upper()


# --- 公民身份号码 ---------------------------------------------------------------------------------


def identity_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for 17 ASCII digits."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError("identity_check_char needs exactly 17 ASCII digits")
    return _check_char(first17)


def _check_char(first17: str) -> str:
    """``identity_check_char`` for 17 characters already known to be ASCII digits."""
    g0, g1, g2, g3, g4, g5 = _ID_GROUP_SUMS
    total = (g0[first17[:3]] + g1[first17[3:6]] + g2[first17[6:9]] + g3[first17[9:12]] + g4[first17[12:15]]
             + g5[first17[15:17]])
    return _ID_CHECK_CHARS[total % 11]


def make_identity_number(first17: str) -> str:
    """``first17`` plus its check character.

    For test and demo data: it checks only that there are 17 digits, not the date or the region,
    so pass the result through ``validate_identity_number`` if that matters.
    """
    return first17 + identity_check_char(first17)


def validate_identity_number(
    value: str, field: str = "身份证号", *, today: dt.date | None = None
) -> str:
    """Return ``value`` normalised (ASCII, upper-case X) if it is a valid 18-character number.

    Raises ``InvalidIdentifier`` for: wrong length, characters other than 17 digits and a final
    digit or X, an address code whose first two digits are not a known province, a birth date that
    is not a real date, before 1900 or after ``today`` (default: today in China), and a wrong
    check character. 15-digit numbers (pre-1999) are refused: every graduate now holds an
    18-digit one.
    """
    if not isinstance(value, str):
        raise InvalidIdentifier(field, "必须是文本", "type")
    # NFKC changes no ASCII text: the common case skips it.
    number = value.strip().upper() if value.isascii() else _normalise(value, field)
    if len(number) != 18:
        raise InvalidIdentifier(field, f"应为18位，实际为{len(number)}位", "length")
    if not (number.isascii() and number[:17].isdigit()) or not (number[17] in _DIGITS or number[17] == "X"):
        raise InvalidIdentifier(field, "前17位必须是数字，最后一位是数字或X", "charset")
    if number[:2] not in provinces() and number[:6] not in RESIDENCE_PERMIT_PREFIXES:
        raise InvalidIdentifier(field, "地址码不属于已知的省级行政区划", "region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier(field, "出生日期不是有效日期", "birth_date") from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdentifier(field, "出生日期早于1900年", "birth_date")
    if birth > (today or china_today()):
        raise InvalidIdentifier(field, "出生日期晚于今天", "birth_date")
    if _check_char(number[:17]) != number[17]:
        raise InvalidIdentifier(field, "校验码不正确，请核对每一位", "check_char")
    return number


def identity_gender(value: str, field: str = "身份证号") -> Gender:
    """``"M"`` or ``"F"`` from the 17th digit (odd: male). Validates ``value`` first."""
    return gender_of_identity_number(validate_identity_number(value, field))


def gender_of_identity_number(number: str) -> Gender:
    """``"M"`` or ``"F"`` from the 17th digit of a number ``validate_identity_number`` returned.

    No validation: for callers that validated the number already (a roster import checks it once
    per row, then its gender from the result).
    """
    return "M" if int(number[16]) % 2 else "F"


def check_identity_matches_gender(value: str, gender: str, field: str = "身份证号") -> None:
    """Raise ``InvalidIdentifier`` if the number's gender digit disagrees with ``gender``.

    ``gender`` may be M/F, 男/女 or the GB/T 2261.1 codes 1/2. A mismatch almost always means a
    mistyped number or a row shifted in a spreadsheet import, so it is reported on the number.
    """
    expected = _GENDER_ALIASES.get(gender.strip().upper() if isinstance(gender, str) else gender)
    if expected is None:
        raise ValueError(f"unknown gender value {gender!r}; use M/F, 男/女 or 1/2")
    if identity_gender(value, field) != expected:
        raise InvalidIdentifier(field, "与性别不一致", "gender_mismatch")


# --- 统一社会信用代码 -----------------------------------------------------------------------------


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for 17 characters of ``CREDIT_CODE_CHARSET``."""
    if len(first17) != 17 or any(ch not in _CREDIT_VALUES for ch in first17):
        raise ValueError("credit_code_check_char needs exactly 17 characters of the GB 32100 charset")
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def make_credit_code(first17: str) -> str:
    """``first17`` (upper-cased) plus its check character; for test and demo data.

    Only the charset is checked, not the authority, category or region parts.
    """
    first17 = first17.upper()
    return first17 + credit_code_check_char(first17)


def validate_credit_code(value: str, field: str = "统一社会信用代码") -> str:
    """Return ``value`` upper-cased if it is a valid 18-character unified social credit code.

    Raises ``InvalidIdentifier`` for: wrong length, a character outside the GB 32100 charset,
    an unknown registration authority (1st) or organisation category (2nd, a digit 1-9), a region
    code (3rd-8th) that is not six digits starting with a known province code or the national
    100000, and a wrong check character.
    """
    code = _normalise(value, field)
    if len(code) != 18:
        raise InvalidIdentifier(field, f"应为18位，实际为{len(code)}位", "length")
    bad = sorted({ch for ch in code if ch not in _CREDIT_VALUES})
    if bad:
        # Naming I/O/Z/S/V tells the user it is a misread character, not a wrong code; the code
        # is a public registration number, so showing its characters is harmless.
        raise InvalidIdentifier(field, f"含有不允许的字符 {''.join(bad)}（不使用 I、O、Z、S、V）", "charset")
    if code[0] not in CREDIT_CODE_REGISTRATION_AUTHORITIES:
        raise InvalidIdentifier(field, f"第1位登记管理部门码 {code[0]} 无效", "registration_authority")
    if code[1] not in "123456789":
        raise InvalidIdentifier(field, f"第2位机构类别码 {code[1]} 无效", "category")
    region = code[2:8]
    if not set(region) <= _DIGITS or (region[:2] not in provinces() and region != _NATIONAL_REGION):
        raise InvalidIdentifier(field, f"第3-8位登记管理机关行政区划码 {region} 无效", "region")
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidIdentifier(field, "校验码不正确，请核对每一位", "check_char")
    return code
