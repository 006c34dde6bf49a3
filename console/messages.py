"""Messages the hub link posts to the app: immutable, typed, the only way live data arrives.

They carry tuples of frozen domain structs, so the worker and the UI never share a mutable
structure. ``CasesChanged`` carries deltas and so is never replaced in the queue; the link
coalesces bursts itself (at most ~10 a second). ``ConnectionChanged`` only says the latest
state, so a newer one replaces an older one still waiting.
"""

from __future__ import annotations

from textual.message import Message

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


class CasesChanged(Message):
    """Cases changed (new values), some are new, some of the new ones urgent; the events."""

    def __init__(
        self,
        cases: tuple[Case, ...],
        new: tuple[str, ...],
        urgent: tuple[str, ...],
        events: tuple[Event, ...],
    ) -> None:
        super().__init__()
        self.cases = cases
        self.new = new
        self.urgent = urgent
        self.events = events


class RosterChanged(Message):
    """People changed (new values)."""

    def __init__(self, staff: tuple[Staff, ...]) -> None:
        super().__init__()
        self.staff = staff


class ConnectionChanged(Message):
    """The hub connection moved to ``state``; ``detail`` says why, for people."""

    def __init__(self, state: ConnectionState, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)
