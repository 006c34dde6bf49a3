"""The hub's patrol tracks: take grid workers' position reports, thin them, store them in
groups, publish the moved positions at most once a second, and answer ``tracks`` requests.

Positions are not events: a thousand terminals reporting every 30 s would be 33 log events a
second, each fanned out to every console. Instead a report is thinned against the person's
last stored point (dispatch.tracks.keeps), queued, written with whatever else arrived in the
same flush (one transaction), and acknowledged after the commit; the positions that moved are
merged per person and handed to the server once a second as one small ``positions`` frame for
the hall's and the wall's views only. Points older than ``track_retention_days`` are pruned.
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
from dispatch.tracks import PatrolDay, TrackPoint, day_bounds, keeps, patrol_day
from hub.clock import Clock
from hub.store import Store

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

Publish = Callable[[datetime, dict[str, Point]], None]


class PatrolKeeper:
    def __init__(self, store: Store, hall: Callable[[], Hall], clock: Callable[[], Clock]) -> None:
        self._store = store
        self._hall = hall
        self._clock = clock
        self._last: dict[str, TrackPoint] = {}
        self._pending: list[tuple[str, TrackPoint]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._moved: dict[str, Point] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published = 0.0
        self._pruned: datetime | None = None
        self.publish: Publish | None = None
        """Called with the hub time and the positions moved since the last call."""

    async def start(self) -> None:
        """Read each person's last stored point of the past day (the thinning's memory)."""
        since = self._clock().now() - timedelta(days=1)
        self._last = await self._store.last_track_points(since)
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
        """Thin and queue a report; returns, after the commit, how many points were kept."""
        latest = self._clock().now() + FUTURE_SLACK
        kept = 0
        settings = self._hall().settings.assessment
        for point in sorted(points, key=lambda p: p.at):
            if point.at > latest or not keeps(self._last.get(staff), point, settings):
                continue
            self._last[staff] = point
            self._pending.append((staff, point))
            kept += 1
        if not kept:
            return 0
        self._moved[staff] = self._last[staff].point
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        await waiter
        return kept

    def last_positions(self) -> dict[str, Point]:
        """Everyone's last stored position (for a client's first ``positions`` frame)."""
        return {staff: p.point for staff, p in self._last.items()}

    async def patrols(
        self, day: date, staff: Sequence[str], with_points: bool
    ) -> tuple[list[PatrolDay], dict[str, list[TrackPoint]]]:
        """Each person's patrol of ``day`` (hall calendar) against their own grids' outlines;
        a person asked for with no point that day shows with zero minutes (flagged short)."""
        hall = self._hall()
        tz = ZoneInfo(hall.settings.clock.timezone)
        since, until = day_bounds(day, tz)
        tracks = await self._store.track_points(since, until, staff)
        days = []
        for person in sorted({*staff, *tracks}):
            grids = hall.staff[person].grids if person in hall.staff else ()
            outlines = [hall.areas[g].outline for g in grids if g in hall.areas]
            days.append(
                patrol_day(person, day, tracks.get(person, []), outlines, hall.settings.assessment)
            )
        return days, (tracks if with_points else {})

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
        waiters, self._waiters = self._waiters, []
        if not batch:
            return
        try:
            await self._store.add_track_points(batch)
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
            gone = await self._store.prune_track_points(now - timedelta(days=days))
        except Exception:
            log.exception("pruning track points failed")
        else:
            if gone:
                log.info("pruned %d track points older than %d days", gone, days)
