"""Records as the API shows them: JSON values, every field present."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from quxiang.ems_sim.domain.records import Kind, stored_fields


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record_view(kind: Kind, record: Mapping[str, Any]) -> dict[str, Any]:
    names = ("exam_number", *stored_fields(kind), "updated_at")
    return {name: _json(record.get(name)) for name in names}


def write_view(kind: Kind, exam_number: str, record: Mapping[str, Any] | None, write: str) -> dict[str, Any]:
    return {"exam_number": exam_number, "kind": kind.value,
            "record": record_view(kind, record) if record is not None else None, "write": write}
