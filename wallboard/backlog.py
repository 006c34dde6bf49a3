"""Panel: the open cases by level of the escalation ladder and by workflow status."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from dispatch.models import LEVELS
from wallboard import theme
from wallboard.fonts import wall_font
from wallboard.panel import Panel
from wallboard.wall_model import OPEN_STATUSES, WallData
from wallboard.words import LEVEL, STATUS, Translate


class BacklogPanel(Panel):
    def __init__(self, tr: Translate, family: str | None, width: int) -> None:
        super().__init__(tr("Open cases by level and status"), family, width)
        self.levels = self.plot()
        self.levels.getAxis("bottom").setTicks(
            [[(i, tr(LEVEL[lv])) for i, lv in enumerate(LEVELS)]]
        )
        self.level_bars = pg.BarGraphItem(
            x=list(range(len(LEVELS))),
            height=[0] * len(LEVELS),
            width=0.6,
            brushes=[theme.LEVEL_COLOUR[lv] for lv in LEVELS],
        )
        self.levels.addItem(self.level_bars)
        self.level_numbers = [self._number() for _ in LEVELS]
        for item in self.level_numbers:
            self.levels.addItem(item)
        self.levels.setXRange(-0.6, len(LEVELS) - 0.4, padding=0)
        self.statuses = self.plot()
        self.statuses.getAxis("left").setTicks(
            [[(i, tr(STATUS[st])) for i, st in enumerate(OPEN_STATUSES)]]
        )
        self.statuses.getAxis("bottom").hide()
        self.status_bars = pg.BarGraphItem(
            x0=0,
            y=list(range(len(OPEN_STATUSES))),
            height=0.65,
            width=[0] * len(OPEN_STATUSES),
            brush=theme.ACCENT,
        )
        self.statuses.addItem(self.status_bars)
        self.status_numbers = [self._number(anchor=(0, 0.5)) for _ in OPEN_STATUSES]
        for item in self.status_numbers:
            self.statuses.addItem(item)
        self.statuses.getViewBox().invertY(True)  # the workflow reads top to bottom
        row = QWidget()
        row.setStyleSheet("background: transparent;")
        side_by_side = QHBoxLayout(row)
        side_by_side.setContentsMargins(0, 0, 0, 0)
        side_by_side.addWidget(self.levels, 4)
        side_by_side.addWidget(self.statuses, 5)
        self.add(row)
        self._shown: tuple[object, ...] = ()
        self._ranges = (0, 0)

    def _number(self, anchor: tuple[float, float] = (0.5, 1.0)) -> pg.TextItem:
        item = pg.TextItem("", color=theme.TEXT, anchor=anchor)
        item.setFont(wall_font(self.family, self.px(24), bold=True))
        return item

    def show_data(self, data: WallData) -> None:
        levels = [data.by_level[lv] for lv in LEVELS]
        statuses = [data.by_status[st] for st in OPEN_STATUSES]
        if (levels, statuses) == self._shown:
            return
        self._shown = (levels, statuses)
        self.level_bars.setOpts(height=levels)
        top = max(1, *levels)
        wide = max(1, *statuses)
        if (top, wide) != self._ranges:  # new ranges re-lay the axes: only on a change
            self._ranges = (top, wide)
            self.levels.setYRange(0, top * 1.3, padding=0)
            self.statuses.setXRange(0, wide * 1.2, padding=0)
            self.statuses.setYRange(-0.6, len(OPEN_STATUSES) - 0.4, padding=0)
        for i, (item, n) in enumerate(zip(self.level_numbers, levels, strict=True)):
            item.setText(str(n))
            item.setPos(i, n)
        self.status_bars.setOpts(width=statuses)
        for i, (item, n) in enumerate(zip(self.status_numbers, statuses, strict=True)):
            item.setText(f" {n}")
            item.setPos(n, i)
