"""用人单位账号: a provincial user oversees the units of its province (by the unit's region).

Registration is self-service, so a unit that forgot its password, or whose credit code someone else
registered first, proves itself to its province off the platform (its business licence). The
province then sets a new password for the unit's account and hands it over (every token of the
account dies), or stops the account. The administrator oversees every unit; another province's unit
is 404 ``employer_not_found``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from quxiang.accounts.adapters.credentials import EmployerAccount
from quxiang.accounts.domain.model import DomainError
from quxiang.accounts.entrypoints.context import accounts
from quxiang.accounts.entrypoints.management_api import (
    STATUS_LABELS,
    PasswordResetIn,
    domain_problem,
    problem_docs,
)
from quxiang.accounts.service import employers
from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Role
from quxiang.common.reference import employer_natures, industries
from quxiang.common.times import iso_utc
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, PageOut, Trimmed, page_args, page_out

blueprint = Blueprint("employer_oversight", __name__, description="用人单位账号 Employer accounts (province)")
blueprint.register_error_handler(DomainError, domain_problem)

problems = problem_docs(blueprint, {
    401: "Not logged in, or the token is invalid, expired or revoked.",
    403: "Not a provincial user or the administrator (role_forbidden).",
    404: "employer_not_found: no such unit, or a unit of another province.",
})


class EmployerListArgs(PageArgs):
    q = Trimmed(validate=validate.Length(max=100),
                metadata={"description": "Part of the unit's name, credit code or account username"})


class EmployerAccountOut(Schema):
    employer_id = fields.String(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    nature = fields.String(required=True)
    nature_label = fields.String(required=True)
    industry = fields.String(required=True)
    industry_label = fields.String(required=True)
    region = fields.String(required=True)
    address = fields.String(required=True)
    contact_name = fields.String(required=True)
    contact_phone = fields.String(required=True)
    registered_at = fields.String(required=True)
    user_id = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True, metadata={"description": "正常 / 已停用"})
    stopped_by = fields.String(allow_none=True, metadata={
        "description": "who stopped the account: a province's code or admin; null while active"})
    stopped_by_label = fields.String(allow_none=True, metadata={"description": "e.g. 广东省, 平台管理员"})


class EmployerAccountPage(PageOut):
    items = fields.List(fields.Nested(EmployerAccountOut), required=True)


def employer_account_out(account: EmployerAccount) -> dict[str, Any]:
    unit = account.employer
    status = "disabled" if account.disabled else "active"
    return {"employer_id": unit.id, "name": unit.name, "credit_code": unit.credit_code, "nature": unit.nature,
            "nature_label": employer_natures().label(unit.nature, default=unit.nature), "industry": unit.industry,
            "industry_label": industries().label(unit.industry, default=unit.industry), "region": unit.region,
            "address": unit.address, "contact_name": unit.contact_name, "contact_phone": unit.contact_phone,
            "registered_at": iso_utc(account.created_at), "user_id": account.user_id,
            "username": account.username, "status": status, "status_label": STATUS_LABELS[status],
            "stopped_by": account.stopped_by, "stopped_by_label": employers.stopped_by_label(account.stopped_by)}


@blueprint.route("/employer-accounts", methods=["GET"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(EmployerListArgs, location="query")
@blueprint.response(200, EmployerAccountPage)
@problems(401, 403)
def list_employer_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """The units of the caller's province (by region) with their accounts, by name; ``q`` filters."""
    page = employers.list_employers(accounts(), current_principal(), q=args.get("q"), page=page_args(args))
    return page_out(page, employer_account_out)


@blueprint.route("/employer-accounts/<employer_id>/password", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(PasswordResetIn)
@blueprint.response(200, EmployerAccountOut)
@problems(401, 403, 404)
def reset_employer_password(body: dict[str, Any], employer_id: str) -> dict[str, Any]:
    """A new password for the unit's account, once the unit proved itself; its tokens are revoked.
    Records ``accounts.user.password_reset`` (never the password)."""
    return employer_account_out(employers.reset_employer_password(accounts(), current_principal(), employer_id,
                                                                  body["new_password"]))


@blueprint.route("/employer-accounts/<employer_id>/disable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.response(200, EmployerAccountOut)
@problems(401, 403, 404)
def disable_employer_account(employer_id: str) -> dict[str, Any]:
    """Stop the unit's account (idempotent): it cannot log in and its tokens die everywhere."""
    return employer_account_out(employers.set_employer_disabled(accounts(), current_principal(), employer_id, True))


@blueprint.route("/employer-accounts/<employer_id>/enable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.response(200, EmployerAccountOut)
@problems(401, 403, 404)
def enable_employer_account(employer_id: str) -> dict[str, Any]:
    """Let a stopped unit's account log in again (idempotent)."""
    return employer_account_out(employers.set_employer_disabled(accounts(), current_principal(), employer_id, False))
