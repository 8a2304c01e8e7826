"""同步状态: the mirroring into the employment management system, for province and school users in
their scope. A school account sees and retries the records of the modules it may read and write:
毕业去向 under 基本信息和就业信息, 档案 and 户口 under their own (``status.kinds_for``).

- ``GET /sync/status[?school=]``: per school pending (backlog), synced, failed, the oldest pending
  record's age and the lag of the last hour, and a total row.
- ``GET /sync/failed[?school=&page=&page_size=]``: the records parked as failed, with their last error.
- ``POST /sync/failed/<id>/retry``: one failed record back to pending with a fresh retry budget.
- ``POST /sync/failed/retry-all[?school=]``: every failed record in the caller's scope.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Role
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, Trimmed, page_args, page_out
from quxiang.sync_gateway.entrypoints.context import gateway
from quxiang.sync_gateway.entrypoints.openapi import json_answer
from quxiang.sync_gateway.service import status

blueprint = Blueprint("sync", __name__, description="数据同步 Mirroring into the employment management system")

READERS = (Role.PROVINCE, Role.SCHOOL)


class SchoolArgs(Schema):
    school = Trimmed(load_default=None, validate=validate.Length(min=1, max=10))


class FailedArgs(PageArgs, SchoolArgs):
    pass


@blueprint.route("/sync/status")
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*READERS)  # per module: status.kinds_for
def sync_status(args: dict[str, Any]) -> dict[str, Any]:
    return status.status_view(gateway(), current_principal(), args.get("school"))


@blueprint.route("/sync/failed")
@json_answer(blueprint)
@blueprint.arguments(FailedArgs, location="query")
@requires(*READERS)  # per module: status.kinds_for
def sync_failed(args: dict[str, Any]) -> dict[str, Any]:
    page = status.failed_records(gateway(), current_principal(), args.get("school"), page_args(args))
    return page_out(page, status.record_out)


@blueprint.route("/sync/failed/<int(max=2147483647):record_id>/retry", methods=["POST"])
@json_answer(blueprint)
@requires(*READERS)  # per module: status.kinds_for
def retry_failed(record_id: int) -> dict[str, Any]:
    return status.retry_one(gateway(), current_principal(), record_id)


@blueprint.route("/sync/failed/retry-all", methods=["POST"])
@json_answer(blueprint)
@blueprint.arguments(SchoolArgs, location="query")
@requires(*READERS)  # per module: status.kinds_for
def retry_all_failed(args: dict[str, Any]) -> dict[str, Any]:
    return status.retry_all(gateway(), current_principal(), args.get("school"))
