"""账号管理: schools, departments and their accounts with module permissions.

Thin HTTP layer over ``service.management``: request schemas (unknown fields are refused with 422,
so a body cannot slip in ``role``, ``status`` or ``disabled``), the caller from its token, and the
response schemas. Scope rules are in the service module's docstring: reads and account changes out
of scope answer 404, creating within a scope the caller does not hold answers 403.

Lists take ``page`` (from 1) and ``page_size`` (default 20; larger than 100 is served as 100) and
answer ``{items, page, page_size, total, pages}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import flask
from marshmallow import Schema, ValidationError, fields, validate

from quxiang.accounts.adapters.repository import AccountView, SchoolView
from quxiang.accounts.domain.model import (
    AGREEMENT_TYPE_LABELS,
    AgreementType,
    Department,
    DomainError,
)
from quxiang.accounts.entrypoints.auth_schemas import not_an_exam_number
from quxiang.accounts.entrypoints.context import accounts
from quxiang.accounts.service import management
from quxiang.common import reference
from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import ACCESS_LABELS, PERMISSION_MODULE_LABELS, ROLE_LABELS, Access, Module, Role
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import PROBLEM_CONTENT_TYPE, ProblemSchema, problem_response
from quxiang.common.web.paging import PageArgs, PageOut, Trimmed, page_args, page_out
from quxiang.common.web.text_fields import OneLine

blueprint = Blueprint("management", __name__, description="账号管理 Account management")

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_VALUES = [a.value for a in Access]
AGREEMENT_VALUES = [t.value for t in AgreementType]
STATUS_LABELS = {"active": "正常", "disabled": "已停用"}
_PROBLEMS = {
    401: "Not logged in, or the token is invalid, expired or revoked.",
    403: "The role may not do this, or the target lies outside the caller's scope (out_of_scope).",
    404: "Unknown, or outside the caller's scope (not revealed).",
    409: "Conflicts with the current state (e.g. a username or code already taken).",
}


def problem_docs(bp: Blueprint, descriptions: Mapping[int, str]) -> Callable[..., Callable[[F], F]]:
    """A decorator factory documenting the problem+json answers a view gives besides its success
    and 422: ``@problems(401, 403, 404)``."""
    def problems(*statuses: int) -> Callable[[F], F]:
        def decorate(view: F) -> F:
            for status in statuses:
                view = bp.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE,
                                       description=descriptions[status])(view)
            return view
        return decorate
    return problems


problems = problem_docs(blueprint, _PROBLEMS)


def domain_problem(error: DomainError) -> flask.Response:
    """A broken rule as problem+json; ``field`` in its details becomes ``errors`` naming the field."""
    details = dict(error.details)
    field = details.pop("field", None)
    errors = {str(field): [error.message]} if field else None
    return problem_response(error.status, error.code, detail=error.message, errors=errors, **details)


blueprint.register_error_handler(DomainError, domain_problem)


# --- schemas -------------------------------------------------------------------------------------


def known_province(value: str) -> None:
    if value not in reference.provinces():
        raise ValidationError(f"未知的省份代码 {value[:10]}（GB/T 2260 两位代码，如 44）")


class SchoolListArgs(PageArgs):
    province = fields.String(validate=validate.Length(equal=2), metadata={"description": "Province code"})
    q = Trimmed(validate=validate.Length(max=100), metadata={"description": "Part of the code or the name"})


class SchoolIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{5}$", error="学校代码是5位数字"),
                         metadata={"description": "学校代码 (5 digits)", "example": "10558"})
    name = OneLine(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "中山大学"})
    province = fields.String(required=True, validate=known_province,
                             metadata={"description": "Province code (GB/T 2260, 2 digits)", "example": "44"})


class SchoolOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    province = fields.String(required=True)
    province_name = fields.String(required=True)
    agreement_type = fields.String(allow_none=True, validate=validate.OneOf(AGREEMENT_VALUES),
                                   metadata={"description": "None until the province switched employment on"})
    agreement_type_label = fields.String(allow_none=True, metadata={"description": "两方协议 / 三方协议"})


class SchoolPage(PageOut):
    items = fields.List(fields.Nested(SchoolOut), required=True)


class DepartmentIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,20}$",
                                                                 error="院系代码是1-20位字母、数字、_ 或 -"))
    name = OneLine(required=True, validate=validate.Length(min=1, max=100))


class DepartmentOut(Schema):
    id = fields.String(required=True)
    school_code = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class DepartmentList(Schema):
    items = fields.List(fields.Nested(DepartmentOut), required=True)


def _access_field(required: bool) -> fields.String:
    return fields.String(required=required, validate=validate.OneOf(ACCESS_VALUES),
                         metadata={"description": "write 读写 / read 只读 / none 无权限"})


class PermissionsIn(Schema):
    """All three module permissions (replacing the account's)."""

    employment = _access_field(True)
    archive = _access_field(True)
    hukou = _access_field(True)


class NewPermissionsIn(Schema):
    """Module permissions of a new account; a module left out gets its default
    (employment write, archive none, hukou none)."""

    employment = _access_field(False)
    archive = _access_field(False)
    hukou = _access_field(False)


class PermissionDetail(Schema):
    module = fields.String(required=True)
    module_label = fields.String(required=True, metadata={"description": "基本信息和就业信息 / 档案信息 / 户口信息"})
    access = fields.String(required=True, validate=validate.OneOf(ACCESS_VALUES))
    access_label = fields.String(required=True, metadata={"description": "读写 / 只读 / 无权限"})


class AccountOut(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    role_label = fields.String(required=True)
    province = fields.String(allow_none=True)
    province_name = fields.String(allow_none=True)
    school_code = fields.String(allow_none=True)
    school_name = fields.String(allow_none=True)
    department_id = fields.String(allow_none=True)
    department_code = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    permissions = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                              metadata={"description": "{employment, archive, hukou}: write/read/none; "
                                                       "None for provincial accounts"})
    permission_details = fields.List(fields.Nested(PermissionDetail), required=True)
    disabled = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(list(STATUS_LABELS)))
    status_label = fields.String(required=True, metadata={"description": "正常 / 已停用"})


class AccountPage(PageOut):
    items = fields.List(fields.Nested(AccountOut), required=True)


class AccountListArgs(PageArgs):
    q = Trimmed(validate=validate.Length(max=64), metadata={"description": "Part of the username or display name"})
    status = fields.String(validate=validate.OneOf(list(STATUS_LABELS)))


class SchoolAccountListArgs(AccountListArgs):
    school = fields.String(validate=validate.Length(max=10), metadata={"description": "School code"})
    province = fields.String(validate=validate.Length(equal=2), metadata={"description": "Admin: a province"})


class DepartmentAccountListArgs(AccountListArgs):
    school = fields.String(validate=validate.Length(max=10), metadata={"description": "Admin: a school code"})
    department_id = fields.String(validate=validate.Length(max=36))


class ProvinceAccountListArgs(AccountListArgs):
    province = fields.String(validate=validate.Length(equal=2))


class NewAccountIn(Schema):
    username = fields.String(required=True, validate=[validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$", error="用户名3-64位：字母、数字、_ . @ -，以字母或数字开头"),
        not_an_exam_number])
    display_name = OneLine(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))


class AccountInfoIn(Schema):
    """What a manager changes about an account besides its rights: the name shown."""

    display_name = OneLine(required=True, validate=validate.Length(min=1, max=100))


class PasswordResetIn(Schema):
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))


class NewSchoolAccountIn(NewAccountIn):
    school_code = fields.String(required=True, validate=validate.Length(min=1, max=10))
    permissions = fields.Nested(NewPermissionsIn)


class NewDepartmentAccountIn(NewAccountIn):
    department_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    permissions = fields.Nested(NewPermissionsIn)


class NewProvinceAccountIn(NewAccountIn):
    province = fields.String(required=True, validate=known_province, metadata={"example": "44"})


# --- mapping -------------------------------------------------------------------------------------


def province_name(code: str | None) -> str | None:
    row = reference.provinces().get(code)
    return row.name_zh if row else None


def school_out(view: SchoolView) -> dict[str, Any]:
    school = view.school
    label = AGREEMENT_TYPE_LABELS.get(AgreementType(view.agreement_type)) if view.agreement_type else None
    return {"code": school.code, "name": school.name, "province": school.province,
            "province_name": province_name(school.province), "agreement_type": view.agreement_type,
            "agreement_type_label": label}


def department_out(department: Department) -> dict[str, Any]:
    return {"id": department.id, "school_code": department.school_code, "code": department.code,
            "name": department.name}


def account_out(view: AccountView) -> dict[str, Any]:
    user = view.user
    status = "disabled" if user.disabled else "active"
    details = [{"module": m.value, "module_label": PERMISSION_MODULE_LABELS[m], "access": a.value,
                "access_label": ACCESS_LABELS[a]}
               for m in Module if (a := user.permissions.get(m)) is not None]
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "role": user.role.value, "role_label": ROLE_LABELS[user.role],
        "province": user.scope.province, "province_name": province_name(user.scope.province),
        "school_code": user.scope.school, "school_name": view.school_name,
        "department_id": user.scope.department, "department_code": view.department_code,
        "department_name": view.department_name,
        "permissions": {d["module"]: d["access"] for d in details} or None,
        "permission_details": details,
        "disabled": user.disabled, "status": status, "status_label": STATUS_LABELS[status],
    }


def permissions_in(body: Mapping[str, str] | None) -> dict[Module, Access] | None:
    if body is None:
        return None
    return {Module(k): Access(v) for k, v in body.items()}


def _disabled_filter(args: Mapping[str, Any]) -> bool | None:
    status = args.get("status")
    return None if status is None else status == "disabled"


# --- organisations -------------------------------------------------------------------------------


@blueprint.route("/schools", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(SchoolIn)
@blueprint.response(201, SchoolOut)
@problems(401, 403, 409)
def create_school(body: dict[str, Any]) -> dict[str, Any]:
    """Create a school (学校). A provincial user in its own province only (403 elsewhere); the admin
    anywhere. An unknown province code: 422 naming ``province``. A taken code: 409 ``school_exists``.
    Records ``accounts.school.created`` (and the province's default agreement type, if 毕业去向登记与网签
    is on: ``accounts.school.agreement_type_set``)."""
    return school_out(management.create_school(accounts(), current_principal(), **body))


@blueprint.route("/schools", methods=["GET"])
@requires(Role.ADMIN, Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
@blueprint.arguments(SchoolListArgs, location="query")
@blueprint.response(200, SchoolPage)
@problems(401, 403)
def list_schools(args: dict[str, Any]) -> dict[str, Any]:
    """Schools by code. Provincial users see their province's, school and department users their
    own school; filters ``province`` and ``q`` (part of the code or name)."""
    page = management.list_schools(accounts(), current_principal(), province=args.get("province"),
                                   q=args.get("q"), page=page_args(args))
    return page_out(page, school_out)


@blueprint.route("/schools/<code>", methods=["GET"])
@requires(Role.ADMIN, Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
@blueprint.response(200, SchoolOut)
@problems(401, 403, 404)
def get_school(code: str) -> dict[str, Any]:
    """One school, with its agreement type. Outside the caller's scope: 404."""
    return school_out(management.get_school(accounts(), current_principal(), code))


@blueprint.route("/schools/<school_code>/departments", methods=["POST"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(DepartmentIn)
@blueprint.response(201, DepartmentOut)
@problems(401, 403, 404, 409)
def create_department(body: dict[str, Any], school_code: str) -> dict[str, Any]:
    """Add a department (院系) to a school: a school user to its own school (403 for another), the
    admin to any. Unknown school: 404. A code taken in the school: 409 ``department_exists``.
    Records ``accounts.department.created``."""
    return department_out(management.create_department(accounts(), current_principal(), school_code, **body))


@blueprint.route("/schools/<school_code>/departments", methods=["GET"])
@requires(Role.ADMIN, Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
@blueprint.response(200, DepartmentList)
@problems(401, 403, 404)
def list_departments(school_code: str) -> dict[str, Any]:
    """The departments of a school the caller can see (404 otherwise)."""
    items = management.list_departments(accounts(), current_principal(), school_code)
    return {"items": [department_out(d) for d in items]}


# --- accounts ------------------------------------------------------------------------------------


def _create(role: Role, body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    permissions = permissions_in(body.pop("permissions", None))
    view = management.create_account(accounts(), current_principal(), role, permissions=permissions, **body)
    return account_out(view)


def _permissions(role: Role, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
    permissions = permissions_in(body)
    assert permissions is not None
    return account_out(management.change_permissions(accounts(), current_principal(), role, user_id, permissions))


@blueprint.route("/school-accounts", methods=["GET"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(SchoolAccountListArgs, location="query")
@blueprint.response(200, AccountPage)
@problems(401, 403)
def list_school_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """A provincial user's school accounts (学校账号), with their three module permissions; filters
    ``school``, ``q`` (username or display name), ``status`` (active/disabled)."""
    page = management.list_accounts(accounts(), current_principal(), Role.SCHOOL, province=args.get("province"),
                                    school=args.get("school"), q=args.get("q"), disabled=_disabled_filter(args),
                                    page=page_args(args))
    return page_out(page, account_out)


@blueprint.route("/school-accounts", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(NewSchoolAccountIn)
@blueprint.response(201, AccountOut)
@problems(401, 403, 404, 409)
def create_school_account(body: dict[str, Any]) -> dict[str, Any]:
    """Create a school account. The school must be of the caller's province: another province's is
    403 ``out_of_scope``, an unknown school code 404 ``school_not_found`` (naming ``school_code``).
    Permissions default to employment write, archive none, hukou none. A taken username: 409
    ``username_taken``. Records ``accounts.user.created``."""
    return _create(Role.SCHOOL, body)


@blueprint.route("/school-accounts/<user_id>", methods=["GET"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def get_school_account(user_id: str) -> dict[str, Any]:
    """One school account; another province's: 404."""
    return account_out(management.get_account(accounts(), current_principal(), Role.SCHOOL, user_id))


@blueprint.route("/school-accounts/<user_id>/permissions", methods=["PUT"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(PermissionsIn)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def set_school_account_permissions(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    """Replace a school account's module permissions (all three). A change records
    ``accounts.user.permissions_changed`` and revokes the account's tokens at every service; the
    same permissions again change nothing. Another province's account: 404."""
    return _permissions(Role.SCHOOL, user_id, body)


@blueprint.route("/school-accounts/<user_id>/disable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def disable_school_account(user_id: str) -> dict[str, Any]:
    """Disable a school account (idempotent): records ``accounts.user.disabled`` and revokes its
    tokens at every service. Another province's account: 404."""
    return account_out(management.disable_account(accounts(), current_principal(), Role.SCHOOL, user_id))


@blueprint.route("/school-accounts/<user_id>", methods=["PUT"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(AccountInfoIn)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def update_school_account(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    """修改学校账号信息: the display name. Another province's account: 404."""
    return account_out(management.rename_account(accounts(), current_principal(), Role.SCHOOL, user_id,
                                                 body["display_name"]))


@blueprint.route("/school-accounts/<user_id>/password", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.arguments(PasswordResetIn)
@blueprint.response(204)
@problems(401, 403, 404)
def reset_school_account_password(body: dict[str, Any], user_id: str) -> None:
    """A new password for a school account whose holder forgot it; its tokens are revoked."""
    management.reset_password(accounts(), current_principal(), Role.SCHOOL, user_id, body["new_password"])


@blueprint.route("/school-accounts/<user_id>/enable", methods=["POST"])
@requires(Role.PROVINCE, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def enable_school_account(user_id: str) -> dict[str, Any]:
    """Enable a disabled school account again (idempotent): records ``accounts.user.enabled``."""
    return account_out(management.enable_account(accounts(), current_principal(), Role.SCHOOL, user_id))


@blueprint.route("/department-accounts", methods=["GET"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(DepartmentAccountListArgs, location="query")
@blueprint.response(200, AccountPage)
@problems(401, 403)
def list_department_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """A school user's department accounts (院系账号); filters ``department_id``, ``q``, ``status``."""
    page = management.list_accounts(accounts(), current_principal(), Role.DEPARTMENT, school=args.get("school"),
                                    department=args.get("department_id"), q=args.get("q"),
                                    disabled=_disabled_filter(args), page=page_args(args))
    return page_out(page, account_out)


@blueprint.route("/department-accounts", methods=["POST"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(NewDepartmentAccountIn)
@blueprint.response(201, AccountOut)
@problems(401, 403, 404, 409)
def create_department_account(body: dict[str, Any]) -> dict[str, Any]:
    """Create a department account. The department must be of the caller's school (another
    school's: 403; unknown: 404 ``department_not_found``). A school user cannot grant more than its
    own module permissions (403 ``exceeds_own_permission``); left-out modules take the defaults,
    lowered to the caller's own. Records ``accounts.user.created``."""
    return _create(Role.DEPARTMENT, body)


@blueprint.route("/department-accounts/<user_id>", methods=["GET"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def get_department_account(user_id: str) -> dict[str, Any]:
    """One department account; another school's: 404."""
    return account_out(management.get_account(accounts(), current_principal(), Role.DEPARTMENT, user_id))


@blueprint.route("/department-accounts/<user_id>/permissions", methods=["PUT"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(PermissionsIn)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def set_department_account_permissions(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    """Replace a department account's module permissions, as for school accounts; not above the
    school user's own (403 ``exceeds_own_permission``)."""
    return _permissions(Role.DEPARTMENT, user_id, body)


@blueprint.route("/department-accounts/<user_id>/disable", methods=["POST"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def disable_department_account(user_id: str) -> dict[str, Any]:
    """Disable a department account (idempotent), revoking its tokens."""
    return account_out(management.disable_account(accounts(), current_principal(), Role.DEPARTMENT, user_id))


@blueprint.route("/department-accounts/<user_id>", methods=["PUT"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(AccountInfoIn)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def update_department_account(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The department account's display name. Another school's account: 404."""
    return account_out(management.rename_account(accounts(), current_principal(), Role.DEPARTMENT, user_id,
                                                 body["display_name"]))


@blueprint.route("/department-accounts/<user_id>/password", methods=["POST"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.arguments(PasswordResetIn)
@blueprint.response(204)
@problems(401, 403, 404)
def reset_department_account_password(body: dict[str, Any], user_id: str) -> None:
    """A new password for a department account whose holder forgot it; its tokens are revoked."""
    management.reset_password(accounts(), current_principal(), Role.DEPARTMENT, user_id, body["new_password"])


@blueprint.route("/department-accounts/<user_id>/enable", methods=["POST"])
@requires(Role.SCHOOL, Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def enable_department_account(user_id: str) -> dict[str, Any]:
    """Enable a disabled department account again (idempotent)."""
    return account_out(management.enable_account(accounts(), current_principal(), Role.DEPARTMENT, user_id))


@blueprint.route("/province-accounts", methods=["GET"])
@requires(Role.ADMIN)
@blueprint.arguments(ProvinceAccountListArgs, location="query")
@blueprint.response(200, AccountPage)
@problems(401, 403)
def list_province_accounts(args: dict[str, Any]) -> dict[str, Any]:
    """Provincial accounts (省级用户), for the platform administrator."""
    page = management.list_accounts(accounts(), current_principal(), Role.PROVINCE, province=args.get("province"),
                                    q=args.get("q"), disabled=_disabled_filter(args), page=page_args(args))
    return page_out(page, account_out)


@blueprint.route("/province-accounts", methods=["POST"])
@requires(Role.ADMIN)
@blueprint.arguments(NewProvinceAccountIn)
@blueprint.response(201, AccountOut)
@problems(401, 403, 409)
def create_province_account(body: dict[str, Any]) -> dict[str, Any]:
    """Create a provincial account (admin). Unknown province: 422 naming ``province``."""
    return _create(Role.PROVINCE, body)


@blueprint.route("/province-accounts/<user_id>/disable", methods=["POST"])
@requires(Role.ADMIN)
@blueprint.response(200, AccountOut)
@problems(401, 403, 404)
def disable_province_account(user_id: str) -> dict[str, Any]:
    """Disable a provincial account (idempotent), revoking its tokens."""
    return account_out(management.disable_account(accounts(), current_principal(), Role.PROVINCE, user_id))
