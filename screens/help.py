"""Every key of the board, from the one action list (console.actions): the operator's own keys
first, then the others the role may use, then — dimmed — those it may not."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.actions import key_label, role_first, role_may
from console.desk import Desk
from console.messages import DeskChanged
from screens.guard import guarded


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 72; max-height: 90%; border: thick $primary;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._table(), id="keys")

    def _table(self) -> Table:
        tr, role = self.desk.language.tr, self.desk.session.role
        table = Table(title=tr("Keys"), expand=True, box=None)
        table.add_column(tr("Key"), width=6)
        table.add_column(tr("Action"))
        for action in role_first(role):
            mine = role_may(role, action)
            text = tr(action.description) + ("" if mine else "  " + tr("(not for your role)"))
            table.add_row(key_label(action), text, style="" if mine else "dim")
        table.add_row(":", tr("Command line: e.g. assign 2611230042 城管一中队 张伟"))
        table.add_row("tab", tr("Next panel (list, urgent strip, roster)"))
        table.add_row("ctrl+p", tr("Command palette"))
        return table

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        if message.language or message.session:
            self.query_one("#keys", Static).update(self._table())
