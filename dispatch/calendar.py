"""Working calendar: work periods, weekends, holidays; working-time arithmetic.

(Interface fixed; implementation lands with the SLA work.)"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch.config import CalendarSettings


class WorkingCalendar:
    def __init__(self, settings: CalendarSettings, tz: ZoneInfo) -> None:
        self.settings = settings
        self.tz = tz

    def add_work_minutes(self, start: datetime, minutes: int) -> datetime:
        raise NotImplementedError

    def add_work_days(self, start: datetime, days: int) -> datetime:
        raise NotImplementedError

    def work_minutes_between(self, a: datetime, b: datetime) -> float:
        raise NotImplementedError

    def is_working_time(self, at: datetime) -> bool:
        raise NotImplementedError
