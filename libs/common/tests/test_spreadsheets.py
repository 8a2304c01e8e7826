"""Streamed workbooks: the rows as written, and no temporary file left behind."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from openpyxl import load_workbook

from quxiang.common.spreadsheets import write_workbook


def _exports() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("qx-export-*.xlsx"))


def test_rows_are_written_and_the_file_removed():
    before = _exports()
    chunks = write_workbook("名单", ["考生号", "姓名"], ((f"26{i:04d}", f"学生{i}") for i in range(3000)))
    assert _exports() - before  # written, waiting to be streamed
    data = b"".join(chunks)
    assert _exports() == before
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "名单" and rows[0] == ("考生号", "姓名") and len(rows) == 3001
    assert rows[-1] == ("262999", "学生2999")


def test_an_abandoned_stream_removes_its_file():
    before = _exports()
    chunks = write_workbook("x", ["a"], [[1]])
    next(chunks)
    chunks.close()
    assert _exports() == before
