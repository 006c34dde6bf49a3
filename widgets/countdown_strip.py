"""The urgent strip: the cases closest to (or past) a deadline, as blocks with big countdowns.

Each block shows the case id, a short title and the countdown in traffic-light colour, always
with the number. As many blocks as the width allows are drawn (fewer at 80 columns), soonest
first. ``flash()`` highlights the strip briefly when a new urgent case arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive, var
from textual.strip import Strip
from textual.widget import Widget

from dispatch.models import Deadline
from dispatch.sla import Light
from widgets.countdown import default_light, format_countdown

BLOCK_WIDTH = 18
"""Cells per block, gap excluded: a 10-digit case id and a short Chinese title fit."""

FLASH_SECONDS = 1.5


@dataclass(frozen=True)
class StripItem:
    key: str
    title: str
    deadline: Deadline


class CountdownStrip(Widget, can_focus=True):
    """The N cases nearest their deadline; left/right choose one, enter opens it."""

    DEFAULT_CSS = (files("widgets") / "countdown_strip.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "countdown-strip--block",
        "countdown-strip--cursor",
        "countdown-strip--green",
        "countdown-strip--amber",
        "countdown-strip--red",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "cursor(-1)", "Previous", show=False),
        Binding("right", "cursor(1)", "Next", show=False),
        Binding("enter", "select", "Open case", show=False),
    ]

    class Selected(Message):
        def __init__(self, strip: CountdownStrip, key: str) -> None:
            super().__init__()
            self.strip = strip
            self.key = key

        @property
        def control(self) -> CountdownStrip:
            return self.strip

    now: Reactive[datetime] = var(lambda: datetime.now(UTC), init=False)
    """Hub time; every block's countdown is redrawn from it."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._items: tuple[StripItem, ...] = ()
        self._light: Callable[[Deadline, datetime], Light] = default_light
        self._cursor = 0
        self._minutes = False
        # What each block's countdown line shows (case id, text, colour), as last drawn: a
        # tick repaints only the characters of the countdowns that changed.
        self._painted: dict[int, tuple[str, str, str]] = {}

    def set_minutes(self, minutes: bool) -> None:
        """Countdowns to the minute (the low-bandwidth setting) or to the second."""
        self._minutes = minutes
        self.refresh()

    def set_items(self, items: Sequence[StripItem]) -> None:
        """The candidates; the strip orders them soonest (or most overdue) first."""
        self._items = tuple(sorted(items, key=lambda item: (item.deadline.due, item.key)))
        self._cursor = min(self._cursor, max(0, len(self._items) - 1))
        self.refresh()

    def set_light(self, fn: Callable[[Deadline, datetime], Light]) -> None:
        self._light = fn
        self.refresh()

    def flash(self) -> None:
        """Highlight the strip for a moment (a new urgent case arrived)."""
        self.add_class("-flash")
        self.set_timer(FLASH_SECONDS, lambda: self.remove_class("-flash"))

    @property
    def shown_keys(self) -> list[str]:
        """Case ids of the blocks that fit the current width, left to right."""
        return [item.key for item in self._items[: self._fits()]]

    def watch_now(self, now: datetime) -> None:
        # Only the countdowns move with time: the ids and titles above them stay put, and on an
        # SSH link every repainted cell is bytes. A countdown whose text only changed at the
        # end ("14:38" → "14:37") repaints from its first changed character.
        dirty: list[Region] = []
        for i, item in enumerate(self._items[: self._fits()]):
            painted = self._painted.get(i)
            text, colour = self._countdown(item)
            if painted == (item.key, text, colour):
                continue
            x = i * (BLOCK_WIDTH + 1)
            if painted is None or painted[0] != item.key or painted[2] != colour:
                dirty.append(Region(x, 2, BLOCK_WIDTH, 1))
                continue
            old = painted[1]
            if len(old) != len(text):
                dirty.append(Region(x, 2, BLOCK_WIDTH, 1))
                continue
            first = next(n for n, (a, b) in enumerate(zip(old, text, strict=True)) if a != b)
            left = (BLOCK_WIDTH - cell_len(text)) // 2
            dirty.append(Region(x + left + first, 2, len(text) - first, 1))
        if dirty:
            self.refresh(*dirty)

    def action_cursor(self, step: int) -> None:
        shown = len(self.shown_keys)
        if shown:
            self._cursor = max(0, min(self._cursor + step, shown - 1))
            self.refresh()

    def action_select(self) -> None:
        keys = self.shown_keys
        if keys:
            self.post_message(self.Selected(self, keys[min(self._cursor, len(keys) - 1)]))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = offset.x // (BLOCK_WIDTH + 1)
        keys = self.shown_keys
        if index < len(keys):
            self._cursor = index
            self.refresh()
            self.post_message(self.Selected(self, keys[index]))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 3

    def _fits(self) -> int:
        return max(1, (self.size.width + 1) // (BLOCK_WIDTH + 1))

    def render_line(self, y: int) -> Strip:
        base = self.rich_style
        width = self.size.width
        segments: list[Segment] = []
        for i, item in enumerate(self._items[: self._fits()]):
            style = base + self.get_component_rich_style("countdown-strip--block")
            if i == self._cursor and self.has_focus:
                style += self.get_component_rich_style("countdown-strip--cursor")
            segments.extend(self._block_line(i, item, y, style))
            segments.append(Segment(" ", base))
        return Strip(segments).crop_extend(0, width, base)

    def _block_line(self, i: int, item: StripItem, y: int, style: Style) -> list[Segment]:
        if y == 0:
            return [Segment(_centre(item.key, BLOCK_WIDTH), style + Style(bold=True))]
        if y == 1:
            return [Segment(_centre(item.title, BLOCK_WIDTH), style)]
        text, name = self._countdown(item)
        self._painted[i] = (item.key, text, name)
        colour = self.get_component_rich_style(f"countdown-strip--{name}", partial=True)
        # The countdown is a segment of its own, so a repaint of it sends no padding.
        left = (BLOCK_WIDTH - cell_len(text)) // 2
        right = BLOCK_WIDTH - left - cell_len(text)
        styled = style + colour
        return [Segment(" " * left, styled), Segment(text, styled), Segment(" " * right, styled)]

    def _countdown(self, item: StripItem) -> tuple[str, str]:
        light = self._light(item.deadline, self.now)
        return format_countdown(light.seconds_left, minutes=self._minutes), light.colour


def _centre(text: str, width: int) -> str:
    text = set_cell_size(text, width).rstrip()

    gap = width - cell_len(text)
    return " " * (gap // 2) + text + " " * (gap - gap // 2)
