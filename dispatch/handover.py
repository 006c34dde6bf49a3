"""The shift hand-over (交接班): the report the incoming commander reads and acknowledges.

Pure: the report is built from the hall's cases as they stand now and the events of the shift
window (``since`` .. ``until``, hub time), both handed in; reading them is the caller's job
(the hub's ``events_window`` request, ``backend_client.HubClient.events_window``). What the
report holds, section by section:

- **open urgent cases** and **overdue cases** — the board's own queue rules
  (:func:`dispatch.queues.in_queue`, so :func:`dispatch.sla.is_overdue`);
- **pending approvals** — open cases with a unit's request waiting (``Case.request``);
- what happened during the shift, from the events: **escalations**, **whistles** (吹哨报到),
  **leadership instructions** (批办), **urges**, **joint enforcement**, **staff changes**
  (a person's duty changed by hand: off sick, called in — not the whole roster moving at a
  shift change, which is one line under **shift changes**), **shift changes** and earlier
  hand-overs, and the outgoing commander's **notes** (``handover_note``).

Which event types and case fields feed which section is stated once, in
:data:`EVENT_SECTIONS` and :data:`CASE_SECTIONS`. Whistles and instructions are named there by
the event types and case fields that carry them; until this hub's protocol has those event
types the sections are *not wired* (:attr:`HandoverReport.wired`) and read "none (not recorded
yet)" — wiring them in is adding nothing but the event types to :class:`~dispatch.events.EventType`.

The acknowledgement is a command (``handover_ack``) decided here too: it names the window and
the outgoing commander and becomes one ``handover_acknowledged`` event in the log.
Rendering (Markdown, the screen) is localised and lives in ``console``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from dispatch.commands import HandoverAck, HandoverNote
from dispatch.errors import refuse
from dispatch.events import Event, EventType
from dispatch.models import Actor, Case
from dispatch.patrol_alert import KIND as SHORT_PATROL
from dispatch.queues import Queue, in_queue
from dispatch.roles import require
from dispatch.sla import shown_deadline

MAX_WINDOW = timedelta(hours=72)
"""The longest window a hand-over may cover (a long weekend's standby handed to Monday)."""
DEFAULT_SHIFT = timedelta(hours=8)
"""With no shift change or hand-over in the log, the shift is taken to have started this long
ago (the 8-hour day)."""
LOOKBACK = timedelta(hours=24)
"""How far back a client looks for the last shift change to start the default window."""


class Section(StrEnum):
    """The report's sections, in the order they are shown."""

    URGENT = "urgent"  # 紧急: open urgent cases
    OVERDUE = "overdue"  # 超时: open cases past a deadline
    PENDING = "pending"  # 待审批: requests waiting for the hall
    ESCALATIONS = "escalations"  # 上报
    WHISTLES = "whistles"  # 吹哨报到
    INSTRUCTIONS = "instructions"  # 领导批办
    URGES = "urges"  # 督办
    JOINT = "joint"  # 联合执法
    STAFF = "staff"  # 人员变动
    PATROLS = "patrols"  # 巡查不足: the day's short-patrol alerts (dispatch/patrol_alert.py)
    SHIFTS = "shifts"  # 班次与交接
    NOTES = "notes"  # 交班记录


CASE_LIST_SECTIONS = (Section.URGENT, Section.OVERDUE, Section.PENDING)
"""Sections that list cases as they stand now (the rest list events of the window)."""

# --- THE MAPPING: which event types and case fields feed which section -------------------------
# Whistles (吹哨报到) and leadership instructions (批办) are being added in parallel; their event
# types and case fields are named here by value. A section whose types this hub's EventType does
# not have yet is "not wired" and reads "none (not recorded yet)"; once the types exist it fills
# by itself. Keep this the one place that says what goes where.
EVENT_SECTIONS: Mapping[Section, tuple[str, ...]] = {
    Section.ESCALATIONS: ("escalated",),
    Section.WHISTLES: ("whistled", "reported_in"),
    Section.INSTRUCTIONS: ("instructed",),
    Section.URGES: ("urged",),
    Section.JOINT: ("joint",),
    Section.STAFF: ("staff_changed",),
    Section.PATROLS: ("alert",),  # the short-patrol alerts only (case alerts: escalations)
    Section.SHIFTS: ("shift_changed", "handover_acknowledged"),
    Section.NOTES: ("handover_noted",),
}
"""Section → the event types (values) of the window it lists."""
CASE_SECTIONS: Mapping[Section, str] = {
    Section.WHISTLES: "whistle",
    Section.INSTRUCTIONS: "instruction",
}
"""Section → a ``Case`` field that, set on an open case, lists the case there too (a whistle
still open, an instruction still to carry out), whatever happened in the window."""
# ------------------------------------------------------------------------------------------------

_KNOWN = frozenset(t.value for t in EventType)
SHIFT_MARKS = frozenset({EventType.SHIFT_CHANGED, EventType.HANDOVER_ACKNOWLEDGED})
"""Events that start a shift: the default window starts at the last of them."""


def wired_sections() -> frozenset[Section]:
    """The sections this hub can fill: every case list, and each event section whose types
    all exist (or whose case field exists on :class:`Case`)."""
    wired = set(CASE_LIST_SECTIONS)
    for section, types in EVENT_SECTIONS.items():
        if all(t in _KNOWN for t in types) or CASE_SECTIONS.get(section) in Case.__struct_fields__:
            wired.add(section)
    return frozenset(wired)


def window_types() -> tuple[EventType, ...]:
    """The event types the report reads from the window (what a client asks the hub for)."""
    wanted = {t for types in EVENT_SECTIONS.values() for t in types if t in _KNOWN}
    return tuple(EventType(t) for t in sorted(wanted))


@dataclass(frozen=True)
class HandoverReport:
    """The hand-over of ``since`` .. ``until``: case lists as of ``until``, events of the window."""

    since: datetime
    until: datetime
    outgoing: str
    """Who hands over: the author of the last note, else who took the shift over at its start
    (empty when the log says neither)."""
    cases: Mapping[Section, tuple[Case, ...]]
    """The case sections (and open cases carrying a :data:`CASE_SECTIONS` field)."""
    events: Mapping[Section, tuple[Event, ...]]
    """The event sections, oldest first."""
    wired: frozenset[Section] = field(default_factory=wired_sections)
    moved: Mapping[str, int] = field(default_factory=dict)
    """Shift-change command id → how many people it moved (their events are not listed)."""
    complete: bool = True
    """False when the window held more events than were read: the event sections are cut."""

    def count(self, section: Section) -> int:
        return len(self.cases.get(section, ())) + len(self.events.get(section, ()))

    @property
    def digest(self) -> str:
        """A fingerprint of what the report lists (case versions, event seqs): the ack says
        which report was read."""
        h = hashlib.sha256(f"{self.since.isoformat()}|{self.until.isoformat()}".encode())
        for section in Section:
            for case in self.cases.get(section, ()):
                h.update(f"{section}:{case.id}@{case.version};".encode())
            for event in self.events.get(section, ()):
                h.update(f"{section}:{event.seq};".encode())
        return h.hexdigest()[:16]


def build(
    cases: Iterable[Case],
    events: Sequence[Event],
    since: datetime,
    until: datetime,
    *,
    opened_by: Event | None = None,
    complete: bool = True,
) -> HandoverReport:
    """The report of the window ``since`` .. ``until`` from the hall's ``cases`` now and the
    ``events`` of the window (any types; those no section wants are ignored). ``opened_by``:
    the shift change or hand-over the window starts at, if known (its actor took the shift);
    ``complete``: False when ``events`` is not the whole window (the report says so)."""
    open_cases = sorted((c for c in cases if c.is_open), key=lambda c: c.id)
    urgent = tuple(c for c in open_cases if in_queue(c, Queue.URGENT, until))
    overdue = tuple(
        sorted(
            (c for c in open_cases if in_queue(c, Queue.OVERDUE, until)),
            key=lambda c: (_earliest_due(c) or until, c.id),  # longest overdue first
        )
    )
    pending = tuple(c for c in open_cases if c.request is not None)
    listed: dict[Section, tuple[Case, ...]] = {
        Section.URGENT: urgent,
        Section.OVERDUE: overdue,
        Section.PENDING: pending,
    }
    for section, name in CASE_SECTIONS.items():
        if name in Case.__struct_fields__:
            listed[section] = tuple(c for c in open_cases if getattr(c, name, None))

    in_window = [e for e in events if since <= e.at <= until]
    shift_commands = {e.command for e in in_window if e.type is EventType.SHIFT_CHANGED}
    moved: dict[str, int] = {}
    by_type: dict[str, list[Event]] = {}
    for event in in_window:
        if event.type is EventType.STAFF_CHANGED:
            if event.command in shift_commands:
                # The roster moving at a shift change: one line under shifts, not a hundred.
                key = event.command or ""
                moved[key] = moved.get(key, 0) + 1
                continue
            if "duty" not in event.changes:
                continue  # a position or field update: the roster's business
        if event.type is EventType.ALERT and event.data.get("kind") != SHORT_PATROL:
            continue  # a case's alert: listed with its escalation
        by_type.setdefault(event.type.value, []).append(event)
    listed_events = {
        section: tuple(sorted((e for t in types for e in by_type.get(t, ())), key=lambda e: e.seq))
        for section, types in EVENT_SECTIONS.items()
    }
    notes = listed_events[Section.NOTES]
    outgoing = notes[-1].actor if notes else (opened_by.actor if opened_by else "")
    return HandoverReport(
        since=since,
        until=until,
        outgoing=outgoing,
        cases=listed,
        events=listed_events,
        moved=moved,
        complete=complete,
    )


def _earliest_due(case: Case) -> datetime | None:
    due = shown_deadline(case)
    return due.due if due is not None else None


def shift_start(marks: Iterable[Event], now: datetime) -> tuple[datetime, Event | None]:
    """Where the current shift's window starts: the last shift change or hand-over
    acknowledgement at or before ``now`` (and that event), else :data:`DEFAULT_SHIFT` ago."""
    last: Event | None = None
    for event in marks:
        if event.type in SHIFT_MARKS and event.at <= now and (last is None or event.seq > last.seq):
            last = event
    if last is None:
        return now - DEFAULT_SHIFT, None
    return last.at, last


# --- the commands ------------------------------------------------------------------------------


def decide_note(command: HandoverNote, actor: Actor, now: datetime) -> list[Event]:
    """The outgoing commander's note: one ``handover_noted`` event (the text in ``reason``)."""
    require(actor.role, "handover_note")
    return [
        Event(
            at=now,
            actor=actor.name,
            type=EventType.HANDOVER_NOTED,
            command=command.id,
            reason=command.text,
            data={"cases": list(command.cases)} if command.cases else {},
        )
    ]


def decide_ack(command: HandoverAck, actor: Actor, now: datetime) -> list[Event]:
    """The incoming commander takes the shift: one ``handover_acknowledged`` event naming the
    window, the outgoing commander and the report's digest. Refused: a window that does not
    start before it ends, ends after ``now`` (hub time), or is longer than :data:`MAX_WINDOW`."""
    require(actor.role, "handover_ack")
    since, until = command.since, command.until
    if since >= until:
        raise refuse("handover_window", since=since.isoformat(), until=until.isoformat())
    if until > now:
        raise refuse("handover_in_future", now=now.isoformat(), until=until.isoformat())
    if until - since > MAX_WINDOW:
        raise refuse("handover_too_long", hours=int(MAX_WINDOW.total_seconds() // 3600))
    data = {
        "since": msgspec.to_builtins(since),
        "until": msgspec.to_builtins(until),
        "outgoing": command.outgoing,
        "digest": command.digest,
    }
    return [
        Event(
            at=now,
            actor=actor.name,
            type=EventType.HANDOVER_ACKNOWLEDGED,
            command=command.id,
            reason=command.note,
            data=data,
        )
    ]
