"""The ONE list of the console's actions: key, action name, description, what it needs.

The board's bindings (footer), the help screen and the command palette are all built from
:data:`ACTIONS`, so a key, its description and the roles that may use it are stated once.
``ops`` are the hub ops the action sends: the roles that may use it follow from
:data:`dispatch.roles.ALLOWED` (the console only greys out; the hub still checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.i18n import Translate
from dispatch.models import Case, Role
from dispatch.roles import ALLOWED
from dispatch.workflow import TRANSITIONS


@dataclass(frozen=True)
class Action:
    key: str
    name: str  # the screen's ``action_<name>``, possibly with arguments: "queue('urgent')"
    description: str  # gettext id
    ops: frozenset[str] = frozenset()  # hub ops it sends; empty: a local action
    case: bool = False  # needs a selected (or marked) case
    live: bool = False  # needs a live hub connection
    footer: bool = True  # shown in the footer (all are in help and the palette)

    @property
    def method(self) -> str:
        """The action name without arguments."""
        return self.name.split("(", 1)[0]


def _ops(*names: str) -> frozenset[str]:
    return frozenset(names)


ACTIONS: tuple[Action, ...] = (
    # Help first: however narrow the terminal, the footer always says where every key is.
    Action("question_mark", "help", "Help"),
    Action("a", "accept", "Accept", _ops("accept"), case=True, live=True),
    Action("x", "reject", "Reject", _ops("reject"), case=True, live=True),
    Action("d", "dispatch", "Dispatch", _ops("dispatch"), case=True, live=True),
    Action("r", "reassign", "Reassign", _ops("reassign"), case=True, live=True),
    Action("e", "escalate", "Escalate", _ops("escalate"), case=True, live=True),
    Action("u", "urge", "Urge", _ops("urge"), case=True, live=True),
    Action("j", "joint", "Joint enforcement", _ops("joint"), case=True, live=True),
    Action("v", "verify", "Verify", _ops("verify"), case=True, live=True, footer=False),
    Action("k", "check", "Check on site", _ops("check"), case=True, live=True, footer=False),
    Action("w", "rework", "Rework", _ops("rework"), case=True, live=True, footer=False),
    Action("z", "close_case", "Close case", _ops("close"), case=True, live=True),
    Action(
        "t",
        "request_return",
        "Request return",
        _ops("request_return"),
        case=True,
        live=True,
        footer=False,
    ),
    Action(
        "T",
        "request_extension",
        "Request extension",
        _ops("request_extension"),
        case=True,
        live=True,
        footer=False,
    ),
    Action("p", "approve", "Approve request", _ops("approve"), case=True, live=True, footer=False),
    Action("P", "refuse", "Refuse request", _ops("refuse"), case=True, live=True, footer=False),
    Action("n", "note", "Note", _ops("note"), case=True, live=True, footer=False),
    Action("space", "mark", "Mark", case=True),
    Action("enter", "open_case", "Open case", case=True, footer=False),
    Action("colon", "command_line", "Command line", live=True),
    Action("slash", "filter", "Filter"),
    Action("f", "quick_filter", "Quick filter"),
    Action("s", "sort", "Sort", footer=False),
    Action("1", "queue('urgent')", "Urgent queue", footer=False),
    Action("2", "queue('to_accept')", "To accept queue", footer=False),
    Action("3", "queue('to_dispatch')", "To dispatch queue", footer=False),
    Action("4", "queue('in_progress')", "In progress queue", footer=False),
    Action("5", "queue('to_verify')", "To verify queue", footer=False),
    Action("6", "queue('overdue')", "Overdue queue", footer=False),
    Action("7", "queue('all')", "All cases", footer=False),
    Action("R", "roster", "Roster"),
    Action("i", "intake", "Intake", _ops("intake"), live=True),
    Action("L", "language", "中文/English"),
    Action("q", "quit", "Quit"),
)

BY_METHOD: Mapping[str, Action] = {a.method: a for a in ACTIONS}


def role_may(role: Role | None, action: Action) -> bool:
    """Whether ``role`` may send every op the action needs (no role yet: only local actions)."""
    if not action.ops:
        return True
    return role is not None and action.ops <= ALLOWED[role]


BULK: frozenset[str] = frozenset({"accept", "dispatch", "urge"})
"""The actions that act on every marked case (the others on the highlighted one)."""


def status_may(action: Action, cases: Iterable[Case]) -> bool:
    """Whether the action's ops may start from the status of at least one of ``cases`` (the
    workflow's :data:`~dispatch.workflow.TRANSITIONS`); an action without case ops always may."""
    starts = [TRANSITIONS[op] for op in action.ops if op in TRANSITIONS]
    if not action.case or not starts:
        return True
    return any(all(case.status in s for s in starts) for case in cases)


def bindings(tr: Translate) -> list[Binding]:
    """The board's bindings in the operator's language."""
    return [Binding(a.key, a.name, tr(a.description), show=a.footer, id=a.name) for a in ACTIONS]


def key_label(action: Action) -> str:
    return {"space": "␣", "enter": "⏎", "colon": ":", "slash": "/", "question_mark": "?"}.get(
        action.key, action.key
    )


class ActionsProvider(Provider):
    """Command palette entries for the actions the current screen allows now."""

    def _actions(self) -> list[tuple[str, Action]]:
        tr: Translate = getattr(self.app, "tr", str)
        screen = self.screen
        return [
            (f"{tr(a.description)} ({key_label(a)})", a)
            for a in ACTIONS
            if a.method != "quit"
            and screen.check_action(a.method, ()) is True
            and hasattr(screen, f"action_{a.method}")
        ]

    async def discover(self) -> Hits:
        for text, action in self._actions():
            yield DiscoveryHit(text, partial(self.screen.run_action, action.name), text=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action in self._actions():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self.screen.run_action, action.name),
                    text=text,
                )
