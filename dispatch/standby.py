"""Standby answer or next: after hours, an unsigned case goes down the unit's standby order.

When a case is dispatched (or reassigned) after hours to a unit the rota lists, the hub makes
the unit's first standby officer of the night its owner person and starts an answer clock of
``[standby] answer_minutes``. Not signed for (签收) when it runs out, the next officer of that
night's order is called (the owner person moves to them, a new clock starts); after the last,
the hall's duty commander is alerted and the clock stops. Each call is a ``standby_called``
event: in the case history, and on the board (the unit column names the officer called).

A person the dispatcher named who is on the order starts the chain at their place; one not on
it keeps the case, and the order is called from its top if they do not sign. Any step that
takes the case out of ``dispatched`` (signed, returned, parked …) stops the clock.
Pure: the hub calls these with its clock's now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from dispatch.events import Event, EventType, apply_case_event
from dispatch.hall import Hall
from dispatch.models import Case, Status
from dispatch.rota import Rota, on_duty

_STARTS = frozenset({EventType.DISPATCHED, EventType.REASSIGNED})
"""Events that put a case in a unit's hands afresh: its answer chain starts over."""


def after_command(
    before: Case | None, events: Sequence[Event], now: datetime, hall: Hall, rota: Rota | None
) -> list[Event]:
    """The command's events on ``before``, with the answer chain started, restarted or
    stopped: a ``standby_called`` added when a dispatch lands after hours on a unit with a
    standby order; a finished clock cleared in the command's own last event (the clock is
    part of what the command changed)."""
    case_id = before.id if before is not None else (events[0].case if events else None)
    if case_id is None or not events or events[-1].case != case_id:
        return list(events)
    after = before
    for event in events:
        if event.case == case_id and event.type is not EventType.ALERT:
            after = apply_case_event(after, event)
    if after is None:  # pragma: no cover - the events always create or change the case
        return list(events)
    started = any(e.type in _STARTS for e in events)
    call = _first_call(after, now, hall, rota) if started else None
    out = list(events)
    if (
        call is None
        and after.answer_due is not None
        and (started or after.status is not Status.DISPATCHED)
    ):
        last = out[-1]
        cleared = last.changes | {"answer_due": None, "answer_step": 0}
        out[-1] = msgspec.structs.replace(last, changes=cleared)
    elif call is not None:
        # Part of the command: its id, and the case's version risen once for the command.
        out.append(msgspec.structs.replace(call, command=out[-1].command))
    return out


def _minutes(hall: Hall) -> int:
    return hall.settings.standby.answer_minutes


def _first_call(case: Case, now: datetime, hall: Hall, rota: Rota | None) -> Event | None:
    if rota is None or case.status is not Status.DISPATCHED or case.owner_unit is None:
        return None
    on = on_duty(rota, hall.calendar, now)
    order = on.standby.get(case.owner_unit)
    if on.day_shift or not order:
        return None
    named = case.owner_staff
    if named is None or named in order:
        person = named or order[0]
        step = order.index(person) + 1
    else:
        person, step = named, 0  # someone off the order was named: they answer first
    return _call(case, now, hall, person, step, first=True)


def _call(case: Case, now: datetime, hall: Hall, person: str, step: int, *, first: bool) -> Event:
    due = now + timedelta(minutes=_minutes(hall))
    changes: dict[str, Any] = {
        "owner_staff": person,
        "answer_due": msgspec.to_builtins(due),
        "answer_step": step,
    }
    if not first:  # the hub's own step: the version rises (a command's first call does not)
        changes["version"] = case.version + 1
    if case.owner_staff == person:
        del changes["owner_staff"]
    reason = (
        "standby officer called"
        if first
        else f"not signed for within {_minutes(hall)} minutes: next standby officer called"
    )
    return Event(
        at=now,
        actor="hub",
        type=EventType.STANDBY_CALLED,
        case=case.id,
        reason=reason,
        changes=changes,
        data={"to": "staff", "staff": person, "unit": case.owner_unit, "step": step},
    )


def is_waiting(case: Case) -> bool:
    """The case waits for its standby officer to sign: its answer clock runs."""
    return case.status is Status.DISPATCHED and case.answer_due is not None


def on_unanswered(case: Case, now: datetime, hall: Hall, rota: Rota | None) -> list[Event]:
    """The answer clock of ``case`` ran out by ``now``: call the next standby officer of the
    night's order, or, past its end (or in the day shift, or without a rota), alert the hall's
    duty commander and stop the clock. Nothing when the case was signed for meanwhile."""
    if not is_waiting(case) or case.answer_due is None or case.answer_due > now:
        return []
    on = on_duty(rota, hall.calendar, now) if rota is not None else None
    order = on.standby.get(case.owner_unit or "", ()) if on and not on.day_shift else ()
    rest = [p for p in order[case.answer_step :] if p != case.owner_staff]
    if rest:
        step = order.index(rest[0]) + 1
        return [_call(case, now, hall, rest[0], step, first=False)]
    commander = on.commander if on is not None else None
    return [
        Event(
            at=now,
            actor="hub",
            type=EventType.STANDBY_CALLED,
            case=case.id,
            reason=f"not signed for within {_minutes(hall)} minutes: duty commander alerted",
            changes={"answer_due": None, "version": case.version + 1},
            data={"to": "commander", "commander": commander, "unit": case.owner_unit},
        )
    ]
