"""Snapshots for rebuilding read models (``qx-stats rebuild --from-services``): pages of at most 1000
rows ordered by id; ``next_cursor`` is the ``cursor`` of the next page (null: the last one). Admin
sees everything, a province user its province's schools.

- ``GET /snapshots/agreements``: id (the events' subject), graduate_id, status, version,
  destination_code ("10").
- ``GET /snapshots/destinations``: id (the registration, the events' subject), graduate_id, status,
  version, destination_code.
"""

from __future__ import annotations

from typing import Any

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Role
from quxiang.common.db import reading
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import SnapshotArgs
from quxiang.signing.adapters import snapshots
from quxiang.signing.entrypoints.context import signing

blueprint = Blueprint("snapshots", __name__, description="Snapshots for rebuilding read models")


def _province() -> str | None:
    principal = current_principal()
    return None if principal.role is Role.ADMIN else (principal.scope.province or "")


def _out(rows: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    return {"items": rows, "next_cursor": cursor}


@blueprint.route("/snapshots/agreements")
@blueprint.arguments(SnapshotArgs, location="query")
@requires(Role.ADMIN, Role.PROVINCE)
def agreement_snapshot(args: dict[str, Any]) -> dict[str, Any]:
    with reading(signing().engine) as conn:
        return _out(*snapshots.agreement_page(conn, args["cursor"], args["limit"], _province()))


@blueprint.route("/snapshots/destinations")
@blueprint.arguments(SnapshotArgs, location="query")
@requires(Role.ADMIN, Role.PROVINCE)
def destination_snapshot(args: dict[str, Any]) -> dict[str, Any]:
    with reading(signing().engine) as conn:
        return _out(*snapshots.destination_page(conn, args["cursor"], args["limit"], _province()))
