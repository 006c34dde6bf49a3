"""The key bar: the keys of the screen it sits on, in the operator's language.

Textual's ``Footer`` shows each binding's description as written in ``BINDINGS``; a console
that switches between Chinese and English at run time needs them translated when drawn, so
this bar reads the screen's public ``active_bindings`` (which already say, through each
screen's ``check_action``, what is hidden and what is greyed) and passes every description
through the translator it is given. The screen may say which actions to show and in which
order (a standby officer's own steps first); by default every shown binding, in order.

It takes one line, or two when the keys do not fit; the help key comes first, so however
narrow the terminal, the bar always says where every key is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import ActiveBinding
from textual.geometry import Size
from textual.widget import Widget

Translate = Callable[[str], str]

HELP_ACTION = "help"
"""Shown first, so it is never dropped for lack of room."""
MAX_LINES = 2
_GAP = 2


@dataclass(frozen=True)
class ShownKey:
    """One key on the bar, as drawn."""

    key: str
    description: str
    action: str
    enabled: bool

    @property
    def width(self) -> int:
        return cell_len(self.key) + 1 + cell_len(self.description)


class KeyBar(Widget):
    """Translated key hints of the current screen (see the module docstring)."""

    DEFAULT_CSS = (files("widgets") / "key_bar.tcss").read_text(encoding="utf-8")

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
    }

    def __init__(
        self,
        translate: Translate = str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._translate = translate
        self._order: tuple[str, ...] | None = None

    def set_translator(self, translate: Translate) -> None:
        self._translate = translate
        self.refresh(layout=True)

    def set_order(self, actions: Sequence[str] | None) -> None:
        """Show these actions (binding ids, or action names for bindings without an id), in
        this order; None: every binding marked ``show``, in binding order."""
        self._order = None if actions is None else tuple(actions)
        self.refresh(layout=True)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: object) -> None:
        # Every arrow key re-checks the bindings; a layout of the whole screen is needed only
        # when the bar wraps to another number of lines, else repainting the bar is enough.
        width = self.content_size.width
        if width and len(self._lines(width)) == self.content_size.height:
            self.refresh()
        else:
            self.refresh(layout=True)

    @property
    def keys(self) -> list[ShownKey]:
        """The keys the bar would show with unlimited room, in order (what a test reads)."""
        found: dict[str, ActiveBinding] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if self._order is None and not binding.show:
                continue
            # A binding with an id is known by it alone (the app's ctrl+c is not the screen's q).
            found.setdefault(binding.id or binding.action.split("(", 1)[0], active)
        chosen = (
            found.values() if self._order is None else [found[a] for a in self._order if a in found]
        )
        return list(dict.fromkeys(self._shown(active) for active in chosen))

    def _shown(self, active: ActiveBinding) -> ShownKey:
        binding = active.binding
        return ShownKey(
            self.app.get_key_display(binding),
            self._translate(binding.description),
            binding.action,
            active.enabled,
        )

    def _lines(self, width: int) -> list[list[ShownKey]]:
        # The help key first: however narrow the terminal and whatever is cut at the end,
        # the bar always opens with where every key is.
        keys = self.keys
        help_key = next((k for k in keys if k.action == HELP_ACTION), None)
        if help_key is not None:
            keys = [help_key, *(k for k in keys if k is not help_key)]
        lines: list[list[ShownKey]] = [[]]
        used = 0
        for key in keys:
            need = key.width + (_GAP if lines[-1] else 0)
            if used + need > width and lines[-1]:
                if len(lines) == MAX_LINES:
                    break
                lines.append([])
                used, need = 0, key.width
            lines[-1].append(key)
            used += need
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._lines(width or container.width)))

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        off = self.get_component_rich_style("key-bar--disabled")
        out = Text(no_wrap=True, overflow="crop", end="")
        for n, line in enumerate(self._lines(self.size.width)):
            if n:
                out.append("\n")
            for i, key in enumerate(line):
                if i:
                    out.append(" " * _GAP)
                dim: Style = off if not key.enabled else Style()
                out.append(key.key, key_style + dim)
                out.append(" " + key.description, text_style + dim)
        return out
