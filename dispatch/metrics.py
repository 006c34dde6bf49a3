"""The supervision figures (督查考核) the hall is judged by, counted from cases.

The standard definitions (DESIGN.md §1): closure rate = closed / accepted (结案率), on-time
closure rate = closed on time / closed (按期结案率), rework rate = closed cases reworked at
least once / closed, return rate = accepted cases returned at least once / accepted,
proactive share = patrol- and video-found / all reported (主动发现率). Each rate is None when
its denominator is zero: "no cases" is not "0 %".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.models import PROACTIVE_SOURCES, Case, Status
from dispatch.sla import is_overdue


@dataclass(frozen=True)
class Figures:
    accepted: int = 0  # reached 立案 (accepted_at set), whatever happened after
    closed: int = 0  # 结案
    closed_on_time: int = 0  # closed with every deadline met
    reworked: int = 0  # closed cases sent back for rework at least once
    returned: int = 0  # accepted cases returned by a unit at least once
    overdue: int = 0  # open cases past a deadline (dispatch.sla.is_overdue, as on the board)
    proactive: int = 0  # reported by patrol or video
    reported: int = 0  # every case counted, from any source

    @property
    def closure_rate(self) -> float | None:
        return _ratio(self.closed, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.closed)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.reworked, self.closed)

    @property
    def return_rate(self) -> float | None:
        return _ratio(self.returned, self.accepted)

    @property
    def proactive_share(self) -> float | None:
        return _ratio(self.proactive, self.reported)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class _Tally:
    """Mutable counters behind one :class:`Figures`; counting is one pass over the cases."""

    __slots__ = (
        "accepted",
        "closed",
        "closed_on_time",
        "overdue",
        "proactive",
        "reported",
        "returned",
        "reworked",
    )

    def __init__(self) -> None:
        self.accepted = self.closed = self.closed_on_time = self.reworked = 0
        self.returned = self.overdue = self.proactive = self.reported = 0

    def add(self, case: Case, now: datetime) -> None:
        self.reported += 1
        if case.source in PROACTIVE_SOURCES:
            self.proactive += 1
        if case.accepted_at is not None:
            self.accepted += 1
            if case.returns > 0:
                self.returned += 1
        if case.status is Status.CLOSED:
            self.closed += 1
            if case.on_time:
                self.closed_on_time += 1
            if case.reworks > 0:
                self.reworked += 1
        elif is_overdue(case, now):
            self.overdue += 1

    def figures(self) -> Figures:
        return Figures(
            accepted=self.accepted,
            closed=self.closed,
            closed_on_time=self.closed_on_time,
            reworked=self.reworked,
            returned=self.returned,
            overdue=self.overdue,
            proactive=self.proactive,
            reported=self.reported,
        )


def figures(cases: Iterable[Case], now: datetime) -> Figures:
    """The figures over all ``cases``; ``now`` decides what is overdue."""
    tally = _Tally()
    for case in cases:
        tally.add(case, now)
    return tally.figures()


def _grouped(
    cases: Iterable[Case], now: datetime, key: Callable[[Case], str | None]
) -> dict[str, Figures]:
    tallies: defaultdict[str, _Tally] = defaultdict(_Tally)
    for case in cases:
        k = key(case)
        if k is not None:
            tallies[k].add(case, now)
    return {k: t.figures() for k, t in sorted(tallies.items())}


def by_unit(cases: Iterable[Case], now: datetime) -> dict[str, Figures]:
    """Figures per owning unit id; cases never dispatched are not counted."""
    return _grouped(cases, now, lambda c: c.owner_unit)


def by_grid(cases: Iterable[Case], now: datetime) -> dict[str, Figures]:
    """Figures per grid code; cases with no grid are not counted."""
    return _grouped(cases, now, lambda c: c.grid)


def by_worker(cases: Iterable[Case], now: datetime) -> dict[str, Figures]:
    """Figures per owning person (staff id); cases with no owner are not counted."""
    return _grouped(cases, now, lambda c: c.owner_staff)


def by_period(
    cases: Iterable[Case],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta | None = None,
) -> dict[str, Figures]:
    """Figures of the cases reported in [start, end), keyed by ISO start of each period.

    With no ``step`` there is one period, [start, end). With a step (an hour for the
    wallboard's intake-vs-closure chart) every period appears, empty ones as zeros, so a
    chart has no holes; the last one is cut at ``end``.
    """
    if end <= start:
        return {}
    if step is None:
        step = end - start
    if step <= timedelta(0):
        raise ValueError("by_period needs a positive step")
    periods = -((start - end) // step)  # ceiling: a last, shorter period up to ``end``
    tallies = [_Tally() for _ in range(periods)]
    for case in cases:
        if start <= case.reported_at < end:
            tallies[(case.reported_at - start) // step].add(case, now)
    return {(start + i * step).isoformat(): t.figures() for i, t in enumerate(tallies)}
