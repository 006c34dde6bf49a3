"""Panel: the units holding the most overdue cases (:func:`dispatch.sla.is_overdue`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from wallboard import theme
from wallboard.panel import Panel
from wallboard.wall_model import WallData
from wallboard.words import Translate


class OverdueUnitsPanel(Panel):
    """A ranked list: unit name, a bar to scale, the count in numbers."""

    def __init__(self, tr: Translate, rows: int, family: str | None, width: int) -> None:
        super().__init__(tr("Most overdue units"), family, width)
        self.none = tr("no overdue cases")
        self.nobody = tr("not yet dispatched")
        grid = QWidget()
        grid.setStyleSheet("background: transparent;")
        layout = QGridLayout(grid)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(self.px(4))
        self.names: list[QLabel] = []
        self.bars: list[QLabel] = []
        self.counts: list[QLabel] = []
        for i in range(rows):
            name = self.label("", 24)
            bar = QLabel()
            bar.setFixedHeight(self.px(22))
            count = self.label("", 26, theme.LIGHT["red"])
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            layout.addWidget(name, i, 0)
            layout.addWidget(bar, i, 1, Qt.AlignmentFlag.AlignLeft)
            layout.addWidget(count, i, 2)
            self.names.append(name)
            self.bars.append(bar)
            self.counts.append(count)
        layout.setColumnStretch(0, 1)
        self.bar_room = self.px(200)
        layout.setColumnMinimumWidth(1, self.bar_room)
        self.add(grid)
        self._shown: list[tuple[str, int]] | None = None

    def show_data(self, data: WallData) -> None:
        if data.overdue_units == self._shown:
            return
        self._shown = list(data.overdue_units)
        most = max((n for _, n in data.overdue_units), default=1)
        for i, (name, bar, count) in enumerate(
            zip(self.names, self.bars, self.counts, strict=True)
        ):
            if i < len(data.overdue_units):
                unit, n = data.overdue_units[i]
                name.setText(unit or self.nobody)
                count.setText(str(n))
                bar.setFixedWidth(max(self.px(6), round(self.bar_room * n / most)))
                bar.setStyleSheet(f"background: {theme.LIGHT['red']}; border-radius: 4px;")
            else:
                name.setText(self.none if i == 0 and not data.overdue_units else "")
                count.setText("")
                bar.setFixedWidth(0)
                bar.setStyleSheet("background: transparent;")
