"""The chain of command (三级指挥): the hall's desks, who may instruct, where an escalation's
alert goes, and sending a case back down.

A *desk* is a hall unit (``Unit.desk``): the street hall (街道城运中心) of each street, the
district hall (区城运中心), district leadership (区领导). An operator's desk is its unit's.
A desk's queue holds the open cases at its level — the street desk those of its own street,
the district and leadership desks those of every street (:class:`Desk`).

Pure: the hub calls these with its :class:`~dispatch.hall.Hall`; the console with what its
mirror holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from dispatch.commands import Instruct, SendDown
from dispatch.errors import refuse
from dispatch.events import EventType
from dispatch.hall import Hall
from dispatch.models import (
    LEVELS,
    Actor,
    Area,
    AreaKind,
    Basis,
    Case,
    Deadline,
    Duty,
    Instruction,
    Level,
    Role,
    Step,
    Unit,
)

INSTRUCTING_DESKS = frozenset({Level.DISTRICT, Level.LEADERSHIP})
"""Desks whose dispatchers may instruct (批办); a commander may at any desk."""


@dataclass(frozen=True)
class Desk:
    """A desk of the chain and what its queue holds."""

    level: Level
    street: str | None = None
    """The street area a street desk answers for (None: every street)."""
    grids: frozenset[str] | None = None
    """Every area code under :attr:`street` (None: every street): a case's grid is one."""

    def holds(self, case: Case) -> bool:
        """Whether ``case`` waits at this desk: open, at its level, in its street."""
        return (
            case.is_open
            and case.level is self.level
            and (self.grids is None or case.grid in self.grids)
        )


def street_of(code: str | None, areas: Mapping[str, Area]) -> str | None:
    """The street area ``code`` lies in (itself if a street), or None (the district, unknown)."""
    seen = 0
    while code is not None and seen < 8:  # a place tree is a few levels deep; never loop
        area = areas.get(code)
        if area is None:
            return None
        if area.kind is AreaKind.STREET:
            return area.code
        code, seen = area.parent, seen + 1
    return None


def desk_of(
    unit_id: str | None, units: Mapping[str, Unit], areas: Mapping[str, Area]
) -> Desk | None:
    """The desk of an operator of ``unit_id`` (None: not a desk unit). Walks the place tree
    once — at log-in, not per case."""
    unit = units.get(unit_id) if unit_id is not None else None
    if unit is None or unit.desk is None:
        return None
    if unit.desk is not Level.STREET:
        return Desk(unit.desk)
    street = street_of(unit.area, areas)
    grids = frozenset(a.code for a in areas.values() if street_of(a.code, areas) == street)
    return Desk(Level.STREET, street, grids)


def desk_level(actor: Actor, hall: Hall) -> Level | None:
    """The desk level of ``actor``'s unit, or None."""
    unit = hall.units.get(actor.unit) if actor.unit is not None else None
    return unit.desk if unit is not None else None


def desk_units(
    level: Level, case: Case, units: Iterable[Unit], areas: Mapping[str, Area]
) -> list[str]:
    """The hall units at ``level`` that must hear of ``case``: every desk unit of that level,
    for the street level only the one of the case's street (all of them if it has none)."""
    street = street_of(case.grid, areas) if level is Level.STREET else None
    out = []
    for unit in units:
        if unit.desk is not level:
            continue
        if street is not None and street_of(unit.area, areas) != street:
            continue
        out.append(unit.id)
    return sorted(out)


def alert_data(case: Case, level: Level, hall: Hall) -> dict[str, Any]:
    """What an alert to ``level``'s desk says: the level, its desk units and who of them is
    on duty now (the people a console of that desk rings for). With nobody on duty there —
    after hours — it is the desk's standby: a collapse escalated at 21:19 must reach the
    street's standby officer, not the day staff gone home."""
    units = desk_units(level, case, hall.units.values(), hall.areas)
    wanted = set(units)
    at_desk = [s for s in hall.staff.values() if s.unit in wanted]
    on_duty = sorted(s.id for s in at_desk if s.duty is Duty.ON_DUTY) or sorted(
        s.id for s in at_desk if s.duty is Duty.STANDBY
    )
    return {"level": str(level), "units": units, "on_duty": on_duty}


def addressed_to(data: Mapping[str, Any], unit: str | None, level: Level | None) -> bool:
    """Whether an alert with ``data`` is for an operator of ``unit`` at desk ``level``: one
    of its desk units, or (an alert that names none) any desk of its level."""
    if level is None or data.get("level") != str(level):
        return False
    units = data.get("units")
    return not units or unit in units


def check_assign(actor: Actor, units: Iterable[str], hall: Hall) -> None:
    """Assigning across streets is for the district and leadership desks (and any commander):
    a dispatcher at a street desk sends cases to its own street's units and to district-wide
    ones, never to another street's (``other_street``)."""
    if actor.role is Role.COMMANDER or desk_level(actor, hall) is not Level.STREET:
        return
    own = hall.units.get(actor.unit) if actor.unit is not None else None
    home = street_of(own.area, hall.areas) if own is not None else None
    for unit_id in units:
        unit = hall.units.get(unit_id)
        street = street_of(unit.area, hall.areas) if unit is not None else None
        if street is not None and street != home:
            raise refuse("other_street", operator=actor.name, unit=unit_id)


# --- 批办 and sending back down ---------------------------------------------------------------


def check_instructs(actor: Actor, hall: Hall) -> None:
    """Refuse an instruction by a dispatcher who is not at the district or leadership desk."""
    if actor.role is Role.COMMANDER:
        return
    if desk_level(actor, hall) not in INSTRUCTING_DESKS:
        raise refuse("not_instructing_desk", operator=actor.name)


Change = tuple[EventType, Case, dict[str, Any]]
"""One event a chain command makes: its type, the case after it, what it says beyond state."""


def instruct(case: Case, cmd: Instruct, actor: Actor, now: datetime, hall: Hall) -> list[Change]:
    """批办: the instruction recorded on the case; with minutes, its own wall-clock deadline
    (a newer instruction's deadline replaces an older one: the latest word counts)."""
    if not cmd.reason.strip():
        raise refuse("instruction_text", op="instruct")
    due = now + timedelta(minutes=cmd.minutes) if cmd.minutes is not None else None
    note = Instruction(
        by=actor.name, desk=desk_level(actor, hall), at=now, text=cmd.reason, due=due
    )
    deadlines = case.deadlines
    if cmd.minutes is not None and due is not None:
        clock = Deadline(step=Step.INSTRUCTION, start=now, due=due, limit_minutes=cmd.minutes,
                         basis=Basis.WALL)  # fmt: skip
        deadlines = (*(d for d in deadlines if d.step is not Step.INSTRUCTION), clock)
    after = msgspec.structs.replace(
        case, instructions=(*case.instructions, note), deadlines=deadlines
    )
    data: dict[str, Any] = {"desk": str(note.desk) if note.desk else None}
    if cmd.minutes is not None:
        data["minutes"] = cmd.minutes
    return [(EventType.INSTRUCTED, after, data)]


def check_can_send_down(case: Case, now: datetime, hall: Hall) -> None:
    """Only an escalated case goes back down."""
    if case.level is Level.COMMUNITY:
        raise refuse("bottom_level", case=case.id)


def send_down(case: Case, cmd: SendDown, actor: Actor, now: datetime, hall: Hall) -> list[Change]:
    """Back to a lower level with a reason (default: one level down), with an alert to the
    desk that gets it back."""
    if not cmd.reason.strip():
        raise refuse("reason_required", op="send_down")
    here = LEVELS.index(case.level)
    target = cmd.level if cmd.level is not None else LEVELS[here - 1]
    if LEVELS.index(target) >= here:
        raise refuse("not_lower_level", case=case.id, level=case.level)
    after = msgspec.structs.replace(case, level=target)
    alert = alert_data(after, target, hall)
    return [
        (EventType.SENT_DOWN, after, {"from": str(case.level), "to": str(target)}),
        (EventType.ALERT, after, {**alert, "sent_down": True}),
    ]
