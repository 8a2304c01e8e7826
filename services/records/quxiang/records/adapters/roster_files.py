"""Reading roster files row by row (CSV with the csv module, XLSX with openpyxl in read-only mode)
and writing the empty templates. Nothing here holds a whole file in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from quxiang.records.domain.roster import HEADERS

CSV = "csv"
XLSX = "xlsx"
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (.xls)
_OLD_EXCEL = "这是旧版Excel（.xls）文件，请在Excel中另存为.xlsx或CSV（UTF-8）后再导入"


class UnreadableFile(ValueError):
    """Not a CSV or XLSX file we can read; the message says why, in Chinese."""


def sniff_format(path: Path, filename: str | None) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == _XLSX_MAGIC:
        return XLSX
    if head == _OLE2_MAGIC or (filename or "").lower().endswith(".xls"):
        raise UnreadableFile(_OLD_EXCEL)
    if (filename or "").lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("文件不是有效的XLSX工作簿")
    return CSV


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@contextmanager
def open_rows(path: Path, kind: str) -> Iterator[tuple[list[str], Iterator[tuple[int, dict[str, str]]]]]:
    """The header row and an iterator of (row number, {header: cell}); blank rows are skipped."""
    with open_cells(path, kind) as (header, rows):
        yield header, ((n, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
                       for n, cells in rows)


@contextmanager
def open_cells(path: Path, kind: str) -> Iterator[tuple[list[str], Iterator[tuple[int, list[str]]]]]:
    """The header row and an iterator of (row number, [cell, ...] in file order, each stripped);
    blank rows are skipped. Each row's list is new: the caller may keep or change it."""
    if kind == XLSX:
        with path.open("rb") as fh:  # a file object: openpyxl then does not insist on a .xlsx name
            try:
                workbook = load_workbook(fh, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises a zoo of errors for corrupt files
                raise UnreadableFile("无法读取XLSX工作簿") from exc
            try:
                rows = workbook.worksheets[0].iter_rows(values_only=True)
                yield _split((n, [_cell(v) for v in values]) for n, values in enumerate(rows, start=1))
            finally:
                workbook.close()
        return
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as fh:
        yield _split(_csv_rows(csv.reader(fh)))


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [c.strip() for c in cells]
    except csv.Error as exc:  # e.g. a NUL byte or a cell over the csv module's field size limit
        # the csv module's English reason ("field larger than field limit") means nothing to a school
        raise UnreadableFile(f"CSV 第{reader.line_num}行格式有误（单元格内容过长或引号未闭合），"
                             "请用 Excel 另存为 CSV（UTF-8）或 XLSX 后重新导入") from exc
    except UnicodeDecodeError as exc:  # neither UTF-8 nor GB18030 (the fallback is not checked ahead)
        raise UnreadableFile(f"文件不是UTF-8或GB18030编码的CSV（第{reader.line_num + 1}行附近无法解码），"
                             "请另存为CSV（UTF-8）或XLSX后再导入") from exc


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Excel on a Chinese Windows saves)."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            while fh.read(1 << 20):
                pass
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _split(rows: Iterator[tuple[int, list[str]]]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    header: list[str] = []
    for _, cells in rows:
        if any(cells):
            header = [c.strip() for c in cells]
            break
    return header, ((number, cells) for number, cells in rows if any(cells))


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(HEADERS)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read it as UTF-8


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "生源"
    sheet.append(list(HEADERS))
    # Text columns, so that 考生号 and 身份证号 typed into any row do not become numbers (an 18-digit
    # number loses its last digits): the column's format is what a spreadsheet gives a new cell.
    for index in range(1, len(HEADERS) + 1):
        sheet.column_dimensions[get_column_letter(index)].number_format = "@"
        sheet.cell(row=2, column=index).number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
