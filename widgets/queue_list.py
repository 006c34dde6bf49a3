"""The case list: a line-API ``ScrollView`` that draws only the rows on screen.

A hall can hold 20,000–100,000 open cases, so this is not a ``DataTable`` (which measures every
cell): columns have fixed widths, the list holds only each case's place in the order (an
``Entry``: sort value, case id), and a row's cells are made by the screen's ``render`` callable
when the row is about to be drawn — a tab of 100,000 cases costs the rows on screen, not the
tab. Rendered rows are cached (bounded) until the screen says the case changed.

The order is kept by the screen's deltas (:meth:`QueueList.apply`): entries that left and
joined are placed by bisection, so a batch of k changes costs O(k log n). The countdown column
is drawn from each row's deadline against ``now`` (hub time, set once a second); a tick
repaints only the countdown cells whose text or colour changed.

New rows never move the highlighted case: rows inserted or removed above it shift the scroll
offset by the same amount, so it stays on its screen line, and a "N new" count is posted for
rows that arrived above the top of the view until the user goes back to the top.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, replace
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
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dispatch.models import Deadline
from dispatch.queues import Entry, splice
from dispatch.sla import Light
from widgets.countdown import default_light, format_countdown

MARK = "✓"
"""Drawn in the gutter of a marked row (a neutral-width glyph, one cell in CJK terminals too)."""

_GUTTER = 2  # the mark glyph and a space

CACHED_ROWS = 4096
"""Rendered rows kept: many screens' worth, far fewer than a hall's cases."""


@dataclass(frozen=True)
class Column:
    """A fixed-width column; ``width`` is in terminal cells (a Chinese character takes two).

    When the list is narrower than its columns, they are fitted by ``priority`` (0 first):
    each may be cut down to ``min_width`` (its text then ends in "…"; 0: never cut), and the
    columns of least priority that still do not fit are left out.
    """

    key: str
    title: str
    width: int
    min_width: int = 0
    priority: int = 0


@dataclass(frozen=True)
class QueueRow:
    """One case as the list shows it; the screen localises the text."""

    key: str
    """The case id."""
    cells: tuple[str, ...]
    """Already-localised text, one per column (the countdown column is drawn, not given)."""
    deadline: Deadline | None
    """The row's shown deadline; the countdown column is drawn from it."""
    urgent: bool


Render = Callable[[str], QueueRow]
"""Makes the row of a case id (the screen's; called only for rows about to be drawn)."""


def _no_row(key: str) -> QueueRow:
    return QueueRow(key, (key,), None, False)


class QueueList(ScrollView, can_focus=True):
    """The case list; scales to 100,000 rows by drawing only what is on screen."""

    DEFAULT_CSS = (files("widgets") / "queue_list.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--header",
        "queue-list--cursor",
        "queue-list--urgent",
        "queue-list--marked",
        "queue-list--green",
        "queue-list--amber",
        "queue-list--red",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First case", show=False),
        Binding("end", "last", "Last case", show=False),
        Binding("enter", "select", "Open case", show=False),
        Binding("space", "toggle_mark", "Mark", tooltip="Mark the case for a bulk action"),
    ]

    class Highlighted(Message):
        """The cursor is on another case (``None``: the list is empty)."""

        def __init__(self, queue_list: QueueList, key: str | None) -> None:
            super().__init__()
            self.queue_list = queue_list
            self.key = key

        @property
        def control(self) -> QueueList:
            return self.queue_list

    class Selected(Message):
        """The user pressed enter on (or clicked) the highlighted case."""

        def __init__(self, queue_list: QueueList, key: str) -> None:
            super().__init__()
            self.queue_list = queue_list
            self.key = key

        @property
        def control(self) -> QueueList:
            return self.queue_list

    class MarksChanged(Message):
        """The set of marked cases changed (space, or marked rows left the list)."""

        def __init__(self, queue_list: QueueList, keys: frozenset[str]) -> None:
            super().__init__()
            self.queue_list = queue_list
            self.keys = keys

        @property
        def control(self) -> QueueList:
            return self.queue_list

    class NewRowsChanged(Message):
        """How many rows arrived above the top of the view since the user was last at the top."""

        def __init__(self, queue_list: QueueList, count: int) -> None:
            super().__init__()
            self.queue_list = queue_list
            self.count = count

        @property
        def control(self) -> QueueList:
            return self.queue_list

    now: Reactive[datetime] = var(lambda: datetime.now(UTC), init=False)
    """Hub time. Setting it repaints only the countdown cells whose text or colour changed."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    """Rows + header by the line width. ``Widget``'s asks for a layout of the whole screen on
    every change, which re-renders every widget on the board, and a batch that adds or removes
    rows changes it each time; the list's own region does not change with it (see
    :meth:`watch_virtual_size`), and what the change shows is repainted by whoever made it
    (a batch: only the lines that show something new)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        outer_keys: frozenset[str] = frozenset(),
    ) -> None:
        """``outer_keys``: actions of this list ("select", "toggle_mark") whose keys the
        enclosing screen binds itself, with its own (translated) descriptions: here they are
        disabled and hidden, so the key reaches the screen."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._outer_keys = outer_keys
        self._all_columns: tuple[Column, ...] = ()
        self._wanted_countdown_index = 0
        # The columns shown at the current width (fitted), and each one's cell in a row.
        self._columns: tuple[Column, ...] = ()
        self._cell_index: tuple[int, ...] = ()
        self._countdown_title = ""
        self._countdown_width = 0
        self._countdown_index = 0
        self._countdown_x = _GUTTER
        self._line_width = _GUTTER
        self._light: Callable[[Deadline, datetime], Light] = default_light
        self._minutes = False
        self._make_row: Render = _no_row
        self._cache: OrderedDict[str, QueueRow] = OrderedDict()
        # Each drawn row's strip and what it was drawn from: a repaint of the whole list (a
        # batch moving rows, a page of scrolling) re-draws only rows whose look changed.
        self._strips: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._base: Style | None = None
        # Where a case sorts now (the hall model's entry_of): the list keeps no index of its
        # own — building one for 100,000 rows cost a tab switch ~20 ms.
        self._locate: Callable[[str], Entry | None] = _nowhere
        self._order: list[Entry] = []
        # The filtered order; the very same list as ``_order`` while no filter is set.
        self._view: list[Entry] = self._order
        self._filter = ""
        self._haystacks: dict[str, str] = {}
        self._cursor_key: str | None = None
        self._cursor_entry: Entry | None = None  # its place in ``_order`` (kept through a batch)
        self._marks: set[str] = set()
        self._new_count = 0
        # What each screen line's countdown cell shows, so a tick repaints only changed cells.
        self._painted: dict[int, tuple[str, str, str]] = {}
        # Countdown text and colour per case for the current ``now``.
        self._countdowns: dict[str, tuple[str, str]] = {}

    # --- what the screen calls -----------------------------------------------------------

    def set_columns(
        self,
        columns: Sequence[Column],
        countdown_title: str,
        countdown_width: int,
        countdown_index: int = 0,
    ) -> None:
        """Lay out the columns; the countdown column goes before ``columns[countdown_index]``
        (0: first; ``len(columns)``: last). They are fitted to the list's width (see
        :class:`Column`) now and whenever the list is resized."""
        self._all_columns = tuple(columns)
        self._countdown_title = countdown_title
        self._countdown_width = countdown_width
        self._wanted_countdown_index = max(0, min(countdown_index, len(self._all_columns)))
        self._fit_columns()
        self._repaint_all()

    def _fit_columns(self) -> bool:
        """Fit the columns to the width; True if what is shown changed."""
        room = self.size.width - self.styles.scrollbar_size_vertical if self.size.width else 0
        room -= _GUTTER + (self._countdown_width + 1 if self._countdown_width else 0)
        shown = _fit(self._all_columns, room) if room > 0 else list(enumerate(self._all_columns))
        columns = tuple(c for _, c in shown)
        cell_index = tuple(i for i, _ in shown)
        if columns == self._columns and cell_index == self._cell_index:
            return False
        self._columns, self._cell_index = columns, cell_index
        self._countdown_index = sum(1 for i in cell_index if i < self._wanted_countdown_index)
        widths = [c.width for c in self._columns[: self._countdown_index]]
        self._countdown_x = _GUTTER + sum(w + 1 for w in widths)
        countdown = self._countdown_width + 1 if self._countdown_width else 0
        self._line_width = _GUTTER + sum(c.width + 1 for c in self._columns) + countdown
        return True

    def on_resize(self, event: events.Resize) -> None:
        if self._fit_columns():
            self._repaint_all()

    def set_light(self, fn: Callable[[Deadline, datetime], Light]) -> None:
        """The traffic light (``dispatch.sla.light`` bound to the hall's calendar)."""
        self._light = fn
        self._countdowns.clear()
        self._strips.clear()
        self.refresh()

    def set_minutes(self, minutes: bool) -> None:
        """Countdowns to the minute (the low-bandwidth setting) or to the second."""
        self._minutes = minutes
        self._countdowns.clear()
        self._strips.clear()
        self.refresh()

    def show(
        self, entries: list[Entry], render: Render, locate: Callable[[str], Entry | None]
    ) -> None:
        """A full load (a snapshot, a tab switch, a new sort): ``entries`` sorted, the list's to
        keep and change; ``render`` makes a row; ``locate`` says where a case sorts now (the
        entry it has, or would have, in these lists). The highlighted case stays if it is
        still listed."""
        anchor = self._anchor()
        self._make_row = render
        self._order = entries
        self._locate = locate
        if self._cursor_key is not None:
            self._cursor_entry = locate(self._cursor_key)
        self._cache.clear()
        self._strips.clear()
        self._haystacks.clear()
        self._countdowns.clear()
        self._view = self._filtered(self._order)
        self._drop_missing_marks()
        self._set_new_count(0)
        self._restore(anchor, keep_top=False)

    def set_render(self, render: Render) -> None:
        """Rows are made another way now (a new language): redraw every row."""
        self._make_row = render
        self._cache.clear()
        self._strips.clear()
        self._haystacks.clear()
        self._countdowns.clear()
        if self._filter:
            self._view = self._filtered(self._order)
        self._restore(self._anchor(), keep_top=True)

    def apply(
        self, removed: Sequence[Entry], added: Sequence[Entry], changed: Iterable[str] = ()
    ) -> None:
        """Apply a batch: entries that left the list, entries that joined it (a case that
        moved is in both, under its old and new place), and cases listed in place whose row
        must be made again. Entries are placed by bisection and the list rebuilt from slices,
        so k changes cost O(k log n) comparisons and one copy of the list, never a sort."""
        anchor = self._anchor()
        shown = self._shown()
        moving = {key for _, key in removed}
        arrived = [e for e in added if e[1] not in moving]  # not moves: new here
        gone = _present(self._order, list(removed))
        touched = moving | {key for _, key in added} | set(changed)
        for key in touched:
            self._cache.pop(key, None)
            self._countdowns.pop(key, None)
            self._haystacks.pop(key, None)
        if gone or added:
            self._order = splice(self._order, gone, list(added))
        for e in added:
            if e[1] == self._cursor_key:
                self._cursor_entry = e
        if self._filter:
            # A touched row leaves the filtered view and joins again if its new text matches.
            located = (self._locate(k) for k in changed)
            redrawn = _present(self._order, [e for e in located if e is not None])
            stale = _present(self._view, [*gone, *redrawn])
            fresh = {*added, *redrawn}
            self._view = splice(self._view, stale, [e for e in fresh if self._matches(e[1])])
        else:
            self._view = self._order
        self._drop_missing_marks()
        top = self._restore(anchor, keep_top=True, shown=shown, touched=touched)
        above = sum(1 for e in arrived if self._index(e, below=top) is not None)
        if above:
            self._set_new_count(self._new_count + above)

    def set_filter(self, text: str) -> None:
        """Show only rows whose cells contain ``text`` (case-insensitive); ``""`` shows all."""
        text = text.strip().casefold()
        if text == self._filter:
            return
        anchor = self._anchor()
        self._filter = text
        self._view = self._filtered(self._order)
        self._restore(anchor, keep_top=False)

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def highlighted_key(self) -> str | None:
        """The case under the cursor, or ``None`` when the list is empty."""
        return self._cursor_key

    @property
    def marked(self) -> frozenset[str]:
        return frozenset(self._marks)

    def clear_marks(self) -> None:
        if self._marks:
            self._marks.clear()
            self.post_message(self.MarksChanged(self, frozenset()))
            self.refresh()

    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._view)

    @property
    def total_count(self) -> int:
        """Rows held (before the filter)."""
        return len(self._order)

    @property
    def new_count(self) -> int:
        return self._new_count

    def row(self, key: str) -> QueueRow | None:
        """The row of ``key`` as it is drawn, or None when the case is not listed."""
        return self._row(key) if self._listed(key) else None

    @property
    def listed_keys(self) -> list[str]:
        """Every case id listed (after the filter), top to bottom."""
        return [key for _, key in self._view]

    @property
    def visible_keys(self) -> list[str]:
        """Case ids on screen, top to bottom (what a test or a screen reader would read)."""
        top = round(self.scroll_y)
        return [key for _, key in self._view[top : top + self._page]]

    def move_to(self, key: str) -> bool:
        """Highlight ``key`` and scroll it into view; False when it is not shown."""
        index = self._index_of(key)
        if index is None:
            return False
        self._move_cursor(index)
        return True

    # --- bindings --------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._move_by(-1)

    def action_cursor_down(self) -> None:
        self._move_by(1)

    def action_page_up(self) -> None:
        self._move_by(-self._page)

    def action_page_down(self) -> None:
        self._move_by(self._page)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self._view) - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in self._outer_keys

    def action_select(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.Selected(self, self._cursor_key))

    def action_toggle_mark(self) -> None:
        key = self._cursor_key
        if key is None:
            return
        if key in self._marks:
            self._marks.discard(key)
        else:
            self._marks.add(key)
        self.post_message(self.MarksChanged(self, frozenset(self._marks)))
        self._refresh_key(key)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= len(self._view):
            return
        if self._view[index][1] == self._cursor_key and event.chain > 1:
            self.action_select()
        else:
            self._move_cursor(index)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        height = self.container_size.height
        # A list longer than the view before and after keeps its scrollbars as they are:
        # only the vertical one's thumb moves. Anything else (a short list, new columns) is
        # laid out as Textual would.
        if not height or old.width != new.width or min(old.height, new.height) <= height + 2:
            self.refresh(layout=True)
        elif self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = new.height

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) == 0:
            self._set_new_count(0)

    # --- the tick --------------------------------------------------------------------------

    def watch_now(self, now: datetime) -> None:
        self._countdowns.clear()
        width = self._countdown_width
        x = self._countdown_x - round(self.scroll_x)
        if not self._view or width == 0 or x + width <= 0 or x >= self.size.width:
            return
        top = round(self.scroll_y)
        screen = Region(0, 0, self.size.width, self.size.height)
        dirty: list[Region] = []
        for y, (_, key) in enumerate(self._view[top : top + self._page], start=1):
            text, colour = self._countdown(self._row(key))
            painted = self._painted.get(y)
            if painted == (key, text, colour):
                continue
            # "14:38" → "14:37" repaints from the first changed character: on an SSH link
            # every cell sent is bytes, and most ticks change one digit.
            first = 0
            if painted is not None and painted[0] == key and painted[2] == colour:
                old = painted[1]
                if len(old) == len(text):
                    first = width - len(text)
                    first += next((n for n, (a, b) in enumerate(zip(old, text, strict=True))
                                   if a != b), 0)  # fmt: skip
            dirty.append(Region(x + first, y, width - first, 1).intersection(screen))
        if dirty:
            self.refresh(*dirty)

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._base_style
        if y == 0:
            strip = self._header_strip(base)
        else:
            index = scroll_y + y - 1
            if index >= len(self._view):
                self._painted.pop(y, None)
                return Strip.blank(width, base)
            strip = self._row_strip(self._row(self._view[index][1]), y, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self, base: Style) -> Strip:
        style = base + self.get_component_rich_style("queue-list--header")
        parts = [" " * _GUTTER]
        for i, column in enumerate(self._columns):
            if i == self._countdown_index:
                parts.append(_right(self._countdown_title, self._countdown_width) + " ")
            parts.append(_cut(column.title, column.width) + " ")
        if self._countdown_index == len(self._columns):
            parts.append(_right(self._countdown_title, self._countdown_width) + " ")
        return Strip([Segment("".join(parts), style)], self._line_width)

    def _row_strip(self, row: QueueRow, y: int, base: Style) -> Strip:
        marked = row.key in self._marks
        cursor = row.key == self._cursor_key
        text, colour = self._countdown(row)
        self._painted[y] = (row.key, text, colour)
        look = (row, marked, cursor, text, colour, base, self.has_focus)
        drawn = self._strips.get(row.key)
        if drawn is not None and drawn[0] == look:
            return drawn[1]
        strip = self._draw_row(row, marked, cursor, text, colour, base)
        if len(self._strips) >= CACHED_ROWS:
            self._strips.clear()
        self._strips[row.key] = (look, strip)
        return strip

    def _draw_row(
        self, row: QueueRow, marked: bool, cursor: bool, text: str, colour: str, base: Style
    ) -> Strip:
        style = base
        if row.urgent:
            style += self.get_component_rich_style("queue-list--urgent", partial=True)
        if marked:
            style += self.get_component_rich_style("queue-list--marked")
        if cursor:
            style += self.get_component_rich_style("queue-list--cursor")
        # The countdown's text is a segment of its own (see :meth:`watch_now`).
        pad = " " * max(0, self._countdown_width - cell_len(text))
        cd_text = _right(text, self._countdown_width)[len(pad) :]
        cd_style = style
        if colour:
            cd_style += self.get_component_rich_style(f"queue-list--{colour}", partial=True)
        cells = row.cells
        before = [MARK + " " if marked else "  "]
        after: list[str] = []
        for i, (index, column) in enumerate(zip(self._cell_index, self._columns, strict=True)):
            out = before if i < self._countdown_index else after
            out.append(_cut(_one_line(cells[index]) if index < len(cells) else "", column.width))
            out.append(" ")
        segments = [
            Segment("".join(before), style),
            Segment(pad, cd_style),
            Segment(cd_text, cd_style),
            Segment(" " + "".join(after), style),
        ]
        return Strip(segments, self._line_width)

    def _countdown(self, row: QueueRow) -> tuple[str, str]:
        shown = self._countdowns.get(row.key)
        if shown is None:
            if row.deadline is None or self._countdown_width == 0:
                shown = ("", "")
            else:
                light = self._light(row.deadline, self.now)
                shown = (format_countdown(light.seconds_left, minutes=self._minutes), light.colour)
            self._countdowns[row.key] = shown
        return shown

    # --- cursor, scroll and order bookkeeping --------------------------------------------

    @property
    def _page(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _anchor(self) -> tuple[str | None, int, int]:
        """The highlighted case, its index, and its screen line before a change."""
        top = round(self.scroll_y)
        key = self._cursor_key
        index = self._index_of(key) if key is not None else None
        if key is None or index is None:
            return None, 0, 0
        return key, index, index - top

    def _shown(self) -> tuple[int, list[str]]:
        """The scroll offset and the keys on screen, top to bottom."""
        top = round(self.scroll_y)
        return top, [key for _, key in self._view[top : top + self._page]]

    def _restore(
        self,
        anchor: tuple[str | None, int, int],
        *,
        keep_top: bool,
        shown: tuple[int, list[str]] | None = None,
        touched: Set[str] = frozenset(),
    ) -> int:
        """After the rows changed: keep the highlighted case on its screen line if it is still
        shown, else highlight the row now at its old index; returns the new scroll offset.
        ``shown``: what was on screen before (:meth:`_shown`) and ``touched``: the rows made
        again — given, only the lines that now show another row or a touched one are
        repainted (a batch changing rows off screen repaints nothing)."""
        old_cursor = self._cursor_key
        key, old_index, line = anchor
        count = len(self._view)
        self.virtual_size = Size(self._line_width, count + 1)
        index = self._index_of(key) if key is not None else None
        if index is None:
            # The highlighted case left: a batch highlights the row that took its place, a
            # reload or a new filter starts from the top.
            index, line = (max(0, min(old_index, count - 1)), line) if keep_top else (0, 0)
        new_entry = self._view[index] if count else None
        new_key = new_entry[1] if new_entry is not None else None
        top = max(0, min(index - line, max(0, count - self._page)))
        self._set_cursor(new_entry)
        if shown is not None and shown[0] == top == round(self.scroll_y):
            moved = {old_cursor, new_key} - {None} if old_cursor != new_key else set()
            self._refresh_changed_lines(shown[1], touched | moved)
            return top
        self.scroll_to(y=top, animate=False)
        self._painted.clear()
        self.refresh()
        return top

    def _refresh_changed_lines(self, before: list[str], touched: Set[str | None]) -> None:
        _, after = self._shown()
        width = self.size.width
        dirty = [
            Region(0, y, width, 1)
            for y in range(1, max(len(before), len(after)) + 1)
            if (key := after[y - 1] if y <= len(after) else None)
            != (before[y - 1] if y <= len(before) else None)
            or key in touched
        ]
        if dirty:
            self.refresh(*dirty)

    def _move_by(self, delta: int) -> None:
        index = self._index_of(self._cursor_key) if self._cursor_key is not None else None
        self._move_cursor((index or 0) + delta)

    def _move_cursor(self, index: int) -> None:
        count = len(self._view)
        if not count:
            return
        index = max(0, min(index, count - 1))
        old = self._cursor_key
        self._set_cursor(self._view[index])
        top = round(self.scroll_y)
        page = self._page
        if index < top:
            top = index
        elif index >= top + page:
            top = index - page + 1
        if top != round(self.scroll_y):
            self.scroll_to(y=top, animate=False)
        else:
            if old is not None:
                self._refresh_key(old)
            self._refresh_key(self._view[index][1])
        if top == 0:
            self._set_new_count(0)

    def _set_cursor(self, entry: Entry | None) -> None:
        self._cursor_entry = entry
        key = entry[1] if entry is not None else None
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.Highlighted(self, key))

    def _set_new_count(self, count: int) -> None:
        if count != self._new_count:
            self._new_count = count
            self.post_message(self.NewRowsChanged(self, count))

    def _refresh_key(self, key: str) -> None:
        index = self._index_of(key)
        if index is None:
            return
        line = index - round(self.scroll_y) + 1
        if 1 <= line <= self._page:
            self.refresh(Region(0, line, self.size.width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # a new theme or focus style: every row looks different
        self._base = None

    def _on_focus(self, event: events.Focus) -> None:
        self._base = None
        super()._on_focus(event)

    def _on_blur(self, event: events.Blur) -> None:
        self._base = None
        super()._on_blur(event)

    @property
    def _base_style(self) -> Style:
        """The list's own style: worked out from every ancestor's, so kept until a style or
        the focus changes rather than once per line drawn."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _repaint_all(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self._line_width, len(self._view) + 1)
        self._painted.clear()
        self.refresh()

    def _row(self, key: str) -> QueueRow:
        row = self._cache.get(key)
        if row is None:
            row = self._cache[key] = self._make_row(key)
            if len(self._cache) > CACHED_ROWS:
                self._cache.popitem(last=False)
        return row

    def _index_of(self, key: str | None) -> int | None:
        if key is None:
            return None
        entry = self._cursor_entry if key == self._cursor_key else self._locate(key)
        return self._index(entry) if entry is not None else None

    def _listed(self, key: str) -> bool:
        """Whether ``key`` is in the list (filtered out or not)."""
        entry = self._cursor_entry if key == self._cursor_key else self._locate(key)
        return entry is not None and bool(_present(self._order, [entry]))

    def _index(self, entry: Entry, below: int | None = None) -> int | None:
        """The entry's index in the view, or None if it is not shown (or not above ``below``)."""
        view = self._view
        hi = len(view) if below is None else min(below, len(view))
        index = bisect_left(view, entry, hi=hi)
        if index < hi and view[index] == entry:
            return index
        return None

    def _drop_missing_marks(self) -> None:
        missing = {key for key in self._marks if not self._listed(key)}
        if missing:
            self._marks -= missing
            self.post_message(self.MarksChanged(self, frozenset(self._marks)))

    def _matches(self, key: str) -> bool:
        haystack = self._haystacks.get(key)
        if haystack is None:
            row = self._row(key)
            haystack = "\x00".join((row.key, *row.cells)).casefold()
            self._haystacks[key] = haystack
        return self._filter in haystack

    def _filtered(self, order: list[Entry]) -> list[Entry]:
        if not self._filter:
            return order
        return [entry for entry in order if self._matches(entry[1])]


def _nowhere(key: str) -> Entry | None:
    return None


def _present(view: list[Entry], entries: list[Entry]) -> list[Entry]:
    """Those of ``entries`` that are in the sorted ``view``."""
    out = []
    for e in entries:
        index = bisect_left(view, e)
        if index < len(view) and view[index] == e:
            out.append(e)
    return out


def _right(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` cells, so countdown digits line up."""
    gap = width - cell_len(text)
    return " " * gap + text if gap >= 0 else set_cell_size(text, width)


def _fit(columns: Sequence[Column], room: int) -> list[tuple[int, Column]]:
    """The columns that fit ``room`` cells (each with its one-cell gap), in their order, with
    their fitted widths: all at full width if they fit; else, by priority, each at its least
    width while room lasts, and what is left widens them again, again by priority."""
    if sum(c.width + 1 for c in columns) <= room:
        return list(enumerate(columns))
    order = sorted(range(len(columns)), key=lambda i: (columns[i].priority, i))
    widths: dict[int, int] = {}
    used = 0
    for i in order:
        least = columns[i].min_width or columns[i].width
        if used + least + 1 <= room:
            widths[i] = least
            used += least + 1
    for i in order:
        if i in widths:
            more = min(columns[i].width - widths[i], room - used)
            widths[i] += more
            used += more
    return [(i, replace(columns[i], width=widths[i])) for i in sorted(widths)]


def _cut(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells; cut text ends in "…" so a reader knows it was."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(set_cell_size(text, max(0, width - 1)).rstrip() + "…", width)


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ") if "\n" in text or "\t" in text else text
