"""Panel: the urgent cases nearest their deadline, countdowns in large type with the light.

The colour and the seconds come from :func:`dispatch.sla.light` (through the wall model); the
numbers are always written out — "超时 03:12" in red, never a red box alone.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from wallboard import theme
from wallboard.panel import Panel
from wallboard.wall_model import UrgentRow, WallData
from wallboard.words import Translate


def clock_text(seconds_left: float) -> str:
    """Time left as H:MM:SS or MM:SS; the same for time over (the caller says which)."""
    total = int(abs(seconds_left))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class _Card(QFrame):
    def __init__(self, panel: Panel) -> None:
        super().__init__()
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        top = QWidget()
        top.setStyleSheet("background: transparent;")
        line = QHBoxLayout(top)
        line.setContentsMargins(0, 0, 0, 0)
        self.lamp = QLabel()
        size = panel.px(40)
        self.lamp.setFixedSize(size, size)
        self.clock = panel.label("", 52)
        line.addWidget(self.lamp)
        line.addWidget(self.clock, 1)
        self.title = panel.label("", 26)
        self.place = panel.label("", 20, theme.MUTED)
        layout.addWidget(top)
        layout.addWidget(self.title)
        layout.addWidget(self.place)
        self.lamp_size = size
        self._colour: str | None = "unset"

    def show_row(self, row: UrgentRow | None, over_word: str, left_word: str) -> None:
        colour_now = theme.LIGHT[row.light.colour] if row is not None else None
        if colour_now != self._colour:  # style sheets re-polish the widget: only on a change
            self._colour = colour_now
            self._paint_colour(colour_now)
        if row is None:
            for label in (self.clock, self.title, self.place):
                label.setText("")
            return
        over = row.light.seconds_left < 0
        word = over_word if over else left_word
        self.clock.setText(f"{word} {clock_text(row.light.seconds_left)}")
        self.title.setText(row.title)
        self.place.setText(f"{row.case_id} · {row.place}" if row.place else row.case_id)

    def _paint_colour(self, colour: str | None) -> None:
        if colour is None:
            self.setStyleSheet("#card { background: transparent; border: none; }")
            self.lamp.setStyleSheet("background: transparent;")
            return
        self.clock.setStyleSheet(f"color: {colour}; background: transparent; border: none;")
        self.lamp.setStyleSheet(
            f"background: {colour}; border-radius: {self.lamp_size // 2}px; border: none;"
        )
        self.setStyleSheet(
            f"#card {{ background: #0a1628; border: 2px solid {colour}; border-radius: 8px; }}"
        )


class CountdownPanel(Panel):
    def __init__(self, tr: Translate, rows: int, family: str | None, width: int) -> None:
        super().__init__(tr("Urgent cases: time to the deadline"), family, width)
        self.over = tr("over")
        self.left = tr("left")
        self.none = self.label(tr("no urgent case open"), 30, theme.LIGHT["green"])
        row = QWidget()
        row.setStyleSheet("background: transparent;")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.cards = [_Card(self) for _ in range(rows)]
        for card in self.cards:
            layout.addWidget(card, 1)
        self.add(self.none, 0)
        self.add(row)

    def show_data(self, data: WallData) -> None:
        self.none.setVisible(not data.urgent)
        for i, card in enumerate(self.cards):
            card.show_row(data.urgent[i] if i < len(data.urgent) else None, self.over, self.left)
