"""The hall's queues: one vocabulary for the board's tabs, the ``:`` verbs and ``griddesk ctl``.

A queue is a question about one case ("is it waiting for the hall to accept it?"), answered
by :func:`in_queue` from the case and the hub's time. The words people type for a queue —
``list accept``, ``ls 待派遣``, the tab number ``3`` — are aliases of one :class:`Queue`, read
by :func:`parse_queue`, so the three places can never disagree again.

Also here: the board's sort orders and quick filters, which decide what a queue shows and in
which order, and are the same for every client that lists cases.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from dispatch.command_chain import Desk
from dispatch.models import TERMINAL_STATUSES, Case, Level, Source, Status, Urgency
from dispatch.sla import is_overdue, shown_deadline


class Queue(StrEnum):
    """The board's tabs, in tab order (keys 1–8)."""

    URGENT = "urgent"  # 紧急: open urgent cases
    TO_ACCEPT = "to_accept"  # 待受理: reported or verified, waiting for 立案
    TO_DISPATCH = "to_dispatch"  # 待派遣: accepted, waiting for a unit
    IN_PROGRESS = "in_progress"  # 处置中: with a unit
    TO_CHECK = "to_check"  # 待核查: reported back, waiting for the on-site check and close
    OVERDUE = "overdue"  # 超时: past a deadline (dispatch.sla.is_overdue)
    ALL = "all"  # 全部: every case the client holds
    DESK = "desk"  # 升级件: escalated to my desk (dispatch/command_chain.py); any desk's if none


QUEUES: tuple[Queue, ...] = tuple(Queue)

QUEUE_TITLES: Mapping[Queue, str] = {
    Queue.URGENT: "Urgent",
    Queue.TO_ACCEPT: "To accept",
    Queue.TO_DISPATCH: "To dispatch",
    Queue.IN_PROGRESS: "In progress",
    Queue.TO_CHECK: "To check",
    Queue.OVERDUE: "Overdue",
    Queue.ALL: "All",
    Queue.DESK: "Escalated",
}
"""Each queue's title (the English gettext msgid; clients translate it)."""

QUEUE_ALIASES: Mapping[str, Queue] = {
    **{q.value: q for q in QUEUES},
    **{str(n): q for n, q in enumerate(QUEUES, 1)},
    "accept": Queue.TO_ACCEPT,
    "dispatch": Queue.TO_DISPATCH,
    "progress": Queue.IN_PROGRESS,
    "check": Queue.TO_CHECK,
    # The tab was called "to verify" until verify (核实, on site, before acceptance) and
    # check (核查, after the unit reports back) were told apart; old words still work.
    "verify": Queue.TO_CHECK,
    "to_verify": Queue.TO_CHECK,
    "紧急": Queue.URGENT,
    "待受理": Queue.TO_ACCEPT,
    "待立案": Queue.TO_ACCEPT,
    "待派遣": Queue.TO_DISPATCH,
    "处置中": Queue.IN_PROGRESS,
    "办理中": Queue.IN_PROGRESS,
    "待核查": Queue.TO_CHECK,
    "超时": Queue.OVERDUE,
    "超期": Queue.OVERDUE,
    "全部": Queue.ALL,
    "escalated": Queue.DESK,
    "升级件": Queue.DESK,
    "本级": Queue.DESK,
    "批办": Queue.DESK,
}
"""Every word that names a queue (lower case): ids, tab numbers, short and Chinese names."""

QUEUE_WORDS: tuple[str, ...] = (
    "urgent", "accept", "dispatch", "progress", "check", "overdue", "all", "desk",
)  # fmt: skip
"""The short English words shown in usage and completion, in tab order."""


def parse_queue(word: str) -> Queue:
    """The queue ``word`` names; ``ValueError`` (listing the words) when it names none."""
    queue = QUEUE_ALIASES.get(word.strip().lower())
    if queue is None:
        raise ValueError(f"no queue {word!r}; one of {'|'.join(QUEUE_WORDS)} (or 1–{len(QUEUES)})")
    return queue


_BY_STATUS: Mapping[Queue, frozenset[Status]] = {
    Queue.TO_ACCEPT: frozenset({Status.REPORTED, Status.VERIFIED}),
    Queue.TO_DISPATCH: frozenset({Status.ACCEPTED}),
    Queue.IN_PROGRESS: frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED, Status.ON_SCENE}),
    Queue.TO_CHECK: frozenset({Status.REPORTED_BACK, Status.CHECKED}),
}


def at_desk(case: Case, desk: Desk | None) -> bool:
    """Whether ``case`` is in the DESK queue of an operator at ``desk``: the cases escalated
    to it (:meth:`Desk.holds`); for an operator at no desk, every open escalated case."""
    if desk is None:
        return case.is_open and case.level is not Level.COMMUNITY
    return desk.holds(case)


def _timeless(status: Status, urgency: Urgency) -> frozenset[Queue]:
    out = {Queue.ALL}
    if status not in TERMINAL_STATUSES and urgency is Urgency.URGENT:
        out.add(Queue.URGENT)
    for queue, statuses in _BY_STATUS.items():
        if status in statuses:
            out.add(queue)
    return frozenset(out)


_TIMELESS: Mapping[tuple[Status, Urgency], frozenset[Queue]] = {
    (status, urgency): _timeless(status, urgency) for status in Status for urgency in Urgency
}
"""Every (status, urgency)'s queues but the desk's, worked out once: a hall model places every
case of every batch, and this lookup is most of what placing costs."""
_AT_DESK = frozenset({Queue.DESK})


def timeless_queues(case: Case, desk: Desk | None = None) -> frozenset[Queue]:
    """The queues ``case`` is in whatever the time (every queue but OVERDUE), for an operator
    at ``desk``."""
    queues = _TIMELESS[case.status, case.urgency]
    return queues | _AT_DESK if at_desk(case, desk) else queues


def in_queue(case: Case, queue: Queue, now: datetime, desk: Desk | None = None) -> bool:
    """Whether ``case`` is in ``queue`` at hub time ``now`` (for an operator at ``desk``)."""
    if queue is Queue.OVERDUE:
        return is_overdue(case, now)
    return queue in timeless_queues(case, desk)


class Sort(StrEnum):
    """The orders a queue can be listed in; ties are broken by case id."""

    DEADLINE = "deadline"  # nearest shown deadline first (no deadline last)
    NEWEST = "newest"  # most recently reported first
    ID = "id"


SORT_TITLES: Mapping[Sort, str] = {
    Sort.DEADLINE: "deadline",
    Sort.NEWEST: "newest",
    Sort.ID: "case id",
}
"""Each sort's name for people (gettext msgid)."""

Entry = tuple[float, str]
"""A case's place in a sorted queue: its sort value, then its id (so entries are unique)."""


_E = TypeVar("_E", bound=tuple[float, str])


def splice(order: list[_E], gone: Sequence[_E], added: Sequence[_E]) -> list[_E]:
    """Sorted ``order`` without ``gone`` and with ``added``, still sorted, as a new list. Each
    is placed by bisection and the rest copied in slices (a memory copy, not comparisons), so k
    changes to a list of n cost O(k log n) comparisons however long the list is — how every
    client keeps a queue listing current without sorting it again."""
    cut: set[int] = set()
    for item in gone:
        index = bisect_left(order, item)
        if index < len(order) and order[index] == item:
            cut.add(index)
    kept: list[_E] = []
    start = 0
    for index in sorted(cut):
        kept += order[start:index]
        start = index + 1
    kept += order[start:]
    if not added:
        return kept
    out: list[_E] = []
    lo = 0
    for item in sorted(added):
        index = bisect_left(kept, item, lo)
        out += kept[lo:index]
        out.append(item)
        lo = index
    out += kept[lo:]
    return out


def entry(case: Case, sort: Sort) -> Entry:
    """Where ``case`` sorts under ``sort``. Timeless: a case's entry changes only with the case."""
    if sort is Sort.DEADLINE:
        deadline = shown_deadline(case)
        return (deadline.due.timestamp() if deadline is not None else float("inf"), case.id)
    if sort is Sort.NEWEST:
        return (-case.reported_at.timestamp(), case.id)
    return (0.0, case.id)


@dataclass(frozen=True)
class QuickFilter:
    """The board's quick filters; ``None`` means any. Persisted per operator."""

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

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.level, self.unit, self.source, self.grid))

    def with_value(self, kind: str, value: str | None) -> QuickFilter:
        """This filter with ``kind`` ("level", "unit", "source" or "grid") set to ``value``
        (``None``: any); ``ValueError`` for an unknown kind or value."""
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
"""The quick filters' kinds, in pick order, with their titles (gettext msgids)."""
