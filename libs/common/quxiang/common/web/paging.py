"""The HTTP side of pages: the ``page``/``page_size`` query arguments and the page envelope
``{items, page, page_size, total, pages}``, the same in every service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from quxiang.common.paging import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, Page, PageRequest


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": f"From 1 to {MAX_PAGE}"})
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1),
                               metadata={"description": f"Default {DEFAULT_PAGE_SIZE}; more than {MAX_PAGE_SIZE} "
                                                        f"is served as {MAX_PAGE_SIZE}"})


SNAPSHOT_LIMIT = 1000
_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class SnapshotArgs(Schema):
    """A snapshot's page (``qx-stats rebuild --from-services``): ``cursor`` is the ``next_cursor`` of
    the page before, an id; anything else is refused rather than read as the end of the data (a
    consumer holding a corrupted cursor would stop, believing it had everything)."""

    cursor = fields.String(load_default=None, validate=validate.Regexp(_ID, error="不是有效的游标"),
                           metadata={"description": "next_cursor of the page before"})
    limit = fields.Integer(load_default=SNAPSHOT_LIMIT, validate=validate.Range(min=1, max=SNAPSHOT_LIMIT))


class PageOut(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True, metadata={"description": "The size served (after the cap)"})
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


def page_args(args: Mapping[str, Any]) -> PageRequest:
    return PageRequest(page=args["page"], page_size=args["page_size"])


def page_out(page: Page[Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    return {"items": [convert(i) for i in page.items], "page": page.page, "page_size": page.page_size,
            "total": page.total, "pages": page.pages}
