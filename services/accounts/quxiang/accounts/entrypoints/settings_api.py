"""功能设置: switching modules on for a province, agreement types per school.

Thin HTTP layer over ``service.settings``. A module, once on, stays on: every way of asking to switch
one off (``POST .../disable``, ``PUT``/``PATCH`` with ``{"enabled": false}``, ``DELETE``) answers 409
``module_irreversible`` with the reason, after the usual role and scope checks (403).

Status values are stable English codes with the Chinese label alongside (``status`` /
``status_label``, ``agreement_type`` / ``agreement_type_label``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from quxiang.accounts.domain.model import AGREEMENT_TYPE_LABELS, MODULE_LABELS, AgreementType, DomainError
from quxiang.accounts.entrypoints.context import accounts
from quxiang.accounts.entrypoints.management_api import (
    SchoolOut,
    domain_problem,
    problem_docs,
    province_name,
    school_out,
)
from quxiang.accounts.service import settings
from quxiang.accounts.service.settings import ModuleState, SchoolSettings
from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Module, Role
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, PageOut, Trimmed, page_args, page_out

blueprint = Blueprint("settings", __name__, description="功能设置 Function settings")
blueprint.register_error_handler(DomainError, domain_problem)

AGREEMENT_VALUES = [t.value for t in AgreementType]
MODULE_VALUES = [m.value for m in Module]
MODULE_STATUS_LABELS = {"enabled": "已开启", "not_enabled": "未开启"}
# A school's settings for a module: the province has not switched it on / on, the school has not
# completed its settings yet / completed them.
SCHOOL_STATUS_LABELS = {"not_enabled": "省级未开启", "pending": "待学校设置", "completed": "已完成设置"}
_PROBLEMS = {
    401: "Not logged in, or the token is invalid, expired or revoked.",
    403: "Not a provincial user (or admin), or another province (out_of_scope).",
    404: "Unknown province, module or school, or outside the caller's scope.",
    409: "module_irreversible: a module, once switched on, cannot be switched off; "
         "module_not_enabled: the province has not switched the module on.",
}


problems = problem_docs(blueprint, _PROBLEMS)


def _agreement_field(required: bool, allow_none: bool = False) -> fields.String:
    """``allow_none`` for answers: a module other than employment, or not switched on, has none."""
    return fields.String(required=required, allow_none=allow_none, validate=validate.OneOf(AGREEMENT_VALUES),
                         metadata={"description": "two_party 两方协议 / three_party 三方协议"})


class EnableIn(Schema):
    """Employment (毕业去向登记与网签) only: the agreement type of every school of the province."""

    agreement_type = _agreement_field(False)
    overrides = fields.Dict(keys=fields.String(validate=validate.Length(max=10)), values=_agreement_field(True),
                            metadata={"description": "{school code: agreement type} for schools that differ "
                                                     "from agreement_type; schools of this province only"})


class ModulePutIn(EnableIn):
    enabled = fields.Boolean(required=True, metadata={"description": "true switches on; false is refused (409)"})


class AgreementTypeIn(Schema):
    agreement_type = _agreement_field(True)


class ModuleOut(Schema):
    province = fields.String(required=True)
    module = fields.String(required=True, validate=validate.OneOf(MODULE_VALUES))
    label = fields.String(required=True, metadata={"description": "毕业去向登记与网签 / 档案信息登记 / 户口信息登记"})
    enabled = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(list(MODULE_STATUS_LABELS)))
    status_label = fields.String(required=True)
    enabled_at = fields.DateTime(allow_none=True)
    irreversible = fields.Boolean(required=True, metadata={"description": "Always true: once on, for good"})
    agreement_default = _agreement_field(False, allow_none=True)
    agreement_default_label = fields.String(allow_none=True)


class ModuleList(Schema):
    province = fields.String(required=True)
    province_name = fields.String(required=True)
    modules = fields.List(fields.Nested(ModuleOut), required=True)


class SchoolModuleOut(Schema):
    module = fields.String(required=True)
    label = fields.String(required=True)
    enabled = fields.Boolean(required=True, metadata={"description": "The province switched it on"})
    completed = fields.Boolean(required=True, metadata={"description": "The school completed its settings"})
    status = fields.String(required=True, validate=validate.OneOf(list(SCHOOL_STATUS_LABELS)))
    status_label = fields.String(required=True)
    updated_at = fields.DateTime(allow_none=True, metadata={"description": "When the school's settings changed"})


class SchoolSettingsOut(Schema):
    school_code = fields.String(required=True)
    school_name = fields.String(required=True)
    agreement_type = _agreement_field(False, allow_none=True)
    agreement_type_label = fields.String(allow_none=True)
    modules = fields.List(fields.Nested(SchoolModuleOut), required=True)


class SchoolSettingsPage(PageOut):
    items = fields.List(fields.Nested(SchoolSettingsOut), required=True)


class SchoolSettingsArgs(PageArgs):
    q = Trimmed(validate=validate.Length(max=100), metadata={"description": "Part of the school code or name"})


def _agreement_label(value: str | None) -> str | None:
    return AGREEMENT_TYPE_LABELS[AgreementType(value)] if value else None


def module_out(state: ModuleState) -> dict[str, Any]:
    status = "enabled" if state.enabled else "not_enabled"
    return {"province": state.province, "module": state.module.value, "label": MODULE_LABELS[state.module],
            "enabled": state.enabled, "status": status, "status_label": MODULE_STATUS_LABELS[status],
            "enabled_at": state.enabled_at, "irreversible": True, "agreement_default": state.agreement_default,
            "agreement_default_label": _agreement_label(state.agreement_default)}


def school_settings_out(row: SchoolSettings) -> dict[str, Any]:
    modules = []
    for module, state in row.modules.items():
        status = "completed" if state.enabled and state.completed else "pending" if state.enabled else "not_enabled"
        modules.append({"module": module.value, "label": MODULE_LABELS[module], "enabled": state.enabled,
                        "completed": state.completed, "status": status,
                        "status_label": SCHOOL_STATUS_LABELS[status], "updated_at": state.updated_at})
    return {"school_code": row.school_code, "school_name": row.school_name, "agreement_type": row.agreement_type,
            "agreement_type_label": _agreement_label(row.agreement_type), "modules": modules}


def _enable(province: str, module: str, body: Mapping[str, Any]) -> dict[str, Any]:
    state, _changed = settings.enable_module(accounts(), current_principal(), province, settings.parse_module(module),
                                             agreement_type=body.get("agreement_type"),
                                             overrides=body.get("overrides"))
    return module_out(state)


def _refuse(province: str, module: str) -> None:
    settings.refuse_disable(accounts(), current_principal(), province, settings.parse_module(module))


@blueprint.route("/provinces/<province>/modules", methods=["GET"])
@requires(Role.ADMIN, Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
@blueprint.response(200, ModuleList)
@problems(401, 403, 404)
def list_modules(province: str) -> dict[str, Any]:
    """The three modules of a province: label, whether on, since when. Its provincial users, its
    school and department users and the admin; anyone else: 404."""
    states = settings.module_states(accounts(), current_principal(), province)
    return {"province": province, "province_name": province_name(province),
            "modules": [module_out(s) for s in states]}


@blueprint.route("/provinces/<province>/modules/<module>", methods=["GET"])
@requires(Role.ADMIN, Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
@blueprint.response(200, ModuleOut)
@problems(401, 403, 404)
def get_module(province: str, module: str) -> dict[str, Any]:
    """One module of a province."""
    return module_out(settings.module_state(accounts(), current_principal(), province,
                                            settings.parse_module(module)))


@blueprint.route("/provinces/<province>/modules/<module>/enable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(EnableIn, required=False)
@blueprint.response(200, ModuleOut)
@problems(401, 403, 404)
def enable_module(body: dict[str, Any], province: str, module: str) -> dict[str, Any]:
    """Switch a module on for the province, for good. Idempotent: asked again, 200 with the same
    state and nothing recorded. Records ``accounts.module.enabled``.

    毕业去向登记与网签 (``employment``) needs ``agreement_type`` (422 naming it if missing): every
    school of the province gets it, except those in ``overrides``; one
    ``accounts.school.agreement_type_set`` per school. The other modules take no body."""
    return _enable(province, module, body or {})


@blueprint.route("/provinces/<province>/modules/<module>/disable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@problems(401, 403, 404, 409)
def disable_module(province: str, module: str) -> None:
    """Refused: a module cannot be switched off once on (409 ``module_irreversible``)."""
    _refuse(province, module)


@blueprint.route("/provinces/<province>/modules/<module>", methods=["PUT"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(ModulePutIn)
@blueprint.response(200, ModuleOut)
@problems(401, 403, 404, 409)
def put_module(body: dict[str, Any], province: str, module: str) -> dict[str, Any]:
    """``{"enabled": true, ...}`` switches the module on as ``POST .../enable`` does;
    ``{"enabled": false}`` is refused with 409 ``module_irreversible``."""
    if not body["enabled"]:
        _refuse(province, module)
    return _enable(province, module, body)


@blueprint.route("/provinces/<province>/modules/<module>", methods=["PATCH"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(ModulePutIn)
@blueprint.response(200, ModuleOut)
@problems(401, 403, 404, 409)
def patch_module(body: dict[str, Any], province: str, module: str) -> dict[str, Any]:
    """As ``PUT``: ``enabled: false`` is refused with 409 ``module_irreversible``."""
    if not body["enabled"]:
        _refuse(province, module)
    return _enable(province, module, body)


@blueprint.route("/provinces/<province>/modules/<module>", methods=["DELETE"])
@requires(Role.PROVINCE, Role.ADMIN)
@problems(401, 403, 404, 409)
def delete_module(province: str, module: str) -> None:
    """Refused: a module cannot be switched off once on (409 ``module_irreversible``)."""
    _refuse(province, module)


@blueprint.route("/schools/<school_code>/agreement-type", methods=["PUT"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(AgreementTypeIn)
@blueprint.response(200, SchoolOut)
@problems(401, 403, 404, 409)
def set_agreement_type(body: dict[str, Any], school_code: str) -> dict[str, Any]:
    """Change one school's e-agreement type (两方/三方协议) after 毕业去向登记与网签 is on (409
    ``module_not_enabled`` before). Records ``accounts.school.agreement_type_set`` if it changed.

    Only new invitations use the new type: agreements made before keep theirs. That is signing's
    concern (it stores the type with each agreement from this event), not a rewrite here."""
    return school_out(settings.set_school_agreement_type(accounts(), current_principal(), school_code,
                                                         body["agreement_type"]))


@blueprint.route("/provinces/<province>/school-settings", methods=["GET"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(SchoolSettingsArgs, location="query")
@blueprint.response(200, SchoolSettingsPage)
@problems(401, 403, 404)
def list_school_settings(args: dict[str, Any], province: str) -> dict[str, Any]:
    """Per school of the province: its agreement type, and per module whether the province switched
    it on and whether the school completed its settings (reported by records and signing)."""
    page = settings.school_settings(accounts(), current_principal(), province, q=args.get("q"),
                                    page=page_args(args))
    return page_out(page, school_settings_out)
