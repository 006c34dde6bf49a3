"""Patrol tracks (巡查轨迹): thinning positions, minutes inside a grid, the short-patrol flag.

A grid worker's terminal reports positions every few seconds; the hub stores a point only
when it is ``track_min_metres`` from the last stored one or ``track_min_seconds`` after it
(:func:`keeps`), so a day's track stays small. From a day's stored points this module counts
the worker's **patrol minutes** (time between consecutive points no more than
``track_max_gap_minutes`` apart: a longer gap is a terminal switched off, not patrol) and the
**minutes inside their own grids** (the part of it spent inside one of the grid outlines,
point-in-polygon on WGS-84 degrees — a grid is a few hundred metres across, so the plane is
exact enough). A worker whose minutes inside their own grids fall under
``patrol_minimum_minutes`` is flagged (屯溪: 巡查有效时间短).

Pure: no clock and no I/O; the hub, the console and the report call the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo

import msgspec

from dispatch.config import AssessmentSettings
from dispatch.geo import distance_m
from dispatch.models import Latitude, Longitude, Point, Staff

GRID_WORKER = "网格员"
"""The job title (``Staff.role``) of those assessed as grid workers: each has a row in the
report, and the demo walks them around their grids."""


def grid_workers(staff: Iterable[Staff]) -> list[str]:
    """The ids of the grid workers among ``staff``, sorted."""
    return sorted(s.id for s in staff if s.role == GRID_WORKER)


class TrackPoint(msgspec.Struct, frozen=True, gc=False):
    """One stored position of a person's track."""

    at: datetime
    lon: Longitude
    lat: Latitude

    @property
    def point(self) -> Point:
        return Point(lon=self.lon, lat=self.lat)


class PatrolDay(msgspec.Struct, frozen=True, kw_only=True):
    """One worker's patrol on one day of the hall's calendar."""

    staff: str
    day: date
    points: int
    patrol_minutes: float  # tracked time, gaps over the limit left out
    inside_minutes: float  # of it, inside one of the worker's own grids
    short: bool  # inside_minutes under the configured minimum (巡查有效时间短)


def keeps(last: TrackPoint | None, new: TrackPoint, settings: AssessmentSettings) -> bool:
    """Whether ``new`` is stored after ``last``: far enough, or long enough after it. A point
    older than the last stored one is dropped (a late retry of a sent batch)."""
    if last is None:
        return True
    if new.at <= last.at:
        return False
    if new.at - last.at >= timedelta(seconds=settings.track_min_seconds):
        return True
    return distance_m(last.point, new.point) >= settings.track_min_metres


def thin(points: Iterable[TrackPoint], settings: AssessmentSettings) -> list[TrackPoint]:
    """The points :func:`keeps` stores, in the order given."""
    kept: list[TrackPoint] = []
    for p in points:
        if keeps(kept[-1] if kept else None, p, settings):
            kept.append(p)
    return kept


def inside(point: Point, outline: Sequence[Point]) -> bool:
    """Whether ``point`` lies inside the ring ``outline`` (even-odd ray casting); an outline
    of fewer than three points has no inside."""
    if len(outline) < 3:
        return False
    x, y = point.lon, point.lat
    hit = False
    j = len(outline) - 1
    for i, a in enumerate(outline):
        b = outline[j]
        if (a.lat > y) != (b.lat > y):
            cross = a.lon + (y - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            if x < cross:
                hit = not hit
        j = i
    return hit


class PatrolTally:
    """One worker's patrol of one day, counted a point at a time: :func:`patrol_day` over a
    whole track, and the hub as each point is stored (so a day's figures are never re-read
    from its points). Each stretch between two consecutive points counts whole when both ends
    are inside an own grid, half when one is (the border was crossed somewhere between), not
    at all when neither is; a stretch longer than the gap limit is not patrol at all."""

    __slots__ = ("last", "last_inside", "patrol", "points", "within")

    def __init__(
        self,
        *,
        points: int = 0,
        patrol: float = 0.0,
        within: float = 0.0,
        last: TrackPoint | None = None,
        last_inside: bool = False,
    ) -> None:
        self.points = points
        self.patrol = patrol  # minutes
        self.within = within  # minutes inside an own grid
        self.last = last
        self.last_inside = last_inside

    def add(self, point: TrackPoint, now_inside: bool, max_gap: timedelta) -> None:
        """Count ``point`` (later than the last one added) and the stretch that led to it."""
        last = self.last
        if last is not None:
            gap = point.at - last.at
            if timedelta(0) < gap <= max_gap:
                minutes = gap.total_seconds() / 60
                self.patrol += minutes
                self.within += minutes * ((self.last_inside + now_inside) / 2)
        self.points += 1
        self.last, self.last_inside = point, now_inside

    def day(self, staff: str, day: date, minimum_minutes: int) -> PatrolDay:
        return PatrolDay(
            staff=staff,
            day=day,
            points=self.points,
            patrol_minutes=round(self.patrol, 1),
            inside_minutes=round(self.within, 1),
            short=self.within < minimum_minutes,
        )


def inside_any(point: TrackPoint, outlines: Sequence[Sequence[Point]]) -> bool:
    """Whether the point is inside one of the outlines."""
    where = point.point
    return any(inside(where, o) for o in outlines)


def patrol_day(
    staff: str,
    day: date,
    points: Sequence[TrackPoint],
    outlines: Sequence[Sequence[Point]],
    settings: AssessmentSettings,
) -> PatrolDay:
    """Patrol and inside-grid minutes of one worker's day (``points`` in time order), as
    :class:`PatrolTally` counts them."""
    tally = PatrolTally()
    max_gap = timedelta(minutes=settings.track_max_gap_minutes)
    for p in points:
        tally.add(p, inside_any(p, outlines), max_gap)
    return tally.day(staff, day, settings.patrol_minimum_minutes)


def local_day(at: datetime, tz: tzinfo) -> date:
    """The hall's calendar day of an instant (a patrol day runs midnight to midnight, local)."""
    return at.astimezone(tz).date()


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, start + timedelta(days=1)
