"""The writes: the platform's mirror (PUT), the system's own edit API (PATCH, DELETE) with the lock
rule, and the test-only tamper that bypasses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

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
from quxiang.ems_sim.service.idempotency import ATTEMPTS, Reply, attempt_in, fingerprint, run_once
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


def _put_operation(kind: Kind, exam_number: str, values: Mapping[str, Any]) -> Callable[[Connection], Reply]:
    full = {name: values.get(name) for name in (*FIELDS[kind], "school_code", "name", "platform_version")}
    full["source"] = Source.PLATFORM.value

    def operation(conn: Connection) -> Reply:
        existing = store.get_record(conn, kind, exam_number, for_update=True)
        record, result = _apply(conn, kind, exam_number, existing, full)
        return Reply(200, write_view(kind, exam_number, record, result), ("writes", kind, result))

    return operation


def put_record(ems: EmsSim, key: str, kind: Kind, exam_number: str, values: Mapping[str, Any],
               raw_body: Mapping[str, Any]) -> Reply:
    """The platform's write: the whole record (absent fields become null), source ``platform``."""
    return run_once(ems, key, fingerprint("PUT", f"{kind}/{exam_number}", raw_body),
                    _put_operation(kind, exam_number, values))


@dataclass(frozen=True)
class BatchItem:
    """One PUT of a batch, validated by the caller: ``refused`` is its answer when it was invalid."""
    kind: Kind | None
    exam_number: str
    key: str
    values: Mapping[str, Any] | None
    raw_body: Mapping[str, Any] | None
    refused: ProblemError | None = None


def put_batch(ems: EmsSim, items: Sequence[BatchItem]) -> list[Reply | ProblemError]:
    """Many platform writes in one transaction, each in its own savepoint and on its own key, exactly
    as ``PUT /graduates/<exam_number>/<kind>`` with that key: a new key writes once and stores its
    answer, a known key answers from memory, a reused key or an invalid item answers its problem
    without touching the others. Items run in the order sent (a slot sent twice keeps its order).
    Nothing is counted unless the transaction commits; if it does not, nothing was written."""
    answers: list[Reply | ProblemError] = []
    with ems.engine.begin() as conn:
        for item in items:
            answers.append(_batch_item(conn, item))
    for answer in answers:
        if isinstance(answer, Reply):
            if answer.counted is None:
                ems.counters.replay()
            else:
                ems.counters.count(*answer.counted)
    return answers


def _batch_item(conn: Connection, item: BatchItem) -> Reply | ProblemError:
    if item.refused is not None or item.kind is None or item.values is None:
        return item.refused or ProblemError(422, "validation_error")
    request_fingerprint = fingerprint("PUT", f"{item.kind}/{item.exam_number}", item.raw_body)
    operation = _put_operation(item.kind, item.exam_number, item.values)
    for attempt in range(ATTEMPTS):
        try:
            with conn.begin_nested():
                return attempt_in(conn, item.key, request_fingerprint, operation)
        except ProblemError as problem:
            return problem
        except IntegrityError:
            # The key was written by a concurrent request that has committed since: the next attempt
            # finds it and answers from it.
            if attempt == ATTEMPTS - 1:
                break
        except DBAPIError as exc:  # e.g. a deadlock with a concurrent batch: this item only, retried by the caller
            return ProblemError(503, "item_not_written", detail=f"写入失败，请重试: {type(exc.orig).__name__}")
    return ProblemError(503, "item_not_written", detail="写入冲突，请重试")


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
