"""The writes: the platform's mirror (PUT), the system's own edit API (PATCH, DELETE) with the lock
rule, and the test-only tamper that bypasses it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from quxiang.common.web.errors import ProblemError
from quxiang.ems_sim.adapters import store
from quxiang.ems_sim.domain.records import (
    FIELDS,
    GRADUATE_FIELDS,
    MANAGED_BY_PLATFORM,
    Kind,
    Source,
    Write,
    is_locked,
    write_result,
)
from quxiang.ems_sim.service.context import EmsSim
from quxiang.ems_sim.service.idempotency import Reply, fingerprint, replay, run_once
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


def _put_values(kind: Kind, values: Mapping[str, Any]) -> dict[str, Any]:
    """The whole record as the platform sends it: absent fields become null, source ``platform``."""
    full = {name: values.get(name) for name in (*FIELDS[kind], *GRADUATE_FIELDS, "platform_version")}
    full["source"] = Source.PLATFORM.value
    return full


def _put_operation(kind: Kind, exam_number: str, values: Mapping[str, Any]) -> Callable[[Connection], Reply]:
    full = _put_values(kind, values)

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
    """Many platform writes in one transaction, each on its own key exactly as
    ``PUT /graduates/<exam_number>/<kind>`` with that key: a new key writes once and stores its answer,
    a known key answers from memory, a reused key or an invalid item answers its problem and changes
    nothing. A slot sent twice is written in the order sent. The keys are claimed with
    ``INSERT .. ON CONFLICT DO NOTHING`` (a concurrent holder of a key is waited for, then answered
    from), so no item can fail the transaction of the others; if it fails as a whole (the database),
    nothing was written and the caller sends the batch again. Counted only once committed."""
    answers: list[Reply | ProblemError | None] = [None] * len(items)
    # Rows are locked slot by slot in one order (kind, 考生号) whatever the order sent, so concurrent
    # batches do not deadlock on each other; the sort is stable, so one slot's items keep their order.
    order = sorted(range(len(items)), key=lambda i: (items[i].kind or "", items[i].exam_number))
    with ems.engine.begin() as conn:
        stored = store.find_keys(conn, [item.key for item in items if item.refused is None and item.key])
        for index in order:
            answers[index] = _batch_item(conn, items[index], stored)
    for answer in answers:
        if isinstance(answer, Reply):
            if answer.counted is None:
                ems.counters.replay()
            else:
                ems.counters.count(*answer.counted)
    return [answer for answer in answers if answer is not None]


def _batch_item(conn: Connection, item: BatchItem, stored: dict[str, store.StoredKey]) -> Reply | ProblemError:
    if item.refused is not None or item.kind is None or item.values is None:
        return item.refused or ProblemError(422, "validation_error")
    request_fingerprint = fingerprint("PUT", f"{item.kind}/{item.exam_number}", item.raw_body)
    try:
        known = stored.get(item.key)
        if known is None and not store.claim_key_if_new(conn, item.key, request_fingerprint):
            known = store.find_key(conn, item.key)  # claimed by a concurrent request (committed) or this batch
        if known is not None:
            return replay(known, request_fingerprint)
    except ProblemError as problem:
        return problem
    full = _put_values(item.kind, item.values)
    existing = store.get_record(conn, item.kind, item.exam_number, for_update=True)
    result = write_result(existing, full)
    record = existing
    if result is not Write.UNCHANGED:
        record = {**(existing or {}), **full, "exam_number": item.exam_number, "updated_at": store.now()}
        if result is Write.CREATED:
            store.insert_record(conn, item.kind, item.exam_number, _stored(record))
        else:
            store.update_record(conn, item.kind, item.exam_number, _stored(record))
    reply = Reply(200, write_view(item.kind, item.exam_number, record, result), ("writes", item.kind, result))
    store.complete_key(conn, item.key, reply.status, json.dumps(reply.body, ensure_ascii=False))
    stored[item.key] = store.StoredKey(request_fingerprint, reply.status, json.dumps(reply.body, ensure_ascii=False))
    return reply


def _stored(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != "exam_number"}


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
