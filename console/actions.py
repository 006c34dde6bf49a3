"""The ONE list of the board's actions: key, action name, description, what it needs.

The board's bindings, its key bar, the help screen and the command palette are all built from
:data:`ACTIONS`, so a key, its description and the hub ops it sends are stated once. Which
actions apply now is decided by the hub's own rules (:mod:`console.permits`); which a role
sees first, by :data:`ROLE_KEYS`: a standby officer's bar starts with signing for a case,
arriving and reporting back, a commander's with accepting and dispatching.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from dispatch.models import Role
from dispatch.roles import ALLOWED


@dataclass(frozen=True)
class Action:
    key: str
    name: str  # the screen's ``action_<name>``, possibly with arguments: "queue('urgent')"
    description: str  # gettext id
    ops: frozenset[str] = frozenset()  # hub ops it sends; empty: a local action
    case: bool = False  # needs a selected (or marked) case
    live: bool = False  # needs a live hub connection
    bulk: bool = False  # acts on every marked case (the others on the highlighted one)

    @property
    def method(self) -> str:
        """The action name without arguments."""
        return self.name.split("(", 1)[0]


def _ops(*names: str) -> frozenset[str]:
    return frozenset(names)


def _case(key: str, name: str, description: str, op: str, *, bulk: bool = False) -> Action:
    return Action(key, name, description, _ops(op), case=True, live=True, bulk=bulk)


ACTIONS: tuple[Action, ...] = (
    Action("question_mark", "help", "Help"),
    # The hall's steps.
    _case("a", "accept", "Accept", "accept", bulk=True),
    _case("x", "reject", "Reject", "reject"),
    _case("v", "verify", "Verify", "verify"),
    _case("d", "dispatch", "Dispatch", "dispatch", bulk=True),
    _case("r", "reassign", "Reassign", "reassign"),
    _case("e", "escalate", "Escalate", "escalate"),
    _case("u", "urge", "Urge", "urge", bulk=True),
    _case("j", "joint", "Joint enforcement", "joint"),
    _case("k", "check", "Check on site", "check"),
    _case("w", "rework", "Rework", "rework"),
    _case("z", "close_case", "Close case", "close"),
    _case("p", "approve", "Approve request", "approve"),
    _case("P", "refuse", "Refuse request", "refuse"),
    # The unit's and the standby officer's own steps.
    _case("g", "acknowledge", "Sign for", "acknowledge", bulk=True),
    _case("o", "arrive", "On scene", "arrive"),
    _case("b", "report_back", "Report back", "report_back"),
    _case("t", "request_return", "Ask to return", "request_return"),
    _case("T", "request_extension", "Ask for more time", "request_extension"),
    _case("n", "note", "Note", "note"),
    # The chain of command (三级指挥) and 吹哨报到.
    _case("I", "instruct", "Instruct", "instruct"),
    _case("D", "send_down", "Send back down", "send_down"),
    _case("W", "whistle", "Blow the whistle", "whistle"),
    _case("Y", "report_in", "Report in", "report_in"),
    # Everyone's.
    Action("space", "mark", "Mark", case=True),
    Action("enter", "open_case", "Open case", case=True),
    Action("colon", "command_line", "Command line", live=True),
    Action("slash", "filter", "Filter"),
    Action("f", "quick_filter", "Quick filter"),
    Action("s", "sort", "Sort"),
    Action("1", "queue('urgent')", "Urgent queue"),
    Action("2", "queue('to_accept')", "To accept queue"),
    Action("3", "queue('to_dispatch')", "To dispatch queue"),
    Action("4", "queue('in_progress')", "In progress queue"),
    Action("5", "queue('to_check')", "To check queue"),
    Action("6", "queue('overdue')", "Overdue queue"),
    Action("7", "queue('all')", "All cases"),
    Action("8", "queue('desk')", "Escalated queue"),
    Action("R", "roster", "Roster"),
    Action("H", "handover", "Hand-over", _ops("handover_ack"), live=True),
    Action("K", "assessment", "Assessment", live=True),
    Action("i", "intake", "Intake", _ops("intake"), live=True),
    Action("L", "language", "中文/English"),
    Action("q", "quit", "Quit"),
)

BY_METHOD: Mapping[str, Action] = {a.method: a for a in ACTIONS}
BY_NAME: Mapping[str, Action] = {a.name: a for a in ACTIONS}
BY_KEY: Mapping[str, Action] = {a.key: a for a in ACTIONS}

_EVERYONE = ("mark", "command_line", "filter", "quick_filter", "roster", "language", "help", "quit")
ROLE_KEYS: Mapping[Role | None, tuple[str, ...]] = {
    Role.COMMANDER: (
        "accept", "verify", "dispatch", "reassign", "escalate", "urge", "joint", "close_case",
        "intake", *_EVERYONE,
    ),
    Role.DISPATCHER: (
        "accept", "verify", "dispatch", "reassign", "escalate", "urge", "joint", "close_case",
        "intake", *_EVERYONE,
    ),
    Role.STANDBY: (
        "acknowledge", "arrive", "report_back", "dispatch", "escalate", "urge", "note",
        "report_in", "intake", *_EVERYONE,
    ),
    Role.UNIT: (
        "acknowledge", "arrive", "report_back", "request_return", "request_extension", "note",
        "report_in", "intake", *_EVERYONE,
    ),
    Role.OBSERVER: ("open_case", "filter", "quick_filter", "sort", "roster", "language", "help",
                    "quit"),
    None: ("filter", "language", "help", "quit"),
}  # fmt: skip
"""The key bar's keys per role, the role's own steps first (the rest are in help and the
palette, after these)."""


def role_may(role: Role | None, action: Action) -> bool:
    """Whether ``role`` may send every op the action needs (no role yet: only local actions)."""
    if not action.ops:
        return True
    return role is not None and action.ops <= ALLOWED[role]


def role_first(role: Role | None) -> list[Action]:
    """Every action, the role's key-bar ones first (in that order), then the others it may
    use, then those it may not."""
    own = [BY_METHOD[m] for m in ROLE_KEYS[role] if m in BY_METHOD]
    rest = [a for a in ACTIONS if a not in own]
    return own + [a for a in rest if role_may(role, a)] + [a for a in rest if not role_may(role, a)]


def bindings() -> list[Binding]:
    """The board's bindings. Descriptions are gettext ids: the key bar translates them."""
    return [Binding(a.key, a.name, a.description, show=False, id=a.method) for a in ACTIONS]


_KEY_LABELS: Mapping[str, str] = {
    "space": "␣",
    "enter": "⏎",
    "colon": ":",
    "slash": "/",
    "question_mark": "?",
}


def key_label(action: Action) -> str:
    return _KEY_LABELS.get(action.key, action.key)


@runtime_checkable
class PaletteScreen(Protocol):
    """A screen that offers its actions to the command palette."""

    def palette_entries(self) -> Sequence[tuple[str, str]]:
        """(text shown, action string to run), best first, in the operator's language."""
        ...


class ActionsProvider(Provider):
    """Command palette entries: what the screen it was opened from offers now."""

    def _entries(self) -> Sequence[tuple[str, str]]:
        screen = self.screen
        return screen.palette_entries() if isinstance(screen, PaletteScreen) else ()

    async def discover(self) -> Hits:
        for text, action in self._entries():
            yield DiscoveryHit(text, partial(self.screen.run_action, action), text=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self.screen.run_action, action),
                    text=text,
                )
