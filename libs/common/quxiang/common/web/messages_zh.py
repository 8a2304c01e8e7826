"""marshmallow's and webargs' English messages in Chinese, for the people who read the problems: the
first check a request meets (a missing field, a wrong type, a length or range) answers in the
language of every other message. A message that is not one of theirs is left as it is."""

from __future__ import annotations

import re
from collections.abc import Callable

_TYPES = {"integer": "整数", "number": "数字", "string": "文本", "boolean": "是或否", "date": "日期",
          "datetime": "日期时间", "list": "列表", "mapping type": "对象", "tuple": "数组", "URL": "网址",
          "UUID": "UUID", "email address": "电子邮箱地址", "period of time": "时长", "utf-8 string": "UTF-8 文本"}

_EXACT = {
    "Missing data for required field.": "必填",
    "Field may not be null.": "不能为空",
    "Unknown field.": "不接受此字段",
    "Invalid value.": "取值无效",
    "Invalid type.": "类型不正确",
    "Invalid input type.": "类型不正确",
    "Invalid input.": "取值无效",
    "Number too large.": "数值过大",
    "String does not match expected pattern.": "格式不正确",
    "Special numeric values (nan or infinity) are not permitted.": "不接受 NaN 或无穷大",
    "Invalid JSON body.": "请求体不是有效的 JSON",
}

_OPS = {"greater than or equal to": "不小于", "greater than": "大于", "less than or equal to": "不大于",
        "less than": "小于"}
_OP = "|".join(re.escape(op) for op in sorted(_OPS, key=len, reverse=True))


def _range_all(m: re.Match[str]) -> str:
    return f"须{_OPS[m['min_op']]} {m['min']} 且{_OPS[m['max_op']]} {m['max']}"


_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"Not a valid (?P<type>[\w -]+)\."), lambda m: f"须为{_TYPES.get(m['type'], m['type'])}"),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
     lambda m: f"长度须为 {m['min']}–{m['max']} 个字符"),
    (re.compile(r"Length must be (?P<n>\d+)\."), lambda m: f"长度须为 {m['n']} 个字符"),
    (re.compile(r"Longer than maximum length (?P<n>\d+)\."), lambda m: f"最多 {m['n']} 个字符"),
    (re.compile(r"Shorter than minimum length (?P<n>\d+)\."), lambda m: f"至少 {m['n']} 个字符"),
    (re.compile(rf"Must be (?P<min_op>{_OP}) (?P<min>\S+) and (?P<max_op>{_OP}) (?P<max>\S+)\."), _range_all),
    (re.compile(rf"Must be (?P<op>{_OP}) (?P<n>\S+)\."), lambda m: f"须{_OPS[m['op']]} {m['n']}"),
    (re.compile(r"Must be one of: (?P<choices>.*)\."), lambda m: f"须为以下之一：{m['choices']}"),
    (re.compile(r"Must be equal to (?P<other>.*)\."), lambda m: f"须等于 {m['other']}"),
    (re.compile(r".* cannot be formatted as an? (?P<type>[\w -]+)\."),
     lambda m: f"无法作为{_TYPES.get(m['type'], m['type'])}"),
)


def in_chinese(message: str) -> str:
    """The Chinese for one of marshmallow's or webargs' own messages; any other message unchanged."""
    if not message.isascii():
        return message
    exact = _EXACT.get(message)
    if exact is not None:
        return exact
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return render(match)
    return message
