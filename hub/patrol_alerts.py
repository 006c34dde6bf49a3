"""The hub's short-patrol alerts: when a working day's day shift ends on the hub clock, each
grid worker on day duty whose patrol inside their own grids fell under the minimum gets one
``alert`` (dispatch/patrol_alert.py decides who and the shape).

The watch polls the hub clock (a virtual clock may run fast or stand still) and acts once the
next day end has passed: it reads the day's patrol rows (hub/patrol.py, those not flushed yet
from memory), reads the log from the day's end on for the alerts already written, and has the
engine write the rest — so a hub restarted after the day end catches up, and never writes a
worker's alert of a day twice. Only the engine that runs the ticker (one hub of a shared
store) writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime, timedelta

from dispatch.events import Event, EventType
from dispatch.hall import Hall
from dispatch.patrol_alert import (
    already_alerted,
    last_day_end,
    next_day_end,
    short_patrol_alerts,
)
from dispatch.rota import duty_day, next_change
from dispatch.tracks import grid_workers
from hub.engine import Engine
from hub.patrol import PatrolKeeper
from hub.store import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often (real seconds) the watch looks at the hub clock."""
ALERT_LIMIT = 100_000
"""The most alert events read back from a day end on (a hall writes a few a day)."""


class PatrolAlerts:
    def __init__(self, engine: Engine, patrol: PatrolKeeper, store: Store) -> None:
        self._engine = engine
        self._patrol = patrol
        self._store = store
        self._due: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()  # one check at a time: the poll's and a caller's

    async def start(self) -> None:
        calendar = self._engine.hall.calendar
        now = self._engine.clock.now()
        # A day end slept through (the hub was down across it) is caught up first — while
        # it is still that evening: once the next duty day has begun, it is left alone (a new
        # hub must not alert a week of days nobody reported in).
        # Only a day the hall worked through on this log (an event in the day before its
        # end, or a patrol row of it): a fresh or idle hub started of an evening alerts no one.
        ended = last_day_end(calendar, now)
        caught_up = (
            ended is not None and next_change(calendar, ended) > now and await self._worked(ended)
        )
        self._due = ended if caught_up else next_day_end(calendar, now)
        self._task = asyncio.create_task(self._run(), name="hub-patrol-alerts")

    async def _worked(self, ended: datetime) -> bool:
        first, last = await self._store.window_seqs(ended - timedelta(days=1), ended)
        if first <= last:
            return True
        day = duty_day(self._engine.hall.calendar, ended - timedelta(seconds=1))
        return bool(await self._store.patrol_days(day))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # tried again at the next poll
                log.exception("short-patrol alerts failed")
            await asyncio.sleep(POLL_SECONDS)

    async def check(self) -> int:
        """Alert for the day end due by the hub clock's now, if any; returns how many."""
        async with self._turn:
            return await self._check()

    async def _check(self) -> int:
        now = self._engine.clock.now()
        if self._due is None or self._due > now or not self._engine.ticking:
            return 0
        ended = self._due
        written = await self.alert_day(ended)
        self._due = next_day_end(self._engine.hall.calendar, now)
        return written

    async def alert_day(self, ended: datetime) -> int:
        hall = self._engine.hall
        # The instant before the end belongs to the day that ends.
        day: date = duty_day(hall.calendar, ended - timedelta(seconds=1))
        workers = grid_workers(hall.staff.values())
        patrols, _ = await self._patrol.patrols(day, workers, False)
        by_worker = {p.staff: p for p in patrols}
        first, last = await self._store.window_seqs(ended, self._engine.clock.now())
        seen = await self._store.window_events(first, last, {EventType.ALERT}, ALERT_LIMIT)
        alerted = already_alerted(seen, day)
        minimum = hall.settings.assessment.patrol_minimum_minutes
        rota = self._engine.has_rota

        decided: list[Event] = []

        def decide(now_hall: Hall) -> list[Event]:
            decided[:] = short_patrol_alerts(day, now_hall.staff.values(), by_worker, minimum,
                                             self._engine.clock.now(), rota=rota,
                                             alerted=alerted)  # fmt: skip
            return decided

        await self._engine.write_hub_events(decide)
        if decided:
            log.info("%d short-patrol alerts of %s", len(decided), day)
        return len(decided)
