"""Panel: this month's figures as dials against the hall's targets (config ``[wallboard]``).

The figures are :mod:`dispatch.metrics`' (主动发现率, 结案率, 按期结案率, 回访满意率); each dial
says the percentage in numbers and the target beside it, green when the target is met, amber
within five points of it, red below — never colour alone.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QWidget

from dispatch.config import WallboardSettings
from dispatch.sla import Colour
from wallboard import theme
from wallboard.fonts import wall_font
from wallboard.panel import Panel
from wallboard.wall_model import WallData
from wallboard.words import Translate


def verdict(value: float | None, target: float) -> Colour | None:
    """Met (green), within five points (amber), or short (red); None without a figure."""
    if value is None:
        return None
    if value >= target:
        return "green"
    return "amber" if value >= target - 0.05 else "red"


class Gauge(QWidget):
    """One dial: a 240° arc filled to the figure, a tick at the target, the numbers inside."""

    def __init__(
        self, name: str, target: float, target_word: str, family: str | None, width: int
    ) -> None:
        super().__init__()
        self.name = name
        self.target = target
        self.target_word = target_word
        self.family = family
        self.width_px = width
        self.value: float | None = None

    def set_value(self, value: float | None) -> None:
        if value != self.value:
            self.value = value
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        side = min(w, h * 1.15) * 0.86
        rect = QRectF((w - side) / 2, h * 0.06, side, side)
        thick = max(4.0, side * 0.09)
        p.setPen(
            QPen(QColor(theme.PANEL_EDGE), thick, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
        )
        p.drawArc(rect, -30 * 16, 240 * 16)
        colour = verdict(self.value, self.target)
        if self.value is not None and colour is not None:
            span = int(240 * 16 * max(0.0, min(1.0, self.value)))
            p.setPen(
                QPen(
                    QColor(theme.LIGHT[colour]),
                    thick,
                    Qt.PenStyle.SolidLine,
                    Qt.PenCapStyle.FlatCap,
                )
            )
            p.drawArc(rect, 210 * 16 - span, span)
        # The target: a white tick across the arc.
        p.save()
        p.translate(rect.center())
        p.rotate(-(210 - 240 * self.target))
        p.setPen(QPen(QColor(theme.TEXT), max(2.0, thick / 5)))
        p.drawLine(int(side / 2 - thick), 0, int(side / 2 + thick * 0.6), 0)
        p.restore()
        shown = "—" if self.value is None else f"{self.value * 100:.1f}%"
        p.setPen(QColor(theme.TEXT if colour is None else theme.LIGHT[colour]))
        p.setFont(wall_font(self.family, max(8, round(side * 0.19)), bold=True))
        p.drawText(
            QRectF(0, rect.top() + side * 0.32, w, side * 0.26), Qt.AlignmentFlag.AlignCenter, shown
        )
        p.setPen(QColor(theme.MUTED))
        p.setFont(wall_font(self.family, max(7, round(side * 0.12))))
        p.drawText(
            QRectF(0, rect.top() + side * 0.60, w, side * 0.14),
            Qt.AlignmentFlag.AlignCenter,
            f"{self.target_word} {self.target * 100:.0f}%",
        )
        p.setPen(QColor(theme.TEXT))
        p.setFont(wall_font(self.family, theme.scaled(24, self.width_px), bold=True))
        p.drawText(QRectF(0, h * 0.80, w, h * 0.2), Qt.AlignmentFlag.AlignCenter, self.name)
        p.end()


class GaugesPanel(Panel):
    def __init__(
        self, tr: Translate, targets: WallboardSettings, family: str | None, width: int
    ) -> None:
        super().__init__(tr("This month against the targets"), family, width)
        row = QWidget()
        row.setStyleSheet("background: transparent;")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        word = tr("target")
        self.found = Gauge(tr("found first"), targets.found_first_target, word, family, width)
        self.closed = Gauge(tr("closure rate"), targets.closed_target, word, family, width)
        self.on_time = Gauge(tr("closed on time"), targets.on_time_target, word, family, width)
        self.satisfied = Gauge(
            tr("callbacks satisfied"), targets.satisfied_target, word, family, width
        )
        for gauge in (self.found, self.closed, self.on_time, self.satisfied):
            layout.addWidget(gauge)
        self.add(row)

    def show_data(self, data: WallData) -> None:
        month = data.month
        self.found.set_value(month.proactive_share)
        self.closed.set_value(month.closure_rate)
        self.on_time.set_value(month.on_time_rate)
        self.satisfied.set_value(month.satisfaction_rate)
