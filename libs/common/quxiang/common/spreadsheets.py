"""Exports as XLSX workbooks that never hold a whole list in memory: rows are written by openpyxl's
write-only mode to a temporary file, which is then streamed in chunks and removed, so an export of
a province's hundreds of thousands of rows costs the same memory as one of ten."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

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
        sheet.append(list(row))
    handle, path = tempfile.mkstemp(prefix="qx-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return _chunks(path)


def _chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
