"""The views (图8): the province's schools with a total row, a school's departments with a total
row, and the destination breakdown with 毕业去向落实率, within the caller's scope: a province user
sees its province, a school user its school, a department user its department."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection, Row

from quxiang.common.auth.authorize import modules_allowing
from quxiang.common.auth.principal import Module, Principal, Role
from quxiang.common.db import reading
from quxiang.common.reference import destination_categories
from quxiang.common.web.errors import ProblemError
from quxiang.stats.adapters import queries
from quxiang.stats.adapters.queries import Filter
from quxiang.stats.domain.figures import Category, add_sums, breakdown, empty_sums, module_figures
from quxiang.stats.domain.model import COUNTER_COLUMNS, MODULES
from quxiang.stats.service.context import Stats

AGREEMENT_TYPE_LABELS = {"two_party": "两方协议", "three_party": "三方协议", None: "未设置"}
PROVINCE_TOTAL_LABEL = "总计"  # the guide's 图8 row under the schools
TOTAL_LABEL = "合计"
NO_DEPARTMENT_LABEL = "未分院系"


def _out_of_scope() -> ProblemError:
    return ProblemError(403, "out_of_scope", detail="超出账号的管理范围")


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, "not_found", detail=f"{what}不存在")


def _sums(row: Row) -> dict[str, int]:
    return {c: int(getattr(row, c) or 0) for c in COUNTER_COLUMNS}


_SETTINGS_COLUMNS = tuple((m.value, f"{m.value}_settings") for m in MODULES)


def _settings_out(row: Row) -> dict[str, bool]:
    return {module: bool(getattr(row, column)) for module, column in _SETTINGS_COLUMNS}


def province_view(stats: Stats, actor: Principal, f: Filter) -> dict[str, Any]:
    """A row per school of the caller's province (图8) and a total row."""
    if actor.role is not Role.PROVINCE or not actor.scope.province:
        raise ProblemError(403, "role_forbidden", detail="全省统计仅限省级用户")
    f = replace(f, province=actor.scope.province, school_code=None, department_id=None)
    with reading(stats.engine) as conn:
        rows = queries.province_rows(conn, f)
        modules = queries.modules_of(conn, f.province or "")
    total = empty_sums()
    items = []
    for row, sums in rows:
        add_sums(total, sums)
        items.append({"school_code": row.code, "school_name": row.name, "agreement_type": row.agreement_type,
                      "agreement_type_label": AGREEMENT_TYPE_LABELS.get(row.agreement_type, row.agreement_type),
                      "settings_completed": _settings_out(row), **module_figures(sums)})
    return {"province": f.province, "graduation_year": f.graduation_year, "education_level": f.education_level,
            "modules_enabled": {m.value: m.value in modules for m in MODULES}, "items": items,
            "total": {"school_code": None, "school_name": PROVINCE_TOTAL_LABEL, "schools": len(items),
                      "agreement_type_set": sum(1 for i in items if i["agreement_type"]),
                      "settings_completed": {m.value: sum(1 for i in items if i["settings_completed"][m.value])
                                             for m in MODULES},
                      **module_figures(total)}}


def _scoped_school(conn: Connection, actor: Principal, school_code: str,
                   department_id: str | None) -> tuple[Row, Filter]:
    """The school, and the filter the caller is narrowed to within it (read on the view's connection)."""
    scope = actor.scope
    if actor.role in (Role.SCHOOL, Role.DEPARTMENT) and school_code != scope.school:
        raise _out_of_scope()
    if actor.role is Role.DEPARTMENT:
        if department_id is not None and department_id != scope.department:
            raise _out_of_scope()
        department_id = scope.department
    elif actor.role is not Role.PROVINCE and actor.role is not Role.SCHOOL:
        raise ProblemError(403, "role_forbidden", detail="统计仅限省级、学校和院系用户")
    school = queries.school(conn, school_code)
    if school is None or (actor.role is Role.PROVINCE and school.province != scope.province):
        raise _not_found("学校")
    return school, Filter(school_code=school_code, department_id=department_id)


def readable_modules(actor: Principal) -> tuple[str, ...]:
    """The modules whose figures the caller may see: a school or department account those it has
    at least 只读 on (无权限 means the module cannot be entered, its statistics included)."""
    allowed = modules_allowing(actor)
    return tuple(m.value for m in MODULES if Module(m.value) in allowed)


def _only(figures: dict[str, Any], modules: tuple[str, ...]) -> dict[str, Any]:
    return {m: figures[m] for m in modules}


def school_view(stats: Stats, actor: Principal, school_code: str, f: Filter) -> dict[str, Any]:
    """A row per department of the school (a department user: its own) and a total row, with the
    figures of the modules the caller may read (``modules``)."""
    modules = readable_modules(actor)  # 403 with none
    with reading(stats.engine) as conn:
        school, scoped = _scoped_school(conn, actor, school_code, f.department_id)
        f = replace(f, province=None, school_code=scoped.school_code, department_id=scoped.department_id)
        sums_by_department = {r.department_id: _sums(r) for r in queries.department_rows(conn, f)}
        known = queries.departments_of(conn, school_code)
    items = []
    total = empty_sums()
    for d in known:
        if f.department_id is not None and d.id != f.department_id:
            continue
        sums = sums_by_department.pop(d.id, empty_sums())
        add_sums(total, sums)
        items.append({"department_id": d.id, "department_code": d.code, "department_name": d.name,
                      **_only(module_figures(sums), modules)})
    for department_id, sums in sorted(sums_by_department.items()):  # departments not (yet) announced
        add_sums(total, sums)
        items.append({"department_id": department_id or None, "department_code": None,
                      "department_name": NO_DEPARTMENT_LABEL if not department_id else department_id,
                      **_only(module_figures(sums), modules)})
    return {"school_code": school.code, "school_name": school.name, "modules": list(modules),
            "agreement_type": school.agreement_type,
            "agreement_type_label": AGREEMENT_TYPE_LABELS.get(school.agreement_type, school.agreement_type),
            "settings_completed": _only(_settings_out(school), modules), "graduation_year": f.graduation_year,
            "education_level": f.education_level, "department_id": f.department_id, "items": items,
            "total": {"department_id": None, "department_name": TOTAL_LABEL,
                      **_only(module_figures(total), modules)}}


def destination_view(stats: Stats, actor: Principal, f: Filter) -> dict[str, Any]:
    """Destination categories (parents include their sub-categories), groups and 毕业去向落实率 with its
    four parts, over the caller's scope narrowed by the filter."""
    if actor.role not in (Role.PROVINCE, Role.SCHOOL, Role.DEPARTMENT):
        raise ProblemError(403, "role_forbidden", detail="统计仅限省级、学校和院系用户")
    with reading(stats.engine) as conn:
        if actor.role is Role.PROVINCE:
            f = replace(f, province=actor.scope.province)
            if f.school_code is not None:
                _scoped_school(conn, actor, f.school_code, f.department_id)
        else:
            _, scoped = _scoped_school(conn, actor, f.school_code or actor.scope.school or "", f.department_id)
            f = replace(f, province=None, school_code=scoped.school_code, department_id=scoped.department_id)
        total = queries.totals(conn, f)["total"]
        counts = queries.destination_counts(conn, f)
    categories = [Category(c.code, c.parent_code, c.name_zh, c.group, c.placement_bucket)
                  for c in destination_categories()]
    return {"province": f.province, "school_code": f.school_code, "department_id": f.department_id,
            "graduation_year": f.graduation_year, "education_level": f.education_level,
            **breakdown(counts, int(total), categories)}
