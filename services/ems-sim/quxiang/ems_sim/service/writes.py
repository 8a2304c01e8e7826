"""The writes: the platform's mirror (PUT), the system's own edit API (PATCH, DELETE) with the lock
rule, and the test-only tamper that bypasses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from quxiang.common.web.errors import ProblemError
from quxiang.ems_sim.adapters import store
from quxiang.ems_sim.domain.records import (
    FIELDS,
    MANAGED_BY_PLATFORM,
    Kind,
    Source,
    Write,
    is_locked,
    write_result,
)
from quxiang.ems_sim.service.context import EmsSim
from quxiang.ems_sim.service.idempotency import Reply, fingerprint, run_once
from quxiang.ems_sim.service.views import write_view


def _not_found() -> ProblemError:
    return ProblemError(404, "not_found", detail="记录不存在")


def _apply(conn: Connection, kind: Kind, exam_number: str, existing: dict[str, Any] | None,
           values: Mapping[str, Any]) -> tuple[dict[str, Any] | None, Write]:
    result = write_result(existing, values)
    if result is Write.CREATED:
        store.insert_record(conn, kind, exam_number, {**values, "updated_at": store.now()})
    elif result is Write.UPDATED:
        store.update_record(conn, kind, exam_number, {**values, "updated_at": store.now()})
    return store.get_record(conn, kind, exam_number), result


def put_record(ems: EmsSim, key: str, kind: Kind, exam_number: str, values: Mapping[str, Any],
               raw_body: Mapping[str, Any]) -> Reply:
    """The platform's write: the whole record (absent fields become null), source ``platform``."""
    full = {name: values.get(name) for name in (*FIELDS[kind], "school_code", "name", "platform_version")}
    full["source"] = Source.PLATFORM.value

    def operation(conn: Connection) -> Reply:
        existing = store.get_record(conn, kind, exam_number, for_update=True)
        record, result = _apply(conn, kind, exam_number, existing, full)
        return Reply(200, write_view(kind, exam_number, record, result), ("writes", kind, result))

    return run_once(ems, key, fingerprint("PUT", f"{kind}/{exam_number}", raw_body), operation)


def patch_record(ems: EmsSim, key: str, kind: Kind, exam_number: str, changes: Mapping[str, Any],
                 raw_body: Mapping[str, Any]) -> Reply:
    """An edit by the system's own users: refused on a destination the platform manages."""

    def operation(conn: Connection) -> Reply:
        existing = store.get_record(conn, kind, exam_number, for_update=True)
        if existing is None:
            raise _not_found()
        _refuse_if_locked(kind, existing)
        record, result = _apply(conn, kind, exam_number, existing, {**changes, "source": Source.EMS.value})
        return Reply(200, write_view(kind, exam_number, record, result), ("edits", kind, result))

    return run_once(ems, key, fingerprint("PATCH", f"{kind}/{exam_number}", raw_body), operation)


def delete_record(ems: EmsSim, key: str, kind: Kind, exam_number: str) -> Reply:
    def operation(conn: Connection) -> Reply:
        existing = store.get_record(conn, kind, exam_number, for_update=True)
        if existing is None:
            raise _not_found()
        _refuse_if_locked(kind, existing)
        store.delete_record(conn, kind, exam_number)
        return Reply(200, write_view(kind, exam_number, None, Write.DELETED), ("edits", kind, Write.DELETED))

    return run_once(ems, key, fingerprint("DELETE", f"{kind}/{exam_number}", None), operation)


def _refuse_if_locked(kind: Kind, record: Mapping[str, Any]) -> None:
    if is_locked(kind, record):
        raise ProblemError(409, "managed_by_platform", detail=MANAGED_BY_PLATFORM)


def tamper(ems: EmsSim, kind: Kind, exam_number: str, fields: Mapping[str, Any] | None, remove: bool) -> Reply:
    """Test-only drift: change (or create, source ``ems`` unless given) or delete any record."""
    with ems.engine.begin() as conn:
        existing = store.get_record(conn, kind, exam_number, for_update=True)
        if remove:
            if existing is None or not store.delete_record(conn, kind, exam_number):
                raise _not_found()
            record, result = None, Write.DELETED
        else:
            values = dict(fields or {})
            if existing is None:
                values.setdefault("source", Source.EMS.value)
            record, result = _apply(conn, kind, exam_number, existing, values)
    ems.counters.count("tampered", kind, result)
    return Reply(200, write_view(kind, exam_number, record, result))
