"""吹哨报到 (庆阳): the commander blows the whistle on a case, summoning several units, each to
report in (报到) by a deadline; the roll call (点名) says who came in time, who came late and
who never came.

The whistle is a record on the case (``Case.whistles``, the last one under way) with one
:class:`~dispatch.models.Summons` per unit, and a ``report_in`` deadline the SLA ticker
breaches like any other: a unit still out when it falls due is *never* on the roll call, and
the breach escalates the case by the escalation policy, alerting the next desk with the absent
units named (:func:`dispatch.escalation.on_breach`). A unit that reports in after that is
*late*. The figures per unit (:func:`dispatch.metrics.report_in_by_unit`) go to the
assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from dispatch.commands import BlowWhistle, ReportIn
from dispatch.errors import refuse
from dispatch.events import EventType
from dispatch.hall import Hall
from dispatch.models import Actor, Basis, Case, Deadline, Step, Summons, Whistle

Change = tuple[EventType, Case, dict[str, Any]]


class Attendance(StrEnum):
    """One summoned unit on the roll call."""

    IN_TIME = "in_time"  # 按时报到
    LATE = "late"  # 迟到
    ABSENT = "absent"  # 未到: the deadline passed and it has not reported in
    WAITING = "waiting"  # not in yet, the deadline still runs


@dataclass(frozen=True)
class RollCallLine:
    unit: str
    attendance: Attendance
    reported_at: datetime | None
    reported_by: str | None


def attendance(summons: Summons, due: datetime, now: datetime) -> Attendance:
    """THE rule of the roll call: in time if in by the deadline, late if in after it."""
    if summons.reported_at is not None:
        return Attendance.IN_TIME if summons.reported_at <= due else Attendance.LATE
    return Attendance.ABSENT if now >= due else Attendance.WAITING


def roll_call(whistle: Whistle, now: datetime) -> list[RollCallLine]:
    """The roll call of ``whistle`` at ``now``, in the order the units were summoned."""
    return [
        RollCallLine(s.unit, attendance(s, whistle.due, now), s.reported_at, s.reported_by)
        for s in whistle.units
    ]


def current(case: Case) -> Whistle | None:
    """The case's latest whistle, if any."""
    return case.whistles[-1] if case.whistles else None


def summoned(case: Case) -> frozenset[str]:
    """Every unit a whistle on ``case`` has summoned: they see the case (PROTOCOL §5.1)."""
    return frozenset(s.unit for w in case.whistles for s in w.units)


def waiting(case: Case) -> tuple[str, ...]:
    """The units of the latest whistle that have not reported in."""
    whistle = current(case)
    return tuple(s.unit for s in whistle.units if s.reported_at is None) if whistle else ()


# --- conditions and commands ----------------------------------------------------------------


def check_can_whistle(case: Case, now: datetime, hall: Hall) -> None:
    """One whistle at a time: a new one once the last one's deadline has passed or all came."""
    whistle = current(case)
    if whistle is not None and now < whistle.due and waiting(case):
        raise refuse("whistle_under_way", case=case.id)


def check_can_report_in(case: Case, now: datetime, hall: Hall) -> None:
    """Something to report in to: a unit of the latest whistle still out."""
    if not waiting(case):
        raise refuse("no_whistle", case=case.id)


def blow(case: Case, cmd: BlowWhistle, actor: Actor, now: datetime, hall: Hall) -> list[Change]:
    """吹哨: summon ``cmd.units`` to report in within ``cmd.minutes`` (wall clock)."""
    units = tuple(dict.fromkeys(cmd.units))
    for unit in units:
        hall.unit(unit)
    due = now + timedelta(minutes=cmd.minutes)
    whistle = Whistle(
        by=actor.name, at=now, due=due, units=tuple(Summons(unit=u) for u in units),
        reason=cmd.reason,
    )  # fmt: skip
    clock = Deadline(step=Step.REPORT_IN, start=now, due=due, limit_minutes=cmd.minutes,
                     basis=Basis.WALL)  # fmt: skip
    deadlines = (*(d for d in case.deadlines if d.step is not Step.REPORT_IN), clock)
    after = msgspec.structs.replace(case, whistles=(*case.whistles, whistle), deadlines=deadlines)
    return [(EventType.WHISTLED, after, {"units": list(units), "minutes": cmd.minutes})]


def report_in(case: Case, cmd: ReportIn, actor: Actor, now: datetime, hall: Hall) -> list[Change]:
    """报到 for ``cmd.unit``; when the last summoned unit is in, the report-in clock stops."""
    whistle = current(case)
    assert whistle is not None  # check_can_report_in
    line = next((s for s in whistle.units if s.unit == cmd.unit), None)
    if line is None:
        raise refuse("not_summoned", case=case.id, unit=cmd.unit)
    if line.reported_at is not None:
        raise refuse("already_reported_in", case=case.id, unit=cmd.unit)
    done = msgspec.structs.replace(line, reported_at=now, reported_by=actor.name)
    units = tuple(done if s.unit == cmd.unit else s for s in whistle.units)
    whistle = msgspec.structs.replace(whistle, units=units)
    deadlines = case.deadlines
    if all(s.reported_at is not None for s in units):
        deadlines = tuple(d for d in deadlines if d.step is not Step.REPORT_IN)
    after = msgspec.structs.replace(
        case, whistles=(*case.whistles[:-1], whistle), deadlines=deadlines
    )
    late = attendance(done, whistle.due, now) is Attendance.LATE
    return [(EventType.REPORTED_IN, after, {"unit": cmd.unit, "late": late})]
