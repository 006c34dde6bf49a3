"""The escalation policy (``settings.escalation``): what a missed deadline or a return does.

In the spirit of on-call escalation policies: a missed deadline raises the case one level and
alerts the desk of that level (:func:`dispatch.command_chain.alert_data`: its units and who
of them is on duty); a missed instruction (批办) or report-in (报到) deadline alerts the desk
even when the case is already at the top; a case returned ``returns_to_grid_head`` times goes
to the grid head (the street level).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from dispatch import command_chain, whistle
from dispatch.events import Event, EventType, changed_fields
from dispatch.hall import Hall
from dispatch.models import HUB_ACTOR, LEVELS, Case, Deadline, Level, Step

CHAIN_STEPS = frozenset({Step.INSTRUCTION, Step.REPORT_IN})
"""Clocks of the chain of command: missed, they alert the desk even at the top level."""


def raise_level(level: Level, top: Level) -> Level | None:
    """The next level up, or None at (or above) the top."""
    i = LEVELS.index(level)
    if i >= LEVELS.index(top) or i + 1 >= len(LEVELS):
        return None
    return LEVELS[i + 1]


def on_breach(case: Case, deadline: Deadline, now: datetime, hall: Hall) -> list[Event]:
    """Events for a missed deadline: mark it breached, and per policy escalate and alert.

    The group bumps the case version once (on the first event). A deadline that is no longer
    live, or already marked, yields nothing: the ticker may race a step being completed.
    """
    live = [d for d in case.deadlines if d.step == deadline.step and not d.breached]
    if not live or not case.is_open:
        return []
    marked = tuple(
        msgspec.structs.replace(d, breached=True) if d.step == deadline.step else d
        for d in case.deadlines
    )
    after = msgspec.structs.replace(
        case, deadlines=marked, breaches=case.breaches + 1, version=case.version + 1
    )
    info: dict[str, object] = {"step": str(deadline.step), "case": case.id}
    if deadline.step is Step.REPORT_IN:
        info["absent"] = list(whistle.waiting(case))  # the roll call's "never came"
    events = [_hub_event(EventType.DEADLINE_BREACHED, case, now, changed_fields(case, after), info)]
    policy = hall.settings.escalation
    new_level = raise_level(case.level, policy.top) if policy.on_breach else None
    if new_level is not None:
        events.append(_hub_event(EventType.ESCALATED, case, now, {"level": str(new_level)}, info))
    # The desk that now holds the case hears of it (and of a missed instruction or roll call
    # even when the case stays where it is).
    if new_level is not None or deadline.step in CHAIN_STEPS:
        desk = new_level or case.level
        alert = command_chain.alert_data(case, desk, hall)
        events.append(_hub_event(EventType.ALERT, case, now, {}, {**alert, **info}))
    return events


def after_return(case: Case, hall: Hall) -> Level | None:
    """The level a returned case moves to (the grid head's street level), or None to stay.

    ``case`` is the case with this return already counted in ``returns``.
    """
    policy = hall.settings.escalation
    if case.returns < policy.returns_to_grid_head:
        return None
    target = Level.STREET if LEVELS.index(Level.STREET) <= LEVELS.index(policy.top) else policy.top
    return target if LEVELS.index(case.level) < LEVELS.index(target) else None


def _hub_event(
    type_: EventType, case: Case, now: datetime, changes: dict[str, object], data: dict[str, object]
) -> Event:
    return Event(
        at=now,
        actor=HUB_ACTOR.name,
        type=type_,
        case=case.id,
        reason=f"{data['step']} deadline missed",
        changes=dict(changes),
        data=dict(data),
    )
