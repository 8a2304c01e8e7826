"""Roster rows and files for the tests."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from quxiang.common.validators import make_identity_number
from quxiang.records.domain.roster import HEADERS


def identity(i: int, male: bool = True) -> str:
    serial = (2 * i + (1 if male else 0)) % 1000
    return make_identity_number(f"44010620000101{serial:03d}")


def row(i: int, **overrides: str) -> dict[str, str]:
    values = {
        "考生号": f"2644010{i:07d}", "学号": f"S{i:06d}", "姓名": f"学生{i}", "性别": "男",
        "身份证号": identity(i), "院系": "01", "专业代码": "080901", "专业名称": "计算机科学与技术",
        "学历": "31", "生源所在地": "440106", "毕业年份": "2026", "手机号": f"138{i:08d}",
        "邮箱": f"s{i}@example.com",
    }
    values.update(overrides)
    return values


def csv_file(rows: list[dict[str, str]], headers: tuple[str, ...] | list[str] = HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r.get(h, "") for h in headers])
    return buffer.getvalue().encode("utf-8")


def xlsx_file(rows: list[dict[str, str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    for r in rows:
        sheet.append([int(r[h]) if h == "毕业年份" else r[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, headers, body: bytes, filename: str = "roster.csv", school: str = "10558"):
    return client.post(f"/schools/{school}/roster/imports", headers=headers,
                       data={"file": (io.BytesIO(body), filename)}, content_type="multipart/form-data")
