"""Ask for a line of text (a reason, a note): dismisses with the text, or None on escape."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ReasonScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen > Vertical { width: 70; height: auto; border: thick $primary; padding: 1 2;
                              background: $surface; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, *, required: bool = True, value: str = "") -> None:
        super().__init__()
        self._prompt = prompt
        self._required = required
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._prompt)
            yield Input(self._value, id="reason")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text or not self._required:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
