"""The selected case's detail: its fields, its live deadlines and its audit history.

The screen hands over a :class:`CaseView` of already-localised text; this widget only lays it
out. ``now`` redraws the deadline lines alone (the fields and history do not change with time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import ClassVar, Self

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.reactive import Reactive, var
from textual.widgets import Static

from dispatch.models import Deadline
from dispatch.sla import Light
from widgets.countdown import default_light, format_countdown


@dataclass(frozen=True)
class HistoryLine:
    """One audit event: when (formatted), who, and what (with the reason, if any)."""

    time: str
    actor: str
    text: str


@dataclass(frozen=True)
class CaseView:
    """A case as the detail shows it, every string already localised."""

    key: str
    title: str
    fields: tuple[tuple[str, str], ...]
    """Label and value pairs, in display order."""
    deadlines: tuple[tuple[str, Deadline], ...] = ()
    """Each live deadline with its step's label."""
    history: tuple[HistoryLine, ...] = ()
    empty_text: str = ""


class CaseDetail(VerticalScroll):
    """Fields, deadlines (ticking) and history of one case; ``show(None)`` clears it."""

    DEFAULT_CSS = (files("widgets") / "case_detail.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "case-detail--label",
        "case-detail--green",
        "case-detail--amber",
        "case-detail--red",
    }

    now: Reactive[datetime] = var(lambda: datetime.now(UTC), init=False)
    """Hub time; redraws the deadline lines only."""

    def __init__(
        self,
        *,
        placeholder: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._view: CaseView | None = None
        self._placeholder = placeholder
        self._light: Callable[[Deadline, datetime], Light] = default_light
        self._fields: RenderableType = ""
        self._deadlines: RenderableType | None = None
        self._history: RenderableType | None = None
        self._minutes = False
        # Each deadline line's label and countdown as last drawn, and the line the first one
        # is on (measured once per case and width): a tick repaints only changed countdowns.
        self._ticking: list[tuple[str, str, str]] = []
        self._ticking_at: list[tuple[int, int]] = []  # where each countdown is in the block
        self._compact = False
        self._deadlines_at: tuple[int, int, int] | None = None

    def set_compact(self, compact: bool) -> None:
        """Two fields a line, the title and the deadlines on one line each (a small pane)."""
        if compact != self._compact:
            self._compact = compact
            self.show(self._view)

    def set_minutes(self, minutes: bool) -> None:
        """Countdowns to the minute (the low-bandwidth setting) or to the second."""
        self._minutes = minutes
        if self.is_mounted:
            self._draw_deadlines()
            self._draw()

    def compose(self) -> ComposeResult:
        # One body, not a box per part: on the board the detail has a fixed height, and the
        # body filling it never changes size whatever case it shows — so neither an arrow key
        # (another case) nor the tick lays out the screen, which re-renders every widget.
        yield _Body(self._placeholder, id="case-detail-body")

    @property
    def view(self) -> CaseView | None:
        return self._view

    def set_placeholder(self, text: str) -> None:
        """What is shown when no case is (the text changes with the operator's language)."""
        self._placeholder = text
        if self._view is None and self.is_mounted:
            self._draw_fields()
            self._draw()

    def set_light(self, fn: Callable[[Deadline, datetime], Light]) -> None:
        self._light = fn
        if self.is_mounted:
            self._draw_deadlines()
            self._draw()

    def show(self, view: CaseView | None) -> None:
        """Show ``view``; ``None`` shows the placeholder."""
        self._view = view
        self._deadlines_at = None
        if not self.is_mounted:
            return
        self._draw_fields()
        self._draw_deadlines()
        self._draw_history()
        self._draw()

    def on_mount(self) -> None:
        self.show(self._view)

    def watch_now(self, now: datetime) -> None:
        if self._view is None or not self._view.deadlines:
            return
        before = self._ticking
        self._draw_deadlines()
        if self._ticking == before:
            return
        body = self.query_one("#case-detail-body", _Body)
        top = self._deadline_line(body)
        widths = [cell_len(t) for _, t, _ in self._ticking]
        if top is None or widths != [cell_len(t) for _, t, _ in before]:
            self._draw()  # a countdown changed width ("00:00" → "-00:01"): the rest moved
            return
        # Only the countdowns that changed are repainted: the fields and the history do not
        # move with time, and on an SSH link every cell sent is bytes.
        regions = [
            Region(x, top + y, max(cell_len(text), cell_len(old[1])) + 2, 1)
            for (x, y), (_, text, colour), old in zip(
                self._ticking_at, self._ticking, before, strict=True
            )
            if (text, colour) != old[1:]
        ]
        body.update_regions(self._body(), regions)

    def _deadline_line(self, body: Static) -> int | None:
        """The body line of the first deadline (fields, then a blank line unless compact), or
        None when the body is not laid out yet."""
        width = body.content_size.width
        if not width or self._view is None:
            return None
        if self._deadlines_at is None or self._deadlines_at[:2] != (id(self._view), width):
            console = self.app.console
            lines = console.render_lines(self._fields, console.options.update_width(width))
            blank = 1 if lines and not self._compact else 0
            self._deadlines_at = (id(self._view), width, len(lines) + blank)
        return self._deadlines_at[2]

    def _draw(self) -> None:
        _put(self.query_one("#case-detail-body", Static), self._body())

    def _body(self) -> Group:
        parts = [p for p in (self._fields, self._deadlines, self._history) if p is not None]
        spaced: list[RenderableType] = []
        for i, part in enumerate(parts):
            if i and part is self._deadlines and not self._compact:
                spaced.append(Text(""))  # a blank line around the deadlines, as a margin
            spaced.append(part)
            if part is self._deadlines and i < len(parts) - 1:
                spaced.append(Text(""))
        return Group(*spaced)

    def _draw_fields(self) -> None:
        view = self._view
        if view is None:
            self._fields = self._placeholder
            return
        label = self.get_component_rich_style("case-detail--label", partial=True)
        grid = Table.grid(padding=(0, 1))
        if self._compact:
            # Two fields a line and the title on one line: at 80×24 the detail has five lines,
            # and a long title must not push the place and the unit off them.
            grid.add_column(style=label, no_wrap=True)
            grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
            grid.add_column(style=label, no_wrap=True)
            grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
            grid.expand = True
            grid.title = Text(view.title, no_wrap=True, overflow="ellipsis")
            pairs = list(view.fields)
            for n in range(0, len(pairs), 2):
                left, right = pairs[n], pairs[n + 1] if n + 1 < len(pairs) else ("", "")
                grid.add_row(*left, *right)
        else:
            grid.add_column(style=label, no_wrap=True)
            grid.add_column(overflow="fold")
            grid.title = view.title
            for name, value in view.fields:
                grid.add_row(name, value)
        self._fields = grid

    def _draw_deadlines(self) -> None:
        view = self._view
        self._ticking, self._ticking_at = [], []
        if view is None or not view.deadlines:
            self._deadlines = None
            return
        lines = Text(no_wrap=self._compact, overflow="ellipsis")
        x = y = 0
        for i, (label, deadline) in enumerate(view.deadlines):
            light = self._light(deadline, self.now)
            colour = self.get_component_rich_style(f"case-detail--{light.colour}", partial=True)
            text = format_countdown(light.seconds_left, minutes=self._minutes)
            if i and self._compact:  # one line: "到场时限  14:50   处置时限  59:50"
                lines.append("  ")
                x += 2
            elif i:
                lines.append("\n")
                x, y = 0, y + 1
            lines.append(f"{label} ")
            x += cell_len(label) + 1
            self._ticking.append((label, text, light.colour))
            self._ticking_at.append((x, y))
            lines.append(f" {text} ", colour)
            x += cell_len(text) + 2
        self._deadlines = lines

    def _draw_history(self) -> None:
        view = self._view
        if view is None or not view.history:
            self._history = None
            return
        label = self.get_component_rich_style("case-detail--label", partial=True)
        table = Table.grid(padding=(0, 1))
        table.add_column(style=label, no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for line in view.history:
            table.add_row(line.time, line.actor, line.text)
        self._history = table


class _Body(Static):
    """The detail's one body; it can take new content and repaint only some of it."""

    _only: tuple[Region, ...] = ()

    def update_regions(self, content: RenderableType, regions: list[Region]) -> None:
        """Show ``content``, which differs from what is shown only inside ``regions``
        (content coordinates): only they are sent to the terminal."""
        if not regions:
            return
        self._only = tuple(regions)
        try:
            self.update(content, layout=False)
        finally:
            self._only = ()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if self._only and not regions and not layout and not recompose:
            regions = self._only
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


def _put(box: Static, content: RenderableType) -> None:
    """Show ``content`` in ``box``. A box whose height the stylesheet fixes (the board's
    detail) never needs the screen laid out again; one sized by its content (the case screen)
    only when its height changes with it."""
    height_rule = box.styles.height
    box.update(content, layout=False)
    if height_rule is not None and not height_rule.is_auto:
        return
    width, height = box.content_size
    if not width or not box.display:
        box.refresh(layout=True)
        return
    box.clear_cached_dimensions()
    if box.get_content_height(box.content_size, box.content_size, width) != height:
        box.refresh(layout=True)
