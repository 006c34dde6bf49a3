"""Panel: cases taken in and closed per hour today, against the same weekday last week."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from wallboard import theme
from wallboard.panel import Panel
from wallboard.wall_model import WallData
from wallboard.words import Translate


class HourlyPanel(Panel):
    def __init__(self, tr: Translate, family: str | None, width: int) -> None:
        super().__init__(tr("Intake and closure per hour"), family, width)
        self.chart = self.plot()
        self.chart.getAxis("bottom").setTicks([[(h, f"{h}") for h in range(0, 24, 3)]])
        legend = self.chart.addLegend(offset=(-10, 5), labelTextSize=f"{self.px(13)}pt", colCount=2)
        legend.setLabelTextColor(theme.TEXT)
        self.intake = pg.BarGraphItem(
            x=[h - 0.2 for h in range(24)], height=[0] * 24, width=0.38, brush=theme.INTAKE
        )
        self.closed = pg.BarGraphItem(
            x=[h + 0.2 for h in range(24)], height=[0] * 24, width=0.38, brush=theme.CLOSED
        )
        dash = Qt.PenStyle.DashLine
        self.intake_before = pg.PlotDataItem(
            pen=pg.mkPen(theme.INTAKE, width=self.px(3), style=dash)
        )
        self.closed_before = pg.PlotDataItem(
            pen=pg.mkPen(theme.CLOSED, width=self.px(3), style=dash)
        )
        self.chart.addItem(self.intake)
        self.chart.addItem(self.closed)
        self.chart.addItem(self.intake_before)
        self.chart.addItem(self.closed_before)
        legend.addItem(self.intake, tr("taken in today"))
        legend.addItem(self.closed, tr("closed today"))
        legend.addItem(self.intake_before, tr("taken in, same day last week"))
        legend.addItem(self.closed_before, tr("closed, same day last week"))
        self.chart.setXRange(-0.6, 23.6, padding=0)
        self.add(self.chart)
        self._shown: tuple[object, ...] = ()
        self._top = 0

    def show_data(self, data: WallData) -> None:
        key = (data.intake_today, data.closed_today, data.intake_last_week, data.closed_last_week)
        if key == self._shown:  # nothing moved: no repaint of the chart
            return
        self._shown = key
        self.intake.setOpts(height=list(data.intake_today))
        self.closed.setOpts(height=list(data.closed_today))
        hours = list(range(24))
        self.intake_before.setData(hours, list(data.intake_last_week))
        self.closed_before.setData(hours, list(data.closed_last_week))
        top = max(
            1,
            *data.intake_today,
            *data.closed_today,
            *data.intake_last_week,
            *data.closed_last_week,
        )
        if top != self._top:  # a new range re-lays the axis: only when the tallest bar moved
            self._top = top
            self.chart.setYRange(0, top * 1.9, padding=0)
