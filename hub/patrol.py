"""The hub's patrol tracks: take grid workers' position reports, thin them, count the day's
patrol as they come, store them in groups, publish the moved positions at most once a second,
and answer ``tracks`` requests.

Positions are not events: a thousand terminals reporting every 30 s would be 33 log events a
second, each fanned out to every console. Instead a report is thinned against the person's
last stored point (dispatch.tracks.keeps), counted into the person's patrol of that day
(dispatch.tracks.PatrolTally: minutes, minutes inside their own grid outlines), queued, and
written with whatever else arrived in the same flush — the points and the moved day rows in
one transaction — then acknowledged. A ``tracks`` request reads one row per worker and day,
never the points (a thousand workers' day is a million of them). The positions that moved are
merged per person and handed to the server once a second as one small ``positions`` frame for
the hall's and the wall's views only. A worker's count is read back from the database on their
first report after a restart. Points older than ``track_retention_days`` are pruned, the day
rows after :data:`DAYS_KEPT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.hall import Hall
from dispatch.models import Point
from dispatch.tracks import (
    PatrolDay,
    PatrolTally,
    TrackPoint,
    day_bounds,
    inside_any,
    keeps,
    local_day,
)
from hub.clock import Clock
from hub.store import Store
from hub.tracks_store import PatrolState

log = logging.getLogger(__name__)

PUBLISH_SECONDS = 1.0
"""Moved positions are published at most this often (one ``positions`` frame)."""
GROUP_SECONDS = 0.05
"""A flush waits this long for more reports to join its transaction."""
FUTURE_SLACK = timedelta(minutes=2)
"""A point dated further than this after the hub's clock is dropped (a terminal's bad clock
would otherwise block every later, true point by thinning)."""
PRUNE_EVERY = timedelta(hours=1)
"""How often (hub time) the retention prune runs."""
DAYS_KEPT = 400
"""Days the per-worker day rows are kept (a year's reports; a row per worker and day is
small, unlike the points)."""

Publish = Callable[[datetime, dict[str, Point]], None]


class PatrolKeeper:
    def __init__(self, store: Store, hall: Callable[[], Hall], clock: Callable[[], Clock]) -> None:
        self._store = store
        self._hall = hall
        self._clock = clock
        self._days: dict[str, PatrolState] = {}
        """Each worker's current day as counted so far (their last point in it)."""
        self._pending: list[tuple[str, TrackPoint]] = []
        self._dirty: dict[tuple[str, date], PatrolState] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._moved: dict[str, Point] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published = 0.0
        self._pruned: datetime | None = None
        self.publish: Publish | None = None
        """Called with the hub time and the positions moved since the last call."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hub-patrol")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ConnectionError("the hub is closing"))
                waiter.exception()

    async def report(self, staff: str, points: Sequence[TrackPoint]) -> int:
        """Thin, count and queue a report; returns, after the commit, how many points were
        kept."""
        if staff not in self._days:
            state = await self._store.latest_patrol(staff)
            if state is not None and staff not in self._days:  # (another report came first)
                self._days[staff] = state
        hall = self._hall()
        settings = hall.settings.assessment
        tz = ZoneInfo(hall.settings.clock.timezone)
        max_gap = timedelta(minutes=settings.track_max_gap_minutes)
        outlines = _outlines(hall, staff)
        latest = self._clock().now() + FUTURE_SLACK
        kept = 0
        for point in sorted(points, key=lambda p: p.at):
            current = self._days.get(staff)
            last = current.tally.last if current is not None else None
            if point.at > latest or not keeps(last, point, settings):
                continue
            day = local_day(point.at, tz)
            if current is None or current.day != day:
                current = PatrolState(staff=staff, day=day, tally=PatrolTally())
                self._days[staff] = current
            current.tally.add(point, inside_any(point, outlines), max_gap)
            self._dirty[(staff, day)] = current
            self._pending.append((staff, point))
            kept += 1
        if not kept:
            return 0
        moved = self._days[staff].tally.last
        assert moved is not None
        self._moved[staff] = moved.point
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        await waiter
        return kept

    def last_positions(self) -> dict[str, Point]:
        """Everyone's last stored position this hub has seen."""
        return {s: d.tally.last.point for s, d in self._days.items() if d.tally.last is not None}

    async def patrols(
        self, day: date, staff: Sequence[str], with_points: bool
    ) -> tuple[list[PatrolDay], dict[str, list[TrackPoint]]]:
        """Each person's patrol of ``day`` (hall calendar), one stored row per person — the
        ones counted since the last flush from memory; a person asked for with no point that
        day shows with zeros (and flagged short)."""
        hall = self._hall()
        minimum = hall.settings.assessment.patrol_minimum_minutes
        counted = {d.staff: d for d in await self._store.patrol_days(day, staff)}
        for person, state in self._days.items():
            if state.day == day and (not staff or person in staff):
                counted[person] = state  # newer than the row, or not written yet
        days = [
            (counted[p].tally if p in counted else PatrolTally()).day(p, day, minimum)
            for p in sorted({*staff, *counted})
        ]
        points: dict[str, list[TrackPoint]] = {}
        if with_points:
            since, until = day_bounds(day, ZoneInfo(hall.settings.clock.timezone))
            points = await self._store.track_points(since, until, staff)
        return days, points

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), PUBLISH_SECONDS)
            self._wake.clear()
            await asyncio.sleep(GROUP_SECONDS)
            await self._flush()
            self._publish()
            await self._prune()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        dirty, self._dirty = list(self._dirty.values()), {}
        waiters, self._waiters = self._waiters, []
        if not batch:
            return
        # The day rows as counted now: a copy, so a report counted while the write runs on
        # the writer's thread is not half in it.
        days = [PatrolState(d.staff, d.day, _copy(d.tally)) for d in dirty]
        try:
            await self._store.save_patrol(batch, days)
        except Exception as exc:
            log.exception("storing %d track points failed", len(batch))
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _publish(self) -> None:
        now = time.monotonic()
        if not self._moved or now - self._published < PUBLISH_SECONDS:
            return
        moved, self._moved = self._moved, {}
        self._published = now
        if self.publish is not None:
            self.publish(self._clock().now(), moved)

    async def _prune(self) -> None:
        now = self._clock().now()
        if self._pruned is not None and now - self._pruned < PRUNE_EVERY:
            return
        self._pruned = now
        days = self._hall().settings.assessment.track_retention_days
        try:
            gone = await self._store.prune_patrol(
                now - timedelta(days=days), (now - timedelta(days=DAYS_KEPT)).date()
            )
        except Exception:
            log.exception("pruning track points failed")
        else:
            if gone:
                log.info("pruned %d track points older than %d days", gone, days)


def _outlines(hall: Hall, staff: str) -> list[tuple[Point, ...]]:
    """The outlines of the person's own grids (none drawn: nothing is inside)."""
    person = hall.staff.get(staff)
    grids = person.grids if person is not None else ()
    return [hall.areas[g].outline for g in grids if g in hall.areas]


def _copy(tally: PatrolTally) -> PatrolTally:
    return PatrolTally(points=tally.points, patrol=tally.patrol, within=tally.within,
                       last=tally.last, last_inside=tally.last_inside)  # fmt: skip
