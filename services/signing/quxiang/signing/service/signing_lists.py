"""The 图6 lists (在线签约管理, 补登管理, 解约管理, 去向登记管理) and their XLSX export, within the
caller's scope: a province user sees its province, a school user its school, a department user its
department. Each row names the record the detail view opens (``GET /agreements/<id>``,
``/terminations/<id>``, ``/graduates/<graduate_id>/destination``); identity numbers are masked."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Row

from quxiang.common.auth.principal import Principal, Role
from quxiang.common.db import reading
from quxiang.common.paging import Page, PageRequest
from quxiang.common.reference import destination_categories, education_levels
from quxiang.common.spreadsheets import refuse_too_large, write_workbook
from quxiang.common.times import china_display, iso_utc
from quxiang.common.web.errors import ProblemError
from quxiang.signing.adapters import signing_lists
from quxiang.signing.adapters.signing_lists import Kind, ListFilter
from quxiang.signing.domain import destination, online, termination
from quxiang.signing.service.context import Signing

FLOW_LABELS = {"online": "在线签约", "offline": "线下签约", "supplementary": "补登"}
MODE_LABELS = {termination.Mode.ONLINE: "线上解约", termination.Mode.OFFLINE: "线下解约"}
SHEET_NAMES = {Kind.ONLINE: "在线签约", Kind.SUPPLEMENTARY: "补登", Kind.TERMINATIONS: "解约",
               Kind.DESTINATIONS: "去向登记"}
FILE_NAMES = {Kind.ONLINE: "online-signing", Kind.SUPPLEMENTARY: "supplementary", Kind.TERMINATIONS: "terminations",
              Kind.DESTINATIONS: "destinations"}

_GRADUATE = (("姓名", "name"), ("院校", "school_name"), ("院系", "department_name"), ("专业", "major_name"),
             ("学历", "education_level_label"), ("毕业年份", "graduation_year"), ("身份证号", "identity_number"))
# The export's columns, (header, key of the row), in the order of the guide's 图6.
EXPORT_COLUMNS: Mapping[Kind, tuple[tuple[str, str], ...]] = {
    Kind.ONLINE: (("签约发起方", "initiator_label"), ("签约方式", "flow_label"), *_GRADUATE, ("当前协议编号", "number"),
                  ("签约单位", "unit_name"), ("学号", "student_number"), ("签约状态", "status_label"),
                  ("提交时间", "created_at"), ("更新时间", "updated_at")),
    Kind.SUPPLEMENTARY: (("签约发起方", "initiator_label"), *_GRADUATE, ("当前协议编号", "number"),
                         ("签约单位", "unit_name"), ("学号", "student_number"), ("签约状态", "status_label"),
                         ("提交时间", "created_at"), ("更新时间", "updated_at")),
    Kind.TERMINATIONS: (("签约发起方", "initiator_label"), *_GRADUATE, ("当前协议编号", "number"),
                        ("签约单位", "unit_name"), ("学号", "student_number"), ("解约方式", "mode_label"),
                        ("解约申请方", "requested_by_label"), ("解约状态", "status_label"),
                        ("提交时间", "created_at"), ("更新时间", "updated_at")),
    Kind.DESTINATIONS: (*_GRADUATE, ("学号", "student_number"), ("毕业去向类别", "destination_label"),
                        ("单位（院校）名称", "unit_name"), ("登记状态", "status_label"), ("提交时间", "submitted_at"),
                        ("更新时间", "updated_at")),
}


def scoped_filter(actor: Principal, f: ListFilter) -> ListFilter:
    """The caller's filter narrowed to its scope; asking for another school or department is refused."""
    scope = actor.scope
    if actor.role is Role.PROVINCE:
        return replace(f, province=scope.province or "-")
    if actor.role in (Role.SCHOOL, Role.DEPARTMENT):
        if f.school_code and f.school_code != scope.school:
            raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
        narrowed = replace(f, school_code=scope.school or "-")
        if actor.role is Role.DEPARTMENT:
            if f.department_id and f.department_id != scope.department:
                raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
            narrowed = replace(narrowed, department_id=scope.department or "-")
        return narrowed
    raise ProblemError(403, "role_forbidden", detail="此列表仅限省级、学校和院系用户")


def destination_codes(code: str) -> tuple[str, ...]:
    """A category and its sub-categories (a parent code takes its children)."""
    return tuple(c.code for c in destination_categories() if code in (c.code, c.parent_code))


def list_page(service: Signing, actor: Principal, f: ListFilter, request: PageRequest) -> Page[dict[str, Any]]:
    f = scoped_filter(actor, f)
    with reading(service.engine) as conn:
        rows, total = signing_lists.page(conn, f, request.offset, request.page_size)
    convert = ROW_OUT[f.kind]
    return Page.of([convert(r) for r in rows], total, request)


def _graduate(row: Row) -> dict[str, Any]:
    return {"graduate_id": row.graduate_id, "exam_number": row.exam_number, "student_number": row.student_number,
            "name": row.name, "school_code": row.school_code, "school_name": row.school_name,
            "department_id": row.department_id, "department_name": row.department_name,
            "major_code": row.major_code, "major_name": row.major_name, "education_level": row.education_level,
            "education_level_label": education_levels().label(row.education_level, row.education_level)
            if row.education_level else None,
            "identity_number": row.identity_number_masked, "graduation_year": row.graduation_year}


def _agreement_out(row: Row) -> dict[str, Any]:
    initiator = online.Initiator(row.initiator)
    return {**_graduate(row), "id": row.id, "number": row.number, "flow": row.flow,
            "flow_label": FLOW_LABELS[row.flow], "initiator": initiator.value,
            "initiator_label": online.INITIATOR_LABELS[initiator], "agreement_type": row.agreement_type,
            "status": row.status, "status_label": online.status_label(online.Status(row.status), row.agreement_type,
                                                                                   row.flow),
            "employer_id": row.employer_id, "unit_name": row.unit_name,
            "created_at": iso_utc(row.created_at), "updated_at": iso_utc(row.updated_at)}


def _termination_out(row: Row) -> dict[str, Any]:
    initiator = online.Initiator(row.initiator)
    requested_by = online.Initiator(row.requested_by)
    status = termination.Status(row.status)
    return {**_graduate(row), "id": row.id, "agreement_id": row.agreement_id, "number": row.number,
            "flow": row.flow, "initiator": initiator.value, "initiator_label": online.INITIATOR_LABELS[initiator],
            "unit_name": row.unit_name, "mode": row.mode, "mode_label": MODE_LABELS[termination.Mode(row.mode)],
            "requested_by": requested_by.value, "requested_by_label": online.INITIATOR_LABELS[requested_by],
            "status": status.value, "status_label": termination.STATUS_LABELS[status],
            "agreement_status": row.agreement_status,
            "agreement_status_label": online.status_label(online.Status(row.agreement_status), row.agreement_type),
            "created_at": iso_utc(row.created_at), "updated_at": iso_utc(row.updated_at)}


def _destination_out(row: Row) -> dict[str, Any]:
    status = destination.Status(row.status)
    category = destination_categories().get(row.destination_code)
    return {**_graduate(row), "id": row.id, "destination_code": row.destination_code,
            "destination_label": category.name_zh if category else row.destination_code,
            "unit_name": row.unit_name, "status": status.value, "status_label": destination.STATUS_LABELS[status],
            "submitted_at": iso_utc(row.submitted_at), "decided_at": iso_utc(row.decided_at),
            "updated_at": iso_utc(row.updated_at)}


ROW_OUT: Mapping[Kind, Callable[[Row], dict[str, Any]]] = {
    Kind.ONLINE: _agreement_out, Kind.SUPPLEMENTARY: _agreement_out, Kind.TERMINATIONS: _termination_out,
    Kind.DESTINATIONS: _destination_out}



def export_xlsx(service: Signing, actor: Principal, f: ListFilter) -> tuple[str, Iterator[bytes]]:
    """The whole filtered list as a streamed workbook (``quxiang.common.spreadsheets``), rows read
    through a server-side cursor. Answers the file name and the byte chunks."""
    f = scoped_filter(actor, f)
    columns = EXPORT_COLUMNS[f.kind]
    convert = ROW_OUT[f.kind]
    # Times as China's clock shows them (the answers' ISO instants are UTC).
    cell = [china_display if key.endswith("_at") else None for _, key in columns]

    def cells(out: dict[str, Any]) -> list[Any]:
        return [show(out[key]) if show else out[key] for show, (_, key) in zip(cell, columns, strict=True)]

    with reading(service.engine) as conn:
        refuse_too_large(signing_lists.page(conn, f, 0, 1)[1])
    with reading(service.engine, streaming=True) as conn:
        chunks = write_workbook(SHEET_NAMES[f.kind], [header for header, _ in columns],
                                map(cells, map(convert, signing_lists.stream(conn, f))))
    return f"{FILE_NAMES[f.kind]}.xlsx", chunks
