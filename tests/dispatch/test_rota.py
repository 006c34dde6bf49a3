"""The rota's pure rules: duty days, shift boundaries across midnight, weekends and holidays,
the cycles and the commander's changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.calendar import WorkingCalendar
from dispatch.config import CalendarSettings
from dispatch.models import Duty, Shift, Staff
from dispatch.rota import (
    CommanderFor,
    OnDuty,
    Rota,
    StandbyCycle,
    StandbyFor,
    Swap,
    duty_day,
    is_day_shift,
    next_change,
    on_duty,
)

TZ = ZoneInfo("Asia/Shanghai")
# Friday 4 December 2026 is a working day; Monday the 7th is made a holiday here.
CAL = WorkingCalendar(CalendarSettings(holidays=(date(2026, 12, 7),)), TZ)
ROTA = Rota(
    epoch=date(2026, 12, 4),
    units=(StandbyCycle(unit="u", orders=(("a", "b"), ("b", "c"), ("c", "a"))),),
    commanders=("lead-1", "lead-2"),
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def test_the_day_shift_runs_from_the_first_period_to_the_last_lunch_included() -> None:
    assert not is_day_shift(CAL, at(4, 8, 29))
    assert is_day_shift(CAL, at(4, 8, 30))
    assert is_day_shift(CAL, at(4, 12, 30))  # lunch: the day staff are in the building
    assert not is_day_shift(CAL, at(4, 17, 30))
    assert not is_day_shift(CAL, at(5, 10, 0))  # Saturday
    assert not is_day_shift(CAL, at(7, 10, 0))  # the holiday Monday


def test_a_night_belongs_to_the_duty_day_it_started_on() -> None:
    assert duty_day(CAL, at(4, 23, 0)) == date(2026, 12, 4)
    assert duty_day(CAL, at(5, 2, 0)) == date(2026, 12, 4)  # across midnight
    assert duty_day(CAL, at(5, 8, 30)) == date(2026, 12, 5)


def test_shift_changes_come_at_the_boundaries_only() -> None:
    moments = [at(4, 9, 0)]
    for _ in range(6):
        moments.append(next_change(CAL, moments[-1]))
    assert moments[1:] == [
        at(4, 17, 30),  # Friday's day shift ends
        at(5, 8, 30),  # Saturday's duty day (after hours all day)
        at(6, 8, 30),
        at(7, 8, 30),  # the holiday: no day shift, no 17:30 change
        at(8, 8, 30),  # Tuesday: the day shift starts
        at(8, 17, 30),
    ]


def _person(pid: str, shift: Shift = Shift.DAY, unit: str = "u") -> Staff:
    return Staff(id=pid, name=pid, unit=unit, role="r", shift=shift)


def test_who_is_on_duty_follows_the_cycle_and_the_commander_rotation() -> None:
    day = on_duty(ROTA, CAL, at(4, 10, 0))
    assert day.day_shift and day.commander == "lead-1"
    assert day.duty_of(_person("a")) is Duty.ON_DUTY
    assert day.duty_of(_person("z", Shift.STANDBY)) is Duty.OFF
    night = on_duty(ROTA, CAL, at(5, 3, 0))  # Friday's night
    assert not night.day_shift and night.standby["u"] == ("a", "b")
    assert [night.duty_of(_person(p)) for p in "abc"] == [Duty.STANDBY, Duty.STANDBY, Duty.OFF]
    # A unit the rota does not list keeps its standby-shift people on standby.
    assert night.duty_of(_person("x", Shift.STANDBY, unit="other")) is Duty.STANDBY
    assert night.duty_of(_person("y", Shift.DAY, unit="other")) is Duty.OFF
    saturday = on_duty(ROTA, CAL, at(5, 9, 0))
    assert saturday.standby["u"] == ("b", "c") and saturday.commander == "lead-2"
    assert on_duty(ROTA, CAL, at(7, 12, 0)).standby["u"] == ("a", "b")  # cycle of three


def test_the_commanders_changes_hold_for_their_day_only() -> None:
    rota = Rota(
        epoch=ROTA.epoch,
        units=ROTA.units,
        commanders=ROTA.commanders,
        overrides=(
            Swap(on=date(2026, 12, 4), a="b", b="c"),
            StandbyFor(on=date(2026, 12, 5), unit="u", order=("c",)),
            CommanderFor(on=date(2026, 12, 4), commander="lead-9"),
        ),
    )
    friday: OnDuty = on_duty(rota, CAL, at(4, 20, 0))
    assert friday.standby["u"] == ("a", "c") and friday.commander == "lead-9"
    assert on_duty(rota, CAL, at(5, 20, 0)).standby["u"] == ("c",)
    assert on_duty(rota, CAL, at(6, 20, 0)).standby["u"] == ("c", "a")
    assert on_duty(rota, CAL, at(4, 20, 0) + timedelta(days=1)).commander == "lead-2"
