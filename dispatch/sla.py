"""SLA clock math: each step's deadline, the traffic light, and which deadlines are due.

A deadline is live while it sits in ``case.deadlines``; the workflow removes it when its step
is done (the ACCEPT deadline on accept, ON_SCENE on arrival, RESULT on report-back …). A
breached deadline stays live, marked ``breached``, until its step is done. A parked case's
clocks stand still: nothing is due while parked, and on resume the remaining deadlines move
by the parked duration (:func:`shift_deadlines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from dispatch.calendar import WorkingCalendar
from dispatch.hall import Hall
from dispatch.models import Basis, Case, Deadline, Status, Step, Urgency


def has_deadline(step: Step, urgency: Urgency) -> bool:
    """Whether the step is clocked at all: only urgent cases have an on-scene deadline."""
    return step is not Step.ON_SCENE or urgency is Urgency.URGENT


def deadline_for(step: Step, case: Case, start: datetime, hall: Hall) -> Deadline:
    """The deadline of ``step`` for ``case`` if the step starts at ``start``.

    Urgent cases run on the wall clock for every step (accept, dispatch, 15 min on scene,
    60 min first result, the on-site check), so an urgent case reported back late on a Friday
    is checked that evening, not on Monday; general cases on working minutes from settings,
    and their result on the category's catalog limit.
    Raises ``ValueError`` for a step that has no deadline (see :func:`has_deadline`).
    """
    if not has_deadline(step, case.urgency):
        raise ValueError(f"a {case.urgency} case has no {step} deadline")
    sla = hall.settings.sla
    if case.urgency is Urgency.URGENT:
        wall = {
            Step.ACCEPT: sla.urgent_accept_minutes,
            Step.DISPATCH: sla.urgent_dispatch_minutes,
            Step.ON_SCENE: sla.urgent_on_scene_minutes,
            Step.RESULT: sla.urgent_result_minutes,
            Step.CHECK: sla.urgent_check_minutes,
        }[step]
        return _make(step, start, wall, Basis.WALL, hall.calendar)
    if step is Step.RESULT:
        category = hall.catalog.get(case.category)
        return _make(step, start, category.limit, category.basis, hall.calendar)
    work = {
        Step.ACCEPT: sla.accept_work_minutes,
        Step.DISPATCH: sla.dispatch_work_minutes,
        Step.CHECK: sla.check_work_minutes,
    }[step]
    return _make(step, start, work, Basis.WORK_HOURS, hall.calendar)


def _make(
    step: Step, start: datetime, limit: int, basis: Basis, calendar: WorkingCalendar
) -> Deadline:
    """A deadline of ``limit`` on ``basis``: minutes for WALL/WORK_HOURS, days for WORK_DAYS."""
    if basis is Basis.WALL:
        due = start + timedelta(minutes=limit)
        minutes = limit
    elif basis is Basis.WORK_HOURS:
        due = calendar.add_work_minutes(start, limit)
        minutes = limit
    else:
        due = calendar.add_work_days(start, limit)
        # The limit in minutes is what the light measures against: the rest of the start
        # day plus the whole days, as the calendar counts them.
        minutes = max(1, round(calendar.work_minutes_between(start, due)))
    return Deadline(step=step, start=start, due=due, limit_minutes=minutes, basis=basis)


def extend(deadline: Deadline, minutes: int, calendar: WorkingCalendar) -> Deadline:
    """The deadline moved ``minutes`` later on its own basis (working days count minutes)."""
    if deadline.basis is Basis.WALL:
        due = deadline.due + timedelta(minutes=minutes)
    else:
        due = calendar.add_work_minutes(deadline.due, minutes)
    return msgspec.structs.replace(
        deadline, due=due, limit_minutes=deadline.limit_minutes + minutes
    )


def shift_deadlines(
    deadlines: tuple[Deadline, ...], since: datetime, now: datetime, calendar: WorkingCalendar
) -> tuple[Deadline, ...]:
    """Deadlines moved on by the time parked from ``since`` to ``now``, on each one's basis."""
    out = []
    wall = now - since
    work = calendar.work_minutes_between(since, now)
    for d in deadlines:
        if d.basis is Basis.WALL:
            out.append(msgspec.structs.replace(d, start=d.start + wall, due=d.due + wall))
        else:
            out.append(
                msgspec.structs.replace(
                    d,
                    start=calendar.add_work_minutes(d.start, work),
                    due=calendar.add_work_minutes(d.due, work),
                )
            )
    return tuple(out)


Colour = Literal["green", "amber", "red"]


@dataclass(frozen=True)
class Light:
    """A step's traffic light, always with the numbers behind the colour."""

    colour: Colour
    seconds_left: float  # wall seconds to due; negative = overdue
    used: float  # fraction of the limit used (working time for working bases)


def light(
    deadline: Deadline, now: datetime, calendar: WorkingCalendar, amber_at: float = 0.8
) -> Light:
    """Green below ``amber_at`` of the limit used, amber until due, red once it is overdue
    (:func:`deadline_overdue`: the same instant the hub marks the breach)."""
    seconds_left = (deadline.due - now).total_seconds()
    if deadline.basis is Basis.WALL:
        span = (deadline.due - deadline.start).total_seconds()
        used = (now - deadline.start).total_seconds() / span if span > 0 else 1.0
    else:
        limit = deadline.limit_minutes
        spent = calendar.work_minutes_between(deadline.start, now)
        used = spent / limit if limit > 0 else 1.0
    if deadline_overdue(deadline, now):
        colour: Colour = "red"
    elif used >= amber_at:
        colour = "amber"
    else:
        colour = "green"
    return Light(colour=colour, seconds_left=seconds_left, used=used)


def _clock_runs(case: Case) -> bool:
    return case.is_open and case.status is not Status.PARKED


_MISSED = datetime.min.replace(tzinfo=UTC)
"""``overdue_from`` of a deadline already marked breached: overdue since for ever."""


def deadline_overdue(deadline: Deadline, now: datetime) -> bool:
    """Missed: marked breached by the hub, or due by ``now`` (the hub breaches at ``due <= now``,
    :func:`due_breaches`, so a deadline due at this very instant is already overdue)."""
    return deadline.breached or deadline.due <= now


def is_overdue(case: Case, now: datetime) -> bool:
    """THE definition of an overdue case, shared by the board, ``ctl``, the wallboard and the
    figures (:mod:`dispatch.metrics`): open, its clocks running (a parked case's stand still,
    挂账), and a live deadline missed."""
    return _clock_runs(case) and any(deadline_overdue(d, now) for d in case.deadlines)


def overdue_from(case: Case) -> datetime | None:
    """The instant from which ``case`` counts as overdue if nothing changes (in the past for an
    already-missed deadline); None when its clocks do not run or it has no deadline. A client
    keeps its overdue set by time with this, instead of rechecking every case each second."""
    if not _clock_runs(case) or not case.deadlines:
        return None
    return min(_MISSED if d.breached else d.due for d in case.deadlines)


def shown_deadline(case: Case) -> Deadline | None:
    """The deadline a countdown shows: the earliest of an open, running case, missed ones
    included (an overdue case must read red with the time over, not go blank)."""
    if not _clock_runs(case):
        return None
    return min(case.deadlines, key=_due, default=None)


def next_deadline(case: Case) -> Deadline | None:
    """The earliest unbreached live deadline of an open, unparked case."""
    if not _clock_runs(case):
        return None
    live = [d for d in case.deadlines if not d.breached]
    return min(live, key=lambda d: d.due, default=None)


def due_breaches(case: Case, now: datetime) -> list[Deadline]:
    """Live deadlines that are due by ``now`` and not yet marked breached, earliest first."""
    if not _clock_runs(case):
        return []
    return sorted((d for d in case.deadlines if not d.breached and d.due <= now), key=_due)


def _due(d: Deadline) -> datetime:
    return d.due
