"""Exports as XLSX workbooks that never hold a whole list in memory: rows are written by openpyxl's
write-only mode to a temporary file, which is then streamed in chunks and removed, so an export of
a province's hundreds of thousands of rows costs the same memory as one of ten."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1 << 16


def write_workbook(sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """Write ``header`` and every row (consumed now, e.g. from a server-side cursor still open) and
    answer the workbook's bytes as chunks; the temporary file is removed when they have been read
    or the iterator is closed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(list(header))
    for row in rows:
        sheet.append([_cell(sheet, value) if isinstance(value, str) else value for value in row])
    handle, path = tempfile.mkstemp(prefix="qx-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return _chunks(path)


# What an XML 1.0 document cannot hold: one such character in one cell made the whole file
# unreadable. Users' text may hold them (a name pasted from elsewhere); they are dropped.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _cell(sheet: WriteOnlyWorksheet, text: str) -> str | WriteOnlyCell:
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
