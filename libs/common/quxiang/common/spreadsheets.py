"""Exports as XLSX workbooks that never hold a whole list in memory: rows are written by openpyxl's
write-only mode to a temporary file, which is then streamed in chunks and removed, so an export of
a province's hundreds of thousands of rows costs the same memory as one of ten."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1 << 16
# A workbook is written whole before its first byte leaves (about 0.26 ms of CPU a row): a province's
# half a million rows took over 200 s, past the workers' 120 s timeout, and the user got a 504 after
# two minutes. Above this the export is refused at once, with the count, to be narrowed.
MAX_EXPORT_ROWS = 200_000


def refuse_too_large(total: int, limit: int | None = None) -> None:
    """422 ``export_too_large`` when the filtered list has more rows than one workbook may hold."""
    limit = MAX_EXPORT_ROWS if limit is None else limit
    if total > limit:
        from quxiang.common.web.errors import ProblemError

        detail = f"要导出的记录共 {total} 条，超过单次导出上限 {limit} 条：请按院校、院系或状态筛选后分批导出"
        raise ProblemError(422, "export_too_large", detail=detail, total=total, limit=limit)


def write_workbook(sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """Write ``header`` and every row (consumed now, e.g. from a server-side cursor still open) and
    answer the workbook's bytes as chunks; the temporary file is removed when they have been read
    or the iterator is closed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(list(header))
    try:
        for row in rows:
            sheet.append(text_row(sheet, row))
    except BaseException:
        _discard(sheet)
        raise
    handle, path = tempfile.mkstemp(prefix="qx-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return _chunks(path)


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Remove the rows written so far: openpyxl keeps them in a temporary file of its own until the
    process exits, and they are a part of a list of people (a source that failed half-way)."""
    writer = getattr(sheet, "_writer", None)  # openpyxl's own, made at the first row
    if writer is None:
        return
    with suppress(Exception):
        sheet._rows.close()  # type: ignore[attr-defined]
    with suppress(Exception):
        writer.close()
    with suppress(OSError, ValueError):
        writer.cleanup()


def text_row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """A row to append whose text stays text (see ``_cell``); numbers and dates as they are. For a
    write-only sheet as for one built in memory."""
    return [_cell(sheet, value) if isinstance(value, str) else value for value in values]


# What an XML 1.0 document cannot hold: one such character in one cell made the whole file
# unreadable. Users' text may hold them (a name pasted from elsewhere); they are dropped.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cell(sheet: Worksheet | WriteOnlyWorksheet, text: str) -> str | WriteOnlyCell:
    """Text as a cell: never a formula (a unit named ``=HYPERLINK(..)`` is text someone typed, and
    a spreadsheet must not run it), never a character that breaks the file."""
    if _NOT_IN_XML.search(text):
        text = _NOT_IN_XML.sub("", text)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
