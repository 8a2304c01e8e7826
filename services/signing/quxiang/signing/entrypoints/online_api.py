"""在线签约 over HTTP: the school's 网签设置, invitations, the graduate's answer, reviews, reading.

- ``GET|PUT /schools/<code>/settings``: ``{department_review, notice}`` (school user, 读写 to change).
- ``POST /invitations``: an employer invites ``{exam_number, name, response_days (1-30, default 7),
  terms: {...}}``; 201 the agreement.
- ``POST /agreements/<id>/accept`` | ``/decline`` (the graduate), ``/withdraw`` (the employer),
  ``/reviews`` ``{decision: approve|reject, reason}`` (department or school user, 读写).
- ``GET /agreements/<id>``: the agreement with its audit trail; ``GET /agreements``: the caller's.

A step the agreement's state does not allow answers 409 ``invalid_state`` naming the current state
and the allowed actions; accepting while another agreement is held answers 409 ``agreement_held``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.contracts.free_text import FreeText
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, page_args, page_out
from quxiang.signing.domain.online import MAX_RESPONSE_DAYS, MIN_RESPONSE_DAYS, Status
from quxiang.signing.entrypoints.context import signing
from quxiang.signing.service import online, online_lists

blueprint = Blueprint("online", __name__, description="在线签约 Online signing")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)


class SettingsIn(Schema):
    department_review = fields.Boolean(required=True, metadata={"description": "院系审核 before the school's"})
    notice = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TermsIn(Schema):
    position_category = fields.String(required=True)
    job_title = fields.String(required=True)
    work_region = fields.String(required=True)
    work_place = fields.String(required=True)
    monthly_salary = fields.Integer(required=True, strict=True)
    contract_months = fields.Integer(required=True, strict=True)
    probation_months = fields.Integer(required=True, strict=True)
    contact_person = fields.String(required=True)
    contact_phone = fields.String(required=True)
    archive_destination = fields.String(load_default=None, allow_none=True)
    hukou_destination = fields.String(load_default=None, allow_none=True)
    remarks = fields.String(load_default=None, allow_none=True)


class InvitationIn(Schema):
    exam_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    response_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                   validate=validate.Range(min=MIN_RESPONSE_DAYS, max=MAX_RESPONSE_DAYS))
    terms = fields.Nested(TermsIn, required=True)


class AnswerIn(Schema):
    reason = FreeText(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = FreeText(load_default=None, allow_none=True)


class ListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    school = fields.String(load_default=None)
    department = fields.String(load_default=None)


@blueprint.route("/schools/<school_code>/settings")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def get_settings(school_code: str) -> dict[str, Any]:
    return online.settings_view(signing(), current_principal(), school_code)


@blueprint.route("/schools/<school_code>/settings", methods=["PUT"])
@blueprint.arguments(SettingsIn)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def put_settings(body: dict[str, Any], school_code: str) -> dict[str, Any]:
    return online.put_settings(signing(), current_principal(), school_code,
                               department_review=body["department_review"], notice=body.get("notice"))


@blueprint.route("/invitations", methods=["POST"])
@blueprint.arguments(InvitationIn)
@requires(Role.EMPLOYER)
def create_invitation(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return online.invite(signing(), current_principal(), exam_number=body["exam_number"], name=body["name"],
                         terms=body["terms"], response_days=body.get("response_days")), 201


@blueprint.route("/agreements/<agreement_id>")
@requires(*READERS, Role.GRADUATE, Role.EMPLOYER, module=Module.EMPLOYMENT, access=Access.READ)
def get_agreement(agreement_id: str) -> dict[str, Any]:
    return online.detail(signing(), current_principal(), agreement_id)


@blueprint.route("/agreements")
@blueprint.arguments(ListArgs, location="query")
@requires(*READERS, Role.GRADUATE, Role.EMPLOYER, module=Module.EMPLOYMENT, access=Access.READ)
def list_agreements(args: dict[str, Any]) -> dict[str, Any]:
    page = online_lists.list_page(signing(), current_principal(), status=args["status"], school=args["school"],
                                  department=args["department"], request=page_args(args))
    return page_out(page, lambda item: item)


@blueprint.route("/agreements/<agreement_id>/accept", methods=["POST"])
@requires(Role.GRADUATE)
def accept(agreement_id: str) -> dict[str, Any]:
    return online.respond(signing(), current_principal(), agreement_id, accept=True)


@blueprint.route("/agreements/<agreement_id>/decline", methods=["POST"])
@blueprint.arguments(AnswerIn, required=False)
@requires(Role.GRADUATE)
def decline(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return online.respond(signing(), current_principal(), agreement_id, accept=False, reason=(body or {}).get("reason"))


@blueprint.route("/agreements/<agreement_id>/withdraw", methods=["POST"])
@requires(Role.EMPLOYER)
def withdraw(agreement_id: str) -> dict[str, Any]:
    return online.withdraw(signing(), current_principal(), agreement_id)


@blueprint.route("/agreements/<agreement_id>/reviews", methods=["POST"])
@blueprint.arguments(ReviewIn)
@requires(Role.SCHOOL, Role.DEPARTMENT, module=Module.EMPLOYMENT, access=Access.WRITE)
def review(body: dict[str, Any], agreement_id: str) -> dict[str, Any]:
    return online.review(signing(), current_principal(), agreement_id, body["decision"] == "approve",
                         body.get("reason"))
