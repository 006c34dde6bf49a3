"""The supervision figures (督查考核) the hall is judged by, counted from cases.

The standard definitions (docs/FIGURES.md gives each formula with its source):

- 结案率 closure rate = closed / accepted (立案数), as the seeds' reports count it;
- 按期结案率 on-time closure rate = closed on time / due to be closed (应结案数): the closed
  cases plus the accepted ones still open past a deadline — so overdue cases lower it, where
  closed-on-time / closed would not see them;
- 返工率 rework rate = closed cases reworked at least once / closed;
- 退单率 return rate = cases returned by a unit at least once / cases dispatched;
- 主动发现率 found-first share = patrol- and video-found / all reported;
- 回访满意率 satisfaction = callbacks satisfied / callbacks made;
- a grid worker's 事件有效率 validity = their reports accepted (立案) / their reports
  (:func:`by_finder`, from the case's ``found_by``);
- a unit's 按时报到率 report-in on-time rate = summonses it answered in time / summonses whose
  roll call is settled (in time, late or never) (:func:`report_in_by_unit`, 吹哨报到).

Each rate is None when its denominator is zero: "no cases" is not "0 %".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.models import PROACTIVE_SOURCES, SATISFIED, Case, Status
from dispatch.sla import is_overdue
from dispatch.whistle import Attendance, roll_call


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
    dispatched: int = 0  # sent to a unit at least once (dispatched_at set)
    due_to_close: int = 0  # 应结案: closed, or accepted and open past a deadline
    called_back: int = 0  # 回访 made (callback recorded; a case it reopened counts too)
    satisfied: int = 0  # callbacks answered satisfied

    @property
    def closure_rate(self) -> float | None:
        return _ratio(self.closed, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.closed_on_time, self.due_to_close)

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self.reworked, self.closed)

    @property
    def return_rate(self) -> float | None:
        return _ratio(self.returned, self.dispatched)

    @property
    def proactive_share(self) -> float | None:
        return _ratio(self.proactive, self.reported)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.called_back)

    @property
    def validity_rate(self) -> float | None:
        """Reports that became cases (立案) / reports: a grid worker's 事件有效率."""
        return _ratio(self.accepted, self.reported)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class _Tally:
    """Mutable counters behind one :class:`Figures`; counting is one pass over the cases."""

    __slots__ = (
        "accepted",
        "called_back",
        "closed",
        "closed_on_time",
        "dispatched",
        "due_to_close",
        "overdue",
        "proactive",
        "reported",
        "returned",
        "reworked",
        "satisfied",
    )

    def __init__(self) -> None:
        self.accepted = self.closed = self.closed_on_time = self.reworked = 0
        self.returned = self.overdue = self.proactive = self.reported = 0
        self.dispatched = self.due_to_close = self.called_back = self.satisfied = 0

    def add(self, case: Case, now: datetime) -> None:
        self.reported += 1
        if case.source in PROACTIVE_SOURCES:
            self.proactive += 1
        if case.accepted_at is not None:
            self.accepted += 1
        if case.dispatched_at is not None:
            self.dispatched += 1
            if case.returns > 0:
                self.returned += 1
        if case.status is Status.CLOSED:
            self.closed += 1
            self.due_to_close += 1
            if case.on_time:
                self.closed_on_time += 1
            if case.reworks > 0:
                self.reworked += 1
        elif is_overdue(case, now):
            self.overdue += 1
            if case.accepted_at is not None and case.is_open:
                self.due_to_close += 1
        # Counted whatever the status: an unsatisfied callback that reopened the case as
        # rework must still weigh on 回访满意率.
        if case.callback is not None:
            self.called_back += 1
            if case.callback == SATISFIED:
                self.satisfied += 1

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
            dispatched=self.dispatched,
            due_to_close=self.due_to_close,
            called_back=self.called_back,
            satisfied=self.satisfied,
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
    """Figures per owning person (staff id): how they handled what they held; cases with no
    owner are not counted."""
    return _grouped(cases, now, lambda c: c.owner_staff)


def by_finder(cases: Iterable[Case], now: datetime) -> dict[str, Figures]:
    """Figures per grid worker who found the cases on patrol (``found_by``): ``reported`` is
    their report count, ``validity_rate`` their 事件有效率; cases nobody found are not
    counted."""
    return _grouped(cases, now, lambda c: c.found_by)


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


# --- 吹哨报到: who reports in on time ---------------------------------------------------


@dataclass(frozen=True)
class UnitAttendance:
    """A unit's report-in record over whistles whose deadline has passed or it answered."""

    summoned: int = 0
    in_time: int = 0
    late: int = 0
    absent: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """按时报到率: in time / summoned (None when never summoned)."""
        counted = self.in_time + self.late + self.absent
        return self.in_time / counted if counted else None


def report_in_by_unit(cases: Iterable[Case], now: datetime) -> dict[str, UnitAttendance]:
    """Each summoned unit's roll-call figures across ``cases``, at ``now`` (a unit still
    waiting counts as summoned but in no outcome yet)."""
    tally: dict[str, list[int]] = {}
    index = {Attendance.IN_TIME: 1, Attendance.LATE: 2, Attendance.ABSENT: 3}
    for case in cases:
        for whistle in case.whistles:
            for line in roll_call(whistle, now):
                row = tally.setdefault(line.unit, [0, 0, 0, 0])
                row[0] += 1
                if line.attendance in index:
                    row[index[line.attendance]] += 1
    return {
        unit: UnitAttendance(summoned=r[0], in_time=r[1], late=r[2], absent=r[3])
        for unit, r in sorted(tally.items())
    }
