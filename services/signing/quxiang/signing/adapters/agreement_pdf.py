"""The approved employment agreement (普通高等学校毕业生就业协议书) as a PDF.

``render_agreement`` lays out the fixed template on A4 with fpdf2 and embeds a subset of the CJK
font (``fonts.find_cjk_font``), so the text is real, extractable Chinese that renders anywhere.
The output is deterministic: the same ``AgreementDocument`` and the same font file give the same
bytes (the creation date is the approval date, the file id is a hash of the content), which is what
lets the platform keep the SHA-256 of the copy the graduate and the employer download.

Identity numbers never appear in full: the document carries a masked one (rejected otherwise), and
every free text printed is passed through ``redact_identity_numbers`` in case one was typed into,
say, the remarks.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont

from quxiang.common.pii import redact_identity_numbers
from quxiang.signing.adapters.fonts import CJKFontMissing, common_subset, find_cjk_font

__all__ = [
    "AgreementDocument",
    "AgreementType",
    "CJKFontMissing",
    "EmployerParty",
    "GraduateParty",
    "Position",
    "find_cjk_font",
    "render_agreement",
]

AgreementType = Literal["three_party", "two_party"]

TITLE = "普通高等学校毕业生就业协议书"
SUBTITLE: dict[str, str] = {"three_party": "（三方协议）", "two_party": "（两方协议）"}

_FONT = "cjk"
log = logging.getLogger(__name__)


class _NoMissingGlyphList(logging.Filter):
    """fpdf2 logs the characters a font lacks, at every first pass over a rare character in a name.
    The render draws those again from the whole font and says itself what is still missing,
    without the characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Font %s is missing the following glyphs")


logging.getLogger("fpdf.output").addFilter(_NoMissingGlyphList())
_MARGIN = 18.0  # mm
_LINE = 5.5  # mm, line height of body text
_BODY_SIZE = 10.5
_LABEL_FILL = (238, 238, 238)
# A full identity number: 17 digits then a digit or X. A masked one has '*' in the middle.
_FULL_IDENTITY_NUMBER = re.compile(r"\d{17}[\dXxＸｘ]")

_CLAUSES: dict[str, tuple[str, ...]] = {
    "three_party": (
        "一、甲方如实介绍本单位情况，同意录用乙方；乙方如实介绍本人情况，愿意到甲方就业。",
        "二、乙方报到后，甲乙双方应依法订立劳动合同，劳动合同约定的条件不得低于本协议的约定。",
        "三、丙方负责乙方毕业资格审核及就业派遣手续，并依据本协议办理档案和户口相关手续。",
        "四、本协议经甲乙双方确认、丙方审核通过后生效。任何一方解除本协议，应按平台解约流程办理。",
    ),
    "two_party": (
        "一、甲方如实介绍本单位情况，同意录用乙方；乙方如实介绍本人情况，愿意到甲方就业。",
        "二、乙方报到后，甲乙双方应依法订立劳动合同，劳动合同约定的条件不得低于本协议的约定。",
        "三、本协议经甲乙双方确认、学校鉴证后生效。任何一方解除本协议，应按平台解约流程办理。",
    ),
}


@dataclass(frozen=True)
class GraduateParty:
    """乙方: the graduate, as printed. ``identity_number_masked`` must already be masked."""

    name: str
    gender: str  # label, e.g. 男 / 女
    exam_number: str  # 考生号
    education_level: str  # label, e.g. 本科 / 硕士研究生
    major: str
    school_name: str
    department_name: str
    phone: str
    identity_number_masked: str

    def __post_init__(self) -> None:
        if _FULL_IDENTITY_NUMBER.search(self.identity_number_masked):
            raise ValueError("identity_number_masked must be masked (see quxiang.common.pii), not a full number")


@dataclass(frozen=True)
class EmployerParty:
    """甲方: the employer (用人单位)."""

    name: str
    credit_code: str  # 统一社会信用代码
    nature: str  # 单位性质 label
    industry: str  # 单位行业 label
    region: str  # 单位所在地
    address: str
    contact_person: str
    phone: str


@dataclass(frozen=True)
class Position:
    """The position the graduate is hired for."""

    category: str  # 工作职位类别 label
    title: str  # 岗位名称
    work_place: str  # 工作地点


@dataclass(frozen=True)
class AgreementDocument:
    """Everything the fixed agreement template shows, already resolved to display labels."""

    agreement_number: str
    agreement_type: AgreementType
    graduate: GraduateParty
    employer: EmployerParty
    position: Position
    salary: str | int | Decimal  # 月薪: a number (yuan per month) or a text such as "8000-10000元"
    contract_period_months: int  # 合同期限
    probation_months: int  # 试用期, 0 for none
    archive_destination: str  # 档案转寄
    hukou_destination: str  # 户口迁转
    remarks: str  # 补充条款, may be long and span lines and pages
    signed_on: date  # 签约日期
    approved_on: date  # 审核 (three_party) or 鉴证 (two_party) date
    approving_school: str
    verification_hint: str = "本协议真实性可在平台核验，SHA-256 见核验页面"

    def __post_init__(self) -> None:
        if self.agreement_type not in SUBTITLE:
            raise ValueError(f"agreement_type must be one of {sorted(SUBTITLE)}, not {self.agreement_type!r}")
        if self.contract_period_months < 0 or self.probation_months < 0:
            raise ValueError("contract period and probation are numbers of months, not negative")


def render_agreement(doc: AgreementDocument) -> bytes:
    """Render ``doc`` as an A4 PDF with the CJK font embedded; same input, same bytes.

    Drawn with the font cut down to common characters (``fonts.common_subset``: a fraction of the
    time); an agreement with a character beyond them (a rare character in a name) is drawn again
    with the whole font, so no character the font has is ever missing. One the whole font lacks
    prints as an empty box, and the render says how many (not which: they come from names)."""
    full = find_cjk_font()
    common = common_subset(full)
    if common is not None:
        pdf, missing = _render(doc, common)
        if not missing:
            return pdf
    pdf, missing = _render(doc, full)
    if missing:
        log.warning("agreement %s: %d character(s) are not in the font %s and print as empty boxes",
                    doc.agreement_number, missing, full)
    return pdf


def _render(doc: AgreementDocument, font: Path) -> tuple[bytes, int]:
    """The PDF, and how many of the characters it needed the font lacks."""
    pdf = _AgreementPDF(doc, font)
    pdf.add_page()
    _title(pdf, doc)
    _section(pdf, "甲方（用人单位）")
    _grid(pdf, _employer_rows(doc.employer))
    _section(pdf, "乙方（毕业生）")
    _grid(pdf, _graduate_rows(doc.graduate))
    if doc.agreement_type == "three_party":
        _section(pdf, "丙方（学校）")
        _grid(pdf, [("学校名称", doc.graduate.school_name, "院系", doc.graduate.department_name)])
    _section(pdf, "协议条款")
    _grid(pdf, _term_rows(doc))
    _paragraphs(pdf, _CLAUSES[doc.agreement_type])
    _section(pdf, "补充条款")
    _paragraphs(pdf, [doc.remarks.strip() or "无"])
    _section(pdf, "签章" if doc.agreement_type == "three_party" else "签章与鉴证")
    _grid(pdf, _signature_rows(doc))
    data = bytes(pdf.output())  # the footers are drawn here: check for missing glyphs after
    return data, sum(len(getattr(f, "missing_glyphs", ())) for f in pdf.fonts.values())


class _AgreementPDF(FPDF):
    def __init__(self, doc: AgreementDocument, font: Path) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._doc = doc
        # Fixed metadata so the bytes depend on the agreement only (fpdf2 derives /ID from the content).
        self.set_creation_date(datetime.combine(doc.approved_on, time(), tzinfo=UTC))
        self.set_title(f"{TITLE} {doc.agreement_number}")
        self.set_subject(SUBTITLE[doc.agreement_type].strip("（）"))
        self.set_lang("zh-CN")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 8)
        self.fonts[_FONT] = _font_for(self, font)
        self.set_font(_FONT, size=_BODY_SIZE)

    def footer(self) -> None:
        self.set_y(-_MARGIN - 2)
        self.set_font(_FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 4, _clean(self._doc.verification_hint), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"协议编号 {self._doc.agreement_number}　第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")
        self.set_text_color(0)
        self.set_font(_FONT, size=_BODY_SIZE)


@dataclass(frozen=True)
class _FontTemplate:
    font: TTFFont  # what fpdf2's add_font works out from the file
    parsed: TTFont | None  # every table read, to copy for each document; None: read the file each time


@functools.lru_cache(maxsize=4)
def _font_template(path: Path, size: int, mtime_ns: int) -> _FontTemplate:
    """What fpdf2's ``add_font`` works out from the font file (its metrics, every character's width
    and glyph) and the font's tables, read once per process: the same for every document, and
    reading them was most of a render. Keyed by the file's size and time too, so a font replaced in
    place is read again."""
    font = TTFFont(FPDF(), path, _FONT, "", collection_font_number=0)
    parsed = font.ttfont
    # fontTools' subsetter renumbers a composite glyph's components in the glyph's own bytes: a
    # font with composites (the whole font, for a rare character) is read afresh for each document.
    glyf = parsed["glyf"] if "glyf" in parsed else None
    if glyf is None or any(glyph.isComposite() for glyph in glyf.glyphs.values()):
        parsed.close()
        return _FontTemplate(font, None)
    for tag in parsed.keys():  # every table read now, not in the first document that needs it
        parsed[tag]
    for subtable in parsed["cmap"].tables:
        subtable.ensureDecompiled()
    return _FontTemplate(font, parsed)


def _copy_to_cut(parsed: TTFont) -> TTFont:
    """A font fpdf2 may cut down in place for one document, sharing ``parsed``'s glyphs and values.

    fontTools' subsetter replaces what it prunes (a table's glyph dict, metrics, cmap, name list)
    rather than changing it, and compiling sets values on the tables (offsets, counts), so each
    table is copied shallowly and the cmap's subtables too; the glyphs themselves are only trimmed
    of padding, which is the same every time. Tests check the bytes against a font read afresh,
    for documents one after another in either order."""
    font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
    font.sfntVersion = parsed.sfntVersion
    for tag in parsed.keys():
        if tag != "GlyphOrder":
            font[tag] = copy.copy(parsed[tag])
    font["glyf"].glyphs = dict(font["glyf"].glyphs)
    font["hmtx"].metrics = dict(font["hmtx"].metrics)
    font["cmap"].tables = [copy.copy(subtable) for subtable in font["cmap"].tables]
    font.setGlyphOrder(list(parsed.getGlyphOrder()))  # the copied glyf table gets its own list too
    return font


def _font_for(pdf: FPDF, path: Path) -> TTFFont:
    """The font as ``pdf.add_font`` would add it, from the per-process template: shared what fpdf2
    only reads, fresh what a document changes (the characters it used, and the font tables that
    fpdf2 cuts down in place to embed them). A test checks the bytes equal those of ``add_font``."""
    stat = path.stat()
    template = _font_template(path, stat.st_size, stat.st_mtime_ns)
    font = copy.copy(template.font)
    font.i = len(pdf.fonts) + 1
    if template.parsed is not None:
        font.ttfont = _copy_to_cut(template.parsed)
    else:
        font.ttfont = TTFont(str(path), recalcTimestamp=False, fontNumber=0, lazy=True)
    # The font file's glyph bounding boxes are already right; left on, fpdf2's subsetting unpacks
    # and recompiles every embedded glyph to recompute them, a quarter of a render. The glyphs
    # then go into the PDF as the font file has them.
    font.ttfont.recalcBBoxes = False
    font.cw = template.font.cw.copy()  # a defaultdict: reading a missing character writes to it
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    return font


def _title(pdf: FPDF, doc: AgreementDocument) -> None:
    pdf.set_font(_FONT, size=18)
    pdf.cell(0, 11, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=12)
    pdf.cell(0, 7, SUBTITLE[doc.agreement_type], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(_FONT, size=_BODY_SIZE)
    pdf.cell(pdf.epw / 2, _LINE, f"协议编号：{_clean(doc.agreement_number)}")
    pdf.cell(pdf.epw / 2, _LINE, f"签约日期：{_date(doc.signed_on)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _section(pdf: FPDF, heading: str) -> None:
    pdf.ln(3)
    if pdf.will_page_break(4 * _LINE):  # keep a heading with the first lines under it
        pdf.add_page()
    pdf.set_font(_FONT, size=12)
    pdf.cell(0, 8, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=_BODY_SIZE)


# A row is (label, value) across the whole width or (label, value, label, value) in two halves.
_Row = tuple[str, str] | tuple[str, str, str, str]


_COLUMNS = (22, 28, 22, 28)  # parts of the width: label, value, label, value
_PAD_X, _PAD_Y = 1.5, 0.8  # mm inside a cell


def _grid(pdf: FPDF, rows: Sequence[_Row]) -> None:
    """Label and value cells with borders, labels shaded, values wrapped at any character and each
    cell's lines centred in the row's height; a row is never split across pages. Drawn directly:
    fpdf2's table (the same layout) measured and laid out every cell twice, over half a render."""
    unit = pdf.epw / sum(_COLUMNS)
    widths = [part * unit for part in _COLUMNS]
    pdf.set_fill_color(*_LABEL_FILL)
    for cells in rows:
        if len(cells) == 2:
            spans = [(cells[0], widths[0], True), (_clean(cells[1]), sum(widths[1:]), False)]
        else:
            spans = [(cells[0], widths[0], True), (_clean(cells[1]), widths[1], False),
                     (cells[2], widths[2], True), (_clean(cells[3]), widths[3], False)]
        wrapped = [_wrap(pdf, text, width - 2 * _PAD_X) for text, width, _ in spans]
        height = max(len(lines) for lines in wrapped) * _LINE + 2 * _PAD_Y
        if pdf.will_page_break(height):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        for (_, width, label), lines in zip(spans, wrapped, strict=True):
            pdf.rect(x, y, width, height, style="DF" if label else "D")
            top = y + (height - len(lines) * _LINE) / 2
            for number, line in enumerate(lines):
                pdf.set_xy(x + _PAD_X, top + number * _LINE)
                pdf.cell(width - 2 * _PAD_X, _LINE, line)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` mm at any character (CJK text has no
    spaces to break at), and at its own line breaks."""
    per_unit = pdf.font_size_pt / 1000 / pdf.k  # a glyph width (thousandths of the size) in mm
    widths = pdf.current_font.cw
    lines: list[str] = []
    for paragraph in text.split("\n"):
        start, used = 0, 0.0
        for index, char in enumerate(paragraph):
            char_width = widths[ord(char)] * per_unit
            if used + char_width > width and index > start:
                lines.append(paragraph[start:index])
                start, used = index, 0.0
            used += char_width
        lines.append(paragraph[start:])
    return lines


def _paragraphs(pdf: FPDF, paragraphs: Sequence[str]) -> None:
    pdf.ln(1.5)
    for paragraph in paragraphs:
        for line in _clean(paragraph).splitlines() or [""]:
            pdf.multi_cell(0, _LINE, line, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _employer_rows(e: EmployerParty) -> list[_Row]:
    return [
        ("单位名称", e.name),
        ("统一社会信用代码", _Verbatim(e.credit_code), "单位性质", e.nature),
        ("单位行业", e.industry, "单位所在地", e.region),
        ("单位地址", e.address),
        ("联系人", e.contact_person, "联系电话", e.phone),
    ]


def _graduate_rows(g: GraduateParty) -> list[_Row]:
    return [
        ("姓名", g.name, "性别", g.gender),
        ("考生号", g.exam_number, "身份证号", g.identity_number_masked),
        ("学校", g.school_name, "院系", g.department_name),
        ("专业", g.major, "学历", g.education_level),
        ("联系电话", g.phone),
    ]


def _term_rows(doc: AgreementDocument) -> list[_Row]:
    p = doc.position
    return [
        ("工作职位类别", p.category, "岗位名称", p.title),
        ("工作地点", p.work_place),
        ("月薪", _salary(doc.salary), "合同期限", f"{doc.contract_period_months} 个月"),
        ("试用期", f"{doc.probation_months} 个月" if doc.probation_months else "无"),
        ("档案转寄", doc.archive_destination),
        ("户口迁转", doc.hukou_destination),
    ]


def _signature_rows(doc: AgreementDocument) -> list[_Row]:
    signed = _date(doc.signed_on)
    rows: list[_Row] = [
        ("甲方（签章）", doc.employer.name, "日期", signed),
        ("乙方（签名）", doc.graduate.name, "日期", signed),
    ]
    if doc.agreement_type == "three_party":
        rows += [
            ("丙方学校审核意见", "审核通过", "审核日期", _date(doc.approved_on)),
            ("丙方（审核单位）", doc.approving_school),
        ]
    else:
        rows += [
            ("学校鉴证", "已鉴证", "鉴证日期", _date(doc.approved_on)),
            ("鉴证单位", doc.approving_school),
        ]
    return rows


def _salary(salary: str | int | Decimal) -> str:
    if isinstance(salary, str):
        return salary
    return f"{salary} 元/月"


def _date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


class _Verbatim(str):
    """A value printed as it is, never masked: a 统一社会信用代码 may be 18 digits (事业单位's often
    are) and is a public identifier, not an identity number."""


def _clean(text: str) -> str:
    """Printable text: identity numbers masked, tabs as spaces, Windows line ends normalised."""
    if isinstance(text, _Verbatim):
        return str(text)
    return redact_identity_numbers(text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))
