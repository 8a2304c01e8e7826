"""Reads: one graduate's three records, and pages of one kind for reconciliation."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from quxiang.common.db import reading
from quxiang.ems_sim.adapters import store
from quxiang.ems_sim.adapters.tables import EXAM_NUMBER
from quxiang.ems_sim.domain.records import Kind
from quxiang.ems_sim.service.context import EmsSim
from quxiang.ems_sim.service.views import record_view

MAX_LIMIT = 1000


class InvalidCursor(ValueError):
    pass


def graduate(ems: EmsSim, exam_number: str) -> dict[str, Any] | None:
    """The three records (None where absent); None if the system knows nothing of the graduate."""
    with reading(ems.engine) as conn:
        records = {kind: store.get_record(conn, kind, exam_number) for kind in Kind}
    if all(record is None for record in records.values()):
        return None
    return {"exam_number": exam_number,
            **{kind.value: record_view(kind, r) if r is not None else None for kind, r in records.items()}}


@dataclass(frozen=True)
class RecordQuery:
    kind: Kind
    school_code: str | None = None
    graduation_year: int | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    limit: int = 100


def encode_cursor(exam_number: str) -> str:
    return base64.urlsafe_b64encode(exam_number.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        after = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    if not after or len(after) > EXAM_NUMBER:
        raise InvalidCursor(cursor)
    return after


def records_page(ems: EmsSim, query: RecordQuery) -> dict[str, Any]:
    """Records in exam-number order (stable while records change); ``next_cursor`` is None at the end."""
    after = decode_cursor(query.cursor) if query.cursor else None
    limit = min(max(1, query.limit), MAX_LIMIT)
    with reading(ems.engine) as conn:
        rows = store.page_records(conn, query.kind, school_code=query.school_code,
                                  graduation_year=query.graduation_year, updated_since=query.updated_since,
                                  after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"kind": query.kind.value, "items": [record_view(query.kind, row) for row in rows],
            "next_cursor": encode_cursor(rows[-1]["exam_number"]) if more else None}
