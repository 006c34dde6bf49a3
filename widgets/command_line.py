"""The ``:`` command line: completes the word being typed, remembers what was run.

Completion is offered inline (Textual's ``Suggester``) and accepted with tab or right arrow,
from a completer the screen sets; tab pressed again cycles through the other words that fit. Up
and down walk the history of submitted lines; escape posts ``Cancelled``. Submitting posts Textual's
own ``Input.Submitted``; the screen parses the text and sends the command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

Completer = Callable[[str], Sequence[str]]
"""Given the line, the words that may replace its last word, best first (the screen supplies
one that knows the verbs' grammar: which slot the word fills, the chosen unit's staff …)."""


class LineSuggester(Suggester):
    """Suggests the rest of the last word of a line, from the screen's completer."""

    def __init__(self) -> None:
        # No cache: what fits changes as cases and staff come and go.
        super().__init__(use_cache=False, case_sensitive=True)
        self.completer: Completer | None = None

    def complete(self, value: str) -> str | None:
        """``value`` with its last word completed, or None if nothing (longer) fits."""
        if not value or value[-1].isspace() or self.completer is None:
            return None
        word = value.rsplit(" ", 1)[-1]
        folded = word.casefold()
        for choice in self.completer(value):
            if len(choice) > len(word) and choice.casefold().startswith(folded):
                return value[: len(value) - len(word)] + choice
        return None

    async def get_suggestion(self, value: str) -> str | None:
        return self.complete(value)


class CommandLine(Input):
    """The ``:`` command line with word completion and a history."""

    DEFAULT_CSS = (files("widgets") / "command_line.tcss").read_text(encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False),
        Binding("up", "history(-1)", "Previous command", show=False),
        Binding("down", "history(1)", "Next command", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    HISTORY_SIZE: ClassVar[int] = 200

    class Cancelled(Message):
        """The user left the command line with escape."""

        def __init__(self, command_line: CommandLine) -> None:
            super().__init__()
            self.command_line = command_line

        @property
        def control(self) -> CommandLine:
            return self.command_line

    def __init__(
        self,
        *,
        placeholder: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self._words = LineSuggester()
        super().__init__(
            placeholder=placeholder, suggester=self._words, name=name, id=id, classes=classes
        )
        self._history: list[str] = []
        self._cycle: tuple[str, list[str], int] | None = None
        """Tab cycling: the line before the word, the words that fit, the one shown."""
        self._history_at = 0  # == len(history): editing a fresh line
        self._draft = ""

    def set_completer(self, completer: Completer) -> None:
        """What completion offers for the word being typed."""
        self._words.completer = completer

    @property
    def history(self) -> Sequence[str]:
        return tuple(self._history)

    def action_complete(self) -> None:
        """Complete the word being typed; tab again goes on to the next word that fits
        (``ac`` → ``accept`` → ``ack`` → …)."""
        cycle = self._cycle
        if cycle is not None and self.value == cycle[0] + cycle[1][cycle[2]] + " ":
            stem, choices, index = cycle
            index = (index + 1) % len(choices)
        else:
            completer = self._words.completer
            if completer is None or not self.value or self.value[-1].isspace():
                return
            word = self.value.rsplit(" ", 1)[-1]
            folded = word.casefold()
            choices = [c for c in completer(self.value) if c.casefold().startswith(folded)]
            if not choices:
                return
            stem, index = self.value[: len(self.value) - len(word)], 0
        self._cycle = (stem, choices, index)
        self.value = stem + choices[index] + " "
        self.cursor_position = len(self.value)

    def action_history(self, step: int) -> None:
        if not self._history:
            return
        if self._history_at == len(self._history):
            self._draft = self.value
        self._history_at = max(0, min(self._history_at + step, len(self._history)))
        if self._history_at == len(self._history):
            self.value = self._draft
        else:
            self.value = self._history[self._history_at]
        self.cursor_position = len(self.value)

    def action_cancel(self) -> None:
        self.value = ""
        self._history_at = len(self._history)
        self.post_message(self.Cancelled(self))

    async def action_submit(self) -> None:
        line = self.value.strip()
        if line and (not self._history or self._history[-1] != line):
            self._history.append(line)
            del self._history[: -self.HISTORY_SIZE]
        self._history_at = len(self._history)
        self._draft = ""
        await super().action_submit()
