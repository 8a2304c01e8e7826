"""The archive and hukou lists (图7) and their XLSX export, within the caller's scope: a province
user sees its province, a school user its school, a department user its department. Identity
numbers are masked in every row, also those a graduate typed into the transfer's free text (the
recipient, the address, ...); a search by a full identity number matches through its hash."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Row

from quxiang.common.auth.principal import Principal, Role
from quxiang.common.db import reading
from quxiang.common.paging import Page, PageRequest
from quxiang.common.pii import mask_identity_number, redact_valid_identity_numbers
from quxiang.common.reference import education_levels, region_province
from quxiang.common.spreadsheets import refuse_too_large, write_workbook
from quxiang.common.times import china_display, iso_utc
from quxiang.common.validators import InvalidIdentifier, validate_identity_number
from quxiang.common.web.errors import ProblemError
from quxiang.records.adapters import registration_lists
from quxiang.records.adapters.registration_lists import ListFilter
from quxiang.records.domain.registration import (
    DETAIL_FIELDS,
    MODULE_LABELS,
    STATUS_LABELS,
    RegistrationModule,
    Status,
    transfer_type,
)
from quxiang.records.service.context import Records

_GRADUATE_COLUMNS = (("考生号", "exam_number"), ("姓名", "name"), ("院校", "school_name"), ("院系", "department_name"),
                     ("专业代码", "major_code"), ("专业名称", "major_name"), ("学历", "education_level_label"),
                     ("毕业年份", "graduation_year"), ("生源所在地", "origin_region_label"),
                     ("身份证号", "identity_number"))
_DECISION_COLUMNS = (("状态", "status_label"), ("提交时间", "submitted_at"), ("审核时间", "decided_at"))
# The export's columns, (header, key of the row): 档案转寄 has its recipient and transfer number,
# 户口迁转 only a type and an address (DOMAIN.md).
EXPORT_COLUMNS: dict[RegistrationModule, tuple[tuple[str, str], ...]] = {
    RegistrationModule.ARCHIVE: (*_GRADUATE_COLUMNS, ("档案转寄类型", "transfer_type_label"),
                                 ("接收单位", "receiving_unit"), ("接收部门", "receiving_department"),
                                 ("档案转寄地址", "address"), ("邮政编码", "postcode"), ("收件人", "recipient"),
                                 ("联系电话", "phone"), ("转递编号", "transfer_number"), *_DECISION_COLUMNS),
    RegistrationModule.HUKOU: (*_GRADUATE_COLUMNS, ("户口迁转类型", "transfer_type_label"),
                               ("户口迁转地址", "address"), *_DECISION_COLUMNS),
}
_TIMES = frozenset({"submitted_at", "decided_at"})


def scoped_filter(actor: Principal, f: ListFilter) -> ListFilter:
    """The caller's filter narrowed to its scope; asking for another school is refused (403)."""
    scope = actor.scope
    if actor.role is Role.PROVINCE:
        return replace(f, province=scope.province)
    if actor.role in (Role.SCHOOL, Role.DEPARTMENT):
        if f.school_code and f.school_code != scope.school:
            raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
        narrowed = replace(f, school_code=scope.school)
        if actor.role is Role.DEPARTMENT:
            if f.department_id and f.department_id != scope.department:
                raise ProblemError(403, "out_of_scope", detail="超出账号的管理范围")
            narrowed = replace(narrowed, department_id=scope.department)
        return narrowed
    raise ProblemError(403, "role_forbidden", detail="此列表仅限省级、学校和院系用户")


def with_identity_search(service: Records, f: ListFilter) -> ListFilter:
    """A query that is a whole identity number searches by its hashes (numbers are stored encrypted)."""
    if not f.q or len(f.q) != 18:
        return f
    try:
        number = validate_identity_number(f.q)
    except InvalidIdentifier:
        return f
    return replace(f, identity_hashes=tuple(service.cipher.digests(number)))


def list_page(service: Records, actor: Principal, f: ListFilter, request: PageRequest) -> Page[dict[str, Any]]:
    f = with_identity_search(service, scoped_filter(actor, f))
    with reading(service.engine) as conn:
        rows, total = registration_lists.page(conn, f, request.offset, request.page_size)
    module = RegistrationModule(f.module)
    return Page.of([row_out(service, module, r) for r in rows], total, request)


def row_out(service: Records, module: RegistrationModule, row: Row) -> dict[str, Any]:
    status = Status(row.status) if row.status else Status.NONE
    kind = transfer_type(module, row.transfer_type) if row.transfer_type else None
    stands = bool(row.approval_stands)
    label = STATUS_LABELS[status]
    if stands and status is not Status.APPROVED:  # the statistics count it 已登记: say why
        label = f"{label}（变更，原信息已审核通过）"
    return {
        "graduate_id": row.id, "exam_number": row.exam_number, "student_number": row.student_number,
        "name": row.name, "school_code": row.school_code, "school_name": row.school_name,
        "department_id": row.department_id, "department_name": row.department_name, "major_code": row.major_code,
        "major_name": row.major_name, "education_level": row.education_level,
        "education_level_label": education_levels().label(row.education_level, row.education_level),
        "graduation_year": row.graduation_year,
        "origin_region": row.origin_region, "origin_region_label": region_label(row.origin_region),
        "identity_number": mask_identity_number(service.cipher.decrypt(row.identity_number_encrypted)),
        "registration_id": row.registration_id, "status": status.value, "status_label": label,
        "approval_stands": stands,
        "transfer_type": row.transfer_type, "transfer_type_label": kind.name_zh if kind else None,
        # What the graduate typed: masked as the events' FreeText masks it, for every caller and the export.
        **{key: redact_valid_identity_numbers(getattr(row, key)) for key in DETAIL_FIELDS},
        "transfer_number": row.transfer_number,
        "submitted_at": iso_utc(row.submitted_at), "decided_at": iso_utc(row.decided_at),
    }



def region_label(code: str | None) -> str | None:
    """A region code as the lists show it: the code and its province's name (GB/T 2260 county names
    are not shipped: see quxiang.common.reference)."""
    if not code:
        return code
    province = region_province(code)
    return f"{code} {province.name_zh}" if province else code


def export_xlsx(service: Records, actor: Principal, f: ListFilter) -> tuple[str, Iterator[bytes]]:
    """The whole filtered list as a streamed workbook (``quxiang.common.spreadsheets``), rows read
    through a server-side cursor. Answers the file name and the byte chunks."""
    f = with_identity_search(service, scoped_filter(actor, f))
    module = RegistrationModule(f.module)
    columns = EXPORT_COLUMNS[module]

    def cells(out: dict[str, Any]) -> list[Any]:
        # times as China's clock shows them (the answers' ISO instants are UTC)
        return [china_display(out[key]) if key in _TIMES else out[key] for _, key in columns]

    with reading(service.engine) as conn:
        refuse_too_large(registration_lists.page(conn, f, 0, 1)[1])
    with reading(service.engine, streaming=True) as conn:
        chunks = write_workbook(MODULE_LABELS[module], [header for header, _ in columns], (
            cells(row_out(service, module, row)) for row in registration_lists.stream(conn, f)))
    return f"{module.value}-registrations.xlsx", chunks
