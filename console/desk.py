"""What a screen is given to work with: the :class:`Desk`.

A screen gets the desk in its constructor and nothing else: the hall model to read, the
wording to name things, the session (who is signed in, the connection, the last command's
fate), and :class:`Commands` — the one way to act on the hub. It never reaches into the app or
the connection; the app keeps the desk current and tells screens what changed with
:class:`~console.messages.DeskChanged`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from textual.message_pump import MessagePump

from backend_client.hall_model import HallModel
from backend_client.state import ConnectionState
from console import prefs as prefs_store
from console.i18n import Language
from console.seen_events import SeenEvents
from console.wording import Wording
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import Command
from dispatch.config import Settings
from dispatch.hall import Hall
from dispatch.models import Actor, Deadline, Role
from dispatch.sla import Light, light


class Outcome(StrEnum):
    """Where the operator's last command stands."""

    SENT = "sent"  # on its way, no answer yet
    APPLIED = "applied"  # the hub acknowledged it
    REFUSED = "refused"  # the hub refused it: nothing changed
    FAILED = "failed"  # not sent, or its fate is unknown (connection lost)


@dataclass(frozen=True)
class Feedback:
    """The last command the operator sent, as the status bar tells it."""

    what: str
    """What was asked, in words ("立案 2611230042")."""
    outcome: Outcome
    detail: str = ""
    """Why it was refused or failed, in words."""
    at: float = 0.0
    """When (monotonic seconds) the outcome arrived: the bar lets an applied one fade."""


@dataclass
class Session:
    """Who is signed in and how the link stands; changed only by the app."""

    connection: ConnectionState = ConnectionState.CONNECTING
    detail: str = ""
    operator: str = ""
    role: Role | None = None
    unit: str | None = None
    speed: float = 1.0
    demo: bool = False
    feedback: Feedback | None = None
    in_flight: int = 0

    @property
    def live(self) -> bool:
        return self.connection is ConnectionState.LIVE

    @property
    def actor(self) -> Actor | None:
        """The operator as the hub sees them (for the workflow's own checks), once known."""
        if self.role is None:
            return None
        return Actor(name=self.operator, role=self.role, unit=self.unit)


class Commands(Protocol):
    """How a screen acts on the hub (the app implements it)."""

    def send(self, command: Command, *, what: str) -> None:
        """Send ``command``; ``what`` names it for the feedback ("立案 2611230042"). The
        outcome arrives as session feedback, a refusal also as a notification."""

    def not_sent(self, what: str, why: str) -> None:
        """Tell the operator a key did nothing, and why (the console's own refusal, before any
        command is made): the same feedback a hub refusal gets."""

    def new_id(self) -> str:
        """A fresh command id."""

    def hub_now(self) -> datetime:
        """Hub time now (the console's estimate)."""

    def fetch_history(self, case_id: str, reply_to: MessagePump) -> None:
        """Ask the hub for the case's whole history; ``reply_to`` gets a ``HistoryLoaded``."""

    def fetch_handover(self, reply_to: MessagePump) -> None:
        """Ask the hub for the current shift's hand-over report; ``reply_to`` gets a
        ``HandoverLoaded``."""

    def fetch_patrol(self, reply_to: MessagePump, staff_id: str) -> None:
        """Ask the hub for the person's patrol today; ``reply_to`` gets a ``PatrolLoaded``."""

    def fetch_assessment(
        self, reply_to: MessagePump, since: datetime, until: datetime, workers: Sequence[str]
    ) -> None:
        """Ask the hub for the cases reported in [since, until) and today's patrol of
        ``workers``; ``reply_to`` gets an ``AssessmentLoaded``."""


@dataclass(frozen=True)
class Desk:
    """Everything a screen works with, passed in (see the module docstring)."""

    model: HallModel
    words: Wording
    language: Language
    session: Session
    commands: Commands
    seen: SeenEvents
    settings: Settings
    catalog: Catalog
    calendar: WorkingCalendar
    prefs_dir: Path | None = None
    light: Callable[[Deadline, datetime], Light] = field(init=False)
    """The traffic light (``dispatch.sla.light``) on the hall's calendar and amber share."""

    def __post_init__(self) -> None:
        bound = partial(light, calendar=self.calendar, amber_at=self.settings.sla.amber_at)
        object.__setattr__(self, "light", bound)

    def hall(self) -> Hall:
        """The reference data the workflow and routing need, from the model."""
        m = self.model
        return Hall(self.settings, self.catalog, self.calendar, m.areas, m.units, m.staff)

    def load_prefs(self) -> prefs_store.Prefs:
        return prefs_store.load(self.session.operator, self.prefs_dir)

    def save_prefs(self, prefs: prefs_store.Prefs) -> None:
        if self.session.operator:
            prefs_store.save(self.session.operator, prefs, self.prefs_dir)
