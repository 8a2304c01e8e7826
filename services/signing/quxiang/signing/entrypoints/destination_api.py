"""去向登记 over HTTP.

- ``GET /graduates/<id>/destination``: the graduate's registration that is not voided, with its
  audit history and proofs (``status: none`` if there is none) and the voided ones listed.
- ``PUT /graduates/<id>/destination/draft`` ``{destination_code, fields: {...}}``: the graduate saves
  the draft (201 when created); ``POST .../destination/submit`` (optionally with the same body)
  submits it for review.
- ``GET /destinations/<id>``: one registration, voided ones too.
- ``POST /destinations/<id>/proofs`` (multipart ``file``: PDF, JPEG or PNG judged by content, at
  most 10 MB; the graduate, while draft or rejected); ``GET /destinations/<id>/proofs/<attachment>``.
- ``POST /destinations/<id>/reviews`` ``{decision: approve|reject, reason}`` (department or school
  user, 读写); ``POST /destinations/<id>/void-request`` ``{reason}`` (the graduate, once approved);
  ``POST /destinations/<id>/void-reviews`` ``{decision, reason}`` (school user, 读写).

A step the state does not allow answers 409 ``invalid_state`` with the current state and the allowed
actions; submitting while holding an agreement answers 409 ``agreement_held``; field rules answer
422 naming each field (``fields.<name>``, ``destination_code``, ``proofs``).
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
from quxiang.signing.service import destinations

blueprint = Blueprint("destinations", __name__, description="去向登记 Destination registration")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT, Role.GRADUATE)
MAX_PROOF_BYTES = MAX_DOCUMENT_BYTES
MULTIPART_OVERHEAD = 64 * 1024


class DestinationIn(Schema):
    destination_code = fields.String(required=True, validate=validate.Length(min=1, max=4))
    fields = fields.Dict(keys=fields.String(), load_default=dict)


class DestinationSubmitIn(Schema):
    destination_code = fields.String(load_default=None, validate=validate.Length(min=1, max=4))
    fields = fields.Dict(keys=fields.String(), load_default=None)


class DestinationDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = FreeText(load_default=None, allow_none=True)


class DestinationReasonIn(Schema):
    reason = FreeText(required=True)


@blueprint.route("/graduates/<graduate_id>/destination")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def get_current(graduate_id: str) -> dict[str, Any]:
    return destinations.view(signing(), current_principal(), graduate_id)


@blueprint.route("/graduates/<graduate_id>/destination/draft", methods=["PUT"])
@blueprint.arguments(DestinationIn)
@requires(Role.GRADUATE)
def save_draft(body: dict[str, Any], graduate_id: str) -> tuple[dict[str, Any], int]:
    out, created = destinations.save_draft(signing(), current_principal(), graduate_id, body["destination_code"],
                                           body["fields"])
    return out, 201 if created else 200


@blueprint.route("/graduates/<graduate_id>/destination/submit", methods=["POST"])
@blueprint.arguments(DestinationSubmitIn, required=False)
@requires(Role.GRADUATE)
def submit(body: dict[str, Any] | None, graduate_id: str) -> dict[str, Any]:
    body = body or {}
    return destinations.submit(signing(), current_principal(), graduate_id, body.get("destination_code"),
                               body.get("fields"))


@blueprint.route("/destinations/<registration_id>")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def get_registration(registration_id: str) -> dict[str, Any]:
    return destinations.detail(signing(), current_principal(), registration_id)


@blueprint.route("/destinations/<registration_id>/proofs", methods=["POST"])
@requires(Role.GRADUATE)
def add_proof(registration_id: str) -> tuple[dict[str, Any], int]:
    flask.request.max_content_length = MAX_PROOF_BYTES + MULTIPART_OVERHEAD
    file = flask.request.files.get("file")
    if file is None:
        raise ProblemError(400, "file_required", detail="请上传证明材料（multipart 字段 file）")
    upload = read_upload(file.stream, file.filename, max_bytes=MAX_PROOF_BYTES)
    return destinations.add_proof(signing(), current_principal(), registration_id, upload), 201


@blueprint.route("/destinations/<registration_id>/proofs/<attachment_id>")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def download_proof(registration_id: str, attachment_id: str) -> flask.Response:
    attachment = destinations.proof(signing(), current_principal(), registration_id, attachment_id)
    return attachment_response(attachment, f"证明材料-{attachment_id}")


@blueprint.route("/destinations/<registration_id>/reviews", methods=["POST"])
@blueprint.arguments(DestinationDecisionIn)
@requires(Role.SCHOOL, Role.DEPARTMENT, module=Module.EMPLOYMENT, access=Access.WRITE)
def review(body: dict[str, Any], registration_id: str) -> dict[str, Any]:
    return destinations.review(signing(), current_principal(), registration_id, body["decision"] == "approve",
                               body.get("reason"))


@blueprint.route("/destinations/<registration_id>/void-request", methods=["POST"])
@blueprint.arguments(DestinationReasonIn)
@requires(Role.GRADUATE)
def request_void(body: dict[str, Any], registration_id: str) -> dict[str, Any]:
    return destinations.request_void(signing(), current_principal(), registration_id, body["reason"])


@blueprint.route("/destinations/<registration_id>/void-reviews", methods=["POST"])
@blueprint.arguments(DestinationDecisionIn)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def review_void(body: dict[str, Any], registration_id: str) -> dict[str, Any]:
    return destinations.review_void(signing(), current_principal(), registration_id, body["decision"] == "approve",
                                    body.get("reason"))
