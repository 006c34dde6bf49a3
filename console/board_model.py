"""The board's model, pure: which queue a case is in, the tab counts, and the list's rows.

The screen keeps its own dict of cases (updated from messages) and asks this module what to
show; nothing here touches Textual or the connection, so it is tested on plain values.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from console.i18n import Translate
from console.labels import FIELD, LEVEL, SHIFT, SOURCE, STATUS, label
from dispatch.catalog import Catalog
from dispatch.events import Event
from dispatch.models import (
    Area,
    AreaKind,
    Case,
    Deadline,
    Duty,
    Field,
    Level,
    Shift,
    Source,
    Staff,
    Status,
    Unit,
    Urgency,
)


class Queue(StrEnum):
    """The board's tabs, in tab order (keys 1–7)."""

    URGENT = "urgent"
    TO_ACCEPT = "to_accept"
    TO_DISPATCH = "to_dispatch"
    IN_PROGRESS = "in_progress"
    TO_VERIFY = "to_verify"
    OVERDUE = "overdue"
    ALL = "all"


QUEUES: tuple[Queue, ...] = tuple(Queue)

QUEUE_TITLES: Mapping[Queue, str] = {
    Queue.URGENT: "Urgent",
    Queue.TO_ACCEPT: "To accept",
    Queue.TO_DISPATCH: "To dispatch",
    Queue.IN_PROGRESS: "In progress",
    Queue.TO_VERIFY: "To verify",
    Queue.OVERDUE: "Overdue",
    Queue.ALL: "All",
}

_BY_STATUS: Mapping[Queue, frozenset[Status]] = {
    Queue.TO_ACCEPT: frozenset({Status.REPORTED, Status.VERIFIED}),
    Queue.TO_DISPATCH: frozenset({Status.ACCEPTED}),
    Queue.IN_PROGRESS: frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED, Status.ON_SCENE}),
    Queue.TO_VERIFY: frozenset({Status.REPORTED_BACK, Status.CHECKED}),
}


def is_overdue(case: Case, now: datetime) -> bool:
    """Open and past a deadline: one the hub marked breached, or a live one already due."""
    if not case.is_open or case.status is Status.PARKED:
        return False
    return any(d.breached or d.due <= now for d in case.deadlines)


def in_queue(case: Case, queue: Queue, now: datetime) -> bool:
    if queue is Queue.ALL:
        return True
    if queue is Queue.URGENT:
        return case.is_open and case.urgency is Urgency.URGENT
    if queue is Queue.OVERDUE:
        return is_overdue(case, now)
    return case.status in _BY_STATUS[queue]


def counts(
    cases: Iterable[Case], now: datetime, quick: QuickFilter | None = None
) -> dict[Queue, int]:
    """How many cases each tab holds (of those the quick filter admits)."""
    out = dict.fromkeys(QUEUES, 0)
    for case in cases:
        if quick is not None and not quick.admits(case):
            continue
        for queue in QUEUES:
            if in_queue(case, queue, now):
                out[queue] += 1
    return out


class Sort(StrEnum):
    DEADLINE = "deadline"  # nearest deadline first (no deadline last)
    NEWEST = "newest"  # most recently reported first
    ID = "id"


@dataclass(frozen=True)
class QuickFilter:
    """The board's quick filters; ``None`` means any. Persisted per operator (console.prefs)."""

    level: Level | None = None
    unit: str | None = None
    source: Source | None = None
    grid: str | None = None

    def admits(self, case: Case) -> bool:
        return (
            (self.level is None or case.level is self.level)
            and (self.unit is None or case.owner_unit == self.unit)
            and (self.source is None or case.source is self.source)
            and (self.grid is None or case.grid == self.grid)
        )

    def with_value(self, kind: str, value: str | None) -> QuickFilter:
        """This filter with ``kind`` ("level", "unit", "source" or "grid") set to ``value``
        (``None``: any)."""
        if kind == "level":
            return replace(self, level=None if value is None else Level(value))
        if kind == "source":
            return replace(self, source=None if value is None else Source(value))
        if kind == "unit":
            return replace(self, unit=value)
        if kind == "grid":
            return replace(self, grid=value)
        raise ValueError(f"unknown quick filter {kind!r}")


QUICK_KINDS: Mapping[str, str] = {
    "level": "Level",
    "unit": "Unit",
    "source": "Source",
    "grid": "Grid",
}
"""The quick filters' kinds, in pick order, with their gettext titles."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # gettext id
    width: int  # terminal cells (a CJK character takes two)


COLUMNS: tuple[Column, ...] = (
    Column("id", "Case", 11),
    Column("urgency", "Urg.", 4),
    Column("status", "Status", 8),
    Column("category", "Category", 14),
    Column("title", "Title", 16),
    Column("place", "Place", 12),
    Column("unit", "Unit", 14),
    Column("level", "Level", 10),
    Column("source", "Source", 8),
)
COUNTDOWN = Column("countdown", "Due", 8)


@dataclass(frozen=True)
class Line:
    """One row of the case list: the widget's ``QueueRow`` fields, built without Textual."""

    key: str
    cells: tuple[str, ...]
    deadline: Deadline | None
    urgent: bool
    sort: tuple[float, str]


@dataclass(frozen=True)
class Names:
    """What the rows need to name things in the operator's language."""

    tr: Translate
    catalog: Catalog
    units: Mapping[str, Unit]
    english: bool
    areas: Mapping[str, Area] = field(default_factory=dict)

    def category(self, code: str) -> str:
        c = self.catalog.by_code.get(code)
        if c is None:
            return code
        return c.name_en if self.english else c.name

    def unit(self, unit_id: str | None) -> str:
        if unit_id is None:
            return ""
        u = self.units.get(unit_id)
        return u.name if u is not None else unit_id

    def grid(self, code: str) -> str:
        a = self.areas.get(code)
        return a.name if a is not None else code


def quick_values(kind: str, names: Names, cases: Iterable[Case]) -> list[tuple[str, str]]:
    """The values a quick filter of ``kind`` can take, as (key, label) pairs: levels and
    sources in their enum order, units and grids by name (grids: the hall's and any a case
    names)."""
    tr = names.tr
    if kind == "level":
        return [(v.value, label(v, tr, LEVEL)) for v in Level]  # type: ignore[arg-type]
    if kind == "source":
        return [(v.value, label(v, tr, SOURCE)) for v in Source]  # type: ignore[arg-type]
    if kind == "unit":
        return sorted(((u.id, u.name) for u in names.units.values()), key=lambda x: (x[1], x[0]))
    if kind == "grid":
        codes = {a.code for a in names.areas.values() if a.kind is AreaKind.GRID}
        codes |= {c.grid for c in cases if c.grid}
        return sorted(((g, names.grid(g)) for g in codes), key=lambda x: (x[1], x[0]))
    raise ValueError(f"unknown quick filter {kind!r}")


def quick_text(quick: QuickFilter, names: Names) -> str:
    """The active quick filter in words, for the status bar ("" when none is set)."""
    tr = names.tr
    parts = []
    if quick.level is not None:
        parts.append((QUICK_KINDS["level"], label(quick.level, tr, LEVEL)))  # type: ignore[arg-type]
    if quick.unit is not None:
        parts.append((QUICK_KINDS["unit"], names.unit(quick.unit)))
    if quick.source is not None:
        parts.append((QUICK_KINDS["source"], label(quick.source, tr, SOURCE)))  # type: ignore[arg-type]
    if quick.grid is not None:
        parts.append((QUICK_KINDS["grid"], names.grid(quick.grid)))
    return " ".join(f"{tr(title)}:{value}" for title, value in parts)


def shown_deadline(case: Case) -> Deadline | None:
    """The deadline a countdown shows: the earliest of an open, running case, breached ones
    included (an overdue case must read red with the time over, not go blank)."""
    if not case.is_open or case.status is Status.PARKED:
        return None
    return min(case.deadlines, key=lambda d: d.due, default=None)


def line(case: Case, names: Names, sort: Sort = Sort.DEADLINE) -> Line:
    deadline = shown_deadline(case)
    urgent = case.urgency is Urgency.URGENT
    if sort is Sort.DEADLINE:
        key = deadline.due.timestamp() if deadline is not None else float("inf")
    elif sort is Sort.NEWEST:
        key = -case.reported_at.timestamp()
    else:
        key = 0.0
    tr = names.tr
    cells = (
        case.id,
        tr("!") if urgent else "",
        label(case.status, tr, STATUS),  # type: ignore[arg-type]
        names.category(case.category),
        case.title,
        case.grid or case.address,
        names.unit(case.owner_unit),
        label(case.level, tr, LEVEL),  # type: ignore[arg-type]
        label(case.source, tr, SOURCE),  # type: ignore[arg-type]
    )
    return Line(key=case.id, cells=cells, deadline=deadline, urgent=urgent, sort=(key, case.id))


def lines(
    cases: Iterable[Case],
    queue: Queue,
    now: datetime,
    names: Names,
    quick: QuickFilter = QuickFilter(),
    sort: Sort = Sort.DEADLINE,
) -> list[Line]:
    """The rows of ``queue``, sorted."""
    out = [line(c, names, sort) for c in cases if in_queue(c, queue, now) and quick.admits(c)]
    out.sort(key=lambda row: row.sort)
    return out


def strip_cases(cases: Iterable[Case], limit: int) -> list[Case]:
    """The urgent strip: open cases closest to a deadline (urgent ones first on a tie)."""
    timed = [
        (d.due, c.urgency is not Urgency.URGENT, c.id, c)
        for c in cases
        if (d := shown_deadline(c)) is not None
    ]
    timed.sort(key=lambda t: t[:3])
    return [t[3] for t in timed[:limit]]


class History:
    """A bounded per-case history of the events this console saw (newest last).

    The mirror keeps cases, not their events, so the case screen shows what arrived while the
    console was connected; older history is on the hub (the screen says so).
    """

    def __init__(self, per_case: int = 200) -> None:
        self._per_case = per_case
        self._events: dict[str, deque[Event]] = {}

    def add(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.case is not None:
                self._events.setdefault(event.case, deque(maxlen=self._per_case)).append(event)

    def of(self, case_id: str) -> tuple[Event, ...]:
        return tuple(self._events.get(case_id, ()))

    def clear(self) -> None:
        self._events.clear()


ROSTER_COLUMNS: tuple[str, ...] = (
    "Name",
    "Unit",
    "Role",
    "Shift",
    "Field",
    "Open",
    "Last seen",
)


def roster_lines(
    staff: Iterable[Staff],
    cases: Iterable[Case],
    names: Names,
    now: datetime,
    *,
    on_duty_only: bool,
    unit: str | None = None,
    shift: Shift | None = None,
    field: Field | None = None,
) -> list[tuple[str, tuple[str, ...]]]:
    """The roster's rows (key, cells): on-duty people first, then by unit and name."""
    load: dict[str, int] = {}
    for case in cases:
        if case.is_open and case.owner_staff:
            load[case.owner_staff] = load.get(case.owner_staff, 0) + 1
    people = [
        s
        for s in staff
        if (not on_duty_only or s.duty is not Duty.OFF)
        and (unit is None or s.unit == unit)
        and (shift is None or s.shift is shift)
        and (field is None or s.field is field)
    ]
    people.sort(key=lambda s: (s.duty is not Duty.ON_DUTY, s.unit, s.name, s.id))
    tr = names.tr
    return [
        (
            s.id,
            (
                s.name,
                names.unit(s.unit),
                s.role,
                label(s.shift, tr, SHIFT),  # type: ignore[arg-type]
                label(s.field, tr, FIELD),  # type: ignore[arg-type]
                str(load.get(s.id, 0)),
                _ago(s.seen_at, now, tr),
            ),
        )
        for s in people
    ]


def _ago(at: datetime | None, now: datetime, tr: Translate) -> str:
    if at is None:
        return "—"
    minutes = int((now - at).total_seconds() // 60)
    if minutes < 1:
        return tr("now")
    if minutes < 60:
        return tr("{n} min ago").format(n=minutes)
    return tr("{n} h ago").format(n=minutes // 60)
