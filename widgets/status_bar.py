"""The one-line status bar: hub connection, hub time, operator and role, shift, filter, demo.

The screen sets the reactives with already-localised text; a lost connection turns the bar's
connection part red (the ``-offline`` class) at once, and demo mode carries a clear badge so
nobody mistakes a replayed day for the live city.
"""

from __future__ import annotations

from importlib.resources import files
from typing import ClassVar

from rich.text import Text
from textual.reactive import Reactive, reactive
from textual.widget import Widget

_SEP = "  │  "


class StatusBar(Widget):
    """Connection, hub time, operator, shift, filter and the demo badge on one line."""

    DEFAULT_CSS = (files("widgets") / "status_bar.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--connection",
        "status-bar--offline",
        "status-bar--demo",
        "status-bar--filter",
    }

    connection: Reactive[str] = reactive("")
    """The connection state in words (e.g. "已连接 ws://…", "重连中…")."""
    connected: Reactive[bool] = reactive(True)
    """False shows the connection part in red (``-offline``)."""
    hub_time: Reactive[str] = reactive("")
    """Hub time, already formatted."""
    operator: Reactive[str] = reactive("")
    """Operator name and role."""
    shift: Reactive[str] = reactive("")
    filter_text: Reactive[str] = reactive("")
    """The active filter; empty hides it."""
    demo: Reactive[bool] = reactive(False)
    """True shows a "DEMO ×N" badge."""
    speed: Reactive[float] = reactive(1.0)
    """The demo clock's speed, shown in the badge."""

    def watch_connected(self, connected: bool) -> None:
        self.set_class(not connected, "-offline")

    def watch_demo(self, demo: bool) -> None:
        self.set_class(demo, "-demo")

    def render(self) -> Text:
        connection = "status-bar--connection" if self.connected else "status-bar--offline"
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        marker = "●" if self.connected else "✕"
        text.append(f" {marker} {self.connection} ", self.get_component_rich_style(connection))
        for part in (self.hub_time, self.operator, self.shift):
            if part:
                text.append(_SEP + part)
        if self.filter_text:
            text.append(_SEP)
            text.append(f"/{self.filter_text}", self.get_component_rich_style("status-bar--filter"))
        if self.demo:
            text.append(_SEP)
            text.append(
                f" DEMO ×{self.speed:g} ", self.get_component_rich_style("status-bar--demo")
            )
        return text
