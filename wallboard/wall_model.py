"""What the wall shows, as plain data: the hall model turned into each panel's figures.

Pure (no Qt, no I/O): the window feeds it the client's snapshots and batches and reads one
:class:`WallData` per frame. It keeps every count by delta — each case's contribution (its
hour of intake and of closure, its level and status while open, its unit while overdue, this
month's figures) is remembered, so a batch subtracts a changed case's old contribution and adds
its new one. A frame then costs what the panels show (24 hours, a few levels, the roster's dots),
never the hall's 100,000 cases. The rules come from ``dispatch``: overdue and the traffic light
from :mod:`dispatch.sla`, the figures from :func:`dispatch.metrics.figures`, never copied here.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend_client.hall_model import HallDelta, HallModel
from dispatch.calendar import WorkingCalendar
from dispatch.metrics import Figures, figures
from dispatch.models import (
    LEVELS,
    Area,
    AreaKind,
    Case,
    Duty,
    Level,
    Point,
    Staff,
    Status,
    Unit,
    Urgency,
)
from dispatch.queues import Queue
from dispatch.sla import Light, light, shown_deadline

OPEN_STATUSES: tuple[Status, ...] = (
    Status.REPORTED,
    Status.VERIFIED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.ACKNOWLEDGED,
    Status.ON_SCENE,
    Status.REPORTED_BACK,
    Status.CHECKED,
    Status.PARKED,
)
"""The statuses of an open case, in workflow order (the backlog-by-status bars)."""

_FIGURE_FIELDS = tuple(f.name for f in dataclasses.fields(Figures))

Track = tuple[str, Sequence[Point]]
"""A person's track of the day: staff id, positions oldest first (the map fades the old end)."""


@dataclass(frozen=True)
class UrgentRow:
    """One urgent case on the countdown: its light carries the seconds left (negative: over)."""

    case_id: str
    title: str
    place: str
    light: Light


@dataclass(frozen=True)
class GridShade:
    """A responsibility grid on the map: its outline and what is open in it."""

    code: str
    name: str
    outline: tuple[Point, ...]
    centre: Point | None
    open_cases: int
    urgent_cases: int


@dataclass(frozen=True)
class Dot:
    """A person at their last known position."""

    staff_id: str
    name: str
    position: Point
    on_duty: bool


@dataclass(frozen=True)
class WallData:
    now: datetime
    street: str
    intake_today: tuple[int, ...]
    closed_today: tuple[int, ...]
    intake_last_week: tuple[int, ...]
    closed_last_week: tuple[int, ...]
    hour_now: int
    """The local hour now: today's bars after it are still to come."""
    by_level: dict[Level, int]
    by_status: dict[Status, int]
    month: Figures
    overdue_units: list[tuple[str, int]]
    urgent: list[UrgentRow]
    grids: list[GridShade]
    staff: list[Dot]
    urgent_points: list[Point]
    tracks: list[Track] = field(default_factory=list)
    """The day's patrol tracks: empty until the hub reports positions (the map draws them)."""


@dataclass(frozen=True)
class _Share:
    """What one case adds to the wall's counts."""

    reported_hour: datetime | None
    closed_hour: datetime | None
    level: Level | None  # while open
    status: Status | None  # while open
    grid: str | None  # its responsibility grid, while open
    urgent_open: bool
    overdue_unit: str | None  # its owner unit, while overdue
    month: tuple[int, ...] | None  # its figures, when reported this month


class WallModel:
    """The hall model plus the wall's own counts, both by delta."""

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        calendar: WorkingCalendar,
        amber_at: float = 0.8,
        top_units: int = 8,
        urgent_rows: int = 4,
    ) -> None:
        self.hall = HallModel()
        self._tz = tz
        self._calendar = calendar
        self._amber_at = amber_at
        self._top_units = top_units
        self._urgent_rows = urgent_rows
        self._shares: dict[str, _Share] = {}
        self._intake: Counter[datetime] = Counter()
        self._closed: Counter[datetime] = Counter()
        self._level: Counter[Level] = Counter()
        self._status: Counter[Status] = Counter()
        self._grid_open: Counter[str] = Counter()
        self._grid_urgent: Counter[str] = Counter()
        self._overdue_unit: Counter[str] = Counter()
        self._month_total = [0] * len(_FIGURE_FIELDS)
        self._month_start: datetime | None = None
        self._grid_of: dict[str, str] = {}  # area code → its responsibility grid's code
        self.tracks: list[Track] = []
        """Hook for the day's patrol tracks (filled once the hub stores them); drawn as is."""

    # --- feeding -------------------------------------------------------------------------

    def replace(
        self,
        cases: Iterable[Case],
        staff: Iterable[Staff],
        units: Iterable[Unit],
        areas: Iterable[Area],
        now: datetime,
    ) -> None:
        """A whole snapshot: everything counted afresh."""
        self.hall.replace(cases, staff, units, areas, now)
        self._grid_of = _grids_of(self.hall.areas)
        self._recount(now)

    def apply(
        self, cases: Iterable[Case], staff: Iterable[Staff], now: datetime, removed: Iterable[str]
    ) -> HallDelta:
        """A batch of new values; only the cases in it are recounted."""
        removed = tuple(removed)
        delta = self.hall.apply(cases, staff, now, removed)
        if self._new_month(now):
            self._recount(now)
            return delta
        for key in removed:
            self._move(key, None)
        for key in delta.cases:
            self._move(key, self.hall.cases.get(key))
        return delta

    def advance(self, now: datetime) -> HallDelta:
        """Time passed: cases that fell overdue are recounted; a new month counts afresh."""
        delta = self.hall.advance(now)
        if delta.replaced or self._new_month(now):
            self._recount(now)
            return delta
        for _, key in delta.queue(Queue.OVERDUE).added:
            self._move(key, self.hall.cases.get(key))
        return delta

    # --- reading -------------------------------------------------------------------------

    def data(self) -> WallData:
        """One frame's worth: what every panel shows now."""
        now = self.hall.now
        assert now is not None, "the wall shows a hall only after its first snapshot"
        local = now.astimezone(self._tz)
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week_ago = today - timedelta(days=7)
        units = self.hall.units
        return WallData(
            now=now,
            street=_street_name(self.hall.areas.values()),
            intake_today=_day(self._intake, today),
            closed_today=_day(self._closed, today),
            intake_last_week=_day(self._intake, week_ago),
            closed_last_week=_day(self._closed, week_ago),
            hour_now=local.hour,
            by_level={lv: self._level[lv] for lv in LEVELS},
            by_status={st: self._status[st] for st in OPEN_STATUSES},
            month=Figures(**dict(zip(_FIGURE_FIELDS, self._month_total, strict=True))),
            overdue_units=[
                (units[u].name if u in units else u, n)
                for u, n in self._overdue_unit.most_common(self._top_units)
            ],
            urgent=self._urgent(now),
            grids=self._grids(),
            staff=[
                Dot(s.id, s.name, s.position, s.duty is not Duty.OFF)
                for s in self.hall.staff.values()
                if s.position is not None
            ],
            urgent_points=self._urgent_points(),
            tracks=list(self.tracks),
        )

    # --- counting ------------------------------------------------------------------------

    def _recount(self, now: datetime) -> None:
        self._month_start = self._month_of(now)
        self._shares.clear()
        for counter in (
            self._intake,
            self._closed,
            self._level,
            self._status,
            self._grid_open,
            self._grid_urgent,
            self._overdue_unit,
        ):
            counter.clear()
        self._month_total = [0] * len(_FIGURE_FIELDS)
        for key, case in self.hall.cases.items():
            self._move(key, case)

    def _move(self, key: str, case: Case | None) -> None:
        """Take the case's old share out of the counts and put its new one in."""
        old = self._shares.pop(key, None)
        if old is not None:
            self._count(old, -1)
        if case is not None:
            new = self._share(case)
            self._shares[key] = new
            self._count(new, 1)

    def _share(self, case: Case) -> _Share:
        now = self.hall.now
        assert now is not None
        is_open = case.is_open
        month = None
        if self._month_start is not None and case.reported_at >= self._month_start:
            one = figures((case,), now)
            month = tuple(getattr(one, name) for name in _FIGURE_FIELDS)
        return _Share(
            reported_hour=self._hour(case.reported_at),
            closed_hour=self._hour(case.closed_at) if case.closed_at is not None else None,
            level=case.level if is_open else None,
            status=case.status if is_open else None,
            grid=self._grid_of.get(case.grid or "") if is_open else None,
            urgent_open=is_open and case.urgency is Urgency.URGENT,
            overdue_unit=(case.owner_unit or "") if case.id in self.hall.overdue else None,
            month=month,
        )

    def _count(self, share: _Share, sign: int) -> None:
        if share.reported_hour is not None:
            self._intake[share.reported_hour] += sign
        if share.closed_hour is not None:
            self._closed[share.closed_hour] += sign
        if share.level is not None:
            self._level[share.level] += sign
        if share.status is not None:
            self._status[share.status] += sign
        if share.grid is not None:
            self._grid_open[share.grid] += sign
            if share.urgent_open:
                self._grid_urgent[share.grid] += sign
        if share.overdue_unit is not None:
            self._overdue_unit[share.overdue_unit] += sign
            if self._overdue_unit[share.overdue_unit] <= 0:
                del self._overdue_unit[share.overdue_unit]
        if share.month is not None:
            total = self._month_total
            for i, value in enumerate(share.month):
                total[i] += sign * value

    def _hour(self, at: datetime) -> datetime:
        return at.astimezone(self._tz).replace(minute=0, second=0, microsecond=0)

    def _month_of(self, now: datetime) -> datetime:
        local = now.astimezone(self._tz)
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def _new_month(self, now: datetime) -> bool:
        return self._month_start is not None and self._month_of(now) != self._month_start

    # --- panels --------------------------------------------------------------------------

    def _urgent(self, now: datetime) -> list[UrgentRow]:
        rows = []
        areas = self.hall.areas
        for case in self.hall.strip(self._urgent_rows):
            deadline = shown_deadline(case)
            if deadline is None:
                continue
            area = areas.get(case.grid or "")
            place = case.address or (area.name if area is not None else "")
            lit = light(deadline, now, self._calendar, self._amber_at)
            rows.append(UrgentRow(case.id, case.title, place, lit))
        return rows

    def _grids(self) -> list[GridShade]:
        return [
            GridShade(
                code=a.code,
                name=a.name,
                outline=a.outline,
                centre=a.centre,
                open_cases=self._grid_open[a.code],
                urgent_cases=self._grid_urgent[a.code],
            )
            for a in self.hall.areas.values()
            if a.kind is AreaKind.GRID
        ]

    def _urgent_points(self) -> list[Point]:
        points = []
        areas = self.hall.areas
        for case in self.hall.strip(200):
            where = case.position
            if where is None:
                area = areas.get(self._grid_of.get(case.grid or "", ""))
                where = area.centre if area is not None else None
            if where is not None:
                points.append(where)
        return points


def _grids_of(areas: dict[str, Area]) -> dict[str, str]:
    """Each area's responsibility grid (itself for a grid, its parent grid for a cell)."""
    out = {}
    for code, area in areas.items():
        node: Area | None = area
        while node is not None and node.kind is not AreaKind.GRID:
            node = areas.get(node.parent or "")
        if node is not None:
            out[code] = node.code
    return out


def _street_name(areas: Iterable[Area]) -> str:
    return next((a.name for a in areas if a.kind is AreaKind.STREET), "")


def _day(counts: Counter[datetime], start: datetime) -> tuple[int, ...]:
    """The 24 hourly counts of the local day starting at ``start`` (DST-free zones: 24 hours)."""
    return tuple(counts.get(start + timedelta(hours=h), 0) for h in range(24))
