"""Record what a live hub does as a scenario that can be replayed (``griddesk record``).

The recorder listens to the client's event stream and writes one ``[[step]]`` per command
that changed something, as the events arrive: the file is appended to and flushed step by
step, so a crash loses nothing already written. The header is written with the first step
(its date and time, in the hall's time zone, are the scenario's date and start).

Mapping events back to commands (``dispatch.workflow`` is the other direction):

- All events of one command share its id and come in a row; the first one says which op it
  was (an intake's ``case_created``, a return's ``returned`` …) and the rest are its echoes
  (``duplicate_flagged``, the ``alert`` of a manual escalation …). A shift change is the one
  exception: its ``staff_changed`` events come first, so it is written at its closing
  ``shift_changed``.
- Events the hub makes itself (actor ``hub``: breaches, their escalations and alerts) are not
  written: the hub makes them again when the scenario is replayed.
- Case names in the scenario are the hub's case ids. A step on a case whose intake was not
  recorded (it came in before the recording started) cannot be replayed, so it is skipped.
- ``by``: an operator named like a unit or a person of the roster (as a replayed scenario's
  operators are) maps back to that unit or person's id; the system that forwards an intake
  (``12345热线`` …) to no ``by``; a step only a unit may send (sign, arrive, report back,
  requests) to the unit that owned the case; anyone else to ``"hall"``.

What cannot be mapped back is skipped with a logged warning, a ``# skipped`` comment in the
file, and counted in the :class:`RecordReport`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from backend_client.client import HubClient
from backend_client.mirror import Change, Mirror
from dispatch.events import Event, EventType
from dispatch.models import HUB_ACTOR, Role
from dispatch.roles import ALLOWED
from dispatch.scenario import (
    FEEDS,
    HALL,
    Header,
    Scenario,
    ScenarioError,
    dump_step,
    dumps,
    format_time,
    make_step,
)

log = logging.getLogger(__name__)

_FEED_NAMES = frozenset(FEEDS.values())
_UNIT_ONLY = frozenset(op for op in ALLOWED[Role.UNIT] if op not in ALLOWED[Role.DISPATCHER])
"""Ops the hall's duty desk may not send: written as the owning unit's, so they replay."""

_CASE_OPS: dict[EventType, str] = {
    EventType.VERIFIED: "verify",
    EventType.ACCEPTED: "accept",
    EventType.REJECTED: "reject",
    EventType.DISPATCHED: "dispatch",
    EventType.REASSIGNED: "reassign",
    EventType.ACKNOWLEDGED: "acknowledge",
    EventType.ARRIVED: "arrive",
    EventType.REPORTED_BACK: "report_back",
    EventType.CHECKED: "check",
    EventType.CLOSED: "close",
    EventType.CALLBACK: "callback",
    EventType.URGED: "urge",
    EventType.JOINT: "joint",
    EventType.NOTED: "note",
    EventType.REFUSED: "refuse",
    EventType.RESUMED: "resume",
    EventType.MERGED: "merge",
    EventType.RETURNED: "approve",
    EventType.EXTENDED: "approve",
    EventType.PARKED: "approve",
}
"""The op of a command whose first event is of this type (more cases in :func:`_command`)."""


class Sink(Protocol):
    """Where the scenario goes: an open text file, ``sys.stdout``, a ``StringIO``."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class RecordReport:
    steps: int
    """Steps written."""
    cases: int
    """Intakes among them."""
    skipped: int
    """Commands seen but not written (see the ``# skipped`` comments in the file)."""
    lost_events: int = 0
    """Events never seen: the client fell back to a fresh snapshot while recording."""

    def summary(self) -> str:
        text = f"recorded {self.steps} steps ({self.cases} cases), {self.skipped} skipped"
        if self.lost_events:
            text += f", {self.lost_events} events lost to a resync"
        return text


class _Unmappable(Exception):
    """This command cannot be written as a step; the message says why."""


async def record(
    client: HubClient,
    out: Sink | str | os.PathLike[str],
    *,
    name: str,
    stop: asyncio.Event,
    timezone: str = "Asia/Shanghai",
    title: str = "",
) -> RecordReport:
    """Write what the hub does, from now until ``stop`` is set, as scenario ``name`` to ``out``
    (a path is created or overwritten; an open sink is left open). ``timezone`` is the hall's
    (``clock.timezone`` of the config): the scenario's clock times are read in it.

    The client is the caller's: it may be live already or still connecting. It must be a
    commander's or dispatcher's: recording only reads, but every other role sees less than
    the whole hall (PROTOCOL.md §5.1 — an observer no reasons, a unit its own cases), and a
    scenario needs it all; :class:`NeedsWholeView` otherwise, before anything is written.
    Raises ``OSError`` if the file cannot be written.
    """
    tz = ZoneInfo(timezone)
    owned: TextIO | None = None
    if isinstance(out, str | os.PathLike):
        # Blocking, like the step-sized writes that follow: a local file, small and rare.
        owned = Path(out).open("w", encoding="utf-8", newline="\n")  # noqa: ASYNC230, SIM115
        sink: Sink = owned
    else:
        sink = out
    recording = _Recording(client, sink, name=name, tz=tz, title=title)
    unsubscribe = (client.on_change(recording.take), client.on_snapshot(recording.resynced))
    try:
        stopped = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(recording.failed.wait())
        try:
            await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            failed.cancel()
        recording.active = False
        if recording.error is not None:
            raise recording.error
        if not recording.started:
            recording.write_header(client.hub_now())  # nothing happened: still a valid file
    finally:
        recording.active = False
        for off in unsubscribe:
            off()
        if owned is not None:
            owned.close()
    return recording.report()


WHOLE_VIEW = frozenset({Role.COMMANDER, Role.DISPATCHER})
"""The roles that see the whole hall, free text included: the only ones a recording can use."""


class NeedsWholeView(ValueError):
    """The recorder's client sees only part of the hall (its role); the message says so."""

    def __init__(self, role: Role | None) -> None:
        super().__init__(
            f"recording needs a commander's or dispatcher's token: as {role} the hub sends "
            "only part of the hall (docs/PROTOCOL.md §5.1), and the scenario would lack it"
        )


class _Recording:
    """The recorder's state; :meth:`take` runs on each events frame the client applies."""

    def __init__(
        self, client: HubClient, sink: Sink, *, name: str, tz: ZoneInfo, title: str
    ) -> None:
        self.client = client
        self.sink = sink
        self.name = name
        self.tz = tz
        self.title = title
        self.active = True
        self.failed = asyncio.Event()
        self.error: OSError | NeedsWholeView | None = None
        self.scenario: Scenario | None = None  # set with the header
        self.last_seq = client.mirror.seq
        self.seen_events = False
        self.last_command: str | None = None
        self.named: set[str] = set()  # cases whose intake is in the file
        self.owners: dict[str, str | None] = {}  # owner unit of each named case, as of now
        self.steps = 0
        self.cases = 0
        self.skipped = 0
        self.lost = 0

    @property
    def started(self) -> bool:
        return self.scenario is not None

    def report(self) -> RecordReport:
        return RecordReport(
            steps=self.steps, cases=self.cases, skipped=self.skipped, lost_events=self.lost
        )

    # --- the client's callbacks ------------------------------------------------------------

    def take(self, change: Change) -> None:
        if not self.active:
            return
        if self.client.role not in WHOLE_VIEW:
            self.error = NeedsWholeView(self.client.role)
            self.active = False
            self.failed.set()
            return
        try:
            for event in change.events:
                self._event(event)
        except OSError as exc:
            log.error("recording stopped: cannot write the scenario: %s", exc)
            self.error = exc
            self.active = False
            self.failed.set()

    def resynced(self, mirror: Mirror) -> None:
        """A fresh snapshot: events between the last one seen and it were never delivered.
        (One behind the last seen is a hub restored from a backup: what follows is new.)"""
        if not self.active:
            return
        if self.seen_events and mirror.seq > self.last_seq:
            self.lost += mirror.seq - self.last_seq
            self._note(f"events {self.last_seq + 1}..{mirror.seq} were never seen (a resync)")
        self.last_seq = mirror.seq

    # --- one event -------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        if event.seq <= self.last_seq:
            return
        self.last_seq = event.seq
        self.seen_events = True
        try:
            self._map(event)
        finally:
            if event.case is not None and "owner_unit" in event.changes:
                self.owners[event.case] = event.changes["owner_unit"]

    def _map(self, event: Event) -> None:
        if event.actor == HUB_ACTOR.name or event.command is None:
            return  # the hub's own doing: it does it again on replay
        if event.command == self.last_command:
            return  # an echo of the command already written
        if event.type is EventType.STAFF_CHANGED and event.reason:
            # Only a shift change gives staff events a reason (staff_status has none): wait
            # for its closing shift_changed, which says which shift went on duty.
            return
        self.last_command = event.command
        try:
            op, fields = _command(event)
            case = event.case
            for ref in (case if op != "intake" else None, fields.get("into")):
                if ref is not None and ref not in self.named:
                    raise _Unmappable(f"case {ref} was reported before the recording started")
            if not self.started:
                self.write_header(event.at)
            assert self.scenario is not None
            at = _whole_seconds(self.scenario.offset(event.at))
            step = make_step(self.steps + 1, at, op, by=self._by(event, op), case=case, **fields)
            text = dump_step(step)
        except (_Unmappable, ScenarioError, KeyError) as exc:
            self.skipped += 1
            self._note(f"event {event.seq} ({event.type} on {event.case or event.staff}): {exc}")
            return
        self._write("\n" + text)
        self.steps += 1
        if op == "intake":
            assert event.case is not None
            self.named.add(event.case)
            self.cases += 1

    def _by(self, event: Event, op: str) -> str | None:
        actor = event.actor
        if op == "intake" and actor in _FEED_NAMES:
            return None
        mirror = self.client.mirror
        for unit in mirror.units.values():
            if unit.name == actor:
                return unit.id
        for person in mirror.staff.values():
            if person.name == actor:
                return person.id
        owner = self.owners.get(event.case) if event.case is not None else None
        if op in _UNIT_ONLY and owner is not None:
            return owner
        return HALL

    # --- writing ---------------------------------------------------------------------------

    def write_header(self, first: datetime) -> None:
        local = first.astimezone(self.tz)
        midnight = datetime.combine(local.date(), datetime.min.time(), self.tz)
        header = Header(
            name=self.name,
            title=self.title,
            date=local.date(),
            start=format_time(_whole_seconds(local - midnight)),
            timezone=str(self.tz),
            description=f"recorded from {self.client.url}",
        )
        self.scenario = Scenario(header=header, steps=())
        self._write(dumps(self.scenario))

    def _note(self, why: str) -> None:
        """Say in the log and in the file what is not in the scenario."""
        log.warning("not recorded: %s", why)
        self._write("# skipped: " + " ".join(why.split()) + "\n")

    def _write(self, text: str) -> None:
        self.sink.write(text)
        self.sink.flush()


def _whole_seconds(offset: timedelta) -> timedelta:
    return timedelta(seconds=int(offset.total_seconds()))


def _command(event: Event) -> tuple[str, dict[str, Any]]:
    """The op and own fields of the command whose first event is ``event``."""
    c, d, t = event.changes, event.data, event.type
    if t is EventType.CASE_CREATED:
        names = ("kind", "category", "source", "title", "description", "urgency", "grid",
                 "address", "position", "reporter")  # fmt: skip
        return "intake", {n: c[n] for n in names if c.get(n) not in (None, "")}
    if t is EventType.STAFF_CHANGED:
        status: dict[str, Any] = {n: c[n] for n in ("duty", "field", "position") if n in c}
        return "staff_status", {"staff": event.staff, **status}
    if t is EventType.SHIFT_CHANGED:
        return "shift_change", {"to": d["to"]}
    if t is EventType.HANDOVER_NOTED:
        cases = {"cases": d["cases"]} if d.get("cases") else {}
        return "handover_note", {"text": event.reason, **cases}
    if t is EventType.HANDOVER_ACKNOWLEDGED:
        note = {"note": event.reason} if event.reason else {}
        window = {n: d[n] for n in ("since", "until", "outgoing", "digest") if d.get(n)}
        return "handover_ack", {**window, **note}
    if event.case is None:
        raise _Unmappable("no case and no command maps to it")
    reason = {"reason": event.reason} if event.reason else {}
    if t is EventType.VOIDED:
        if d.get("request") == "void":
            return "approve", {"request": "void", **reason}
        return "verify", {"confirmed": False, **reason}
    if t is EventType.REWORK:
        if d.get("passed") is False:
            return "check", {"passed": False, **reason}
        return "rework", reason
    if t is EventType.ESCALATED and d.get("manual"):
        return "escalate", reason
    if t is EventType.REQUESTED:
        kind = d["request"]
        minutes = {"minutes": d["minutes"]} if kind == "extension" else {}
        return f"request_{kind}", {**minutes, **reason}
    op = _CASE_OPS.get(t)
    if op is None:
        raise _Unmappable("no command starts with this event")
    fields: dict[str, Any] = dict(reason)
    if op == "verify":
        fields["confirmed"] = True
    elif op == "accept":
        fields.update({n: c[n] for n in ("category", "urgency") if n in c})
    elif op in ("dispatch", "reassign"):
        fields["unit"] = d["unit"]
        if d.get("staff") is not None:
            fields["staff"] = d["staff"]
    elif op == "check":
        fields["passed"] = True
    elif op == "callback":
        fields["satisfied"] = c.get("callback") == "satisfied"
    elif op == "joint":
        fields.update(lead=d["lead"], supporting=d["supporting"])
    elif op == "refuse" or op == "approve":
        fields["request"] = d["request"]
    elif op == "merge":
        fields["into"] = d["into"]
    return op, fields
