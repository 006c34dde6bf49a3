"""Patrol tracks: thinning, minutes inside a grid polygon, the short-patrol flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dispatch.config import AssessmentSettings
from dispatch.models import Point
from dispatch.tracks import TrackPoint, inside, keeps, patrol_day, thin

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
SETTINGS = AssessmentSettings(track_min_metres=10.0, track_min_seconds=30,
                              track_max_gap_minutes=10, patrol_minimum_minutes=60)  # fmt: skip
# A grid about 300 m square, and a worker walking west → east across it along lat 31.2005.
GRID = (
    Point(lon=121.490, lat=31.200),
    Point(lon=121.493, lat=31.200),
    Point(lon=121.493, lat=31.203),
    Point(lon=121.490, lat=31.203),
)
DEG_PER_10M = 10 / 95_000  # a longitude degree at 31° N is ~95 km


def at(seconds: float, lon: float, lat: float = 31.2005) -> TrackPoint:
    return TrackPoint(at=T0 + timedelta(seconds=seconds), lon=lon, lat=lat)


def test_a_point_is_kept_ten_metres_or_thirty_seconds_after_the_last() -> None:
    first = at(0, 121.491)
    assert keeps(None, first, SETTINGS)
    assert not keeps(first, at(5, 121.491 + DEG_PER_10M * 0.5), SETTINGS)  # 5 m, 5 s
    assert keeps(first, at(5, 121.491 + DEG_PER_10M * 1.1), SETTINGS)  # 11 m
    assert keeps(first, at(30, 121.491), SETTINGS)  # standing still, 30 s
    assert not keeps(first, at(-1, 121.5), SETTINGS)  # older than the last: a late retry


def test_thinning_a_terminal_reporting_every_second_while_standing_still() -> None:
    pings = [at(s, 121.491) for s in range(0, 301)]  # five minutes, one a second
    kept = thin(pings, SETTINGS)
    assert [p.at - T0 for p in kept] == [timedelta(seconds=s) for s in range(0, 301, 30)]


def test_point_in_polygon() -> None:
    assert inside(Point(lon=121.4915, lat=31.2015), GRID)
    assert not inside(Point(lon=121.4945, lat=31.2015), GRID)  # east of it
    assert not inside(Point(lon=121.4915, lat=31.2035), GRID)  # north of it
    assert not inside(Point(lon=121.4915, lat=31.2015), GRID[:2])  # no area: no inside


def test_patrol_minutes_inside_the_own_grid_and_the_short_patrol_flag() -> None:
    track = [
        at(0, 121.4910),  # inside
        at(600, 121.4920),  # inside: 10 minutes inside
        at(1200, 121.4940),  # outside: 10 minutes, the border crossed: 5 inside
        at(1800, 121.4950),  # outside: 10 minutes outside
        at(1800 + 3600, 121.4915),  # an hour later: terminal off, not patrol
        at(1800 + 3600 + 300, 121.4916),  # inside: 5 minutes inside
    ]
    day = patrol_day("S1", date(2026, 3, 16), track, [GRID], SETTINGS)
    assert (day.points, day.patrol_minutes, day.inside_minutes) == (6, 35.0, 20.0)
    assert day.short  # 20 minutes inside against a minimum of 60
    elsewhere = patrol_day("S1", date(2026, 3, 16), track, [], SETTINGS)
    assert (elsewhere.patrol_minutes, elsewhere.inside_minutes) == (35.0, 0.0)
    long_day = [at(s, 121.4915) for s in range(0, 3 * 3600 + 1, 60)]
    assert not patrol_day("S1", date(2026, 3, 16), long_day, [GRID], SETTINGS).short
