"""生源: the roster import, its template, the graduate lists and the detail view.

Thin HTTP layer over ``service.roster_import`` and ``service.roster``. Reads outside the caller's
scope answer 404; importing for another school answers 403. Lists take ``page`` (from 1) and
``page_size`` (default 20; larger than 100 is served as 100) and answer
``{items, page, page_size, total, pages}`` with identity numbers masked.

The import answers 201 with the job's counts, or 422 ``roster_invalid`` with ``row_errors``
(``[{row, column, reason}]``, the header being row 1; at most 1000) and ``total_errors``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import flask
from marshmallow import Schema, fields, validate
from sqlalchemy.engine import Row

from quxiang.common.auth import current_principal, ensure_allowed, ensure_visible, public, requires
from quxiang.common.auth.authorize import not_found
from quxiang.common.auth.principal import Access, Module, Role, Scope
from quxiang.common.spreadsheets import XLSX_MIMETYPE
from quxiang.common.times import iso_utc
from quxiang.common.web.blueprint import Blueprint
from quxiang.common.web.errors import ProblemError
from quxiang.common.web.paging import PageArgs, Trimmed, page_args, page_out
from quxiang.common.web.text_fields import OneLine
from quxiang.records.adapters.roster_files import UnreadableFile, sniff_format, template_csv, template_xlsx
from quxiang.records.entrypoints.context import records
from quxiang.records.service import confirmation, roster, roster_import, withdrawal
from quxiang.records.service.roster_import import RosterConflict, RosterRejected

blueprint = Blueprint("roster", __name__, description="生源 Graduate roster")

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
READERS = (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT)


class ListArgs(PageArgs):
    # the same bounds as every other list's filters
    department = Trimmed(load_default=None, validate=validate.Length(max=36))
    education_level = Trimmed(load_default=None, validate=validate.Length(max=4))
    graduation_year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    q = Trimmed(load_default=None, validate=validate.Length(max=50))
    withdrawn = fields.Boolean(load_default=False, metadata={
        "description": "true: the graduates taken off the roster (移出生源) instead of those on it"})


class WithdrawnOut(Schema):
    at = fields.String(metadata={"description": "when the school took the graduate off the roster (UTC)"})
    reason = fields.String()


class GraduateOut(Schema):
    """A graduate as the lists show it: the identity number masked."""

    id = fields.String()
    school_code = fields.String()
    exam_number = fields.String()
    student_number = fields.String(allow_none=True)
    name = fields.String()
    gender = fields.String()
    identity_number = fields.String(metadata={"description": "masked"})
    department_id = fields.String()
    department_name = fields.String(allow_none=True)
    major_code = fields.String()
    major_name = fields.String()
    education_level = fields.String()
    origin_region = fields.String()
    graduation_year = fields.Integer()
    version = fields.Integer()
    withdrawn = fields.Nested(WithdrawnOut, allow_none=True, metadata={"description": "null: on the roster"})


class WithdrawalIn(Schema):
    reason = OneLine(required=True, validate=validate.Length(min=1, max=200),
                     metadata={"description": "移出原因", "example": "退学"})


@blueprint.route("/roster/template.csv")
@public
def template_as_csv() -> flask.Response:
    return _download(template_csv(), "text/csv; charset=utf-8", "roster-template.csv")


@blueprint.route("/roster/template.xlsx")
@public
def template_as_xlsx() -> flask.Response:
    return _download(template_xlsx(), XLSX_MIMETYPE,
                     "roster-template.xlsx")


def _download(body: bytes, content_type: str, filename: str) -> flask.Response:
    # content_type, not mimetype: werkzeug adds "; charset=utf-8" to a text mimetype that already has one
    response = flask.Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@blueprint.route("/schools/<school_code>/roster/imports", methods=["POST"])
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def import_roster(school_code: str) -> tuple[dict[str, Any], int]:
    """Upload a CSV or XLSX roster (multipart field ``file``); all or nothing. A row that changes a
    graduate's graduation year is refused unless the form field ``confirm_year_changes`` is ``true``;
    the job's ``row_notices`` then name it, and every row of a withdrawn graduate left alone."""
    actor = current_principal()
    ensure_allowed(roster.school_scope(records(), school_code))
    flask.request.max_content_length = MAX_UPLOAD_BYTES
    upload = flask.request.files.get("file")
    confirm = flask.request.form.get("confirm_year_changes", "false").strip().lower()
    if confirm not in ("true", "false"):
        raise ProblemError(422, "validation_error", detail="confirm_year_changes 只能为 true 或 false",
                           field="confirm_year_changes")
    if upload is None or not upload.filename:
        raise ProblemError(400, "file_required", detail="请上传文件（multipart 字段 file）")
    service = records()
    with tempfile.TemporaryDirectory(prefix="qx-roster-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.stream, out, 1 << 20)
        try:
            kind = sniff_format(path, upload.filename)
        except UnreadableFile as exc:
            raise ProblemError(400, "unreadable_file", detail=str(exc)) from exc
        job_id = roster_import.start_job(service, actor, school_code, upload.filename)
        try:
            roster_import.import_roster(service, actor, school_code, job_id, path, kind,
                                        confirm_year_changes=confirm == "true")
        except RosterRejected as exc:
            raise ProblemError(422, "roster_invalid", detail=f"文件有{exc.total_errors}处错误，未导入任何数据",
                               job_id=exc.job_id, total_errors=exc.total_errors,
                               row_errors=[e.to_dict() for e in exc.errors]) from None
        except RosterConflict as exc:
            raise ProblemError(409, "roster_conflict", detail="生源在导入期间被修改，请重新导入",
                               job_id=exc.job_id) from None
        except UnreadableFile as exc:
            raise ProblemError(400, "unreadable_file", detail=str(exc), job_id=job_id) from None
    return _job(roster.get_job(service, job_id)), 201


@blueprint.route("/schools/<school_code>/roster/imports/<job_id>")
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.READ)
def import_status(school_code: str, job_id: str) -> dict[str, Any]:
    """An import job: status and progress (``processed`` rows validated so far)."""
    ensure_visible(roster.school_scope(records(), school_code))
    job = roster.get_job(records(), job_id)
    if job.school_code != school_code:
        raise not_found()
    return _job(job)


def _job(job: Row) -> dict[str, Any]:
    return {"id": job.id, "school_code": job.school_code, "status": job.status, "filename": job.filename,
            "total": job.total, "processed": job.processed, "created": job.created, "updated": job.updated,
            "unchanged": job.unchanged, "withdrawn": job.withdrawn, "error_count": job.error_count,
            "row_errors": job.errors or [], "row_notices": job.notices or [],
            "created_by": job.created_by, "created_at": iso_utc(job.created_at),
            "finished_at": iso_utc(job.finished_at)}


@blueprint.route("/schools/<school_code>/graduates")
@blueprint.arguments(ListArgs, location="query")
@requires(*READERS, module=Module.EMPLOYMENT, access=Access.READ)
def list_graduates(args: dict[str, Any], school_code: str) -> dict[str, Any]:
    """The school's roster (a department user: its own department), identity numbers masked."""
    actor = current_principal()
    ensure_visible(roster.school_scope(records(), school_code) if actor.role is not Role.DEPARTMENT
                   else _department_scope(school_code))
    page = roster.list_graduates(records(), actor, school_code, department_id=args["department"],
                                 education_level=args["education_level"], graduation_year=args["graduation_year"],
                                 q=args["q"], page=args["page"],
                                 page_size=args["page_size"], withdrawn=args["withdrawn"])
    return {"items": page.items, "page": page.page, "page_size": page.page_size, "total": page.total,
            "pages": page.pages}


@blueprint.route("/schools/<school_code>/graduates/<graduate_id>/withdrawal", methods=["POST"])
@blueprint.arguments(WithdrawalIn)
@blueprint.response(200, GraduateOut)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def withdraw_graduate(body: dict[str, Any], school_code: str, graduate_id: str) -> dict[str, Any]:
    """移出生源: take a graduate with nothing registered off the roster (409 ``graduate_has_records``
    otherwise). Its login is disabled, open invitations close, and it leaves every list and count."""
    ensure_allowed(roster.school_scope(records(), school_code))
    return withdrawal.withdraw(records(), current_principal(), school_code, graduate_id, body["reason"])


@blueprint.route("/schools/<school_code>/graduates/<graduate_id>/withdrawal", methods=["DELETE"])
@blueprint.response(200, GraduateOut)
@requires(Role.SCHOOL, module=Module.EMPLOYMENT, access=Access.WRITE)
def reinstate_graduate(school_code: str, graduate_id: str) -> dict[str, Any]:
    """恢复生源: put a withdrawn graduate back on the roster (and its login back)."""
    ensure_allowed(roster.school_scope(records(), school_code))
    return withdrawal.reinstate(records(), current_principal(), school_code, graduate_id)


def _department_scope(school_code: str) -> Scope:
    return Scope(school=school_code, department=current_principal().scope.department)


@blueprint.route("/graduates/<graduate_id>")
@requires(*READERS, Role.GRADUATE, module=Module.EMPLOYMENT, access=Access.READ)
def graduate_detail(graduate_id: str) -> dict[str, Any]:
    """One graduate; the full identity number for province and school users (audited)."""
    detail = roster.graduate_detail(records(), current_principal(), graduate_id)
    for key in ("created_at", "updated_at"):
        detail[key] = iso_utc(detail[key])
    return detail


class ConfirmationIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf([confirmation.CONFIRMED, confirmation.FLAGGED]),
                           metadata={"description": "confirmed: 信息无误; flagged: 信息有误 (note required)"})
    note = fields.String(load_default=None, allow_none=True)


class ConfirmationArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(
        [confirmation.CONFIRMED, confirmation.FLAGGED, confirmation.PENDING]))


@blueprint.route("/graduates/<graduate_id>/confirmation", methods=["PUT"])
@blueprint.arguments(ConfirmationIn)
@requires(Role.GRADUATE)
def confirm_base_data(body: dict[str, Any], graduate_id: str) -> dict[str, Any]:
    """信息确认: the graduate confirms its base data or flags an error with a note to its school."""
    return confirmation.confirm(records(), current_principal(), graduate_id, body["status"], body.get("note"))


@blueprint.route("/schools/<school_code>/roster/confirmations")
@blueprint.arguments(ConfirmationArgs, location="query")
@requires(Role.SCHOOL, Role.DEPARTMENT, module=Module.EMPLOYMENT, access=Access.READ)
def list_confirmations(args: dict[str, Any], school_code: str) -> dict[str, Any]:
    """The graduates' confirmations: ``status=flagged`` lists the errors they reported, with notes."""
    actor = current_principal()
    ensure_visible(roster.school_scope(records(), school_code) if actor.role is not Role.DEPARTMENT
                   else _department_scope(school_code))
    page = confirmation.school_list(records(), actor, school_code, args["status"], page_args(args))
    return page_out(page, lambda item: item)
