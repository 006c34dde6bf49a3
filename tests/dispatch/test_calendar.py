"""Working-time arithmetic: lunch gap, weekends, holidays, make-up workdays, odd start times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.config import CalendarSettings, Settings


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


# National Day week 2026: 1–7 Oct off; Sunday 27 Sep and Saturday 10 Oct worked instead (调休).
CAL = WorkingCalendar(
    CalendarSettings(
        holidays=tuple(date(2026, 10, d) for d in range(1, 8)),
        workdays=(date(2026, 9, 27), date(2026, 10, 10)),
    ),
    ZoneInfo("Asia/Shanghai"),
)


def test_minutes_within_one_period() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 9), 30) == local(2026, 11, 23, 9, 30)


def test_minutes_skip_the_lunch_gap() -> None:
    # 11:30 + 60 working minutes: 30 before lunch, 30 after 13:30.
    assert CAL.add_work_minutes(local(2026, 11, 23, 11, 30), 60) == local(2026, 11, 23, 14)


def test_landing_on_a_close_stays_at_the_close() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 11, 30), 30) == local(2026, 11, 23, 12)


def test_start_before_hours_counts_from_the_opening() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 6), 10) == local(2026, 11, 23, 8, 40)


def test_start_at_lunch_counts_from_the_afternoon() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 12, 15), 10) == local(2026, 11, 23, 13, 40)


def test_evening_start_runs_into_the_next_morning() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 20), 30) == local(2026, 11, 24, 9)


def test_friday_evening_runs_over_the_weekend_to_monday() -> None:
    # Friday 27 Nov 17:00 + 60: 30 on Friday, 30 on Monday 30 Nov.
    assert CAL.add_work_minutes(local(2026, 11, 27, 17), 60) == local(2026, 11, 30, 9)


def test_holidays_are_skipped() -> None:
    # Wednesday 30 Sep 17:00 + 60 → 30 that day, then 1–7 Oct off, then Thursday 8 Oct.
    assert CAL.add_work_minutes(local(2026, 9, 30, 17), 60) == local(2026, 10, 8, 9)


def test_make_up_workday_on_a_weekend_is_worked() -> None:
    # Saturday 26 Sep is off, Sunday 27 Sep is worked (调休).
    assert CAL.add_work_minutes(local(2026, 9, 26, 10), 30) == local(2026, 9, 27, 9)
    assert CAL.is_working_time(local(2026, 9, 27, 10))
    assert not CAL.is_working_time(local(2026, 9, 26, 10))


def test_many_days_of_minutes() -> None:
    # 7.5 working hours a day: 10 days' worth from Monday 08:30 ends Friday week at 17:30.
    assert CAL.add_work_minutes(local(2026, 11, 23, 8, 30), 10 * 450) == local(2026, 12, 4, 17, 30)


def test_work_days_end_at_the_close_of_the_nth_working_day() -> None:
    assert CAL.add_work_days(local(2026, 11, 23, 10), 1) == local(2026, 11, 24, 17, 30)
    # From Thursday: Friday, then Monday.
    assert CAL.add_work_days(local(2026, 11, 26, 10), 2) == local(2026, 11, 30, 17, 30)
    # From the holiday eve: 8 Oct, 9 Oct, then the make-up Saturday 10 Oct.
    assert CAL.add_work_days(local(2026, 9, 30, 10), 3) == local(2026, 10, 10, 17, 30)


def test_minutes_between_count_only_working_time() -> None:
    assert CAL.work_minutes_between(local(2026, 11, 23, 11), local(2026, 11, 23, 14)) == 90
    # Friday 17:00 → Monday 09:00: 30 + 30.
    assert CAL.work_minutes_between(local(2026, 11, 27, 17), local(2026, 11, 30, 9)) == 60
    assert CAL.work_minutes_between(local(2026, 11, 30, 9), local(2026, 11, 27, 17)) == -60
    assert CAL.work_minutes_between(local(2026, 11, 28, 9), local(2026, 11, 28, 16)) == 0


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (local(2026, 11, 23, 8, 29), False),
        (local(2026, 11, 23, 8, 30), True),
        (local(2026, 11, 23, 11, 59), True),
        (local(2026, 11, 23, 12, 0), False),
        (local(2026, 11, 23, 13, 30), True),
        (local(2026, 11, 23, 17, 30), False),
        (local(2026, 11, 21, 10), False),  # Saturday
        (local(2026, 10, 2, 10), False),  # holiday
    ],
)
def test_is_working_time(at: datetime, working: bool) -> None:
    assert CAL.is_working_time(at) is working


def test_add_minutes_then_measure_back_round_trips() -> None:
    start = local(2026, 9, 29, 16, 17)
    for minutes in (1, 59, 210, 451, 2000, 9999):
        end = CAL.add_work_minutes(start, minutes)
        assert CAL.work_minutes_between(start, end) == pytest.approx(minutes)


def test_results_are_utc_and_naive_input_is_refused() -> None:
    assert CAL.add_work_minutes(local(2026, 11, 23, 9), 5).tzinfo == UTC
    with pytest.raises(ValueError):
        CAL.add_work_minutes(datetime(2026, 11, 23, 9), 5)


def test_from_settings_uses_the_clock_timezone() -> None:
    cal = WorkingCalendar.from_settings(Settings())
    assert cal.tz == ZoneInfo("Asia/Shanghai")
    # 01:00 UTC is 09:00 in Shanghai: working time.
    assert cal.is_working_time(datetime(2026, 11, 23, 1, tzinfo=UTC))


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    cal = WorkingCalendar(CalendarSettings(weekend=(1, 2, 3, 4, 5, 6, 7)), ZoneInfo("UTC"))
    with pytest.raises(ValueError):
        cal.add_work_minutes(datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_a_year_of_minutes_is_fast() -> None:
    start = local(2026, 1, 5, 9)
    end = CAL.add_work_minutes(start, 250 * 450)
    assert end - start > timedelta(days=300)
