"""Snapshots for rebuilding read models (``qx-stats rebuild --from-services``): pages of at most 1000
rows ordered by id; ``next_cursor`` is the ``cursor`` of the next page (null: the last one). Admin
sees everything, a province user its province's schools.

- ``GET /snapshots/graduates``: id, school_code, department_id, education_level, graduation_year,
  version (the roster aggregate's sequence), withdrawn (移出生源); never an identity number.
- ``GET /snapshots/registrations?module=archive|hukou``: id (the events' subject), graduate_id,
  module, status, version, approval_stands (an earlier approval still stands, as in the events).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Role
from quxiang.common.db import reading
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import SnapshotArgs
from quxiang.records.adapters import snapshots
from quxiang.records.entrypoints.context import records

blueprint = Blueprint("snapshots", __name__, description="Snapshots for rebuilding read models")


class RegistrationSnapshotArgs(SnapshotArgs):
    module = fields.String(required=True, validate=validate.OneOf(["archive", "hukou"]))


def _province() -> str | None:
    principal = current_principal()
    return None if principal.role is Role.ADMIN else (principal.scope.province or "")


def _out(rows: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    return {"items": rows, "next_cursor": cursor}


@blueprint.route("/snapshots/graduates")
@blueprint.arguments(SnapshotArgs, location="query")
@requires(Role.ADMIN, Role.PROVINCE)
def graduate_snapshot(args: dict[str, Any]) -> dict[str, Any]:
    with reading(records().engine) as conn:
        return _out(*snapshots.graduate_page(conn, args["cursor"], args["limit"], _province()))


@blueprint.route("/snapshots/registrations")
@blueprint.arguments(RegistrationSnapshotArgs, location="query")
@requires(Role.ADMIN, Role.PROVINCE)
def registration_snapshot(args: dict[str, Any]) -> dict[str, Any]:
    with reading(records().engine) as conn:
        return _out(*snapshots.registration_page(conn, args["module"], args["cursor"], args["limit"], _province()))
