"""The views as workbooks (图8): the province's schools or a school's departments, with the total
row last. A view has at most a few hundred rows, so the workbook is built in memory."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from quxiang.common.spreadsheets import text_row
from quxiang.stats.domain.model import MODULE_LABELS, MODULES, StatsModule

FIGURE_HEADERS = ("总人数", "已登记", "未登记", "审核中")  # the guide's order (图8)
SETTINGS_LABELS = {True: "已完成", False: "未完成"}


def _figures(item: Mapping[str, Any], modules: Sequence[str] = tuple(MODULES)) -> list[Any]:
    out: list[Any] = []
    for m in modules:
        f = item[m]
        out += [f["total"], f["registered"], f["unregistered"], f["review"]]
    return out


def _module_headers(modules: Sequence[str] = tuple(MODULES)) -> tuple[list[str], list[str]]:
    top, sub = [], []
    for m in modules:
        top += [MODULE_LABELS[StatsModule(m)], "", "", ""]
        sub += list(FIGURE_HEADERS)
    return top, sub


def _append(sheet: Worksheet, values: Sequence[Any]) -> None:
    # School and department names are typed by users: text, never a formula.
    sheet.append(text_row(sheet, values))


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def province_xlsx(view: Mapping[str, Any], cohort: str) -> bytes:
    """``cohort``: what the figures cover (2026届, 全部届别), in the sheet's name."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"数据统计 {cohort}"[:31]  # Excel's limit on a sheet name
    top, sub = _module_headers()
    settings = [f"{MODULE_LABELS[m]}设置" for m in MODULES]
    sheet.append(["学校代码", "学校名称", "网签协议类型", *settings, *top])
    sheet.append(["", "", "", "", "", "", *sub])
    for item in view["items"]:
        done: Sequence[str] = [SETTINGS_LABELS[item["settings_completed"][m.value]] for m in MODULES]
        _append(sheet, [item["school_code"], item["school_name"], item["agreement_type_label"], *done, *_figures(item)])
    total = view["total"]
    _append(sheet, ["", total["school_name"], f"已设置 {total['agreement_type_set']}",
                  *[f"已完成 {total['settings_completed'][m.value]}" for m in MODULES], *_figures(total)])
    return _save(workbook)


def school_xlsx(view: Mapping[str, Any], cohort: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"院系统计 {cohort}"[:31]
    modules = view["modules"]  # only those the caller may read
    top, sub = _module_headers(modules)
    _append(sheet, [f"{view['school_code']} {view['school_name']}（{cohort}）"])
    sheet.append(["院系代码", "院系名称", *top])
    sheet.append(["", "", *sub])
    for item in view["items"]:
        _append(sheet, [item.get("department_code") or "", item["department_name"], *_figures(item, modules)])
    _append(sheet, ["", view["total"]["department_name"], *_figures(view["total"], modules)])
    return _save(workbook)
