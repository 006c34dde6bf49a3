"""Asks for the operator's token when none was given (flag, file or environment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from console.app import GriddeskApp


class LoginScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 60; height: auto; border: thick $primary; padding: 1 2;
                             background: $surface; }
    """

    def compose(self) -> ComposeResult:
        app: GriddeskApp = self.app  # type: ignore[assignment]
        with Vertical():
            yield Label(app.tr("griddesk — sign in to {hub}").format(hub=app.hub_url))
            yield Input(password=True, placeholder=app.tr("Operator token"), id="token")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def key_escape(self) -> None:
        self.dismiss(None)
