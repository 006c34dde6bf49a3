"""The short-patrol alert (巡查有效时间短): at the end of a working day's day shift, one
``alert`` per grid worker on day duty whose minutes inside their own grids fell under
``patrol_minimum_minutes`` — a worker who never reported counts with 0 minutes.

The day ends where the rota's day shift ends (dispatch/rota.py: the last calendar period's
end on a working day); a hall without a rota ends it at the same instant, its calendar's.
The alert is case-less and addressed to the hall (commander and dispatcher views) and to the
worker's own unit (its terminals see their own people's shortfall, no one else's):
``data`` = ``{"kind": "short_patrol", "day", "unit", "minutes", "inside_minutes",
"minimum"}``. Once per worker per day: :func:`already_alerted` reads what the log holds.

Pure: the hub (hub/patrol_alerts.py) brings the day's patrol rows and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from dispatch.calendar import WorkingCalendar
from dispatch.events import Event, EventType
from dispatch.models import HUB_ACTOR, Duty, Shift, Staff
from dispatch.rota import day_shift_end
from dispatch.tracks import GRID_WORKER, PatrolDay

KIND = "short_patrol"
"""``data["kind"]`` of the short-patrol alert."""

LOOK_BACK_DAYS = 7
"""How far back a starting hub looks for a day end it may have slept through."""


def last_day_end(calendar: WorkingCalendar, at: datetime) -> datetime | None:
    """The latest day-shift end at or before ``at`` within :data:`LOOK_BACK_DAYS`."""
    day = at.astimezone(calendar.tz).date()
    for back in range(LOOK_BACK_DAYS + 1):
        end = day_shift_end(calendar, day - timedelta(days=back))
        if end is not None and end <= at:
            return end
    return None


def next_day_end(calendar: WorkingCalendar, after: datetime) -> datetime:
    """The first day-shift end strictly after ``after``."""
    day = after.astimezone(calendar.tz).date()
    while True:
        end = day_shift_end(calendar, day)
        if end is not None and end > after:
            return end
        day += timedelta(days=1)


def on_day_duty(person: Staff, *, rota: bool) -> bool:
    """A grid worker who had the day shift of a working day. With a rota every day-shift
    person is on duty then (the shift change at the day's end has just turned them off);
    without one, only those still on duty (someone marked off — on leave — is not)."""
    if person.role != GRID_WORKER or person.shift is not Shift.DAY:
        return False
    return rota or person.duty is not Duty.OFF


def already_alerted(events: Iterable[Event], day: date) -> set[str]:
    """The workers ``events`` hold a short-patrol alert of ``day`` for."""
    return {
        e.staff
        for e in events
        if e.type is EventType.ALERT
        and e.staff is not None
        and e.data.get("kind") == KIND
        and e.data.get("day") == day.isoformat()
    }


def short_patrol_alerts(
    day: date,
    staff: Iterable[Staff],
    patrols: Mapping[str, PatrolDay],
    minimum: int,
    now: datetime,
    *,
    rota: bool,
    alerted: set[str],
) -> list[Event]:
    """The alerts of ``day``'s end: each worker on day duty whose inside-grid minutes are
    under ``minimum`` (no patrol row: 0), but not one already ``alerted``."""
    events: list[Event] = []
    for person in sorted(staff, key=lambda s: s.id):
        if person.id in alerted or not on_day_duty(person, rota=rota):
            continue
        patrol = patrols.get(person.id)
        minutes = patrol.patrol_minutes if patrol is not None else 0.0
        inside = patrol.inside_minutes if patrol is not None else 0.0
        if inside >= minimum:
            continue
        events.append(
            Event(
                at=now,
                actor=HUB_ACTOR.name,
                type=EventType.ALERT,
                staff=person.id,
                reason=f"patrol {inside:.0f} of {minimum} minutes inside the grid on {day}",
                data={
                    "kind": KIND,
                    "day": day.isoformat(),
                    "unit": person.unit,
                    "minutes": round(minutes, 1),
                    "inside_minutes": round(inside, 1),
                    "minimum": minimum,
                },
            )
        )
    return events


def addressed_to_unit(event: Event, units: Iterable[str]) -> bool:
    """Whether a unit view (its ``units``) is sent the case-less ``event``: everything but a
    short-patrol alert, which goes only to the worker's own unit."""
    if event.type is not EventType.ALERT or event.data.get("kind") != KIND:
        return True
    return event.data.get("unit") in set(units)
