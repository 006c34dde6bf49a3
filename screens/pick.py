"""Pick one of several choices (a unit, a person, yes/no): dismisses with the chosen key, or
None on escape. Choices are (key, label) pairs, best first (routing suggestions on top)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 70; height: auto; max-height: 90%; border: thick $primary;
                            padding: 0 1; background: $surface; }
    PickScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._prompt = prompt
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._prompt)
            yield OptionList(*(Option(text, id=key) for key, text in self._choices))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
