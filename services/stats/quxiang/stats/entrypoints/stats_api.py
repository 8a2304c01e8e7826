"""数据统计 (图8). Every figure comes from the counters the consumers keep. A school or department
account sees the figures of the modules it has at least 只读 on (the school view: employment,
archive, hukou each by its own permission); the destination breakdown is employment data.

- ``GET /province``: a row per school of the caller's province and a total row (province users).
- ``GET /schools/<code>``: a row per department and a total row (the province of the school, the
  school itself, a department user: its own department only).
- ``GET /destinations``: destination categories with their parent groups and 毕业去向落实率 with its
  four parts; ``school`` and ``department`` narrow it within the caller's scope.
- ``GET /province/export.xlsx``, ``GET /schools/<code>/export.xlsx``: the views as workbooks
  (download is allowed with read access, as 只读 means view and download).

Filters: ``graduation_year``, ``education_level``, ``department`` (school view and destinations).
"""

from __future__ import annotations

from typing import Any

import flask
from marshmallow import Schema, fields, validate

from quxiang.common.auth import current_principal, requires
from quxiang.common.auth.principal import Access, Module, Role
from quxiang.common.reference import education_levels
from quxiang.common.spreadsheets import XLSX_MIMETYPE
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.paging import Trimmed
from quxiang.stats.adapters.queries import Filter
from quxiang.stats.entrypoints.context import stats
from quxiang.stats.service import export, views

blueprint = Blueprint("stats", __name__, description="数据统计 Statistics")

READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)


class ViewArgs(Schema):
    graduation_year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    education_level = Trimmed(load_default=None, validate=validate.Length(max=4))
    department = Trimmed(load_default=None, validate=validate.Length(max=36))


class DestinationArgs(ViewArgs):
    school = Trimmed(load_default=None, validate=validate.Length(max=10))


def _filter(args: dict[str, Any]) -> Filter:
    return Filter(school_code=args.get("school") or None, department_id=args.get("department") or None,
                  education_level=args.get("education_level") or None, graduation_year=args.get("graduation_year"))


def _cohort(args: dict[str, Any]) -> tuple[str, str]:
    """What the figures cover, as the sheet says it and as the file name ends: a province watches two
    cohorts at once each autumn (last year's until the year-end figures, next year's from its roster),
    and a workbook that does not say which it holds is mistaken for the other."""
    year, level = args.get("graduation_year"), args.get("education_level")
    label = f"{year}届" if year else "全部届别"
    suffix = str(year) if year else "all-years"
    if level:
        label += f" {education_levels().label(level, default=level)}"
        suffix += f"-{level}"
    return label, suffix


def _xlsx(content: bytes, filename: str) -> flask.Response:
    response = flask.Response(content, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@blueprint.route("/province")
@blueprint.arguments(ViewArgs, location="query")
@requires(Role.PROVINCE)
def province(args: dict[str, Any]) -> dict[str, Any]:
    return views.province_view(stats(), current_principal(), _filter(args))


@blueprint.route("/province/export.xlsx")
@blueprint.arguments(ViewArgs, location="query")
@requires(Role.PROVINCE)
def province_export(args: dict[str, Any]) -> flask.Response:
    view = views.province_view(stats(), current_principal(), _filter(args))
    label, suffix = _cohort(args)
    return _xlsx(export.province_xlsx(view, label), f"stats-{view['province']}-{suffix}.xlsx")


@blueprint.route("/schools/<school_code>")
@blueprint.arguments(ViewArgs, location="query")
@requires(*READERS)  # each module's figures by its own permission (views.readable_modules)
def school(args: dict[str, Any], school_code: str) -> dict[str, Any]:
    return views.school_view(stats(), current_principal(), school_code, _filter(args))


@blueprint.route("/schools/<school_code>/export.xlsx")
@blueprint.arguments(ViewArgs, location="query")
@requires(*READERS)  # each module's figures by its own permission (views.readable_modules)
def school_export(args: dict[str, Any], school_code: str) -> flask.Response:
    view = views.school_view(stats(), current_principal(), school_code, _filter(args))
    label, suffix = _cohort(args)
    return _xlsx(export.school_xlsx(view, label), f"stats-{school_code}-{suffix}.xlsx")


@blueprint.route("/destinations")
@blueprint.arguments(DestinationArgs, location="query")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def destinations(args: dict[str, Any]) -> dict[str, Any]:
    return views.destination_view(stats(), current_principal(), _filter(args))
