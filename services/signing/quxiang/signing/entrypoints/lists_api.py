"""毕业去向与网签信息管理 (图6) over HTTP: the lists province, school and department users read, and
their exports. Reading and exporting need 只读 on the employment module (the guide: 只读 "只能查看、下载").

- ``GET /lists/online-signing``: 在线签约 and the graduate's 线下签约 (``flow`` filter: online or offline).
- ``GET /lists/supplementary``: 补登.
- ``GET /lists/terminations``: 解约 requests (``mode``, ``requested_by`` filters).
- ``GET /lists/destinations``: 去向登记 (``destination_code``: a parent code takes its sub-categories).

Each takes ``school``, ``department``, ``major``, ``education_level``, ``status``, ``graduation_year``,
``q`` (name, 考生号, 学号; for agreements and terminations also the agreement number and the unit
name; for destinations the unit name), ``initiator`` (agreements and terminations), ``sort`` and
``order``, ``page`` and ``page_size`` (at most 100); ``.../export.xlsx`` answers the whole filtered list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from marshmallow import Schema, ValidationError, fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.reference import destination_categories
from quxiang.common.spreadsheets import XLSX_MIMETYPE
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import PageArgs, Trimmed, page_args, page_out
from quxiang.signing.adapters.signing_lists import DEFAULT_SORT, FLOWS, SORT_KEYS, Kind, ListFilter
from quxiang.signing.domain import destination, online, termination
from quxiang.signing.entrypoints.context import signing
from quxiang.signing.service import signing_lists

blueprint = Blueprint("signing_lists", __name__, description="毕业去向与网签信息管理 Lists and exports")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)
PATHS = {Kind.ONLINE: "online-signing", Kind.SUPPLEMENTARY: "supplementary", Kind.TERMINATIONS: "terminations",
         Kind.DESTINATIONS: "destinations"}
SCHEMA_NAMES = {Kind.ONLINE: "OnlineSigning", Kind.SUPPLEMENTARY: "Supplementary", Kind.TERMINATIONS: "Termination",
                Kind.DESTINATIONS: "Destination"}
STATUSES = {Kind.ONLINE: [s.value for s in online.Status], Kind.SUPPLEMENTARY: [s.value for s in online.Status],
            Kind.TERMINATIONS: [s.value for s in termination.Status],
            Kind.DESTINATIONS: [s.value for s in destination.Status if s is not destination.Status.DRAFT]}
PARTIES = [i.value for i in online.Initiator]


def _known_destination(code: str) -> None:
    if code not in destination_categories():
        raise ValidationError(f"未知的毕业去向类别代码 {code}")


def _fields(kind: Kind) -> dict[str, fields.Field]:
    """The query arguments of one list (built afresh for each schema)."""
    declared: dict[str, fields.Field] = {
        "school": Trimmed(load_default=None, validate=validate.Length(max=10)),
        "department": Trimmed(load_default=None, validate=validate.Length(max=36)),
        "major": Trimmed(load_default=None, validate=validate.Length(max=100)),
        "education_level": Trimmed(load_default=None, validate=validate.Length(max=4)),
        "status": fields.String(load_default=None, validate=validate.OneOf(STATUSES[kind])),
        "graduation_year": fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100)),
        "q": Trimmed(load_default=None, validate=validate.Length(max=50)),
        "sort": fields.String(load_default=DEFAULT_SORT, validate=validate.OneOf(SORT_KEYS[kind])),
        "order": fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"])),
    }
    if kind is not Kind.DESTINATIONS:
        declared["initiator"] = fields.String(load_default=None, validate=validate.OneOf(PARTIES))
    if kind is Kind.ONLINE:
        declared["flow"] = fields.String(load_default=None, validate=validate.OneOf(FLOWS[kind]))
    if kind is Kind.TERMINATIONS:
        modes = [m.value for m in termination.Mode]
        declared["mode"] = fields.String(load_default=None, validate=validate.OneOf(modes))
        declared["requested_by"] = fields.String(load_default=None, validate=validate.OneOf(PARTIES))
    if kind is Kind.DESTINATIONS:
        declared["destination_code"] = Trimmed(load_default=None, validate=_known_destination)
    return declared


def _filter(kind: Kind, args: dict[str, Any]) -> ListFilter:
    code = args.get("destination_code")
    return ListFilter(kind=kind, school_code=args.get("school") or None, department_id=args.get("department") or None,
                      major=args.get("major") or None, education_level=args.get("education_level") or None,
                      status=args.get("status"), initiator=args.get("initiator"),
                      graduation_year=args.get("graduation_year"), flow=args.get("flow"), mode=args.get("mode"),
                      requested_by=args.get("requested_by"),
                      destination_codes=signing_lists.destination_codes(code) if code else (),
                      q=args.get("q") or None, sort=args["sort"], descending=args["order"] == "desc")


def _routes(kind: Kind) -> None:
    """The list and its export; the schemas carry unique names (apispec registers them by name)."""
    name = SCHEMA_NAMES[kind]
    list_args = PageArgs.from_dict(_fields(kind), name=f"{name}ListArgs")
    export_args = Schema.from_dict(_fields(kind), name=f"{name}ExportArgs")
    path = f"/lists/{PATHS[kind]}"

    def route(rule: str, endpoint: str) -> Callable[[Any], Any]:
        return blueprint.route(rule, endpoint=f"{kind.value}_{endpoint}")

    @route(path, "list")
    @blueprint.arguments(list_args, location="query")
    @requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
    def list_rows(args: dict[str, Any]) -> dict[str, Any]:
        page = signing_lists.list_page(signing(), current_principal(), _filter(kind, args), page_args(args))
        return page_out(page, lambda item: item)

    @route(f"{path}/export.xlsx", "export")
    @blueprint.arguments(export_args, location="query")
    @requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
    def export(args: dict[str, Any]) -> flask.Response:
        filename, chunks = signing_lists.export_xlsx(signing(), current_principal(), _filter(kind, args))
        response = flask.Response(chunks, mimetype=XLSX_MIMETYPE)
        response.headers["Content-Disposition"] = f"attachment; filename={filename}"
        return response


for _kind in Kind:
    _routes(_kind)
