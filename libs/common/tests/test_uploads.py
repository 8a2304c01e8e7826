"""Uploads are judged by their content and bounded in size."""

from __future__ import annotations

import io

import pytest

from quxiang.common.uploads import JPEG, PDF, PNG, detect, download_name, read_upload
from quxiang.common.web.errors import ProblemError

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\0" * 32


def test_types_by_content_not_by_name():
    assert (detect(PDF_BYTES), detect(PNG_BYTES), detect(JPEG_BYTES)) == (PDF, PNG, JPEG)
    upload = read_upload(io.BytesIO(PNG_BYTES), "scan.pdf")
    assert upload.content_type == PNG and upload.size == len(PNG_BYTES) and len(upload.sha256) == 64
    with pytest.raises(ProblemError) as refused:
        read_upload(io.BytesIO(b"MZ\x90\x00 not a document"), "scan.pdf")
    assert refused.value.status == 415 and refused.value.code == "unsupported_file_type"
    with pytest.raises(ProblemError) as only_pdf:
        read_upload(io.BytesIO(PNG_BYTES), "letter.png", accepted=[PDF])
    assert only_pdf.value.status == 415 and "PDF" in only_pdf.value.detail


def test_size_is_bounded_and_empty_refused():
    assert read_upload(io.BytesIO(PDF_BYTES), "a.pdf", max_bytes=len(PDF_BYTES)).size == len(PDF_BYTES)
    with pytest.raises(ProblemError) as too_large:
        read_upload(io.BytesIO(PDF_BYTES + b"x"), "a.pdf", max_bytes=len(PDF_BYTES))
    assert too_large.value.status == 413
    with pytest.raises(ProblemError) as empty:
        read_upload(io.BytesIO(b""), "a.pdf")
    assert empty.value.status == 400


@pytest.mark.parametrize(("given", "kept"), [("扫描件\x00.pdf", "扫描件.pdf"), ("a\r\nb.pdf", "ab.pdf"),
                                           ("x\ud800.pdf", "x.pdf"), ("\x00", "upload"), (None, "upload")])
def test_a_file_name_keeps_only_what_a_database_and_a_header_can_hold(given, kept):
    assert read_upload(io.BytesIO(PDF_BYTES), given).filename == kept


@pytest.mark.parametrize(("filename", "content_type", "expected"), [
    ("录取通知书.png", PNG, "录取通知书.png"),
    ("letter.pdf", PNG, "letter.pdf.png"),        # a PNG named .pdf opens as what it is
    ("SCAN.PDF", PDF, "SCAN.PDF"),
    ("photo.jpeg", JPEG, "photo.jpeg"),
    ("upload", PDF, "签约材料-1.pdf"),             # read_upload's name for none given
    (None, JPEG, "签约材料-1.jpg"),
])
def test_a_download_keeps_the_uploaders_name_with_its_contents_extension(filename, content_type, expected):
    assert download_name(filename, content_type, "签约材料-1") == expected
