"""The wall's typeface: a font with Chinese glyphs, chosen once at start.

Without one, Qt draws every 汉字 as an empty box ("tofu") and the wall is unreadable, so the
choice is made before the first panel is built and a missing CJK font is said on stderr at
start (Debian: ``apt-get install fonts-noto-cjk``; ``.ci/run`` installs it) rather than found
on the screenshot in the monthly report.
"""

from __future__ import annotations

import sys
from typing import TextIO

from PySide6.QtGui import QFont, QFontDatabase

PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
)
"""Sans-serif families with simplified Chinese, best first (a big screen reads sans-serif)."""

PROBE = "网格城运中心区领导街道社区"
"""Characters the wall's labels use: a family must carry them all to be chosen."""

NO_CJK_FONT = (
    "griddesk wallboard: no font with Chinese glyphs found; Chinese labels will show as boxes "
    "(install one, e.g. `apt-get install fonts-noto-cjk`)"
)


def has_glyphs(family: str, text: str = PROBE) -> bool:
    """Whether ``family`` draws every character of ``text`` itself."""
    from PySide6.QtGui import QFontMetrics

    metrics = QFontMetrics(QFont(family))
    return all(metrics.inFontUcs4(ord(ch)) for ch in text)


def choose_cjk_family(warn_to: TextIO | None = sys.stderr) -> str | None:
    """The best installed family with Chinese glyphs; None (and a warning) when there is none.
    Needs a QGuiApplication."""
    installed = set(QFontDatabase.families())
    for family in PREFERRED:
        if family in installed and has_glyphs(family):
            return family
    chinese = QFontDatabase.WritingSystem.SimplifiedChinese
    for family in sorted(installed):
        if chinese in QFontDatabase.writingSystems(family) and has_glyphs(family):
            return family
    if warn_to is not None:
        print(NO_CJK_FONT, file=warn_to)
    return None


def wall_font(family: str | None, pixels: int, *, bold: bool = False) -> QFont:
    """The wall's font at ``pixels`` high (pixel sizes: the wall is laid out in pixels)."""
    font = QFont(family) if family is not None else QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font
