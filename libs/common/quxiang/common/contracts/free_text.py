"""What users type into events: a reason, an address, a recipient. No event may carry an identity
number (DOMAIN.md), and people do type theirs into such fields ("身份证号…与档案不符"), so a free-text
field masks every valid one it holds, whichever producer wrote it."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from quxiang.common.pii import redact_valid_identity_numbers

MAX_LENGTH = 10_000  # far above any reason or address; what is longer is refused before it is scanned


class FreeText(fields.String):
    """A string field of an event whose identity numbers are masked on the way in and out."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_LENGTH:
            raise ValidationError(f"不能超过 {MAX_LENGTH} 个字符")
        return redact_valid_identity_numbers(text)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        text = super()._serialize(value, attr, obj, **kwargs)
        return None if text is None else redact_valid_identity_numbers(text)
