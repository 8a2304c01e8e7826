"""``make bench-pdf`` at a tiny size: its baseline draws the same agreement (so the comparison is
of the font handling only), and it ends with the line of figures."""

from __future__ import annotations

import importlib
import io
import re
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
bench_pdf = importlib.import_module("bench_pdf")

pytestmark = pytest.mark.timeout(120)


def text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_baseline_draws_the_same_agreement_from_the_whole_font():
    from quxiang.signing.adapters.agreement_pdf import render_agreement

    doc = bench_pdf.sample_document()
    ours, baseline = render_agreement(doc), bench_pdf.baseline_render(doc)
    assert ours != baseline  # another font program embedded
    assert text(ours) == text(baseline)
    assert "李明华" in text(ours)
    assert render_agreement(doc) == ours  # the baseline left the platform's font in place


def test_a_tiny_run_ends_with_the_figures(capsys):
    assert bench_pdf.main(["--renders", "2", "--rounds", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = re.fullmatch(r"render_ms=([\d.]+) baseline_ms=([\d.]+) ratio=([\d.]+) bytes=(\d+)", last)
    assert figures, last
    render_ms, baseline_ms, ratio = (float(figures.group(i)) for i in (1, 2, 3))
    assert render_ms > 0 and baseline_ms > 0 and ratio == pytest.approx(render_ms / baseline_ms, rel=0.05, abs=0.01)


def test_bad_sizes_are_refused():
    with pytest.raises(SystemExit):
        bench_pdf.main(["--renders", "1", "--rounds", "2"])
