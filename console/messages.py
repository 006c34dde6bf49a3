"""The console's messages: what the hub link tells the app, and what the app tells screens.

From the link worker to the app (immutable, typed — the only way live data arrives):
:class:`Synced` (a whole snapshot), :class:`HallBatch` (cases and people that changed, with
their events; bursts already merged by the link) and :class:`ConnectionChanged` (only the
latest state matters, so a newer one replaces one still waiting).

From the app to every screen: :class:`DeskChanged`, one typed message saying what changed —
the hall (a :class:`~backend_client.hall_model.HallDelta`), the hub time, the session
(connection, operator, command feedback) or the language. Screens redraw from it.
"""

from __future__ import annotations

from datetime import datetime

from textual.message import Message

from backend_client.hall_model import HallDelta
from backend_client.state import ConnectionState
from dispatch.events import Event
from dispatch.models import Area, Case, Staff, Unit


class Synced(Message):
    """A full snapshot arrived: replace everything the UI holds."""

    def __init__(
        self,
        cases: tuple[Case, ...],
        staff: tuple[Staff, ...],
        units: tuple[Unit, ...],
        areas: tuple[Area, ...],
        seq: int,
    ) -> None:
        super().__init__()
        self.cases = cases
        self.staff = staff
        self.units = units
        self.areas = areas
        self.seq = seq


class HallBatch(Message):
    """Cases and people changed (their new values) by ``events``. Carries deltas, so it is
    never replaced in the queue; the link merges bursts itself (at most ~10 a second)."""

    def __init__(
        self,
        cases: tuple[Case, ...],
        staff: tuple[Staff, ...],
        events: tuple[Event, ...],
        removed: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.cases = cases
        self.staff = staff
        self.events = events
        self.removed = removed
        """Cases that left a role-scoped operator's view (``out_of_scope``)."""


class ConnectionChanged(Message):
    """The hub connection moved to ``state``; ``detail`` says why, for people."""

    def __init__(self, state: ConnectionState, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


class DeskChanged(Message, bubble=False):
    """Something a screen shows changed. ``now``: the hub time to draw countdowns at;
    ``hall``: what moved in the hall model (None: nothing); ``session``: the connection,
    operator or last command's feedback; ``language``: the operator switched language."""

    def __init__(
        self,
        now: datetime | None,
        *,
        hall: HallDelta | None = None,
        session: bool = False,
        language: bool = False,
    ) -> None:
        super().__init__()
        self.now = now
        self.hall = hall
        self.session = session
        self.language = language


class SwitchLanguage(Message):
    """A screen asks for the other language (key ``L``); the app switches and tells all."""
