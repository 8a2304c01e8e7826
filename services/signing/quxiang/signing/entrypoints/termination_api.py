"""解约 over HTTP.

- ``POST /agreements/<id>/terminations``: online ``{reason}`` (the graduate or the employer); offline
  as multipart ``file`` (the termination letter: PDF, JPEG or PNG by content) and ``reason`` (the
  graduate). 201 the request; 409 ``not_in_force``, ``termination_open``, ``offline_only``.
- ``GET /agreements/<id>/terminations``; ``GET /terminations/<id>`` with its history;
  ``GET /terminations/<id>/letter``.
- ``POST /terminations/<id>/agree`` | ``/disagree`` ``{reason}`` (the other party), ``/withdraw`` (the
  requester), ``/reviews`` ``{decision, reason}`` (a school user, employment 读写).
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
from quxiang.signing.domain.termination import Mode
from quxiang.signing.entrypoints.attachments import attachment_response
from quxiang.signing.entrypoints.context import signing
from quxiang.signing.service import terminations

blueprint = Blueprint("terminations", __name__, description="解约 Termination")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT, Role.GRADUATE, Role.EMPLOYER)


class TerminationReasonIn(Schema):
    reason = FreeText(load_default=None, allow_none=True)


class TerminationReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = FreeText(load_default=None, allow_none=True)


@blueprint.route("/agreements/<agreement_id>/terminations", methods=["POST"])
@requires(Role.GRADUATE, Role.EMPLOYER)
def request_termination(agreement_id: str) -> tuple[dict[str, Any], int]:
    """JSON ``{reason}``: online; multipart with ``file``: offline (the termination letter)."""
    if flask.request.mimetype == "multipart/form-data":
        flask.request.max_content_length = MAX_DOCUMENT_BYTES + 64 * 1024
        file = flask.request.files.get("file")
        letter = read_upload(file.stream, file.filename) if file is not None else None
        form = TerminationReasonIn().load({"reason": flask.request.form.get("reason")})  # masked as JSON's is
        return terminations.request(signing(), current_principal(), agreement_id, Mode.OFFLINE,
                                    form.get("reason"), letter), 201
    body = TerminationReasonIn().load(flask.request.get_json(silent=True) or {})
    return terminations.request(signing(), current_principal(), agreement_id, Mode.ONLINE, body.get("reason")), 201


@blueprint.route("/agreements/<agreement_id>/terminations")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def list_terminations(agreement_id: str) -> dict[str, Any]:
    return {"items": terminations.list_for_agreement(signing(), current_principal(), agreement_id)}


@blueprint.route("/terminations/<termination_id>")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def get_termination(termination_id: str) -> dict[str, Any]:
    return terminations.detail(signing(), current_principal(), termination_id)


@blueprint.route("/terminations/<termination_id>/letter")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def get_letter(termination_id: str) -> flask.Response:
    attachment = terminations.letter(signing(), current_principal(), termination_id)
    return attachment_response(attachment, f"解约函-{termination_id}")


@blueprint.route("/terminations/<termination_id>/agree", methods=["POST"])
@requires(Role.GRADUATE, Role.EMPLOYER)
def agree(termination_id: str) -> dict[str, Any]:
    return terminations.answer(signing(), current_principal(), termination_id, True, None)


@blueprint.route("/terminations/<termination_id>/disagree", methods=["POST"])
@blueprint.arguments(TerminationReasonIn)
@requires(Role.GRADUATE, Role.EMPLOYER)
def disagree(body: dict[str, Any], termination_id: str) -> dict[str, Any]:
    return terminations.answer(signing(), current_principal(), termination_id, False, body.get("reason"))


@blueprint.route("/terminations/<termination_id>/withdraw", methods=["POST"])
@requires(Role.GRADUATE, Role.EMPLOYER)
def withdraw(termination_id: str) -> dict[str, Any]:
    return terminations.withdraw(signing(), current_principal(), termination_id)


@blueprint.route("/terminations/<termination_id>/reviews", methods=["POST"])
@blueprint.arguments(TerminationReviewIn)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def review(body: dict[str, Any], termination_id: str) -> dict[str, Any]:
    return terminations.review(signing(), current_principal(), termination_id, body["decision"] == "approve",
                               body.get("reason"))
