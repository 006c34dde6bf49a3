"""Shifts and rotas: who is on duty at an instant, and when that next changes.

盈浦: "8小时之外七大部门安排工作人员备勤" — outside the working day the main departments keep
officers on standby (备勤), and the hall's leaders take turns as duty commander
(班子成员轮流作为指挥长). A :class:`Rota` holds, per unit, a cycle of standby orders (day *i*
of the cycle: who is called first, second, third), the commanders' rotation, and the
date-bound changes the commander made (a swap, another standby order, another commander).

**The duty day.** A duty day *D* runs from the start of the calendar's first working period
on *D* (08:30) to the same time on *D + 1*; a 02:00 call belongs to the day before's standby.
On a working day the **day shift** runs from the first period's start to the last period's
end (08:30–17:30, the lunch break included: the day staff are in the building); everything
else — evenings, nights, weekends, holidays — is **after hours**, when the day's standby
order stands by. Shifts change at those boundaries only (:func:`next_change`).

**Who is on duty.** In the day shift the staff whose ``shift`` is ``day`` are on duty and
everyone else is off. After hours the people in the day's standby orders are on standby and
everyone else is off; a unit the rota does not list keeps its ``standby`` shift people on
standby (as the old global switch did). Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import msgspec

from dispatch.calendar import WorkingCalendar
from dispatch.commands import RotaCommander, RotaStandby, RotaSwap, op_of
from dispatch.errors import refuse
from dispatch.events import Event, EventType
from dispatch.hall import Hall
from dispatch.models import Actor, Duty, Field, Role, Shift, Staff
from dispatch.roles import require

Order = tuple[str, ...]
"""Staff ids of one unit's standby for one duty day, first called first."""


class StandbyCycle(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One unit's standby rotation: duty day ``epoch + i`` uses ``orders[i % len(orders)]``."""

    unit: str
    orders: Annotated[tuple[Order, ...], msgspec.Meta(min_length=1)]


class Swap(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="swap"):
    """On duty day ``on``, ``a`` and ``b`` take each other's place in every standby order."""

    on: date
    a: str
    b: str
    by: str = ""


class StandbyFor(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="standby"):
    """On duty day ``on``, ``unit`` stands by in this order instead of its cycle's."""

    on: date
    unit: str
    order: Order
    by: str = ""


class CommanderFor(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="commander"):
    """On duty day ``on``, ``commander`` is the hall's duty commander."""

    on: date
    commander: str
    by: str = ""


Override = Swap | StandbyFor | CommanderFor


class Rota(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The hall's rota: cycles counted from ``epoch``, then the commander's changes in order."""

    epoch: date
    units: tuple[StandbyCycle, ...] = ()
    commanders: tuple[str, ...] = ()  # operator names, in turn, one duty day each
    overrides: tuple[Override, ...] = ()

    def cycle(self, unit: str) -> StandbyCycle | None:
        for c in self.units:
            if c.unit == unit:
                return c
        return None


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty at one instant: the one query routing, the roster and the wall share."""

    day: date  # the duty day
    day_shift: bool  # True in the day shift of a working day, False after hours
    commander: str | None  # the hall's duty commander (operator name)
    standby: Mapping[str, Order]  # unit → its standby order for the duty day

    def duty_of(self, person: Staff) -> Duty:
        if self.day_shift:
            return Duty.ON_DUTY if person.shift is Shift.DAY else Duty.OFF
        order = self.standby.get(person.unit)
        if order is None:  # a unit without a rota: its standby people stand by
            return Duty.STANDBY if person.shift is Shift.STANDBY else Duty.OFF
        return Duty.STANDBY if person.id in order else Duty.OFF

    def shift(self) -> Shift:
        return Shift.DAY if self.day_shift else Shift.STANDBY


# --- the calendar's boundaries ------------------------------------------------------------


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _bounds(calendar: WorkingCalendar) -> tuple[time, time]:
    """The day shift's start (also the duty day's) and end, local times."""
    periods = sorted((_hhmm(a), _hhmm(b)) for a, b in calendar.settings.periods)
    if not periods:
        return time(0, 0), time(0, 0)
    return periods[0][0], max(end for _, end in periods)


def duty_day(calendar: WorkingCalendar, at: datetime) -> date:
    """The duty day ``at`` belongs to: before the first period's start it is the day before's."""
    local = at.astimezone(calendar.tz)
    start, _ = _bounds(calendar)
    return local.date() - timedelta(days=1) if local.time() < start else local.date()


def day_shift_end(calendar: WorkingCalendar, day: date) -> datetime | None:
    """When ``day``'s day shift ends (the last period's end), None on a day off."""
    start, end = _bounds(calendar)
    if not calendar.is_working_day(day) or end <= start:
        return None
    return datetime.combine(day, end, calendar.tz)


def is_day_shift(calendar: WorkingCalendar, at: datetime) -> bool:
    """In a working day's day shift (first period's start to last period's end)."""
    local = at.astimezone(calendar.tz)
    start, end = _bounds(calendar)
    return calendar.is_working_day(local.date()) and start <= local.time() < end


def next_change(calendar: WorkingCalendar, after: datetime) -> datetime:
    """The first shift boundary strictly after ``after``: a duty day's start, or a working
    day's day-shift end."""
    start, end = _bounds(calendar)
    day = after.astimezone(calendar.tz).date()
    while True:
        moments = [datetime.combine(day, start, calendar.tz)]
        if calendar.is_working_day(day) and end > start:
            moments.append(datetime.combine(day, end, calendar.tz))
        for moment in moments:
            if moment > after:
                return moment
        day += timedelta(days=1)


# --- the rota on a day ----------------------------------------------------------------------


def standby_order(rota: Rota, unit: str, day: date) -> Order | None:
    """``unit``'s standby order on duty day ``day`` (None: the rota does not list the unit)."""
    cycle = rota.cycle(unit)
    order = cycle.orders[(day - rota.epoch).days % len(cycle.orders)] if cycle else None
    for o in rota.overrides:
        if o.on != day:
            continue
        if isinstance(o, StandbyFor) and o.unit == unit:
            order = o.order
        elif isinstance(o, Swap) and order is not None:
            swapped = {o.a: o.b, o.b: o.a}
            order = tuple(swapped.get(p, p) for p in order)
    return order


def commander(rota: Rota, day: date) -> str | None:
    """The duty commander of duty day ``day``: the rotation, or the commander's change."""
    turns = rota.commanders
    name = turns[(day - rota.epoch).days % len(turns)] if turns else None
    for o in rota.overrides:
        if isinstance(o, CommanderFor) and o.on == day:
            name = o.commander
    return name


def on_duty(rota: Rota, calendar: WorkingCalendar, at: datetime) -> OnDuty:
    day = duty_day(calendar, at)
    units = {c.unit for c in rota.units} | {
        o.unit for o in rota.overrides if isinstance(o, StandbyFor) and o.on == day
    }
    orders = {u: standby_order(rota, u, day) for u in sorted(units)}
    standby = {u: order for u, order in orders.items() if order is not None}
    return OnDuty(
        day=day,
        day_shift=is_day_shift(calendar, at),
        commander=commander(rota, day),
        standby=standby,
    )


# --- events -----------------------------------------------------------------------------------


def duty_events(
    staff: Iterable[Staff], on: OnDuty, now: datetime, actor: str, command: str | None
) -> list[Event]:
    """``staff_changed`` for everyone whose duty differs from the rota's ``on``. Nobody off
    duty is "available" (the roster must not offer them); whoever comes on from off starts
    the shift available."""
    events = []
    for person in sorted(staff, key=lambda s: s.id):
        duty = on.duty_of(person)
        if duty == person.duty:
            continue
        field_ = person.field
        if duty is Duty.OFF:
            field_ = Field.OFFLINE
        elif person.duty is Duty.OFF and person.field is Field.OFFLINE:
            field_ = Field.AVAILABLE
        after = msgspec.structs.replace(person, duty=duty, field=field_, version=person.version + 1)
        old: dict[str, Any] = msgspec.to_builtins(person)
        new: dict[str, Any] = msgspec.to_builtins(after)
        events.append(
            Event(
                at=now,
                actor=actor,
                type=EventType.STAFF_CHANGED,
                staff=person.id,
                command=command,
                reason=f"rota: {on.shift()} shift of {on.day.isoformat()}",
                changes={k: v for k, v in new.items() if old.get(k) != v},
            )
        )
    return events


def shift_events(rota: Rota, hall: Hall, now: datetime, *, announce: bool = True) -> list[Event]:
    """The hub's shift change at ``now``: everyone's duty per the rota, then one
    ``shift_changed`` saying which shift of which duty day and who commands (left out when
    ``announce`` is False and nobody's duty moved: a restart catching up)."""
    on = on_duty(rota, hall.calendar, now)
    events = duty_events(hall.staff.values(), on, now, "hub", None)
    if announce or events:
        events.append(
            Event(
                at=now,
                actor="hub",
                type=EventType.SHIFT_CHANGED,
                reason=f"rota: {on.shift()} shift of {on.day.isoformat()}",
                data={
                    "to": str(on.shift()),
                    "day": on.day.isoformat(),
                    "commander": on.commander,
                    "standby": {u: list(order) for u, order in on.standby.items()},
                },
            )
        )
    return events


RotaCommand = RotaSwap | RotaStandby | RotaCommander
ROTA_COMMANDS: tuple[type[RotaCommand], ...] = (RotaSwap, RotaStandby, RotaCommander)


def decide_rota(
    command: RotaCommand, actor: Actor, now: datetime, hall: Hall, rota: Rota | None
) -> tuple[list[Event], Rota]:
    """A commander's change to the rota: the ``rota_changed`` event (audit, and what mirrors
    learn), plus the duty changes it makes at once when it is for the current duty day.
    Refuses a change to a past duty day, unknown people or units, a standby order with someone
    of another unit or twice, and a swap of a person with themselves or with someone of another
    unit; changes nothing then."""
    require(actor.role, op_of(command))
    if rota is None:
        raise refuse("no_rota")
    today = duty_day(hall.calendar, now)
    if command.on < today:
        raise refuse("rota_past", on=command.on.isoformat(), today=today.isoformat())
    override: Override
    if isinstance(command, RotaSwap):
        if command.a == command.b:
            raise refuse("rota_swap_same", staff=command.a)
        a, b = hall.person(command.a), hall.person(command.b)
        if a.unit != b.unit:  # a police officer cannot stand by for the sanitation depot
            raise refuse("staff_not_in_unit", staff=b.id, unit=a.unit)
        override = Swap(on=command.on, a=command.a, b=command.b, by=actor.name)
    elif isinstance(command, RotaStandby):
        hall.unit(command.unit)
        for staff_id in command.order:
            if hall.person(staff_id).unit != command.unit:
                raise refuse("staff_not_in_unit", staff=staff_id, unit=command.unit)
        if len(set(command.order)) != len(command.order):
            raise refuse("rota_order_repeats", unit=command.unit)
        override = StandbyFor(on=command.on, unit=command.unit, order=command.order, by=actor.name)
    else:
        override = CommanderFor(on=command.on, commander=command.commander, by=actor.name)
    after = msgspec.structs.replace(rota, overrides=(*rota.overrides, override))
    events = [
        Event(
            at=now,
            actor=actor.name,
            type=EventType.ROTA_CHANGED,
            command=command.id,
            reason=command.reason,
            data={"override": msgspec.to_builtins(override)},
        )
    ]
    if command.on == today:
        on = on_duty(after, hall.calendar, now)
        events += duty_events(hall.staff.values(), on, now, actor.name, command.id)
    return events, after


def load_rota(data: bytes) -> Rota:
    """A rota from its JSON document (the hub's stored row, or a data file)."""
    return msgspec.json.decode(data, type=Rota)


def dump_rota(rota: Rota) -> bytes:
    return msgspec.json.encode(rota)


def require_on_duty(actor: Actor, op: str, calendar: WorkingCalendar, now: datetime) -> None:
    """Refuse (``forbidden``) a standby operator acting in a working day's day shift: standby
    is after hours; in the day shift the unit's day staff answer (issue 11: a standby operator
    acted at 14:55 on a working Friday). Applies only where the hall has a rota."""
    if actor.role is Role.STANDBY and is_day_shift(calendar, now):
        raise refuse("off_rota", operator=actor.name, op=op)
