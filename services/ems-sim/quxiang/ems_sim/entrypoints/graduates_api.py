"""The employment management system's API, open on the internal network (no platform tokens):

- ``PUT /graduates/<exam_number>/<kind>``: the platform's mirror of a record (source ``platform``).
- ``PATCH`` / ``DELETE /graduates/<exam_number>/<kind>``: the system's own users' edits; a destination
  mirrored from the platform answers 409 ``managed_by_platform``.
- ``GET /graduates/<exam_number>``: the three records; ``GET /records``: pages for reconciliation.

Every write needs ``Idempotency-Key`` (400 without): the same key again answers what the first request
got and writes nothing; the key with another request answers 422 ``idempotency_key_reused``.
"""

from __future__ import annotations

from typing import Any

import flask
import marshmallow as ma
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from quxiang.common.auth import public
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import ProblemError, flatten_messages
from quxiang.ems_sim.adapters.tables import IDEMPOTENCY_KEY
from quxiang.ems_sim.domain.records import Kind
from quxiang.ems_sim.entrypoints.context import ems
from quxiang.ems_sim.entrypoints.schemas import PATCH_SCHEMAS, PUT_SCHEMAS, RecordsArgs, check_exam_number
from quxiang.ems_sim.service import reads, writes
from quxiang.ems_sim.service.idempotency import Reply

blueprint = Blueprint("ems", __name__, description="就业管理系统 records")

KINDS = "any(destination, archive, hukou)"


def idempotency_key() -> str:
    key = flask.request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ProblemError(400, "idempotency_key_required", detail="写操作需要 Idempotency-Key 请求头")
    if len(key) > IDEMPOTENCY_KEY:
        raise ProblemError(400, "idempotency_key_invalid",
                           detail=f"Idempotency-Key 不能超过 {IDEMPOTENCY_KEY} 个字符")
    return key


def json_body() -> dict[str, Any]:
    """The body as an object. Malformed JSON never gets here (the common guard answers 400); a body
    that is JSON but no object is 422, as a schema's ``_schema`` error is in every other service."""
    body = flask.request.get_json(silent=True)
    if body is None:
        raise ProblemError(400, "invalid_json", detail="请求体须为 JSON 对象（Content-Type: application/json）")
    if not isinstance(body, dict):
        raise ma.ValidationError({"_schema": ["请求体须为 JSON 对象"]})
    return body


def _answer(reply: Reply) -> tuple[dict[str, Any], int]:
    return reply.body, reply.status


@blueprint.route(f"/graduates/<exam_number>/<{KINDS}:kind>")
class GraduateRecord(MethodView):
    @public
    def put(self, exam_number: str, kind: str) -> tuple[dict[str, Any], int]:
        """Write a record as the platform approved it (the whole record; absent fields become null)."""
        key = idempotency_key()
        body = json_body()
        check_exam_number(exam_number)
        values = PUT_SCHEMAS[Kind(kind)].load(body)
        return _answer(writes.put_record(ems(), key, Kind(kind), exam_number, values, body))

    @public
    def patch(self, exam_number: str, kind: str) -> tuple[dict[str, Any], int]:
        """An edit by the system's own users: only the fields sent change; source becomes ``ems``."""
        key = idempotency_key()
        body = json_body()
        check_exam_number(exam_number)
        changes = PATCH_SCHEMAS[Kind(kind)].load(body)
        return _answer(writes.patch_record(ems(), key, Kind(kind), exam_number, changes, body))

    @public
    def delete(self, exam_number: str, kind: str) -> tuple[dict[str, Any], int]:
        """A deletion by the system's own users (answers ``write: deleted`` and a null record)."""
        key = idempotency_key()
        check_exam_number(exam_number)
        return _answer(writes.delete_record(ems(), key, Kind(kind), exam_number))


BATCH_LIMIT = 500


@blueprint.route("/batch", methods=["POST"])
@public
def batch() -> tuple[dict[str, Any], int]:
    """Many platform writes in one request: ``{"items": [{"kind", "exam_number", "idempotency_key",
    "record"}, ...]}`` (at most 500). Each item is exactly ``PUT /graduates/<exam_number>/<kind>`` with
    ``Idempotency-Key: <idempotency_key>`` and body ``record``, in its own savepoint: it answers on its
    own (``{"items": [{"status", "body"}, ...]}`` in the order sent), and a refused item changes
    nothing for the others. 503 ``batch_not_written``: the transaction failed as a whole (nothing
    written)."""
    items = json_body().get("items")
    if not isinstance(items, list) or not items or len(items) > BATCH_LIMIT:
        raise ProblemError(400, "invalid_batch", detail=f"items 必须是 1 到 {BATCH_LIMIT} 个写操作的数组")
    try:
        answers = writes.put_batch(ems(), [_batch_item(item) for item in items])
    except OperationalError:  # e.g. a deadlock with a concurrent batch: nothing was written, send it again
        raise ProblemError(503, "batch_not_written", detail="批量写入未完成（未写入任何记录），请重试") from None
    return {"items": [_item_answer(answer) for answer in answers]}, 200


def _batch_item(item: Any) -> writes.BatchItem:
    if not isinstance(item, dict):
        refused = ProblemError(400, "invalid_json", detail="每一项必须是 JSON 对象")
        return writes.BatchItem(None, "", "", None, None, refused)
    exam_number, key, record = item.get("exam_number"), item.get("idempotency_key"), item.get("record")
    refused = None
    try:
        kind = Kind(item.get("kind"))
    except ValueError:
        kind, refused = None, ProblemError(422, "validation_error", detail="kind: 无效的类型")
        refused.extra["errors"] = {"kind": ["无效的类型"]}
    if not isinstance(key, str) or not key.strip():
        refused = ProblemError(400, "idempotency_key_required", detail="每一项需要 idempotency_key")
    elif len(key.strip()) > IDEMPOTENCY_KEY:
        refused = ProblemError(400, "idempotency_key_invalid",
                               detail=f"idempotency_key 不能超过 {IDEMPOTENCY_KEY} 个字符")
    elif not isinstance(record, dict):
        refused = ProblemError(400, "invalid_json", detail="record 必须是 JSON 对象")
    values = None
    if refused is None and kind is not None:
        try:
            check_exam_number(exam_number if isinstance(exam_number, str) else "")
            values = PUT_SCHEMAS[kind].load(record)
        except ValidationError as error:
            errors = flatten_messages(error.messages)
            detail = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in errors.items())
            refused = ProblemError(422, "validation_error", detail=detail)
            refused.extra["errors"] = errors  # the single PUT's 422 shape (a reserved name for raising)
    return writes.BatchItem(kind, exam_number if isinstance(exam_number, str) else "",
                            key.strip() if isinstance(key, str) else "", values, record, refused)


def _item_answer(answer: Reply | ProblemError) -> dict[str, Any]:
    if isinstance(answer, Reply):
        return {"status": answer.status, "body": answer.body}
    body = {"type": answer.type, "title": answer.title, "status": answer.status,
            "detail": answer.detail if answer.detail is not None else answer.title, "code": answer.code}
    for name, value in answer.extra.items():
        body.setdefault(name, value)
    return {"status": answer.status, "body": body}


@blueprint.route("/graduates/<exam_number>")
@public
def graduate(exam_number: str) -> dict[str, Any]:
    """The destination, archive and hukou records of a graduate (null where absent); 404 if none."""
    found = reads.graduate(ems(), exam_number) if len(exam_number) <= 32 else None
    if found is None:
        raise ProblemError(404, "not_found", detail="就业管理系统中没有该考生号的记录")
    return found


@blueprint.route("/records")
@blueprint.arguments(RecordsArgs, location="query")
@public
def records(args: dict[str, Any]) -> dict[str, Any]:
    """Records of one kind in a stable order (by 考生号), ``next_cursor`` null on the last page."""
    query = reads.RecordQuery(kind=Kind(args["kind"]), school_code=args["school_code"],
                              graduation_year=args["graduation_year"], updated_since=args["updated_since"],
                              cursor=args["cursor"], limit=args["limit"])
    try:
        return reads.records_page(ems(), query)
    except reads.InvalidCursor:
        raise ProblemError(422, "invalid_cursor", detail="cursor 无效，请使用上一页返回的 next_cursor") from None
