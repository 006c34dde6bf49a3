"""What a countdown reads: the time left or overdue as short text, and the light to use until a
screen binds the hall's own.

Every widget that shows a deadline uses :func:`format_countdown`, so the case list, the urgent
strip and the case detail read the same way. The number is always shown; colour only adds to it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from dispatch.calendar import WorkingCalendar
from dispatch.config import Settings
from dispatch.models import Deadline
from dispatch.sla import Light, light


def format_countdown(seconds_left: float, *, minutes: bool = False) -> str:
    """``12:34`` left or ``-03:10`` overdue under an hour, ``5h12m`` above, ``2d3h`` past a day.

    Seconds are truncated toward zero, so the text changes once a second and a deadline just
    passed reads ``-00:00`` (the light is already red then). ``minutes`` (the low-bandwidth
    setting) shows the last hour to the minute too — ``12m``, ``-3m`` — so the text, and the
    bytes on a slow link, change once a minute.
    """
    sign = "-" if seconds_left < 0 else ""
    total = int(abs(seconds_left))
    if total < 3600 and minutes:
        return f"{sign}{total // 60}m"
    if total < 3600:
        mins, secs = divmod(total, 60)
        return f"{sign}{mins:02d}:{secs:02d}"
    hours, rest = divmod(total, 3600)
    if hours < 24:
        return f"{sign}{hours}h{rest // 60:02d}m"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d{hours}h"


def default_light(deadline: Deadline, now: datetime) -> Light:
    """The traffic light before a screen binds the hall's own calendar and amber share: the
    one rule (``dispatch.sla.light``) on the default working calendar, never a copy of it."""
    return light(deadline, now, _default_calendar())


@cache
def _default_calendar() -> WorkingCalendar:
    return WorkingCalendar.from_settings(Settings())
