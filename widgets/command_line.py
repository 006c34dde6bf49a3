"""The ``:`` command line: completes the word being typed, remembers what was run.

Completion is offered inline (Textual's ``Suggester``) and accepted with tab or right arrow:
the first word from the verbs, later words from case ids, unit names and staff names. Up and
down walk the history of submitted lines; escape posts ``Cancelled``. Submitting posts Textual's
own ``Input.Submitted``; the screen parses the text and sends the command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.resources import files
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input


class WordSuggester(Suggester):
    """Suggests the rest of the last word of a line: verbs first, then the other words."""

    def __init__(self) -> None:
        # No cache: the vocabulary changes as cases and staff come and go.
        super().__init__(use_cache=False, case_sensitive=True)
        self.verbs: tuple[str, ...] = ()
        self.words: tuple[str, ...] = ()

    def complete(self, value: str) -> str | None:
        """``value`` with its last word completed, or None if nothing (longer) fits."""
        if not value or value[-1].isspace():
            return None
        head, _, word = value.rpartition(" ")
        choices = self.words if head.strip() else self.verbs
        folded = word.casefold()
        for choice in choices:
            if len(choice) > len(word) and choice.casefold().startswith(folded):
                return value + choice[len(word) :]
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
        self._words = WordSuggester()
        super().__init__(
            placeholder=placeholder, suggester=self._words, name=name, id=id, classes=classes
        )
        self._history: list[str] = []
        self._history_at = 0  # == len(history): editing a fresh line
        self._draft = ""

    def set_vocabulary(
        self,
        verbs: Iterable[str],
        case_ids: Iterable[str] = (),
        units: Iterable[str] = (),
        staff: Iterable[str] = (),
    ) -> None:
        """What completion offers: verbs for the first word, the rest for later words."""
        self._words.verbs = tuple(verbs)
        self._words.words = (*units, *staff, *case_ids)

    @property
    def history(self) -> Sequence[str]:
        return tuple(self._history)

    def action_complete(self) -> None:
        """Accept the inline suggestion, or complete now if it has not arrived yet."""
        completed = self._suggestion or self._words.complete(self.value)
        if completed and completed != self.value:
            self.value = completed + " "
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
