"""Streamed workbooks: the rows as written, and no temporary file left behind."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from quxiang.common.spreadsheets import text_row, write_workbook


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


def test_text_that_looks_like_a_formula_stays_text_and_a_character_xml_cannot_hold_is_dropped():
    rows = [("=HYPERLINK(\"http://evil.example\",\"点击\")", "单位\uffff\ufffe"), (1, "甲\x00乙\ud800丙")]
    sheet = load_workbook(io.BytesIO(b"".join(write_workbook("名单", ["单位", "备注"], rows)))).active
    cells = list(sheet.iter_rows(min_row=2))
    assert cells[0][0].value == "=HYPERLINK(\"http://evil.example\",\"点击\")" and cells[0][0].data_type == "s"
    assert cells[0][1].value == "单位"
    assert cells[1][0].value == 1 and cells[1][1].value == "甲乙丙"


def test_a_source_failing_half_way_leaves_no_rows_on_disk():
    # openpyxl writes the rows to a temporary file of its own and removes it only at the process's
    # exit: a worker would keep part of a list of people on disk for its lifetime.
    def openpyxl_files() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("openpyxl.*"))

    before, exports = openpyxl_files(), _exports()

    def rows():
        yield ("26440100000001", "学生1")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        write_workbook("名单", ["考生号", "姓名"], rows())
    assert openpyxl_files() == before and _exports() == exports


def test_a_workbook_built_in_memory_keeps_text_as_text_too():
    workbook = Workbook()
    workbook.active.append(text_row(workbook.active, ["=1+2", 3, "计算机学院"]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    [row] = load_workbook(buffer).active.iter_rows()
    assert [(c.value, c.data_type) for c in row] == [("=1+2", "s"), (3, "n"), ("计算机学院", "s")]
