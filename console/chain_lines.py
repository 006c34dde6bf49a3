"""The chain of command in words: a case's instructions (批办) and its roll call (点名), as
lines the case screen, the board's ``:rollcall`` and ``griddesk ctl rollcall`` all print.

The roll call's rule is :func:`dispatch.whistle.roll_call`; here it only reads in the
operator's language and the hall's time zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from console.labels import label
from console.wording import Wording
from dispatch.models import Case
from dispatch.whistle import Attendance, roll_call


def instruction_lines(case: Case, words: Wording, tz: tzinfo) -> list[str]:
    """One line per instruction, newest first: who, from which desk, when, the text, and its
    deadline if it has one."""
    tr = words.tr
    out = []
    for note in reversed(case.instructions):
        desk = f" ({words.level(note.desk)})" if note.desk is not None else ""
        line = f"{note.at.astimezone(tz):%m-%d %H:%M} {note.by}{desk}: {note.text}"
        if note.due is not None:
            line += "  " + tr("due {time}").format(time=f"{note.due.astimezone(tz):%m-%d %H:%M}")
        out.append(line)
    return out


def roll_call_lines(case: Case, words: Wording, now: datetime, tz: tzinfo) -> list[str]:
    """The latest whistle's roll call: the deadline, then each summoned unit with how it
    came (in time, late, never, not in yet) and when. Empty when no whistle was blown."""
    if not case.whistles:
        return []
    tr = words.tr
    whistle = case.whistles[-1]
    lines = roll_call(whistle, now)
    counts = {a: sum(1 for line in lines if line.attendance is a) for a in Attendance}
    head = tr("Whistle by {who}, report in by {time}: {in_time} in time, {late} late, "
              "{absent} never came").format(
        who=whistle.by,
        time=f"{whistle.due.astimezone(tz):%m-%d %H:%M}",
        in_time=counts[Attendance.IN_TIME],
        late=counts[Attendance.LATE],
        absent=counts[Attendance.ABSENT],
    )  # fmt: skip
    out = [head]
    for line in lines:
        when = f" {line.reported_at.astimezone(tz):%H:%M}" if line.reported_at else ""
        by = f" ({line.reported_by})" if line.reported_by else ""
        out.append(f"  {words.unit(line.unit)}: {label(line.attendance, tr)}{when}{by}")
    return out
