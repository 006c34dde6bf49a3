"""The on-duty roster: a line-API ``ScrollView`` keyed by staff id that repaints only what moved.

A roster is tens to a few hundred people, but it changes with nearly every batch (loads, field
statuses) and "last seen" moves every minute. A ``DataTable`` re-renders a whole row for one
changed cell, measures every cell, and repaints its scrollbar on each change — a second's
worth of bytes on an SSH link for a roster that did not move. Here columns have fixed widths
(the widest cell of each column, capped), only the rows on screen are drawn, and
:meth:`RosterTable.set_rows` refreshes only the cells whose text changed; rows that arrive or
leave redraw the list below them. The cursor stays on its person while others come and go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

MAX_WIDTH = 16
"""Widest a column grows, in cells; longer text ends in "…"."""

_GAP = 2  # cells between columns
_PAD = 1  # cells before the first column


@dataclass(frozen=True)
class RosterRow:
    """One person: the staff id and already-localised cells, one per column."""

    key: str
    cells: tuple[str, ...]


class RosterTable(ScrollView, can_focus=True):
    """Staff keyed by id; :meth:`set_rows` adds, removes and repaints only what changed."""

    DEFAULT_CSS = (files("widgets") / "roster_table.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "roster-table--header",
        "roster-table--even",
        "roster-table--cursor",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    class Selected(Message):
        """Enter (or a click) on a person."""

        def __init__(self, roster: RosterTable, key: str) -> None:
            super().__init__()
            self.roster = roster
            self.key = key

        @property
        def control(self) -> RosterTable:
            return self.roster

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._titles: tuple[str, ...] = ()
        self._widths: tuple[int, ...] = ()
        self._keys: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self._cursor = 0

    # --- what the screen calls -----------------------------------------------------------

    def set_columns(self, titles: Sequence[str]) -> None:
        """New column titles; the rows are kept only if the column count is unchanged."""
        self._titles = tuple(titles)
        if any(len(cells) != len(self._titles) for cells in self._cells.values()):
            self._keys, self._cells = [], {}
        self._relayout()

    def set_rows(self, rows: Sequence[RosterRow]) -> None:
        """Show ``rows`` in this order, repainting only the cells that changed."""
        count = len(self._titles)
        old_keys, old_cells = self._keys, self._cells
        focus = self.highlighted_key
        self._keys = [row.key for row in rows]
        self._cells = {row.key: (row.cells + ("",) * count)[:count] for row in rows}
        if focus in self._cells:
            self._cursor = self._keys.index(focus)
        self._cursor = max(0, min(self._cursor, len(self._keys) - 1))
        if self._widths != self._measure() or self._keys != old_keys:
            self._relayout()
            return
        dirty = [
            region
            for y, key in enumerate(self._keys)
            for region in self._changed(y, old_cells[key], self._cells[key])
        ]
        if dirty:
            self.refresh(*dirty)

    @property
    def highlighted_key(self) -> str | None:
        return self._keys[self._cursor] if self._keys else None

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def move_to(self, key: str) -> bool:
        """Highlight ``key`` and scroll it into view; False when it is not listed."""
        if key not in self._cells:
            return False
        self._move(self._keys.index(key))
        return True

    def get_row(self, key: str) -> list[str]:
        """The cells of ``key`` as shown (before cutting to the column widths)."""
        return list(self._cells[key])

    # --- keys and mouse ------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self._move(self._cursor + step)

    def action_page(self, pages: int) -> None:
        self._move(self._cursor + pages * self._page)

    def action_select(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index < len(self._keys):
            self._move(index)
            self.action_select()

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        width = self.size.width
        if y == 0:
            style = base + self.get_component_rich_style("roster-table--header")
            strip = Strip(self._segments(self._titles, style), self._line_width)
        else:
            index = scroll_y + y - 1
            if index >= len(self._keys):
                return Strip.blank(width, base)
            style = base
            if index % 2:
                style += self.get_component_rich_style("roster-table--even")
            if index == self._cursor:
                style += self.get_component_rich_style("roster-table--cursor")
            cells = self._cells[self._keys[index]]
            strip = Strip(self._segments(cells, style), self._line_width)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _segments(self, cells: Sequence[str], style: Style) -> list[Segment]:
        # One segment per cell, so repainting a cell sends that cell (console/thin_updates).
        out = [Segment(" " * _PAD, style)]
        for text, width in zip(cells, self._widths, strict=False):
            out.append(Segment(_fit(text, width), style))
            out.append(Segment(" " * _GAP, style))
        return out

    # --- bookkeeping -----------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def _line_width(self) -> int:
        return _PAD + sum(w + _GAP for w in self._widths)

    def _measure(self) -> tuple[int, ...]:
        widths = [cell_len(t) for t in self._titles]
        for cells in self._cells.values():
            for i, text in enumerate(cells):
                widths[i] = max(widths[i], cell_len(text))
        return tuple(min(w, MAX_WIDTH) for w in widths)

    def _relayout(self) -> None:
        self._widths = self._measure()
        size = Size(self._line_width, len(self._keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()

    def _changed(self, index: int, old: tuple[str, ...], new: tuple[str, ...]) -> list[Region]:
        """Screen regions of the cells of row ``index`` whose text changed (none off screen)."""
        line = index - round(self.scroll_y) + 1
        if old == new or not 1 <= line <= self._page:
            return []
        x = _PAD - round(self.scroll_x)
        regions = []
        for before, after, width in zip(old, new, self._widths, strict=False):
            if before != after:
                regions.append(Region(x, line, width, 1))
            x += width + _GAP
        return regions

    def _move(self, index: int) -> None:
        if not self._keys:
            return
        index = max(0, min(index, len(self._keys) - 1))
        if index == self._cursor:
            return
        old, self._cursor = self._cursor, index
        top = round(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + self._page:
            self.scroll_to(y=index - self._page + 1, animate=False)
        for row in (old, index):
            line = row - round(self.scroll_y) + 1
            self.refresh(Region(0, line, self.size.width, 1))


def _fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells, ending in "…" when it had to be cut."""
    text = text.replace("\n", " ")
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(set_cell_size(text, max(0, width - 1)).rstrip() + "…", width)
