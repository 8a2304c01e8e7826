"""Masking of personal data that must never reach logs or casual views in full.

The resident identity number (居民身份证号码) is 17 digits and a check character (a digit or X).
It is the one identifier graduates type everywhere, so it ends up in request paths, validation
messages and database errors; masking happens at the last moment (log output, display) instead of
trusting every caller to remember.
"""

from __future__ import annotations

import re

# \d rather than [0-9]: users paste full-width digits (０-９) from Chinese input methods and those
# are just as identifying. The look-arounds keep longer digit runs (bank cards, order numbers,
# 19+ digit ids) intact: a number inside them is not an identity number, and masking part of it
# would make the log misleading rather than safer.
# People also type it in its printed groups, 6-8-4 (region, birth date, serial and check), with a
# space, a hyphen or a full-width space between: "440106 20000101 1234" shows the birth date as well.
_SEPARATOR = "[ \\-\u3000]"
_IDENTITY_NUMBER = re.compile(rf"(?<!\d)\d{{6}}{_SEPARATOR}?\d{{8}}{_SEPARATOR}?\d{{3}}[\dXxＸｘ](?!\d)")
_SEPARATORS = re.compile(_SEPARATOR)

_MASK_CHAR = "*"


def mask_identity_number(value: str) -> str:
    """Mask ``value`` keeping at most its first 3 and last 4 characters: ``110***********123X``.

    The length is preserved so a masked value still looks like what it was. Short values keep
    fewer characters (a quarter at each end at most), so at least half is always hidden.
    """
    n = len(value)
    head = min(3, n // 4)
    tail = min(4, n // 4)
    return value[:head] + _MASK_CHAR * (n - head - tail) + (value[n - tail:] if tail else "")


def redact_identity_numbers(text: str) -> str:
    """Replace every identity number in ``text`` by its mask; everything else is left as it was.
    18 digits in a row are masked whatever they are (the cautious side); digits in groups only when
    they make a valid number, so an order number written "202406 20240615 0012" stays as it is."""
    if not text:
        return text
    return _IDENTITY_NUMBER.sub(_mask_match, text)


def redact_valid_identity_numbers(text: str) -> str:
    """Like ``redact_identity_numbers``, but only numbers that are valid (province, birth date, check
    character), bare or in groups: for text that may also hold other 18-digit codes kept as they are
    (a 统一社会信用代码 can be all digits), such as what users type into events' free-text fields."""
    if not text:
        return text
    return _IDENTITY_NUMBER.sub(_mask_valid_match, text)


def _mask_valid_match(match: re.Match[str]) -> str:
    found = match.group(0)
    return mask_identity_number(found) if _valid(_SEPARATORS.sub("", found)) else found


def _mask_match(match: re.Match[str]) -> str:
    found = match.group(0)
    if _SEPARATORS.search(found) and not _valid(_SEPARATORS.sub("", found)):
        return found
    return mask_identity_number(found)


def _valid(number: str) -> bool:
    from quxiang.common.validators import InvalidIdentifier, validate_identity_number

    try:
        validate_identity_number(number)
    except InvalidIdentifier:
        return False
    return True


def identity_numbers_in(text: str) -> list[str]:
    """The valid identity numbers (check character, province, birth date) that appear in ``text``
    in full: what an audit of logs, events and answers looks for. A run of 18 digits that is not a
    valid number (a request id's digits, an order number) is not one."""
    from quxiang.common.validators import InvalidIdentifier, validate_identity_number

    found = []
    for match in _IDENTITY_NUMBER.finditer(text or ""):
        try:
            found.append(validate_identity_number(_SEPARATORS.sub("", match.group(0))))
        except InvalidIdentifier:
            continue
    return found
