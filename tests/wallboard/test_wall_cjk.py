"""Chinese on the wall: a CJK font is chosen at start, and the wall's labels are drawn with its
glyphs — pixel for pixel what the font draws, not the boxes a Latin-only font leaves."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel

from console.i18n import translator
from dispatch.config import Settings
from wallboard import fonts, theme
from wallboard.fonts import NO_CJK_FONT, choose_cjk_family, has_glyphs
from wallboard.window import WallWindow


def drawn(text: str, font: QFont, size: tuple[int, int]) -> QImage:
    """``text`` in ``font`` on the panel colour, as a QLabel lays it out (left, centred)."""
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    image.fill(QColor(theme.PANEL))
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(QColor(theme.ACCENT))
    painter.drawText(
        QRect(0, 0, *size), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
    )
    painter.end()
    return image


def same_share(a: QImage, b: QImage) -> float:
    """The share of inked pixels (in either image) that are equal in both."""
    ground = QColor(theme.PANEL).rgb()
    inked = equal = 0
    for y in range(a.height()):
        for x in range(a.width()):
            pa, pb = a.pixel(x, y), b.pixel(x, y)
            if pa != ground or pb != ground:
                inked += 1
                equal += pa == pb
    return equal / max(1, inked)


def test_a_cjk_font_is_chosen_without_a_warning(qt_app: QApplication) -> None:
    err = io.StringIO()
    family = choose_cjk_family(err)
    assert family is not None and has_glyphs(family, "网格地图在办案件区领导街道社区")
    assert NO_CJK_FONT not in err.getvalue()


def test_the_walls_chinese_labels_are_drawn_with_the_fonts_glyphs(qt_app: QApplication) -> None:
    family = choose_cjk_family(None)
    window = WallWindow(
        translator("zh_CN"), Settings().wallboard, family, ZoneInfo("Asia/Shanghai"), (1280, 720)
    )
    window.show()
    QApplication.processEvents()
    label: QLabel = window.map.title
    text = label.text()
    assert text.startswith("网格地图")
    where = QRect(label.mapTo(window, QPoint(0, 0)), label.size())
    shown = window.grab(where).toImage().convertToFormat(QImage.Format.Format_RGB32)
    size = (shown.width(), shown.height())
    with_font = drawn(text, label.font(), size)
    boxes_font = QFont("DejaVu Sans")  # Latin only; no merging in of another font's glyphs
    boxes_font.setPixelSize(label.font().pixelSize())
    boxes_font.setBold(True)
    boxes_font.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)
    with_boxes = drawn(text, boxes_font, size)
    assert same_share(shown, with_font) > 0.9  # the wall draws the CJK font's glyphs
    assert same_share(shown, with_boxes) < 0.5  # and not the boxes of a font without them
    window.close()


def test_with_no_cjk_font_installed_the_wall_says_so_at_start(
    qt_app: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with Latin fonts only (as a bare CI image): a warning on stderr at start,
    naming the package to install, instead of boxes found later on the exported PNG."""

    class LatinOnly:
        WritingSystem = QFontDatabase.WritingSystem

        @staticmethod
        def families() -> list[str]:
            return ["DejaVu Sans", "DejaVu Serif"]

        @staticmethod
        def writingSystems(family: str) -> list[QFontDatabase.WritingSystem]:
            return [QFontDatabase.WritingSystem.Latin]

    monkeypatch.setattr(fonts, "QFontDatabase", LatinOnly)
    err = io.StringIO()
    assert fonts.choose_cjk_family(err) is None
    assert "fonts-noto-cjk" in err.getvalue()
