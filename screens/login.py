"""Asks for the operator's token when none was given (flag, file or environment)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from console.desk import Desk


class LoginScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 60; height: auto; border: thick $primary; padding: 1 2;
                             background: $surface; }
    """

    def __init__(self, desk: Desk, hub_url: str) -> None:
        super().__init__()
        self.desk = desk
        self.hub_url = hub_url

    def compose(self) -> ComposeResult:
        tr = self.desk.language.tr
        with Vertical():
            yield Label(tr("griddesk — sign in to {hub}").format(hub=self.hub_url))
            yield Input(password=True, placeholder=tr("Operator token"), id="token")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def key_escape(self) -> None:
        self.dismiss(None)
