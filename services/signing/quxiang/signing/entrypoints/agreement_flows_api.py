"""线下签约, 补登 and 作废 over HTTP.

- ``POST /agreements/offline`` ``{unit, terms}`` (the graduate): the application; 201.
- ``POST /agreements/<id>/application`` ``{unit?, terms?}``: a rejected application, again.
- ``POST /agreements/supplementary`` ``{unit, terms, signed_on}`` (the graduate): 201, awaiting the scan.
- ``POST /agreements/<id>/scan`` (multipart ``file``: PDF, JPEG or PNG by content, at most 10 MB);
  ``GET /agreements/<id>/scan``: the latest scan, in scope.
- ``POST /agreements/<id>/void-request`` ``{reason}`` (the graduate);
  ``POST /agreements/<id>/void-reviews`` ``{decision, reason}`` (a school user, employment 读写).

``unit``: ``{name, credit_code, nature, industry, region}`` (code tables); ``terms`` as for invitations.
"""

from __future__ import annotations

from typing import Any

import flask
from marshmallow import Schema, fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.contracts.free_text import FreeText
from quxiang.common.uploads import MAX_DOCUMENT_BYTES, read_upload
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import ProblemError
from quxiang.signing.entrypoints.attachments import attachment_response
from quxiang.signing.entrypoints.context import signing
from quxiang.signing.service import agreement_flows

blueprint = Blueprint("agreement_flows", __name__, description="线下签约、补登与作废 Offline, supplementary, void")


class OfflineIn(Schema):
    unit = fields.Dict(required=True)
    terms = fields.Dict(required=True)


class ResubmitIn(Schema):
    unit = fields.Dict(load_default=None)
    terms = fields.Dict(load_default=None)


class SupplementaryIn(OfflineIn):
    signed_on = fields.Date(required=True, metadata={"description": "签约日期"})


class VoidReasonIn(Schema):
    reason = FreeText(load_default=None, allow_none=True)


class VoidReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = FreeText(load_default=None, allow_none=True)


@blueprint.route("/agreements/offline", methods=["POST"])
@blueprint.arguments(OfflineIn)
@requires(Role.GRADUATE)
def apply_offline(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return agreement_flows.apply_offline(signing(), current_principal(), body["unit"], body["terms"]), 201


@blueprint.route("/agreements/<agreement_id>/application", methods=["POST"])
@blueprint.arguments(ResubmitIn)
@requires(Role.GRADUATE)
def resubmit_application(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return agreement_flows.resubmit_application(signing(), current_principal(), agreement_id, body.get("unit"),
                                                body.get("terms"))


@blueprint.route("/agreements/supplementary", methods=["POST"])
@blueprint.arguments(SupplementaryIn)
@requires(Role.GRADUATE)
def register_supplementary(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return agreement_flows.register_supplementary(signing(), current_principal(), body["unit"], body["terms"],
                                                  body["signed_on"]), 201


@blueprint.route("/agreements/<agreement_id>/scan", methods=["POST"])
@requires(Role.GRADUATE)
def submit_scan(agreement_id: str) -> dict[str, Any]:
    flask.request.max_content_length = MAX_DOCUMENT_BYTES + 64 * 1024  # the form's own bytes besides the file
    file = flask.request.files.get("file")
    if file is None:
        raise ProblemError(400, "file_required", detail="请上传签约材料（multipart 字段 file）")
    upload = read_upload(file.stream, file.filename)
    return agreement_flows.submit_scan(signing(), current_principal(), agreement_id, upload)


@blueprint.route("/agreements/<agreement_id>/scan")
@requires(Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT, Role.GRADUATE, Role.EMPLOYER, module=Module.EMPLOYMENT,
          access=Access.READ)
def download_scan(agreement_id: str) -> flask.Response:
    attachment = agreement_flows.scan(signing(), current_principal(), agreement_id)
    return attachment_response(attachment, f"签约材料-{agreement_id}")


@blueprint.route("/agreements/<agreement_id>/void-request", methods=["POST"])
@blueprint.arguments(VoidReasonIn)
@requires(Role.GRADUATE)
def request_void(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return agreement_flows.request_void(signing(), current_principal(), agreement_id, body.get("reason"))


@blueprint.route("/agreements/<agreement_id>/void-reviews", methods=["POST"])
@blueprint.arguments(VoidReviewIn)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def review_void(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return agreement_flows.review_void(signing(), current_principal(), agreement_id, body["decision"] == "approve",
                                       body.get("reason"))
