"""What a countdown reads: the time left or overdue as short text, and a fallback light.

Every widget that shows a deadline uses :func:`format_countdown`, so the case list, the urgent
strip and the case detail read the same way. The number is always shown; colour only adds to it.
"""

from __future__ import annotations

from datetime import datetime

from dispatch.models import Deadline
from dispatch.sla import Colour, Light


def format_countdown(seconds_left: float) -> str:
    """``12:34`` left or ``-03:10`` overdue under an hour, ``5h12m`` above, ``2d3h`` past a day.

    Seconds are truncated toward zero, so the text changes once a second and a deadline just
    passed reads ``-00:00`` (the light is already red then).
    """
    sign = "-" if seconds_left < 0 else ""
    total = int(abs(seconds_left))
    if total < 3600:
        minutes, seconds = divmod(total, 60)
        return f"{sign}{minutes:02d}:{seconds:02d}"
    hours, rest = divmod(total, 3600)
    if hours < 24:
        return f"{sign}{hours}h{rest // 60:02d}m"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d{hours}h"


def wall_light(deadline: Deadline, now: datetime, amber_at: float = 0.8) -> Light:
    """A light on the wall clock alone, for a widget whose screen has not yet bound the
    hall's calendar (``dispatch.sla.light`` with a ``WorkingCalendar`` is the real one)."""
    seconds_left = (deadline.due - now).total_seconds()
    span = (deadline.due - deadline.start).total_seconds()
    used = (now - deadline.start).total_seconds() / span if span > 0 else 1.0
    colour: Colour = "red" if seconds_left < 0 else "amber" if used >= amber_at else "green"
    return Light(colour=colour, seconds_left=seconds_left, used=used)
