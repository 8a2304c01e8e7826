"""The CJK font that agreement PDFs embed.

``QX_PDF_FONT`` names a TrueType/OpenType font file (``.ttf``, ``.otf`` or a ``.ttc`` collection,
whose first face is used) with Chinese glyphs. Unset, the Debian package ``fonts-wqy-microhei``
is expected (``make install`` installs it). The font is part of the document: a different font
gives different PDF bytes, hence a different SHA-256 for the same agreement.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FONT_ENV_VAR = "QX_PDF_FONT"
# The cut-down copies of the font (common_subset), shared by every process of the machine.
SUBSET_DIR = Path(tempfile.gettempdir()) / "quxiang-pdf-fonts"
SUBSET_VERSION = "gb2312-4"  # part of the copy's name: change it when what is kept, or how, changes
FONT_PACKAGE = "fonts-wqy-microhei"

# Tried in order when QX_PDF_FONT is unset. Both have TrueType outlines, which fpdf2 subsets into
# a FontFile2 stream; the first is what the Makefile installs.
CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


class CJKFontMissing(RuntimeError):
    """No font with Chinese glyphs could be found for rendering agreement PDFs."""


def find_cjk_font() -> Path:
    """Return the font file to embed: ``QX_PDF_FONT`` if set, else the first installed candidate.

    Raises ``CJKFontMissing`` naming ``QX_PDF_FONT`` when it points to a missing file, or naming the
    Debian package to install when no candidate is installed.
    """
    configured = os.environ.get(FONT_ENV_VAR, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise CJKFontMissing(
                f"{FONT_ENV_VAR}={configured!r} is not a font file: point {FONT_ENV_VAR} to a TTF/OTF/TTC "
                f"font with Chinese glyphs, or unset it to use {FONT_PACKAGE}"
            )
        return path
    for path in CANDIDATES:
        if path.is_file():
            return path
    raise CJKFontMissing(
        f"No CJK font for agreement PDFs: install the Debian package {FONT_PACKAGE} "
        f"(apt-get install --no-install-recommends {FONT_PACKAGE}; `make install` does it), "
        f"or set {FONT_ENV_VAR} to a TTF/OTF/TTC font with Chinese glyphs. Looked for: "
        + ", ".join(str(p) for p in CANDIDATES)
    )


def _subset_options() -> Any:
    from fontTools import subset

    options = subset.Options()
    options.name_IDs, options.name_languages = ["*"], ["*"]
    options.notdef_outline, options.recalc_timestamp = True, False
    # Glyph names kept (post format 2): without them every process that loads the font derives
    # them from the cmap, a tenth of a render; the PDF embeds none either way.
    options.glyph_names = True
    # Horizontal text without shaping is all fpdf2 draws: the layout tables (which fpdf2 drops from
    # what it embeds anyway) and the vertical metrics only kept glyphs alive and cost parsing.
    options.layout_features = []
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF", "vhea", "vmtx"]  # FFTM: FontForge's timestamps
    return options


def _decompose_composites(face: Any) -> None:
    """Redraw every composite glyph as a simple one with its components' outlines in place.

    wqy-microhei builds 6,492 of the kept characters from 5,668 glyphs that no character maps to;
    parsing those is two fifths of what fpdf2 reads per document, and decomposed, the kept
    characters need none of them. The outlines are the same (a test compares each character's
    area, box and advance with the original font's); only the composites' hinting goes, which PDF
    viewers do not use."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    glyf, glyphs = face["glyf"], face.getGlyphSet()
    for name in face.getGlyphOrder():
        if glyf[name].isComposite():
            recording = DecomposingRecordingPen(glyphs)
            glyphs[name].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(pen)
            glyf[name] = pen.glyph()


def _kept(codepoint: int) -> bool:
    """Latin, punctuation and symbols below U+3000, and whatever GB 2312 encodes (its 6,763 汉字, the
    full-width forms and the CJK punctuation)."""
    if codepoint < 0x3000:
        return True
    try:
        chr(codepoint).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=4)
def common_subset(font: Path) -> Path | None:
    """``font`` (its first face) cut down to the characters of ``_kept``, its composite glyphs
    decomposed: about a sixth of wqy-microhei's glyphs, so fpdf2 parses and subsets it in a
    fraction of the time, and nearly every agreement needs nothing else. Built once per font and
    machine (about five seconds; written to ``SUBSET_DIR`` atomically, so processes share it); None
    when it cannot be made (the caller then uses the whole font)."""
    from fontTools import subset, ttLib

    stat = font.stat()
    key = hashlib.sha256(f"{font.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{SUBSET_VERSION}".encode()).hexdigest()
    target = SUBSET_DIR / f"{key[:24]}.ttf"
    if target.is_file():
        return target
    try:
        face = ttLib.TTFont(str(font), fontNumber=0, recalcTimestamp=False)  # same bytes on every machine
        kept = [c for c in face.getBestCmap() if _kept(c)]
        subsetter = subset.Subsetter(_subset_options())
        subsetter.populate(unicodes=kept)
        subsetter.subset(face)
        _decompose_composites(face)
        # Again, to drop the glyphs that were there only as parts of others.
        subsetter = subset.Subsetter(_subset_options())
        subsetter.populate(unicodes=kept)
        subsetter.subset(face)
        SUBSET_DIR.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        face.save(str(partial))
        os.replace(partial, target)
    except Exception:  # a font fontTools cannot cut: the whole font still works
        log.warning("could not cut %s down for agreement PDFs; they embed from the whole font", font, exc_info=True)
        return None
    return target
