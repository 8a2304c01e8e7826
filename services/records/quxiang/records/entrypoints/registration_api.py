"""档案信息登记 and 户口信息登记: the school's settings, the graduate's registration, the reviews, the
lists (图7) and their export. The same endpoints exist for ``archive`` and ``hukou``; each checks the
caller's permission on its own module (读写: reviews, settings and exports; 只读: reads; 无权限: 403).

- ``GET|PUT /schools/<code>/settings/<module>``: department review yes/no, deadline, notice.
- ``GET /graduates/<id>/<module>``: the registration, its availability and its review history.
- ``PUT /graduates/<id>/<module>/draft``, ``POST /graduates/<id>/<module>/submit``: the graduate.
- ``POST /graduates/<id>/<module>/reviews``: ``{decision: approve|reject, reason}`` (reason required
  on reject); a department user reviews at department level, a school user at school level.
- ``GET /<module>/registrations``: the list (filters, ``q``, ``sort``/``order``, pages of at most 100);
  ``GET /<module>/registrations/export.xlsx``: the whole filtered list as a workbook.
- ``POST /<module>/registrations/search`` and ``POST /<module>/registrations/export.xlsx``: the same
  with the filters in a JSON body. A search by identity number must come this way: a query string is
  written to the gateway's and the APIs' logs, so a GET whose ``q`` is one answers 422
  ``identity_number_in_url`` (the console always sends the body).

A step the registration's state does not allow answers 409 ``invalid_state`` with
``current_status`` and ``allowed_actions``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from marshmallow import Schema, fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.spreadsheets import XLSX_MIMETYPE
from quxiang.common.validators import InvalidIdentifier, validate_identity_number
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import ProblemError
from quxiang.common.web.paging import PageArgs, PageOut, Trimmed, page_args, page_out
from quxiang.records.adapters.registration_lists import SORT_COLUMNS, ListFilter
from quxiang.records.domain.registration import Decision, RegistrationModule, Status
from quxiang.records.entrypoints.context import records
from quxiang.records.service import registration_lists, registrations

blueprint = Blueprint("registrations", __name__, description="档案与户口信息登记 Archive and hukou registration")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)


class SettingsIn(Schema):
    department_review = fields.Boolean(required=True, metadata={"description": "院系审核 before the school's"})
    deadline = fields.Date(required=True, metadata={"description": "Last day (China time) graduates may submit"})
    notice = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TransferIn(Schema):
    transfer_type = fields.String(load_default=None, allow_none=True)
    receiving_unit = fields.String(load_default=None, allow_none=True)
    receiving_department = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)
    postcode = fields.String(load_default=None, allow_none=True)
    recipient = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)


class ReviewIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in Decision]))
    reason = fields.String(load_default=None, allow_none=True)


class ListArgs(PageArgs):
    school = Trimmed(load_default=None, validate=validate.Length(max=10))
    department = Trimmed(load_default=None, validate=validate.Length(max=36))
    major = Trimmed(load_default=None, validate=validate.Length(max=100))
    education_level = Trimmed(load_default=None, validate=validate.Length(max=4))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    transfer_type = Trimmed(load_default=None, validate=validate.Length(max=20))
    origin_region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{2}([0-9]{2}){0,2}$"))
    graduation_year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    q = Trimmed(load_default=None, validate=validate.Length(max=50))
    sort = fields.String(load_default="exam_number", validate=validate.OneOf(sorted(SORT_COLUMNS)))
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class RegistrationPage(PageOut):
    # each row as the GET list answers it (masked identity number, labels, the transfer's fields)
    items = fields.List(fields.Dict(), required=True)


class ExportArgs(ListArgs):
    class Meta:
        exclude = ("page", "page_size")


def _no_identity_number_in_url(args: dict[str, Any]) -> dict[str, Any]:
    """Refuse a GET that searches by identity number: its query string is in every access log."""
    q = args.get("q")
    if q and len(q) == 18:
        try:
            validate_identity_number(q)
        except InvalidIdentifier:
            return args
        raise ProblemError(422, "identity_number_in_url",
                           detail="身份证号不能放在网址中（网址会写入访问日志）：按身份证号查询请用 POST 提交查询条件",
                           field="q")
    return args


def _filter(module: RegistrationModule, args: dict[str, Any]) -> ListFilter:
    return ListFilter(module=module.value, school_code=args.get("school"), department_id=args.get("department"),
                      major=args.get("major") or None, education_level=args.get("education_level") or None,
                      status=args.get("status"), transfer_type=args.get("transfer_type") or None,
                      origin_region=args.get("origin_region"), graduation_year=args.get("graduation_year"),
                      q=args.get("q") or None, sort=args["sort"], descending=args["order"] == "desc")


def _routes(module: RegistrationModule) -> None:
    """The endpoints of one module; each checks the caller's permission on that module."""
    perm = Module(module.value)
    name = module.value

    def route(rule: str, endpoint: str, **options: Any) -> Callable[[Any], Any]:
        return blueprint.route(rule.replace("<module>", name), endpoint=f"{name}_{endpoint}", **options)

    @route("/schools/<school_code>/settings/<module>", "get_settings")
    @requires(*READERS, module=perm, access=Access.READ)
    def get_settings(school_code: str) -> dict[str, Any]:
        return registrations.settings_view(records(), current_principal(), school_code, module)

    @route("/schools/<school_code>/settings/<module>", "put_settings", methods=["PUT"])
    @blueprint.arguments(SettingsIn)
    @requires(Role.SCHOOL, module=perm, access=Access.WRITE)
    def put_settings(body: dict[str, Any], school_code: str) -> dict[str, Any]:
        return registrations.put_settings(records(), current_principal(), school_code, module,
                                          department_review=body["department_review"], deadline=body["deadline"],
                                          notice=body.get("notice"))

    @route("/graduates/<graduate_id>/<module>", "detail")
    @requires(*READERS, Role.GRADUATE, module=perm, access=Access.READ)
    def detail(graduate_id: str) -> dict[str, Any]:
        return registrations.detail(records(), current_principal(), graduate_id, module)

    @route("/graduates/<graduate_id>/<module>/draft", "save_draft", methods=["PUT"])
    @blueprint.arguments(TransferIn)
    @requires(Role.GRADUATE)
    def save_draft(body: dict[str, Any], graduate_id: str) -> dict[str, Any]:
        return registrations.save_draft(records(), current_principal(), graduate_id, module, body)

    @route("/graduates/<graduate_id>/<module>/submit", "submit", methods=["POST"])
    @requires(Role.GRADUATE)
    def submit(graduate_id: str) -> dict[str, Any]:
        body = flask.request.get_json(silent=True)
        data = TransferIn().load(body) if body else None
        return registrations.submit(records(), current_principal(), graduate_id, module, data)

    @route("/graduates/<graduate_id>/<module>/reviews", "review", methods=["POST"])
    @blueprint.arguments(ReviewIn)
    @requires(Role.SCHOOL, Role.DEPARTMENT, module=perm, access=Access.WRITE)
    def review(body: dict[str, Any], graduate_id: str) -> dict[str, Any]:
        return registrations.review(records(), current_principal(), graduate_id, module, Decision(body["decision"]),
                                    body.get("reason"))

    @route("/<module>/registrations", "list")
    @blueprint.arguments(ListArgs, location="query")
    @requires(*READERS, module=perm, access=Access.READ)
    def list_registrations(args: dict[str, Any]) -> dict[str, Any]:
        return _page(_no_identity_number_in_url(args))

    @route("/<module>/registrations/search", "search", methods=["POST"])
    @blueprint.response(200, RegistrationPage)
    @blueprint.arguments(ListArgs)
    @requires(*READERS, module=perm, access=Access.READ)
    def search_registrations(args: dict[str, Any]) -> dict[str, Any]:
        """The list, its filters in the body (a search by identity number stays out of the logs)."""
        return _page(args)

    def _page(args: dict[str, Any]) -> dict[str, Any]:
        page = registration_lists.list_page(records(), current_principal(), _filter(module, args), page_args(args))
        return page_out(page, lambda item: item)

    @route("/<module>/registrations/export.xlsx", "export")
    @blueprint.arguments(ExportArgs, location="query")
    @requires(*READERS, module=perm, access=Access.WRITE)
    def export(args: dict[str, Any]) -> flask.Response:
        return _workbook(_no_identity_number_in_url(args))

    @route("/<module>/registrations/export.xlsx", "export_searched", methods=["POST"])
    @blueprint.response(200, content_type=XLSX_MIMETYPE, description="图7 的 XLSX 工作簿")
    @blueprint.arguments(ExportArgs)
    @requires(*READERS, module=perm, access=Access.WRITE)
    def export_searched(args: dict[str, Any]) -> flask.Response:
        """The export, its filters in the body."""
        return _workbook(args)

    def _workbook(args: dict[str, Any]) -> flask.Response:
        filename, chunks = registration_lists.export_xlsx(records(), current_principal(), _filter(module, args))
        response = flask.Response(chunks, mimetype=XLSX_MIMETYPE)
        response.headers["Content-Disposition"] = f"attachment; filename={filename}"
        return response


for _module in RegistrationModule:
    _routes(_module)
