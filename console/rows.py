"""What a case and a person look like as a row: the board's columns, their cells in the
operator's language, the roster's rows, and the quick filters' choices.

Pure (no Textual): the screens hand these to their widgets, ``griddesk ctl`` prints them, and
tests read them as plain values. The rules behind the cells — which deadline a countdown
shows, what is overdue, who holds how many open cases — come from ``dispatch`` and the hall
model; this module only words them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backend_client.hall_model import HallModel
from console.wording import Wording
from dispatch.models import AreaKind, Case, Duty, Field, Level, Shift, Source, Staff, Urgency
from dispatch.queues import QUICK_KINDS, QuickFilter
from dispatch.standby import is_waiting


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # gettext id
    width: int  # terminal cells (a CJK character takes two)
    min_width: int = 0
    """Narrowest it may be cut to (ending in "…") when the list is short of room; 0: never cut."""
    priority: int = 0
    """Who keeps their room when the list is narrow: 0 first; the last are left out."""


COLUMNS: tuple[Column, ...] = (
    Column("id", "Case", 10, 10, 0),
    Column("urgency", "Urg.", 4, 2, 4),
    Column("status", "Status", 13, 9, 1),  # "reported back" whole, never "reported…"
    # The unit next to the status: who has the case is what a commander reads first, and at
    # 80 columns it must not be the column that falls off the right edge.
    Column("unit", "Unit", 12, 8, 2),
    Column("title", "Title", 16, 10, 3),
    Column("category", "Category", 14, 8, 5),
    Column("place", "Place", 12, 8, 6),
    Column("level", "Level", 10, 6, 7),
    Column("source", "Source", 8, 6, 8),
)
COUNTDOWN = Column("countdown", "Due", 7)

URGENT_MARK = "!"
"""The urgency cell of an urgent case (gettext id: "急" in Chinese)."""


def case_cells(case: Case, words: Wording) -> tuple[str, ...]:
    """One cell per :data:`COLUMNS` entry, in the operator's language."""
    return (
        case.id,
        words.tr(URGENT_MARK) if case.urgency is Urgency.URGENT else "",
        words.status(case.status),
        # While a standby officer is being called (after hours, not yet signed for), whom:
        # the name moves down the night's order as the hub calls the next.
        words.owner(case) if is_waiting(case) else words.unit(case.owner_unit),
        case.title,
        words.category(case.category),
        words.place(case),
        words.level(case.level),
        words.source(case.source),
    )


ROSTER_COLUMNS: tuple[str, ...] = ("Name", "Unit", "Role", "Shift", "Field", "Open", "Last seen")


@dataclass(frozen=True)
class RosterFilter:
    """Which people a roster shows (``None``: any)."""

    on_duty_only: bool = False
    unit: str | None = None
    shift: Shift | None = None
    field: Field | None = None

    def admits(self, person: Staff) -> bool:
        return (
            (not self.on_duty_only or person.duty is not Duty.OFF)
            and (self.unit is None or person.unit == self.unit)
            and (self.shift is None or person.shift is self.shift)
            and (self.field is None or person.field is self.field)
        )


def roster_rows(
    model: HallModel, words: Wording, now: datetime, only: RosterFilter
) -> list[tuple[str, tuple[str, ...]]]:
    """The roster's rows (staff id, cells): on-duty people first, then by unit and name. The
    open-case load is the model's, kept by delta — no pass over the cases."""
    people = [s for s in model.staff.values() if only.admits(s)]
    people.sort(key=lambda s: (s.duty is not Duty.ON_DUTY, s.unit, s.name, s.id))
    return [
        (
            s.id,
            (
                s.name,
                words.unit(s.unit),
                s.role,
                words.shift(s.shift),
                words.field(s.field),
                str(model.load(s.id)),
                words.ago(s.seen_at, now),
            ),
        )
        for s in people
    ]


def quick_values(kind: str, words: Wording, cases: Iterable[Case]) -> list[tuple[str, str]]:
    """The values a quick filter of ``kind`` can take, as (key, label) pairs: levels and
    sources in their enum order, units and grids by name (grids: the hall's and any a case
    names). ``ValueError`` for an unknown kind."""
    model = words.model
    if kind == "level":
        return [(v.value, words.level(v)) for v in Level]
    if kind == "source":
        return [(v.value, words.source(v)) for v in Source]
    if kind == "unit":
        return sorted(((u.id, u.name) for u in model.units.values()), key=lambda x: (x[1], x[0]))
    if kind == "grid":
        codes = {a.code for a in model.areas.values() if a.kind is AreaKind.GRID}
        codes |= {c.grid for c in cases if c.grid}
        return sorted(((g, words.grid(g)) for g in codes), key=lambda x: (x[1], x[0]))
    raise ValueError(f"unknown quick filter {kind!r}")


def quick_text(quick: QuickFilter, words: Wording) -> str:
    """The active quick filter in words, for the status bar ("" when none is set)."""
    parts: list[tuple[str, str]] = []
    if quick.level is not None:
        parts.append((QUICK_KINDS["level"], words.level(quick.level)))
    if quick.unit is not None:
        parts.append((QUICK_KINDS["unit"], words.unit(quick.unit)))
    if quick.source is not None:
        parts.append((QUICK_KINDS["source"], words.source(quick.source)))
    if quick.grid is not None:
        parts.append((QUICK_KINDS["grid"], words.grid(quick.grid)))
    return " ".join(f"{words.tr(title)}:{value}" for title, value in parts)
