"""Request fields for the names people type once and everyone reads after: a school, a department,
a unit, an account. On one line, and with what shows nothing taken out, so a name of line breaks
cannot stretch a list or an agreement's PDF over a hundred pages, and a name of zero-width spaces
is no name (it fails the field's length check like an empty one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from quxiang.common.validators import ONE_LINE_REASON, breaks_lines, without_invisible
from quxiang.common.web.paging import Trimmed


class OneLine(Trimmed):
    """Trimmed text without invisible characters; a line break inside is refused (不能换行)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = without_invisible(super()._deserialize(value, attr, data, **kwargs))
        if breaks_lines(text):
            raise ValidationError(ONE_LINE_REASON)
        return text
