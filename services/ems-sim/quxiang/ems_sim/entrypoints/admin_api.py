"""Admin endpoints for tests and benchmarks (never faulted, never down):

- ``GET``/``PUT``/``DELETE /admin/faults``: the fault settings (PUT replaces them, absent fields take
  their defaults; DELETE resets to none).
- ``GET``/``DELETE /admin/stats``: the counters (writes by kind and result, edits, tampering,
  idempotent replays, faults injected); DELETE zeroes them.
- ``POST /admin/tamper``: TEST ONLY. Change, create or delete any record, bypassing the lock rule, to
  simulate drift on the employment management system's side.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import ValidationError

from quxiang.common.auth import public
from quxiang.common.web.blueprint import Blueprint
from quxiang.ems_sim.domain.faults import FaultSettings
from quxiang.ems_sim.domain.records import Kind
from quxiang.ems_sim.entrypoints.context import ems
from quxiang.ems_sim.entrypoints.schemas import TAMPER_SCHEMAS, FaultsBody, TamperBody
from quxiang.ems_sim.service import writes

blueprint = Blueprint("ems_admin", __name__, url_prefix="/admin", description="Faults, counters, drift (tests)")


@blueprint.route("/faults")
class Faults(MethodView):
    @public
    def get(self) -> dict[str, Any]:
        return ems().faults.settings.to_dict()

    @public
    @blueprint.arguments(FaultsBody)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        return ems().faults.set(FaultSettings(**body)).to_dict()

    @public
    def delete(self) -> dict[str, Any]:
        return ems().faults.reset().to_dict()


@blueprint.route("/stats")
class Stats(MethodView):
    @public
    def get(self) -> dict[str, Any]:
        return ems().counters.snapshot()

    @public
    def delete(self) -> dict[str, Any]:
        ems().counters.reset()
        return ems().counters.snapshot()


@blueprint.route("/tamper", methods=["POST"])
@blueprint.arguments(TamperBody)
@public
def tamper(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """TEST ONLY: ``{exam_number, kind, fields}`` or ``{exam_number, kind, delete: true}``."""
    kind = Kind(body["kind"])
    fields = None
    if body["fields_"] is not None:
        try:
            fields = TAMPER_SCHEMAS[kind].load(body["fields_"])
        except ValidationError as exc:
            raise ValidationError({"fields": exc.messages}) from None
    reply = writes.tamper(ems(), kind, body["exam_number"], fields, body["delete"])
    return reply.body, reply.status
