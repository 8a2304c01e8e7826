"""Uploaded documents (agreement scans, termination letters, proofs): the type is judged by the
content, never by the file name or the declared type, and the size is bounded before the whole body
is read. Answers problems naming what was wrong (413 too large, 415 not an accepted type)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from quxiang.common.web.errors import ProblemError

# Control characters (newlines included) and lone surrogates: never part of a file's name.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DOCUMENT_TYPES = (PDF, JPEG, PNG)
LABELS = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def detect(head: bytes) -> str | None:
    """The type of a file from its first bytes, or None if it is none of PDF, JPEG and PNG."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # detected from the content
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_upload(stream: BinaryIO, filename: str | None, *, accepted: Iterable[str] = DOCUMENT_TYPES,
                max_bytes: int = MAX_DOCUMENT_BYTES) -> Upload:
    """Read at most ``max_bytes`` (one more byte means too large) and check the type by content."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ProblemError(413, "file_too_large", detail=f"文件不能超过 {max_bytes // (1024 * 1024)} MB",
                           max_bytes=max_bytes)
    if not data:
        raise ProblemError(400, "file_empty", detail="上传的文件是空的")
    accepted = tuple(accepted)
    kind = detect(data[:16])
    if kind not in accepted:
        allowed = "、".join(LABELS.get(t, t) for t in accepted)
        raise ProblemError(415, "unsupported_file_type", accepted=list(accepted),
                           detail=f"只接受 {allowed} 文件（按文件内容判断，与扩展名无关）")
    # The name is the client's to choose: kept for the download, without what no database or
    # header may hold (PostgreSQL refuses NUL; a newline would split a Content-Disposition).
    name = _UNPRINTABLE.sub("", filename or "")[:200] or "upload"
    return Upload(filename=name, content_type=kind, data=data)


def download_name(filename: str | None, content_type: str, fallback: str) -> str:
    """The name a stored upload is downloaded under: the uploader's own (``upload`` when it gave
    none: ``fallback``), with the extension its content has, so the file opens with the right
    program wherever it is saved."""
    name = filename if filename and filename != "upload" else fallback
    extension = EXTENSIONS.get(content_type, "")
    return name if not extension or name.lower().endswith(extension) or (
        content_type == JPEG and name.lower().endswith(".jpeg")) else name + extension
