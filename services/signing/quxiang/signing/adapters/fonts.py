"""The CJK font that agreement PDFs embed.

``QX_PDF_FONT`` names a TrueType/OpenType font file (``.ttf``, ``.otf`` or a ``.ttc`` collection,
whose first face is used) with Chinese glyphs. Unset, the Debian package ``fonts-wqy-microhei``
is expected (``make install`` installs it). The font is part of the document: a different font
gives different PDF bytes, hence a different SHA-256 for the same agreement.
"""

from __future__ import annotations

import os
from pathlib import Path

FONT_ENV_VAR = "QX_PDF_FONT"
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
