"""Masking of personal data that must never reach logs or casual views in full.

The resident identity number (居民身份证号码) is 17 digits and a check character (a digit or X).
It is the one identifier graduates type everywhere, so it ends up in request paths, validation
messages and database errors; masking happens at the last moment (log output, display) instead of
trusting every caller to remember.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

# \d rather than [0-9]: users paste full-width digits (０-９) from Chinese input methods and those
# are just as identifying. The look-arounds keep longer digit runs (bank cards, order numbers,
# 19+ digit ids) intact: a number inside them is not an identity number, and masking part of it
# would make the log misleading rather than safer.
# People also type it in groups: 6-8-4 as it is printed (region, birth date, serial and check), in
# fours as card numbers are written, or any other way, with a space, a hyphen, a dot, a full-width
# or a no-break space (pasted from a document) between: "440106 20000101 1234" shows the birth date
# as well. A run of digit groups is tried at each group's start for 18 characters that make a valid
# number; an 18-digit run without separators is masked whatever it is (the cautious side).
_SEPARATOR = "[ \\-.\u3000\u00a0\u202f\uff0e]"
_RUN = re.compile(rf"(?<!\d)\d+(?:{_SEPARATOR}\d+)*[XxＸｘ]?(?!\d)")
_GROUP = re.compile(r"\d+[XxＸｘ]?")
_SEPARATORS = re.compile(_SEPARATOR)
_LENGTH = 18
_MAX_GROUPS = 6  # however a person groups it (6-8-4, fours, 3-3-4-4-4), never more
# Full-width digits as ASCII, for the cheap look at a candidate before the full check.
_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

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


def _windows(text: str, keep: Callable[[str, bool], bool]) -> Iterator[tuple[int, int, str]]:
    """The spans of ``text`` that are identity numbers by ``keep(compact, grouped)``: for each run of
    digit groups, 18 characters in at most ``_MAX_GROUPS`` groups, starting at a group's start and
    ending at a group's end, the groups after a kept span tried afresh. Bounded work per group: a long
    run of short groups ("1 1 1 …", pasted into a reason) costs a few steps each, not a check each."""
    for run in _RUN.finditer(text):
        if run.end() - run.start() < _LENGTH:
            continue  # most runs (a status, a size, a time) are short: no 18 characters to look at
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(text, run.start(), run.end())]
        i = 0
        while i < len(groups):
            length, j = 0, i
            while j < len(groups) and length < _LENGTH and j - i < _MAX_GROUPS:
                length += groups[j][1] - groups[j][0]
                j += 1
            start, end = groups[i][0], groups[j - 1][1]
            if length == _LENGTH:
                compact = _SEPARATORS.sub("", text[start:end])
                if keep(compact, j - i > 1):
                    yield start, end, text[start:end]
                    i = j
                    continue
            i += 1


def _substitute(text: str, keep: Callable[[str, bool], bool]) -> str:
    if not text:
        return text
    out, last = [], 0
    for start, end, found in _windows(text, keep):
        out += [text[last:start], mask_identity_number(found)]
        last = end
    return "".join(out) + text[last:] if out else text


def redact_identity_numbers(text: str) -> str:
    """Replace every identity number in ``text`` by its mask; everything else is left as it was.
    18 digits in a row are masked whatever they are (the cautious side); digits in groups only when
    they make a valid number, so an order number written "202406 20240615 0012" stays as it is."""
    return _substitute(text, lambda compact, grouped: not grouped or _valid(compact))


def redact_valid_identity_numbers(text: str) -> str:
    """Like ``redact_identity_numbers``, but only numbers that are valid (province, birth date, check
    character), bare or in groups: for text that may also hold other 18-digit codes kept as they are
    (a 统一社会信用代码 can be all digits), such as what users type into events' free-text fields."""
    return _substitute(text, lambda compact, grouped: _valid(compact))


def _valid(number: str) -> bool:
    from quxiang.common.validators import InvalidIdentifier, validate_identity_number

    if not _plausible(number):
        return False  # most digit runs fail here, before the check and its exception
    try:
        validate_identity_number(number)
    except InvalidIdentifier:
        return False
    return True


def _plausible(number: str) -> bool:
    """A province code's first digit (1 to 8), a birth year of the 1900s or 2000s and a month."""
    ascii_digits = number.translate(_ASCII_DIGITS)
    return (ascii_digits[0] in "12345678" and ascii_digits[6:8] in ("19", "20")
            and "01" <= ascii_digits[10:12] <= "12")


def identity_numbers_in(text: str) -> list[str]:
    """The valid identity numbers (check character, province, birth date) that appear in ``text``
    in full, however grouped: what an audit of logs, events and answers looks for. A run of 18 digits
    that is not a valid number (a request id's digits, an order number) is not one."""
    from quxiang.common.validators import validate_identity_number

    return [validate_identity_number(_SEPARATORS.sub("", found))
            for _, _, found in _windows(text or "", lambda compact, grouped: _valid(compact))]
