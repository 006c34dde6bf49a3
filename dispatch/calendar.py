"""Working calendar: work periods, weekends, holidays and make-up workdays (调休).

General cases are clocked in working time, so every SLA deadline of a general case goes
through here. The arithmetic walks day by day (never minute by minute) in the hall's local
time zone and returns aware UTC datetimes; each day's periods are made once, and working time
between two instants is a difference of running sums (no walk at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dispatch.config import CalendarSettings, Settings

_SEARCH_DAYS = 3 * 366
"""How far to look for a working day before deciding the calendar has none."""

_CACHED_DAYS = 4 * 366
"""Days whose work periods are kept made (a few kilobytes each year)."""

_PREFIX_MARGIN = 400
"""Days before the earliest day asked that the running sum starts at, so an older case
rarely makes it start again."""

_MICRO = timedelta(microseconds=1)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class WorkingCalendar:
    """Working-time arithmetic on the hall's calendar, in the hall's time zone."""

    def __init__(self, settings: CalendarSettings, tz: ZoneInfo) -> None:
        self.settings = settings
        self.tz = tz
        periods = sorted((_hhmm(a), _hhmm(b)) for a, b in settings.periods)
        for start, end in periods:
            if start >= end:
                raise ValueError(f"work period {start}–{end} must end after it starts")
        for (_, end), (nxt, _) in pairwise(periods):
            if nxt < end:
                raise ValueError("work periods overlap")
        self._periods: tuple[tuple[time, time], ...] = tuple(periods)
        self._day_spans: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        # Working microseconds before each local day, from ``_prefix_from`` on: entry i is the
        # working time from the start of ``_prefix_from`` to the start of the i-th day after.
        self._prefix_from: date | None = None
        self._prefix: list[int] = []
        self._weekend = frozenset(settings.weekend)
        self._holidays = frozenset(settings.holidays)
        self._workdays = frozenset(settings.workdays)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingCalendar:
        return cls(settings.calendar, ZoneInfo(settings.clock.timezone))

    # --- days ----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """A make-up workday is worked even on a weekend; a holiday is not worked."""
        if day in self._workdays:
            return True
        return day.isoweekday() not in self._weekend and day not in self._holidays

    def _local_day(self, at: datetime) -> date:
        return _aware(at).astimezone(self.tz).date()

    def _spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's work periods as UTC spans (empty on a day off); made once per day."""
        spans = self._day_spans.get(day)
        if spans is None:
            if len(self._day_spans) > _CACHED_DAYS:
                self._day_spans.clear()
            spans = self._day_spans[day] = (
                tuple(
                    (
                        datetime.combine(day, a, self.tz).astimezone(UTC),
                        datetime.combine(day, b, self.tz).astimezone(UTC),
                    )
                    for a, b in self._periods
                )
                if self.is_working_day(day)
                else ()
            )
        return spans

    def _working_days_from(self, day: date) -> Iterator[date]:
        """Working days from ``day`` on (inclusive); gives up after a few years of none."""
        idle = 0
        while idle <= _SEARCH_DAYS:
            if self.is_working_day(day) and self._periods:
                idle = 0
                yield day
            else:
                idle += 1
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working time")

    # --- arithmetic ----------------------------------------------------------------------

    def add_work_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` working minutes after ``start``.

        Outside working time the count starts at the next period; a result that lands on a
        period's close stays there (not at the next opening).
        """
        at = _aware(start).astimezone(UTC)
        if minutes <= 0:
            return at
        left = timedelta(minutes=minutes)
        for day in self._working_days_from(self._local_day(at)):
            for open_, close in self._spans(day):
                if close <= at:
                    continue
                begin = max(open_, at)
                if left <= close - begin:
                    return begin + left
                left -= close - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def add_work_days(self, start: datetime, days: int) -> datetime:
        """The close of the ``days``-th working day after ``start``'s (local) day.

        The start day never counts, whatever the hour and whether or not it is a working day:
        periods counted in days begin the next day (开始的当日不计入，自下一日开始计算, as the
        Civil Code counts them). So a clock started before opening on a 调休 Saturday counts
        from Monday, and ends a working day later than one started on the Friday evening.

        ``days <= 0`` means the close of the working day ``start`` falls in, or of the next
        working day when ``start`` is after the close or on a day off.
        """
        at = _aware(start).astimezone(UTC)
        first = self._local_day(at)
        count = 0
        for day in self._working_days_from(first):
            if days <= 0:
                close = self._spans(day)[-1][1]
                if close > at:
                    return close
                continue
            if day > first:
                count += 1
                if count == days:
                    return self._spans(day)[-1][1]
        raise AssertionError("unreachable")  # pragma: no cover

    def work_minutes_between(self, a: datetime, b: datetime) -> float:
        """Working minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``).

        The working time before each day is kept as a running sum, so this costs the same for
        a case reported this morning and one open since spring (the board draws a traffic
        light per visible row per second; the figures one per deadline)."""
        a, b = _aware(a).astimezone(UTC), _aware(b).astimezone(UTC)
        if b < a:
            return -self.work_minutes_between(b, a)
        before = self._worked_until(a)  # first: the earlier day may move the sums' start
        micros = self._worked_until(b) - before
        return timedelta(microseconds=micros).total_seconds() / 60

    def _worked_until(self, at: datetime) -> int:
        """Working microseconds from the start of ``_prefix_from`` to ``at`` (UTC)."""
        day = self._local_day(at)
        total = self._before(day)
        for open_, close in self._spans(day):
            if close <= at:
                total += (close - open_) // _MICRO
            elif open_ < at:
                total += (at - open_) // _MICRO
        return total

    def _before(self, day: date) -> int:
        """Working microseconds from the start of ``_prefix_from`` to the start of ``day``."""
        start = self._prefix_from
        if start is None or day < start:
            # Start (again) a little before the earliest day asked: the sums are rebuilt.
            self._prefix_from = start = day - timedelta(days=_PREFIX_MARGIN)
            self._prefix = [0]
        index = (day - start).days
        prefix = self._prefix
        while len(prefix) <= index:
            done = start + timedelta(days=len(prefix) - 1)
            prefix.append(prefix[-1] + sum((c - o) // _MICRO for o, c in self._spans(done)))
        return prefix[index]

    def is_working_time(self, at: datetime) -> bool:
        at = _aware(at).astimezone(UTC)
        return any(open_ <= at < close for open_, close in self._spans(self._local_day(at)))

    def minutes_per_day(self) -> float:
        """Working minutes in one full working day."""
        return sum(
            (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() / 60
            for a, b in self._periods
        )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: the calendar needs aware timestamps")
    return at
