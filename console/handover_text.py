"""The hand-over report (``dispatch.handover``) in words: tables per section, and Markdown.

The screen (``screens/handover.py``) and ``griddesk handover`` show the same sections from
the same rows (:func:`section_table`), in the operator's language, times in the hall's time
zone. Every heading, column and phrase is a gettext id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from console.i18n import Translate
from console.wording import NOBODY, Wording
from dispatch.events import Event, EventType
from dispatch.handover import CASE_LIST_SECTIONS, HandoverReport, Section
from dispatch.models import Case, Duty, Level, Shift
from dispatch.sla import shown_deadline

SECTION_TITLES: Mapping[Section, str] = {
    Section.URGENT: "Open urgent cases",
    Section.OVERDUE: "Overdue cases",
    Section.PENDING: "Pending approvals",
    Section.ESCALATIONS: "Escalations",
    Section.WHISTLES: "Whistles",
    Section.INSTRUCTIONS: "Leadership instructions",
    Section.URGES: "Urges",
    Section.JOINT: "Joint enforcement",
    Section.STAFF: "Staff changes",
    Section.PATROLS: "Short patrols",
    Section.SHIFTS: "Shift changes and hand-overs",
    Section.NOTES: "Hand-over notes",
}
"""Each section's heading (gettext ids)."""

INCOMPLETE = "The shift held more events than were read: the lists of events are cut short."
"""Said when the hub's window was read only in part (gettext id)."""

_CASE_COLUMNS = ("Case", "Title", "Status", "Unit", "Level", "Deadline")
_REQUEST_COLUMNS = ("Case", "Title", "Request", "Asked by", "Asked at", "Reason")
_EVENT_COLUMNS = ("Time", "Case", "Title", "What", "By", "Reason")
_STAFF_COLUMNS = ("Time", "Person", "Unit", "Duty", "By", "Reason")
_SHIFT_COLUMNS = ("Time", "What", "By", "Details")
_NOTE_COLUMNS = ("Time", "By", "Note", "Cases")
_PATROL_COLUMNS = ("Day", "Person", "Unit", "Inside the grid (min)", "Minimum (min)")

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]
"""Column headings (translated) and rows of cells."""


class ReportWords:
    """Names and times for one report: the operator's language, the hall's time zone."""

    def __init__(self, words: Wording, tz: ZoneInfo, cases: Mapping[str, Case]) -> None:
        self.words = words
        self.tr = words.tr
        self.tz = tz
        self.cases = cases

    def time(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%H:%M")

    def day_time(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def title(self, case_id: str | None) -> str:
        case = self.cases.get(case_id or "")
        return case.title if case is not None else ""

    def deadline(self, case: Case, now: datetime) -> str:
        """The step and the time left or over: in numbers, never a colour alone."""
        due = shown_deadline(case)
        if due is None:
            return NOBODY
        seconds = int((due.due - now).total_seconds())
        hours, rest = divmod(abs(seconds), 3600)
        span = f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"
        template = "{span} left" if seconds >= 0 else "{span} over"
        return f"{self.words.step(due.step)} {self.tr(template).format(span=span)}"


def section_title(section: Section, report: HandoverReport, tr: Translate) -> str:
    """A section's heading with its count: "超时案件 (3)"."""
    return f"{tr(SECTION_TITLES[section])} ({report.count(section)})"


def section_table(section: Section, report: HandoverReport, rw: ReportWords) -> Table:
    """One section as a table (empty rows: nothing to hand over there)."""
    tr = rw.tr
    if section is Section.PENDING:
        return _heads(_REQUEST_COLUMNS, tr), [_request_row(c, rw) for c in report.cases[section]]
    if section in CASE_LIST_SECTIONS:
        return _heads(_CASE_COLUMNS, tr), [
            _case_row(c, rw, report.until) for c in report.cases[section]
        ]
    events = report.events.get(section, ())
    if section is Section.STAFF:
        return _heads(_STAFF_COLUMNS, tr), [_staff_row(e, rw) for e in events]
    if section is Section.SHIFTS:
        return _heads(_SHIFT_COLUMNS, tr), [_shift_row(e, rw, report) for e in events]
    if section is Section.NOTES:
        return _heads(_NOTE_COLUMNS, tr), [_note_row(e, rw) for e in events]
    if section is Section.PATROLS:
        return _heads(_PATROL_COLUMNS, tr), [_patrol_row(e, rw) for e in events]
    rows = [_event_row(e, rw) for e in events]
    # Open cases carrying the section's record (a whistle, an instruction) come after.
    rows += [_case_as_event(c, rw, report.until) for c in report.cases.get(section, ())]
    return _heads(_EVENT_COLUMNS, tr), rows


def _heads(columns: Sequence[str], tr: Translate) -> tuple[str, ...]:
    return tuple(tr(c) for c in columns)


def _case_row(case: Case, rw: ReportWords, now: datetime) -> tuple[str, ...]:
    w = rw.words
    return (
        case.id,
        case.title,
        w.status(case.status),
        w.unit(case.owner_unit) or NOBODY,
        w.level(case.level),
        rw.deadline(case, now),
    )


def _request_row(case: Case, rw: ReportWords) -> tuple[str, ...]:
    r = case.request
    assert r is not None
    kind = rw.words.request(r.kind)
    if r.minutes:
        kind += " " + rw.tr("{n} min").format(n=r.minutes)
    return (case.id, case.title, kind, r.by, rw.time(r.at), r.reason)


def _event_row(event: Event, rw: ReportWords) -> tuple[str, ...]:
    what = rw.words.event(event.type)
    if event.type is EventType.ESCALATED and "level" in event.changes:
        what += " → " + rw.words.level(Level(event.changes["level"]))
    elif event.type is EventType.URGED and event.data.get("unit"):
        what += " " + rw.words.unit(str(event.data["unit"]))
    elif event.type is EventType.JOINT and event.data.get("lead"):
        units = [str(event.data["lead"]), *(str(u) for u in event.data.get("supporting", ()))]
        what += " " + " + ".join(rw.words.unit(u) for u in units)
    return (
        rw.time(event.at),
        event.case or NOBODY,
        rw.title(event.case),
        what,
        event.actor,
        event.reason,
    )


def _case_as_event(case: Case, rw: ReportWords, now: datetime) -> tuple[str, ...]:
    return (
        NOBODY,
        case.id,
        case.title,
        rw.words.status(case.status),
        NOBODY,
        rw.deadline(case, now),
    )


def _staff_row(event: Event, rw: ReportWords) -> tuple[str, ...]:
    person = rw.words.model.staff.get(event.staff or "")
    duty = event.changes.get("duty")
    return (
        rw.time(event.at),
        rw.words.person(event.staff),
        rw.words.unit(person.unit) if person is not None else NOBODY,
        rw.words.duty(Duty(duty)) if duty else NOBODY,
        event.actor,
        event.reason,
    )


def _shift_row(event: Event, rw: ReportWords, report: HandoverReport) -> tuple[str, ...]:
    tr = rw.tr
    if event.type is EventType.SHIFT_CHANGED:
        to = event.data.get("to")
        details = rw.words.shift(Shift(to)) if to else ""
        moved = report.moved.get(event.command or "", 0)
        if moved:
            details += " · " + tr("{n} people moved").format(n=moved)
    else:
        details = tr("from {outgoing}").format(outgoing=event.data.get("outgoing", NOBODY))
        if event.reason:
            details += " · " + event.reason
    return (rw.time(event.at), rw.words.event(event.type), event.actor, details)


def _note_row(event: Event, rw: ReportWords) -> tuple[str, ...]:
    cases = ", ".join(str(c) for c in event.data.get("cases", ()))
    return (rw.time(event.at), event.actor, event.reason, cases or NOBODY)


# --- Markdown ----------------------------------------------------------------------------------


def markdown(report: HandoverReport, rw: ReportWords, *, incoming: str = "") -> str:
    """The report as Markdown: a ``#`` heading, a summary, then a ``##`` heading per section
    (its count in the heading) with a table, or a line saying there is nothing."""
    tr = rw.tr
    out = [
        "# "
        + tr("Shift hand-over {since} – {until}").format(
            since=rw.day_time(report.since), until=rw.time(report.until)
        ),
        "",
        "- " + tr("Handed over by") + ": " + (report.outgoing or NOBODY),
        "- " + tr("Taken over by") + ": " + (incoming or NOBODY),
        "- "
        + tr("Window")
        + f": {rw.day_time(report.since)} – {rw.day_time(report.until)} ({rw.tz.key})",
        "- "
        + tr("Summary")
        + ": "
        + " · ".join(f"{tr(SECTION_TITLES[s])} {report.count(s)}" for s in Section),
        "- " + tr("Report digest") + f": `{report.digest}`",
    ]
    if not report.complete:
        out += ["", "> " + tr(INCOMPLETE)]
    for section in Section:
        out += ["", f"## {section_title(section, report, tr)}", ""]
        if section not in report.wired:
            out.append(tr("None (not recorded by this hub yet)."))
            continue
        heads, rows = section_table(section, report, rw)
        if not rows:
            out.append(tr("None."))
            continue
        out.append("| " + " | ".join(heads) + " |")
        out.append("|" + "---|" * len(heads))
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """A table cell: one line, pipes escaped (a note may hold both)."""
    return " ".join(text.split()).replace("|", "\\|") or " "


def _patrol_row(event: Event, rw: ReportWords) -> tuple[str, ...]:
    """A short-patrol alert: whose day, and the minutes against the minimum."""
    data, w = event.data, rw.words
    return (
        str(data.get("day", "")),
        w.person(event.staff) or NOBODY,
        w.unit(data.get("unit")) or NOBODY,
        f"{float(data.get('inside_minutes') or 0):.0f}",
        str(data.get("minimum", "")),
    )
