"""The short-patrol alert's rules (dispatch/patrol_alert.py): who is on day duty, who is short,
when a day ends (a holiday has no end), what the log already holds, and which views are sent
it (the hall's, the worker's own unit; never a wallboard)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from dispatch.calendar import WorkingCalendar
from dispatch.config import CalendarSettings
from dispatch.handover import Section, build
from dispatch.models import Duty, Shift, Staff
from dispatch.patrol_alert import (
    already_alerted,
    last_day_end,
    next_day_end,
    short_patrol_alerts,
)
from dispatch.tracks import PatrolDay
from dispatch.visibility import FULL, OBSERVER, Scope, ViewKind, unplaced, view_events

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar(CalendarSettings(holidays=(date(2026, 11, 24),)), TZ)
DAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 17:30 in the hall


def worker(id_: str, **fields: object) -> Staff:
    person = Staff(id=id_, name=id_, unit="jw-1", role="网格员", shift=Shift.DAY,
                   grids=("g1",), duty=Duty.ON_DUTY)  # fmt: skip
    return msgspec.structs.replace(person, **fields)


def patrol(staff: str, inside: float) -> PatrolDay:
    return PatrolDay(staff=staff, day=DAY, points=10, patrol_minutes=inside + 5,
                     inside_minutes=inside, short=inside < 30)  # fmt: skip


def test_the_day_ends_at_the_last_periods_end_and_a_holiday_has_none() -> None:
    assert next_day_end(CALENDAR, datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == NOW
    # The 24th is a holiday: the next end after the 23rd's is the 25th's.
    after = next_day_end(CALENDAR, NOW)
    assert after == datetime(2026, 11, 25, 17, 30, tzinfo=TZ)
    assert last_day_end(CALENDAR, datetime(2026, 11, 24, 12, 0, tzinfo=TZ)) == NOW


def test_only_workers_on_day_duty_under_the_minimum_are_alerted() -> None:
    staff = [
        worker("short"),
        worker("enough"),
        worker("silent"),  # on duty, no position all day: 0 minutes
        worker("standby", shift=Shift.STANDBY, duty=Duty.STANDBY),
        worker("leave", duty=Duty.OFF),
        worker("clerk", role="城管队员"),
        worker("done"),
    ]
    patrols = {"short": patrol("short", 20.0), "enough": patrol("enough", 30.0)}
    events = short_patrol_alerts(DAY, staff, patrols, 30, NOW, rota=False, alerted={"done"})
    assert [e.staff for e in events] == ["short", "silent"]
    assert events[0].data == {"kind": "short_patrol", "day": "2026-11-23", "unit": "jw-1",
                              "minutes": 25.0, "inside_minutes": 20.0, "minimum": 30}  # fmt: skip
    # With a rota, the day's end has already turned the day shift off: still on duty today.
    with_rota = short_patrol_alerts(DAY, staff, patrols, 30, NOW, rota=True, alerted=set())
    assert "leave" in {e.staff for e in with_rota} and "standby" not in {e.staff for e in with_rota}
    assert already_alerted(events, DAY) == {"short", "silent"}
    assert already_alerted(events, date(2026, 11, 25)) == set()


def test_the_alert_goes_to_the_hall_and_the_workers_own_unit_only() -> None:
    (event,) = short_patrol_alerts(DAY, [worker("short")], {}, 30, NOW, rota=False, alerted=set())
    steps = unplaced([event])
    own = Scope(ViewKind.UNIT, frozenset({"jw-1"}))
    other = Scope(ViewKind.UNIT, frozenset({"jw-2"}))
    assert view_events(FULL, steps, lambda _: None, lambda _: "jw-1") == [event]
    assert [e.staff for e in view_events(own, steps, lambda _: None, lambda _: "jw-1")] == ["short"]
    assert view_events(other, steps, lambda _: None, lambda _: "jw-1") == []
    assert view_events(OBSERVER, steps, lambda _: None, lambda _: "jw-1") == []


def test_the_handover_lists_short_patrols_and_not_case_alerts() -> None:
    (short,) = short_patrol_alerts(DAY, [worker("short")], {}, 30, NOW, rota=False, alerted=set())
    short = msgspec.structs.replace(short, seq=2)
    case_alert = msgspec.structs.replace(short, seq=1, case="2611230001", staff=None,
                                         data={"level": "street", "step": "accept"})  # fmt: skip
    report = build([], [case_alert, short], NOW - timedelta(hours=8), NOW + timedelta(hours=1))
    assert report.events[Section.PATROLS] == (short,)
    assert Section.PATROLS in report.wired
