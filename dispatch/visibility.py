"""Who sees what: the per-role view of the hall the hub sends (docs/PROTOCOL.md §5.1).

- commander, dispatcher: everything, as it is;
- standby, unit: the cases their own unit owns or supports (joint enforcement) or a whistle
  summoned it to (吹哨报到); the
  reporter's contact only on the cases it owns; every person, the phone only of its own unit;
  ``history`` of the cases it sees now, else ``forbidden``;
- observer (wallboards): every case and person without personal data — no reporter (nor the
  reporters of merged duplicates), no description, no phone, no free-text event ``reason``.

"Own unit" is :func:`dispatch.roles.own_units`: the operator's unit and the units reporting to
it, the same set the hub's command checks use. A case's *placement* — its owner unit and its
joint-enforcement supporting units — decides what a unit sees of it; a :class:`Level` says how
much. When an event moves a case from one level to another for a unit, that unit is not sent
the event itself but an ``in_scope`` event (the whole case, as it may see it) or an
``out_of_scope`` event (only the case id and the seq): see :func:`view_events`.

Pure functions: no I/O, no clock; the hub calls them for the snapshot, live events and
``history`` alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

import msgspec

from dispatch.events import Event, EventType, case_fields
from dispatch.hall import Hall
from dispatch.models import Actor, Case, Role, Staff
from dispatch.patrol_alert import addressed_to_unit
from dispatch.roles import own_units
from dispatch.whistle import summoned


class ViewKind(StrEnum):
    FULL = "full"  # commander, dispatcher: everything as it is
    OBSERVER = "observer"  # wallboards: every case, no personal data
    UNIT = "unit"  # standby and unit operators: their unit's cases


@dataclass(frozen=True)
class Scope:
    """What one client may see. Equal scopes see the same bytes: the hub encodes each live
    batch once per distinct scope (all commanders and dispatchers share :data:`FULL`; every
    terminal of one unit, standby or unit, shares one)."""

    kind: ViewKind
    units: frozenset[str] = frozenset()
    """For :attr:`ViewKind.UNIT`: the operator's own units (empty: it sees no case)."""

    @property
    def full(self) -> bool:
        return self.kind is ViewKind.FULL

    @property
    def placed(self) -> bool:
        """Whether what it sees depends on where each case stands (a unit's view)."""
        return self.kind is ViewKind.UNIT


FULL = Scope(ViewKind.FULL)
OBSERVER = Scope(ViewKind.OBSERVER)


def scope_of(actor: Actor, hall: Hall) -> Scope:
    """The scope of an authenticated operator."""
    if actor.role in (Role.COMMANDER, Role.DISPATCHER):
        return FULL
    if actor.role is Role.OBSERVER:
        return OBSERVER
    return Scope(ViewKind.UNIT, own_units(actor, hall))


class Level(IntEnum):
    """How much of one case a scope sees."""

    NONE = 0  # not at all
    SUPPORTS = 1  # a supporting unit of joint enforcement: no reporter contact
    OWNS = 2  # the owner unit: the whole case
    REDACTED = 3  # the observer: every case, no personal data
    WHOLE = 4  # commander, dispatcher


Placement = tuple[str | None, frozenset[str], frozenset[str]]
"""A case's owner unit, its supporting units and the units a whistle summoned (吹哨报到): all
that decides a unit's :class:`Level`."""


def placement(case: Case) -> Placement:
    return case.owner_unit, frozenset(case.supporting_units), summoned(case)


def _summoned(whistles: Any) -> frozenset[str]:
    """The summoned units of ``whistles`` as an event's ``changes`` carry them (JSON)."""
    return frozenset(s["unit"] for w in whistles or () for s in w["units"])


def level(scope: Scope, where: Placement | None) -> Level:
    """How much of a case placed ``where`` (None: no such case) ``scope`` sees."""
    if scope.kind is ViewKind.FULL:
        return Level.WHOLE
    if scope.kind is ViewKind.OBSERVER:
        return Level.REDACTED
    if where is None:
        return Level.NONE
    owner, supporting, called = where
    if owner is not None and owner in scope.units:
        return Level.OWNS
    # A summoned unit sees the case as a supporting one does: without the reporter's contact.
    if not supporting.isdisjoint(scope.units) or not called.isdisjoint(scope.units):
        return Level.SUPPORTS
    return Level.NONE


def placement_after(before: Placement | None, event: Event) -> Placement | None:
    """The placement of ``event.case`` after ``event`` (the reducer, on just these fields)."""
    if event.case is None or event.type is EventType.ALERT:
        return before
    changes = event.changes
    if event.type is EventType.CASE_CREATED or before is None:
        if "id" not in changes:  # not a whole case: nothing known (the mirror would diverge)
            return before
        return (
            changes.get("owner_unit"),
            frozenset(changes.get("supporting_units") or ()),
            _summoned(changes.get("whistles")),
        )
    # Three lookups, not a set made of the keys: this runs for every event of every batch.
    if (
        "owner_unit" not in changes
        and "supporting_units" not in changes
        and "whistles" not in changes
    ):
        return before
    owner, supporting, called = before
    if "owner_unit" in changes:
        owner = changes["owner_unit"]
    if "supporting_units" in changes:
        supporting = frozenset(changes["supporting_units"] or ())
    if "whistles" in changes:
        called = _summoned(changes["whistles"])
    return owner, supporting, called


def final_placement(events: Iterable[Event]) -> Placement | None:
    """Where a case stands after its events (a ``history``), folding only placement."""
    where: Placement | None = None
    for event in events:
        where = placement_after(where, event)
    return where


# --- redaction ------------------------------------------------------------------------------

_CASE_HIDDEN: Mapping[Level, Mapping[str, Any]] = {
    Level.SUPPORTS: {"reporter": None, "also_reported_by": ()},
    Level.REDACTED: {"reporter": None, "also_reported_by": (), "description": ""},
}
"""Case fields a level does not see, with the value sent in their place (their default)."""


def redact_case(case: Case, seen: Level) -> Case:
    """``case`` as a client seeing it at ``seen`` may have it (the same object if whole)."""
    hidden = _CASE_HIDDEN.get(seen)
    if not hidden or all(getattr(case, k) == v for k, v in hidden.items()):
        return case
    return msgspec.structs.replace(case, **hidden)


def sees_phone(scope: Scope, staff_unit: str | None) -> bool:
    return scope.kind is ViewKind.FULL or (
        scope.kind is ViewKind.UNIT and staff_unit is not None and staff_unit in scope.units
    )


def redact_staff(staff: Staff, scope: Scope) -> Staff:
    """A person as ``scope`` may see them: the phone only of one's own unit."""
    if staff.phone is None or sees_phone(scope, staff.unit):
        return staff
    return msgspec.structs.replace(staff, phone=None)


def visible_cases(scope: Scope, cases: Iterable[Case]) -> list[Case]:
    """The cases of a snapshot as ``scope`` sees them."""
    if scope.kind is ViewKind.FULL:
        return list(cases)
    out = []
    for case in cases:
        seen = level(scope, placement(case))
        if seen is not Level.NONE:
            out.append(redact_case(case, seen))
    return out


def visible_staff(scope: Scope, staff: Iterable[Staff]) -> list[Staff]:
    if scope.kind is ViewKind.FULL:
        return list(staff)
    return [redact_staff(s, scope) for s in staff]


def redact_event(event: Event, seen: Level, *, phone: bool = True) -> Event:
    """A case or staff event as a client seeing its case at ``seen`` may have it; ``phone``:
    whether it may see the phone of the person the event changes."""
    changes = event.changes
    hidden = _CASE_HIDDEN.get(seen, {}) if event.case is not None else {}
    replace: dict[str, Any] = {}
    if any(k in changes and not _same(changes[k], v) for k, v in hidden.items()):
        replace["changes"] = changes | {k: v for k, v in hidden.items() if k in changes}
    if not phone and event.staff is not None and changes.get("phone") is not None:
        replace["changes"] = replace.get("changes", changes) | {"phone": None}
    if seen is Level.REDACTED and event.reason:
        replace["reason"] = ""  # typed by a person: may hold anyone's name or number
    return msgspec.structs.replace(event, **replace) if replace else event


def _same(value: Any, hidden: Any) -> bool:
    """Whether an event's value (a list on the wire, for a tuple field) is the hidden one."""
    if isinstance(hidden, tuple):
        return isinstance(value, list | tuple) and tuple(value) == hidden
    return bool(value == hidden)


def entered(event: Event, case: Case, seen: Level) -> Event:
    """The ``in_scope`` event standing for ``event``: it brought ``case`` into view (or showed
    more of it); its ``changes`` hold the whole case as the client may see it."""
    return Event(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        type=EventType.IN_SCOPE,
        case=case.id,
        command=event.command,
        changes=case_fields(redact_case(case, seen)),
        data={"cause": str(event.type)},
    )


def left(event: Event) -> Event:
    """The ``out_of_scope`` event standing for ``event``: it took its case out of view."""
    return Event(
        seq=event.seq, at=event.at, actor="hub", type=EventType.OUT_OF_SCOPE, case=event.case
    )


# --- a batch of events, for one scope --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One event with the placement of its case before and after it (None: no case, or an
    unknown one). The hub computes these once per batch; each scope reads them."""

    event: Event
    before: Placement | None
    after: Placement | None


def unplaced(events: Sequence[Event]) -> list[Step]:
    """Steps with no placement: enough for the scopes that see every case (a full or an
    observer view never asks where a case stands)."""
    return [Step(e, None, None) for e in events]


def steps_of(events: Sequence[Event], placements: dict[str, Placement]) -> list[Step]:
    """Walk ``events`` in order, updating ``placements`` (case id → placement) as they move."""
    out = []
    for event in events:
        key = event.case
        if key is None or event.type is EventType.ALERT:
            where = placements.get(key) if key is not None else None
            out.append(Step(event, where, where))
            continue
        before = placements.get(key)
        after = placement_after(before, event)
        if after is not None and after != before:
            placements[key] = after
        out.append(Step(event, before, after))
    return out


def view_events(
    scope: Scope,
    steps: Sequence[Step],
    case_now: Callable[[str], Case | None],
    staff_unit: Callable[[str], str | None],
) -> list[Event]:
    """The events of a batch as ``scope`` is sent them.

    - an event on a case it sees before and after, at the same level: the event, redacted;
    - an event that brings its case into view, or changes how much of it the scope sees:
      ``in_scope`` with the whole case (``case_now``: the case's latest value; later events
      of the batch re-apply their own changes over it, which ends in the same state);
    - an event that takes its case out of view: ``out_of_scope`` (case id and seq only);
    - an event on a case it never sees: nothing;
    - staff events: the phone only of its own unit (``staff_unit``: the person's unit).
    """
    if scope.kind is ViewKind.FULL:
        return [s.event for s in steps]
    out: list[Event] = []
    for step in steps:
        event = step.event
        phone = event.staff is None or sees_phone(scope, staff_unit(event.staff))
        if event.case is None:
            # A short patrol is about one worker: for the hall and that worker's own unit.
            if not addressed_to_unit(event, () if scope is OBSERVER else scope.units):
                continue
            out.append(redact_event(event, Level.REDACTED if scope is OBSERVER else Level.WHOLE,
                                    phone=phone))  # fmt: skip
            continue
        was, now = level(scope, step.before), level(scope, step.after)
        if now is Level.NONE:
            if was is not Level.NONE:
                out.append(left(event))
            continue
        if was is not now and event.type is not EventType.ALERT:
            case = case_now(event.case)
            if case is not None:
                out.append(entered(event, case, now))
            continue
        out.append(redact_event(event, now, phone=phone))
    return out
