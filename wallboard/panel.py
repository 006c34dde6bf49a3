"""The frame every wall panel sits in: a dark card with a title in large type."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from wallboard import theme
from wallboard.fonts import wall_font
from wallboard.wall_model import WallData


class Panel(QFrame):
    """A titled card; subclasses put their body in :attr:`body`."""

    def __init__(self, title: str, family: str | None, width: int) -> None:
        super().__init__()
        self.family = family
        self.width_px = width
        self.setObjectName("panel")
        self.setStyleSheet(
            f"#panel {{ background: {theme.PANEL}; border: 1px solid {theme.PANEL_EDGE};"
            " border-radius: 10px; }"
        )
        self.body = QVBoxLayout(self)
        pad = theme.scaled(12, width)
        self.body.setContentsMargins(pad, pad // 2, pad, pad // 2)
        self.title = QLabel(title)
        self.title.setFont(wall_font(family, self.px(30), bold=True))
        self.title.setStyleSheet(f"color: {theme.ACCENT}; background: transparent; border: none;")
        self.body.addWidget(self.title)

    def show_data(self, data: WallData) -> None:
        """Draw the panel's part of ``data`` (each panel skips what did not move)."""
        raise NotImplementedError

    def px(self, pixels: int) -> int:
        """``pixels`` at 1920 wide, scaled to this wall."""
        return theme.scaled(pixels, self.width_px)

    def plot(self) -> pg.PlotWidget:
        """A chart on the panel's background, its axes in the wall's type."""
        widget = pg.PlotWidget(background=theme.PANEL)
        widget.setMenuEnabled(False)
        widget.setMouseEnabled(x=False, y=False)
        widget.hideButtons()
        for name in ("left", "bottom"):
            axis = widget.getAxis(name)
            axis.setStyle(tickFont=wall_font(self.family, self.px(20)))
            axis.setTextPen(theme.TEXT)
            axis.setPen(theme.MUTED)
        return widget

    def label(self, text: str = "", pixels: int = 24, colour: str = theme.TEXT) -> QLabel:
        out = QLabel(text)
        out.setFont(wall_font(self.family, self.px(pixels), bold=pixels >= 40))
        out.setStyleSheet(f"color: {colour}; background: transparent; border: none;")
        return out

    def add(self, widget: QWidget, stretch: int = 1) -> None:
        self.body.addWidget(widget, stretch)
