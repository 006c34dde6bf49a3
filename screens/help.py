"""Every key of the board, from the one action list (console.actions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions import ACTIONS, key_label, role_may

if TYPE_CHECKING:
    from console.app import GriddeskApp


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-height: 90%; border: thick $primary;
                                  background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        app: GriddeskApp = self.app  # type: ignore[assignment]
        tr = app.tr
        table = Table(title=tr("Keys"), expand=True, box=None)
        table.add_column(tr("Key"), width=6)
        table.add_column(tr("Action"))
        for a in ACTIONS:
            style = "" if role_may(app.role, a) else "dim"
            table.add_row(key_label(a), tr(a.description), style=style)
        table.add_row(":", tr("Command line: e.g. assign 2611230042 城管一中队 张伟"))
        table.add_row("ctrl+p", tr("Command palette"))
        with VerticalScroll():
            yield Static(table)
