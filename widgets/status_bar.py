"""The one-line status bar: hub connection, hub time, operator and role, shift, filter, demo,
and what became of the operator's last command (sent, applied, refused and why).

The screen sets the reactives with already-localised text; a lost connection turns the bar's
connection part red (the ``-offline`` class) at once. In demo mode the bar opens with a badge —
"演练 ×30 16:40:13" — that carries the hub time in its own colours, so nobody mistakes a
replayed day's clock for the wall clock or the live city; it comes first so that even at 80
columns it is never cut off.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.reactive import Reactive, reactive
from textual.widget import Widget

_SEP = "  │  "
_STATES = frozenset({"sent", "applied", "refused"})

DEMO = "DEMO"
"""The badge's word (msgid; zh_CN "演练")."""
STOPPED = "clock stopped"
"""The badge's pace when the demo clock stands still (msgid; zh_CN "时钟停止")."""
STOPPED_BELOW = 0.01
"""A demo clock slower than this is shown as stopped (tests freeze the hub with 1e-9)."""


def format_speed(speed: float) -> str | None:
    """The demo clock's speed as the badge shows it after "×" ("30", "2.5", "0.5");
    None when the clock is, for a person watching it, stopped."""
    if speed < STOPPED_BELOW:
        return None
    if speed >= 10:
        return f"{speed:.0f}"
    return f"{speed:.2f}".rstrip("0").rstrip(".")


class StatusBar(Widget):
    """Connection, hub time, operator, shift, filter and the demo badge on one line."""

    DEFAULT_CSS = (files("widgets") / "status_bar.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--connection",
        "status-bar--offline",
        "status-bar--demo",
        "status-bar--filter",
        "status-bar--sent",
        "status-bar--applied",
        "status-bar--refused",
    }

    connection: Reactive[str] = reactive("")
    """The connection state in words (e.g. "已连接 ws://…", "重连中…")."""
    connected: Reactive[bool] = reactive(True)
    """False shows the connection part in red (``-offline``)."""
    hub_time: Reactive[str] = reactive("", repaint=False)
    """Hub time, already formatted; in demo mode it is shown inside the badge. A new time
    repaints only the clock's characters (see :meth:`watch_hub_time`)."""
    operator: Reactive[str] = reactive("")
    """Operator name and role."""
    shift: Reactive[str] = reactive("")
    filter_text: Reactive[str] = reactive("")
    """The active filter; empty hides it."""
    demo: Reactive[bool] = reactive(False)
    """True shows the demo badge ("演练 ×N" / "DEMO ×N") with the hub time in it."""
    speed: Reactive[float] = reactive(1.0)
    """The demo clock's speed, shown in the badge (see :func:`format_speed`)."""
    command: Reactive[str] = reactive("")
    """The last command and its fate, in words ("✓ 立案 2611230042"); empty hides it."""
    command_state: Reactive[str] = reactive("")
    """"sent", "applied" or "refused" (refused also covers failed): its colour."""

    def __init__(
        self,
        translate: Callable[[str], str] = str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._translate = translate

    def set_translator(self, translate: Callable[[str], str]) -> None:
        self._translate = translate
        self.refresh()

    def watch_hub_time(self, old: str, new: str) -> None:
        # The clock moves every second and nothing else on the bar does: on an SSH link only
        # its changed characters are sent ("22:57:08" → "22:57:09": one).
        at = self._time_at(new)
        if at is None or len(old) != len(new) or not self.size.width:
            self.refresh()
            return
        first = next((n for n, (a, b) in enumerate(zip(old, new, strict=True)) if a != b), None)
        if first is not None:
            self.refresh(Region(at + first, 0, len(new) - first, 1))

    def _time_at(self, hub_time: str) -> int | None:
        """The cell where the hub time starts on the bar (None: not shown on its own)."""
        if self.demo or not hub_time:
            return None
        marker = "●" if self.connected else "✕"
        return cell_len(f" {marker} {self.connection} ") + cell_len(_SEP)

    def watch_connected(self, connected: bool) -> None:
        self.set_class(not connected, "-offline")

    def watch_demo(self, demo: bool) -> None:
        self.set_class(demo, "-demo")

    def _tr(self, message: str) -> str:
        return self._translate(message)

    def demo_badge(self) -> str:
        """The badge's text, e.g. "演练 ×30 16:40:13" or "DEMO clock stopped 09:30:00"."""
        shown = format_speed(self.speed)
        pace = f"×{shown}" if shown is not None else self._tr(STOPPED)
        return " ".join(part for part in (self._tr(DEMO), pace, self.hub_time) if part)

    def render(self) -> Text:
        connection = "status-bar--connection" if self.connected else "status-bar--offline"
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if self.demo:
            text.append(f" {self.demo_badge()} ", self.get_component_rich_style("status-bar--demo"))
        marker = "●" if self.connected else "✕"
        text.append(f" {marker} {self.connection} ", self.get_component_rich_style(connection))
        times = () if self.demo else (self.hub_time,)
        for part in (*times, self.operator, self.shift):
            if part:
                text.append(_SEP + part)
        if self.filter_text:
            text.append(_SEP)
            text.append(f"/{self.filter_text}", self.get_component_rich_style("status-bar--filter"))
        if self.command:
            state = self.command_state if self.command_state in _STATES else "sent"
            text.append(_SEP)
            text.append(self.command, self.get_component_rich_style(f"status-bar--{state}"))
        return text
