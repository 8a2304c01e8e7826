import dataclasses
import hashlib
import io
import itertools
import logging
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from quxiang.signing.adapters import fonts
from quxiang.signing.adapters.agreement_pdf import (
    AgreementDocument,
    EmployerParty,
    GraduateParty,
    Position,
    render_agreement,
)
from quxiang.signing.adapters.fonts import CJKFontMissing, find_cjk_font

FULL_ID = "44010119990101123X"
MASKED_ID = "440***********123X"
FOOTER_HINT = "本协议真实性可在平台核验，SHA-256 见核验页面"


def make_doc(agreement_type="three_party", **changes) -> AgreementDocument:
    doc = AgreementDocument(
        agreement_number="2026105581000123",
        agreement_type=agreement_type,
        graduate=GraduateParty(
            name="李明华",
            gender="男",
            exam_number="26440101150123",
            education_level="本科",
            major="计算机科学与技术",
            school_name="中山大学",
            department_name="计算机学院",
            phone="13800138000",
            identity_number_masked=MASKED_ID,
        ),
        employer=EmployerParty(
            name="广州示例信息科技有限公司",
            credit_code="91440101MA5CXQ8L2R",
            nature="其他企业",
            industry="信息传输、软件和信息技术服务业",
            region="广东省广州市天河区",
            address="天河路 100 号 20 楼",
            contact_person="王经理",
            phone="020-88886666",
        ),
        position=Position(category="工程技术人员", title="软件开发工程师", work_place="广州市"),
        salary=9000,
        contract_period_months=36,
        probation_months=3,
        archive_destination="广州市人才服务中心",
        hukou_destination="迁往单位所在地：广州市天河区",
        remarks="甲方提供员工宿舍。",
        signed_on=date(2026, 5, 20),
        approved_on=date(2026, 5, 25),
        approving_school="中山大学",
    )
    return dataclasses.replace(doc, **changes)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def three_party_pdf() -> bytes:
    return render_agreement(make_doc("three_party"))


def test_three_party_agreement_is_real_chinese_text(three_party_pdf):
    assert three_party_pdf.startswith(b"%PDF-")
    text = compact("".join(pages_text(three_party_pdf)))
    for expected in (
        "普通高等学校毕业生就业协议书",
        "三方协议",
        "协议编号：2026105581000123",
        "甲方（用人单位）",
        "乙方（毕业生）",
        "丙方（学校）",
        "广州示例信息科技有限公司",
        "李明华",
        "91440101MA5CXQ8L2R",
        "信息传输、软件和信息技术服务业",
        "软件开发工程师",
        "9000元/月",
        "36个月",
        "迁往单位所在地：广州市天河区",
        "甲方提供员工宿舍。",
        "学校审核意见审核通过",
        "2026年5月25日",
    ):
        assert expected in text, expected
    assert "两方协议" not in text and "已鉴证" not in text


def test_two_party_agreement_has_no_third_party_and_is_attested():
    text = compact("".join(pages_text(render_agreement(make_doc("two_party", salary="面议")))))
    for expected in ("普通高等学校毕业生就业协议书", "两方协议", "李明华", "广州示例信息科技有限公司",
                     "91440101MA5CXQ8L2R", "学校鉴证已鉴证", "鉴证单位中山大学", "月薪面议"):
        assert expected in text, expected
    assert "丙方" not in text and "三方协议" not in text and "审核通过" not in text


def test_the_cjk_font_is_embedded(three_party_pdf):
    reader = PdfReader(io.BytesIO(three_party_pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = []
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0"  # a CID font, which is how CJK text is written
        for descendant in font["/DescendantFonts"]:
            descriptors.append(descendant.get_object()["/FontDescriptor"].get_object())
    assert descriptors
    for descriptor in descriptors:
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
        assert re.fullmatch(r"/[A-Z]{6}\+.+", descriptor["/FontName"])  # a subset, not the whole font
    assert len(three_party_pdf) < 300_000


def test_rendering_is_deterministic_and_follows_the_content(three_party_pdf):
    assert render_agreement(make_doc("three_party")) == three_party_pdf
    changed = make_doc("three_party", salary=Decimal("9001"))
    assert render_agreement(changed) != three_party_pdf
    assert render_agreement(make_doc("three_party", approved_on=date(2026, 5, 26))) != three_party_pdf


def test_another_process_renders_the_same_bytes(three_party_pdf):
    # What the platform stores is a SHA-256: a restarted worker (another hash seed, so another set
    # and dict order inside the PDF library) must reproduce it.
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]); import test_agreement_pdf as t; "
        "from quxiang.signing.adapters.agreement_pdf import render_agreement; "
        "print(hashlib.sha256(render_agreement(t.make_doc('three_party'))).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == hashlib.sha256(three_party_pdf).hexdigest()


def test_long_remarks_wrap_onto_further_pages_without_losing_text():
    clause = "乙方在试用期内享受与正式员工同等的五险一金待遇，甲方为乙方提供岗位技能培训。"
    sentences = [f"第{i:03d}条：{clause}" for i in range(1, 61)]
    # One long paragraph (no line breaks: it must wrap) and then one line per sentence.
    remarks = "".join(sentences[:20]) + "\n" + "\n".join(sentences[20:])
    pages = pages_text(render_agreement(make_doc(remarks=remarks)))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {len(pages)} 页" in page
    # Without the footers, the pages read as one text that holds every sentence, whole and in order.
    body = compact("".join("\n".join(line for line in page.splitlines() if "协议编号 2026105581000123" not in line
                                     and FOOTER_HINT not in line) for page in pages))
    assert compact(remarks) in body
    assert body.index("第060条") < body.index("签章")


def test_a_full_identity_number_is_never_printed():
    with pytest.raises(ValueError, match="masked"):
        GraduateParty(**{**dataclasses.asdict(make_doc().graduate), "identity_number_masked": FULL_ID})
    pdf = render_agreement(make_doc(remarks=f"乙方身份证号 {FULL_ID}，与档案一致。"))
    text = compact("".join(pages_text(pdf)))
    assert MASKED_ID in text
    assert FULL_ID not in text and FULL_ID[:17] not in text


def test_an_all_digit_credit_code_is_printed_in_full_while_an_identity_number_beside_it_is_not():
    # 事业单位's credit codes are often 18 digits: shaped like an identity number, yet a public
    # identifier the kept legal copy must carry as it is.
    employer = dataclasses.replace(make_doc().employer, credit_code="124400000000000004")
    pdf = render_agreement(make_doc(employer=employer, remarks=f"乙方身份证号 {FULL_ID}"))
    text = compact("".join(pages_text(pdf)))
    assert "124400000000000004" in text
    assert FULL_ID not in text and MASKED_ID in text


def test_find_cjk_font_honours_qx_pdf_font(monkeypatch, tmp_path):
    real = find_cjk_font()
    assert real.is_file()
    monkeypatch.setenv("QX_PDF_FONT", str(real))
    assert find_cjk_font() == real
    monkeypatch.setenv("QX_PDF_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(CJKFontMissing, match="QX_PDF_FONT"):
        find_cjk_font()
    with pytest.raises(CJKFontMissing, match="QX_PDF_FONT"):
        render_agreement(make_doc())


def test_without_any_font_the_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv("QX_PDF_FONT", raising=False)
    monkeypatch.setattr("quxiang.signing.adapters.fonts.CANDIDATES", (tmp_path / "none.ttc",))
    with pytest.raises(CJKFontMissing, match="fonts-wqy-microhei"):
        find_cjk_font()


def test_a_character_beyond_the_common_font_is_drawn_from_the_whole_font(monkeypatch):
    from quxiang.signing.adapters import agreement_pdf

    fonts_used = []
    draw = agreement_pdf._render

    def spy(doc, font):
        fonts_used.append(font)
        return draw(doc, font)

    monkeypatch.setattr(agreement_pdf, "_render", spy)
    common = make_doc("three_party")
    rare = make_doc("three_party", graduate=dataclasses.replace(common.graduate, name="李喆"))  # 喆: GBK, not GB 2312
    assert "喆" in compact("".join(pages_text(render_agreement(rare))))
    assert fonts_used == [fonts.common_subset(fonts.find_cjk_font()), fonts.find_cjk_font()]
    fonts_used.clear()
    render_agreement(common)
    assert fonts_used == [fonts.common_subset(fonts.find_cjk_font())]  # common characters: one pass


def test_the_common_font_is_rebuilt_to_the_same_bytes(three_party_pdf, monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "SUBSET_DIR", tmp_path)
    fonts.common_subset.cache_clear()
    try:
        assert render_agreement(make_doc("three_party")) == three_party_pdf
        assert [p.name for p in tmp_path.iterdir()] == [fonts.common_subset(fonts.find_cjk_font()).name]
    finally:
        fonts.common_subset.cache_clear()


def test_a_font_that_cannot_be_cut_leaves_the_whole_font(tmp_path, caplog):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font at all")
    assert fonts.common_subset(broken) is None
    assert "could not cut" in caplog.text


def test_the_embedded_glyphs_are_whole_and_their_bounding_boxes_right(three_party_pdf):
    # The glyphs are embedded as the font file has them (not recompiled): every one must still
    # parse, and the box stored with it must be the box of its outline.
    from fontTools.ttLib import TTFont

    reader = PdfReader(io.BytesIO(three_party_pdf))
    font = reader.pages[0]["/Resources"]["/Font"]
    descendant = next(iter(font.values())).get_object()["/DescendantFonts"][0].get_object()
    embedded = TTFont(io.BytesIO(descendant["/FontDescriptor"]["/FontFile2"].get_data()))
    glyf = embedded["glyf"]
    outlined = 0
    for name in embedded.getGlyphOrder():
        glyph = glyf[name]
        if glyph.numberOfContours == 0:
            continue
        stored = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax)
        glyph.recalcBounds(glyf)
        assert (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) == stored, name
        outlined += 1
    assert outlined > 100  # the template's characters at least


def _added_by_fpdf2(pdf, path):
    from quxiang.signing.adapters import agreement_pdf

    pdf.add_font(agreement_pdf._FONT, "", str(path), collection_font_number=0)
    font = pdf.fonts.pop(agreement_pdf._FONT)
    font.ttfont.recalcBBoxes = False
    return font


def test_the_per_process_font_draws_the_bytes_of_fpdf2s_own_add_font(monkeypatch):
    # The font is worked out and read once per process and copied for each document; fpdf2's
    # add_font reads it afresh. Each document marks its own characters and cuts its own copy of
    # the font down, so documents one after another, in either order, must give the bytes of a
    # fresh read: a change in fpdf2 or fontTools that the copy misses shows here.
    from quxiang.signing.adapters import agreement_pdf

    common = make_doc("three_party")
    rare = dataclasses.replace(common.graduate, name="李喆")  # 喆: from the whole font, with its composites
    documents = [
        common,
        make_doc("two_party", salary="面议"),
        make_doc("three_party", remarks="".join(chr(c) for c in range(0x4E00, 0x4E00 + 400))),
        make_doc("three_party", graduate=rare),
        make_doc("three_party", graduate=dataclasses.replace(rare, name="王堃"), remarks="甲方提供宿舍。" * 50),
        make_doc("two_party", graduate=rare),
        common,
    ]
    with monkeypatch.context() as patched:
        patched.setattr(agreement_pdf, "_font_for", _added_by_fpdf2)
        fresh = [render_agreement(doc) for doc in documents]
    assert len(set(fresh)) == len(documents) - 1  # the first and the last are the same document
    assert [render_agreement(doc) for doc in documents] == fresh
    assert [render_agreement(doc) for doc in reversed(documents)] == fresh[::-1]


def test_only_a_font_without_composite_glyphs_is_shared_between_documents():
    from quxiang.signing.adapters import agreement_pdf

    def template(path):
        return agreement_pdf._font_template(path, path.stat().st_size, path.stat().st_mtime_ns)

    assert template(fonts.common_subset(find_cjk_font())).parsed is not None
    assert template(find_cjk_font()).parsed is None


def test_a_font_file_replaced_in_place_is_read_again(tmp_path):
    from quxiang.signing.adapters import agreement_pdf

    doc = make_doc("three_party")
    common, whole = fonts.common_subset(find_cjk_font()), find_cjk_font()
    path = tmp_path / "font.ttf"
    path.write_bytes(common.read_bytes())
    assert agreement_pdf._render(doc, path)[0] == agreement_pdf._render(doc, common)[0]
    path.write_bytes(whole.read_bytes())
    os.utime(path, ns=(1, 1))  # another time, whatever the clock's resolution
    assert agreement_pdf._render(doc, path)[0] == agreement_pdf._render(doc, whole)[0]


def test_the_common_font_draws_every_character_as_the_whole_font_does():
    # Its composite glyphs are decomposed: each character keeps its outline (area and box) and its
    # advance, and no glyph is left that is only a part of another.
    from fontTools.pens.areaPen import AreaPen
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    whole = TTFont(str(find_cjk_font()), fontNumber=0)
    common = TTFont(str(fonts.common_subset(find_cjk_font())))
    common_cmap, whole_cmap = common.getBestCmap(), whole.getBestCmap()
    assert len(common_cmap) > 8000 and all(whole_cmap[c] for c in common_cmap)
    assert not any(common["glyf"][name].isComposite() for name in common.getGlyphOrder())
    assert len(common.getGlyphOrder()) <= len(set(common_cmap.values())) + 1  # .notdef
    drawn = {}
    for font, cmap in ((whole, whole_cmap), (common, common_cmap)):
        glyphs, hmtx = font.getGlyphSet(), font["hmtx"]
        for codepoint in sorted(common_cmap)[::3]:
            name = cmap[codepoint]
            area, box = AreaPen(glyphs), BoundsPen(glyphs)
            glyphs[name].draw(area)
            glyphs[name].draw(box)
            drawn.setdefault(codepoint, []).append((round(area.value), box.bounds, hmtx[name][0]))
    differ = [chr(c) for c, (before, after) in drawn.items() if before != after]
    assert not differ


def test_documents_rendered_at_once_in_threads_are_those_rendered_one_by_one():
    # A download renders on the spot in a gunicorn thread while others may do the same: the font
    # read once per process is shared by them all.
    from concurrent.futures import ThreadPoolExecutor

    common = [c for c in map(chr, range(0x4E00, 0x6000)) if c.encode("gb2312", "ignore")]  # the cut-down font's
    documents = [make_doc("three_party", agreement_number=f"20261055810{n:05d}", remarks="".join(common[n::12][:60]))
                 for n in range(12)]
    one_by_one = [render_agreement(doc) for doc in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(2):
            assert list(pool.map(render_agreement, documents)) == one_by_one


def test_the_log_names_no_character_of_a_name(caplog):
    # A rare character in a name is drawn from the whole font without a word in the logs; one that
    # no font here has is counted, not quoted.
    common = make_doc("three_party")
    with caplog.at_level(logging.DEBUG):
        render_agreement(make_doc("three_party", graduate=dataclasses.replace(common.graduate, name="李喆")))
        assert "喆" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.WARNING]
        pdf = render_agreement(make_doc("three_party", graduate=dataclasses.replace(common.graduate, name="李𠀀明")))
    assert "𠀀" not in caplog.text and "\\U00020000" not in caplog.text.lower()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"agreement {common.agreement_number}: 1 character(s) are not in the font "
                        f"{find_cjk_font()} and print as empty boxes"]
    assert "李" in compact("".join(pages_text(pdf)))


def test_a_long_value_wraps_inside_its_cell_and_the_rows_keep_their_order():
    doc = make_doc("three_party")
    name, address = "广州示例信息科技有限公司" * 4, "天河路 100 号 20 楼，" * 6
    long_one = dataclasses.replace(doc, employer=dataclasses.replace(doc.employer, name=name, address=address))
    text = compact("".join(pages_text(render_agreement(long_one))))
    assert compact("单位名称" + name) in text and compact(address) in text
    order = [text.index(part) for part in (compact(name), "统一社会信用代码", compact(address), "联系人")]
    assert order == sorted(order)


def test_lines_are_broken_at_any_character_within_the_width():
    from quxiang.signing.adapters import agreement_pdf

    pdf = agreement_pdf._AgreementPDF(make_doc(), fonts.common_subset(find_cjk_font()))
    text = "广州示例信息科技有限公司 Guangzhou Example 12345" * 3
    for width in (5.0, 20.0, 60.0):
        lines = agreement_pdf._wrap(pdf, text, width)
        assert "".join(lines) == text and len(lines) > 1
        assert all(pdf.get_string_width(line) <= width + 1e-6 for line in lines if len(line) > 1)
        assert all(pdf.get_string_width(line + next_line[0]) > width
                   for line, next_line in itertools.pairwise(lines))  # each line as full as it can be
    assert agreement_pdf._wrap(pdf, "甲\n\n乙", 50) == ["甲", "", "乙"]
    assert agreement_pdf._wrap(pdf, "", 50) == [""]
    assert agreement_pdf._wrap(pdf, "甲乙", 0.1) == ["甲", "乙"]  # a character wider than the cell still prints


def test_a_row_that_does_not_fit_starts_on_the_next_page():
    from quxiang.signing.adapters import agreement_pdf

    pdf = agreement_pdf._AgreementPDF(make_doc(), fonts.common_subset(find_cjk_font()))
    pdf.add_page()
    pdf.set_y(pdf.h - pdf.b_margin - 8)  # room for one line, not for three
    agreement_pdf._grid(pdf, [("单位地址", "天河路 100 号 20 楼，" * 8)])
    assert pdf.page_no() == 2
    assert pdf.get_y() > pdf.t_margin + 3 * agreement_pdf._LINE
