"""marshmallow's and webargs' own English messages reach users in Chinese; any other message as it is."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from quxiang.common.web.errors import flatten_messages
from quxiang.common.web.messages_zh import in_chinese


class Sample(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    days = fields.Integer(validate=validate.Range(min=1, max=30))
    level = fields.String(validate=validate.OneOf(["none", "read", "write"]))
    born = fields.Date()
    note = fields.String(validate=validate.Length(max=3))
    code = fields.String(validate=validate.Length(equal=6))
    at_least = fields.Integer(validate=validate.Range(min=0))
    custom = fields.String(validate=validate.Length(min=2, error="自定义：至少两个字"))


@pytest.mark.parametrize(("body", "field", "expected"), [
    ({}, "name", "必填"),
    ({"name": None}, "name", "不能为空"),
    ({"name": ""}, "name", "长度须为 1–100 个字符"),
    ({"name": "a", "days": "x"}, "days", "须为整数"),
    ({"name": "a", "days": 31}, "days", "须不小于 1 且不大于 30"),
    ({"name": "a", "level": "all"}, "level", "须为以下之一：none, read, write"),
    ({"name": "a", "born": "2026-13-40"}, "born", "须为日期"),
    ({"name": "a", "note": "abcd"}, "note", "最多 3 个字符"),
    ({"name": "a", "code": "1"}, "code", "长度须为 6 个字符"),
    ({"name": "a", "at_least": -1}, "at_least", "须不小于 0"),
    ({"name": "a", "custom": "x"}, "custom", "自定义：至少两个字"),
    ({"name": "a", "hacker": 1}, "hacker", "不接受此字段"),
])
def test_each_kind_of_message_in_chinese(body, field, expected):
    with pytest.raises(ValidationError) as caught:
        Sample().load(body)
    assert flatten_messages(caught.value.messages)[field] == [expected]


def test_other_messages_are_left_as_they_are():
    assert in_chinese("A message of the platform's own.") == "A message of the platform's own."
    assert in_chinese("用户名已被使用") == "用户名已被使用"
