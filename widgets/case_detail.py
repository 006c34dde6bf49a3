"""The selected case's detail: its fields, its live deadlines and its audit history.

The screen hands over a :class:`CaseView` of already-localised text; this widget only lays it
out. ``now`` redraws the deadline lines alone (the fields and history do not change with time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
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

    def compose(self) -> ComposeResult:
        # One body, not a box per part: on the board the detail has a fixed height, and the
        # body filling it never changes size whatever case it shows — so neither an arrow key
        # (another case) nor the tick lays out the screen, which re-renders every widget.
        yield Static(self._placeholder, id="case-detail-body")

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
        if not self.is_mounted:
            return
        self._draw_fields()
        self._draw_deadlines()
        self._draw_history()
        self._draw()

    def on_mount(self) -> None:
        self.show(self._view)

    def watch_now(self, now: datetime) -> None:
        if self._view is not None and self._view.deadlines:
            self._draw_deadlines()
            self._draw()

    def _draw(self) -> None:
        parts = [p for p in (self._fields, self._deadlines, self._history) if p is not None]
        spaced: list[RenderableType] = []
        for i, part in enumerate(parts):
            if i and part is self._deadlines:
                spaced.append(Text(""))  # a blank line around the deadlines, as a margin
            spaced.append(part)
            if part is self._deadlines and i < len(parts) - 1:
                spaced.append(Text(""))
        _put(self.query_one("#case-detail-body", Static), Group(*spaced))

    def _draw_fields(self) -> None:
        view = self._view
        if view is None:
            self._fields = self._placeholder
            return
        label = self.get_component_rich_style("case-detail--label", partial=True)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=label, no_wrap=True)
        grid.add_column(overflow="fold")
        grid.title = view.title
        for name, value in view.fields:
            grid.add_row(name, value)
        self._fields = grid

    def _draw_deadlines(self) -> None:
        view = self._view
        if view is None or not view.deadlines:
            self._deadlines = None
            return
        lines = Text()
        for i, (label, deadline) in enumerate(view.deadlines):
            light = self._light(deadline, self.now)
            colour = self.get_component_rich_style(f"case-detail--{light.colour}", partial=True)
            if i:
                lines.append("\n")
            lines.append(f"{label} ")
            lines.append(f" {format_countdown(light.seconds_left)} ", colour)
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
