"""CPU per approved agreement's PDF, in one process, beside fpdf2's plain use as the baseline.

The platform's render (``render_agreement``: the cut-down font with its composites decomposed, and
fpdf2's font worked out once per process) against the same document drawn with fpdf2's own
``add_font`` per document from the installed font's first face, as fpdf2's documentation uses it
(the baseline, with the same layout code and bounding boxes kept as the font has them). Both render
a three-party agreement ``--renders`` times (default 40), alternating in rounds so that a machine
getting busier slows both; CPU time (``time.process_time``) per render, the median round.

The last line: ``render_ms=N baseline_ms=N ratio=R bytes=N`` (ratio = render_ms / baseline_ms, lower
is better; bytes of the platform's PDF).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from quxiang.signing.adapters import agreement_pdf
from quxiang.signing.adapters.agreement_pdf import (
    AgreementDocument,
    EmployerParty,
    GraduateParty,
    Position,
    render_agreement,
)
from quxiang.signing.adapters.fonts import find_cjk_font


def sample_document() -> AgreementDocument:
    return AgreementDocument(
        agreement_number="2026105581000123", agreement_type="three_party",
        graduate=GraduateParty(name="李明华", gender="男", exam_number="26440101150123", education_level="本科",
                               major="计算机科学与技术", school_name="中山大学", department_name="计算机学院",
                               phone="13800138000", identity_number_masked="440***********123X"),
        employer=EmployerParty(name="广州示例信息科技有限公司", credit_code="91440101MA5CXQ8L2R", nature="其他企业",
                               industry="信息传输、软件和信息技术服务业", region="440106 广东省",
                               address="天河路 100 号 20 楼", contact_person="王经理", phone="020-88886666"),
        position=Position(category="工程技术人员", title="软件开发工程师", work_place="广州市"),
        salary=9000, contract_period_months=36, probation_months=3, archive_destination="广州市人才服务中心",
        hukou_destination="迁往单位所在地：广州市天河区", remarks="甲方提供员工宿舍。",
        signed_on=date(2026, 5, 20), approved_on=date(2026, 5, 25), approving_school="中山大学")


def baseline_render(doc: AgreementDocument) -> bytes:
    """The same layout with fpdf2's ``add_font`` per document on the installed font's first face."""

    def added_by_fpdf2(pdf: agreement_pdf.FPDF, _path: Path) -> agreement_pdf.TTFFont:
        pdf.add_font(agreement_pdf._FONT, "", str(find_cjk_font()), collection_font_number=0)
        font = pdf.fonts.pop(agreement_pdf._FONT)
        font.ttfont.recalcBBoxes = False
        return font

    platform_font_for = agreement_pdf._font_for
    agreement_pdf._font_for = added_by_fpdf2
    try:
        return agreement_pdf._render(doc, find_cjk_font())[0]
    finally:
        agreement_pdf._font_for = platform_font_for


def cpu_ms(render: Callable[[AgreementDocument], bytes], doc: AgreementDocument, times: int) -> float:
    start = time.process_time()
    for _ in range(times):
        render(doc)
    return (time.process_time() - start) / times * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=40, help="renders of each kind (default 40)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    args = parser.parse_args(argv)
    if args.renders < args.rounds or args.rounds < 1:
        parser.error("--renders must be at least --rounds, and --rounds at least 1")
    doc = sample_document()
    started = time.process_time()
    pdf = render_agreement(doc)  # builds the cut-down font if this machine has none yet
    print(f"first render (the cut-down font built if missing, the per-process font): "
          f"{(time.process_time() - started) * 1000:.0f} ms CPU, {len(pdf)} bytes")
    baseline_render(doc)
    per_round = args.renders // args.rounds
    ours, theirs = [], []
    for round_number in range(1, args.rounds + 1):
        ours.append(cpu_ms(render_agreement, doc, per_round))
        theirs.append(cpu_ms(baseline_render, doc, per_round))
        print(f"round {round_number}: platform {ours[-1]:.1f} ms, fpdf2 add_font {theirs[-1]:.1f} ms per render")
    render_ms, baseline_ms = statistics.median(ours), statistics.median(theirs)
    print(f"render_ms={render_ms:.1f} baseline_ms={baseline_ms:.1f} ratio={render_ms / baseline_ms:.2f} "
          f"bytes={len(pdf)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
