"""The wall's window: a header (street, hub time, connection) over the six panels.

It only draws: :meth:`WallWindow.show_data` takes one :class:`WallData` and hands each panel
its part; each panel redraws only when its own figures moved. Layout at 1920×1080: the hourly
chart, the backlog and the gauges on the left, the map large on the right, the urgent
countdown across the bottom where it is seen from the back of the hall.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from dispatch.config import WallboardSettings
from wallboard import theme
from wallboard.backlog import BacklogPanel
from wallboard.countdown import CountdownPanel
from wallboard.fonts import wall_font
from wallboard.gauges import GaugesPanel
from wallboard.grid_map import GridMapPanel
from wallboard.hourly import HourlyPanel
from wallboard.overdue_units import OverdueUnitsPanel
from wallboard.panel import Panel
from wallboard.wall_model import WallData
from wallboard.words import Translate

URGENT_CARDS = 4


class WallWindow(QWidget):
    def __init__(
        self,
        tr: Translate,
        targets: WallboardSettings,
        family: str | None,
        tz: ZoneInfo,
        size: tuple[int, int] = (1920, 1080),
    ) -> None:
        super().__init__()
        pg.setConfigOptions(antialias=False, background=theme.PANEL, foreground=theme.TEXT)
        width = size[0]
        self.hall_words = tr("Grid management command hall")
        self.tz = tz
        self.setWindowTitle(tr("griddesk wall"))
        self.resize(*size)
        self.setStyleSheet(f"background: {theme.BACKGROUND};")
        outer = QVBoxLayout(self)
        pad = theme.scaled(14, width)
        outer.setContentsMargins(pad, pad, pad, pad)
        outer.setSpacing(pad)

        header = QWidget()
        row = QHBoxLayout(header)
        row.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(self.hall_words)
        self.title.setFont(wall_font(family, theme.scaled(44, width), bold=True))
        self.title.setStyleSheet(f"color: {theme.TEXT};")
        self.link = QLabel("")
        self.link.setFont(wall_font(family, theme.scaled(24, width)))
        self.clock = QLabel("")
        self.clock.setFont(wall_font(family, theme.scaled(44, width), bold=True))
        self.clock.setStyleSheet(f"color: {theme.TEXT};")
        # A long street name must give way, not push the clock off the screen.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.title, 1)
        row.addWidget(self.link)
        row.addSpacing(pad * 2)
        row.addWidget(self.clock)
        outer.addWidget(header)

        body = QGridLayout()
        body.setSpacing(pad)
        self.hourly = HourlyPanel(tr, family, width)
        self.backlog = BacklogPanel(tr, family, width)
        self.gauges = GaugesPanel(tr, targets, family, width)
        self.overdue = OverdueUnitsPanel(tr, targets.top_units, family, width)
        self.map = GridMapPanel(tr, family, width)
        self.countdown = CountdownPanel(tr, URGENT_CARDS, family, width)
        body.addWidget(self.hourly, 0, 0, 1, 2)
        body.addWidget(self.backlog, 1, 0)
        body.addWidget(self.overdue, 1, 1)
        body.addWidget(self.gauges, 2, 0, 1, 2)
        body.addWidget(self.map, 0, 2, 3, 1)
        body.setColumnStretch(0, 6)
        body.setColumnStretch(1, 4)
        body.setColumnStretch(2, 7)
        body.setRowStretch(0, 4)
        body.setRowStretch(1, 7)
        body.setRowStretch(2, 4)
        for panel in (self.hourly, self.backlog, self.gauges, self.overdue, self.map):
            # The rows share the height by their stretch, not by what a chart would like.
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        outer.addLayout(body, 1)
        # The countdown keeps a fixed band at the bottom; the charts take the rest.
        self.countdown.setFixedHeight(theme.scaled(240, width))
        outer.addWidget(self.countdown)
        self.panels = (
            self.hourly,
            self.backlog,
            self.gauges,
            self.overdue,
            self.map,
            self.countdown,
        )
        self.groups: tuple[tuple[Panel, ...], ...] = (
            (self.countdown,),
            (self.hourly,),
            (self.backlog,),
            (self.gauges, self.overdue),
            (self.map,),
        )
        """Panels redrawn together, one group a frame (see wallboard.app.PHASES)."""
        self.set_link(tr("connecting"), ok=False)

    def show_data(self, data: WallData) -> None:
        """Everything at once (a picture for export)."""
        for phase in range(len(self.groups)):
            self.show_part(data, phase)

    def show_part(self, data: WallData, phase: int) -> None:
        """The clock and countdown (0), the hourly chart (1), the backlog (2), the figures
        (3) or the map (4)."""
        if phase == 0:
            if data.street:
                self.title.setText(f"{data.street} · {self.hall_words}")
            self.show_time(data.now)
        for panel in self.groups[phase % len(self.groups)]:
            panel.show_data(data)

    def show_time(self, now: datetime) -> None:
        self.clock.setText(now.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S"))

    def set_link(self, words: str, *, ok: bool) -> None:
        """The hub connection in words, green when live, red otherwise."""
        colour = theme.LIGHT["green"] if ok else theme.LIGHT["red"]
        self.link.setText(f"● {words}")
        self.link.setStyleSheet(f"color: {colour};")
        self.link.setAlignment(Qt.AlignmentFlag.AlignVCenter)
