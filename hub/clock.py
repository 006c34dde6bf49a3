"""The hub's clock: the only source of "now" in the hall.

Deadlines, events and the SLA ticker all read time through a :class:`Clock`, so demo mode can
run the whole hall on a :class:`VirtualClock` at N× speed and every countdown compresses too.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Hub time: aware UTC datetimes, running ``speed`` times as fast as the wall clock."""

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime: ...

    async def sleep(self, hub_seconds: float) -> None:
        """Sleep until ``hub_seconds`` of hub time have passed."""
        ...


class WallClock:
    """Real time."""

    speed: float = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(hub_seconds)


class VirtualClock:
    """Time that starts at ``start`` and runs ``speed``× the monotonic clock (demo mode)."""

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware start time")
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, not {speed}")
        self._start = start.astimezone(UTC)
        self._speed = speed
        # Monotonic, so a wall-clock jump (NTP, DST) never moves hub time backwards.
        self._origin = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(max(0.0, hub_seconds) / self._speed)


class SimClock:
    """Hub time moved by the scenario player (demo mode and scenario tests).

    The player decides what happens next — the next scripted step or the next deadline — and
    holds the clock there (:meth:`hold`) while it works, so every scripted command and every
    breach is stamped at its exact virtual instant however busy the machine is: the same
    scenario gives the same event log. Between instants (:meth:`run_until`) the clock follows
    a fixed schedule, ``speed`` hub seconds per real second from the start, but never runs
    past the instant the player works on next and never goes back: when the player falls
    behind (a burst of steps, a slow disk) the clock waits for it, then catches up with the
    schedule instead of carrying the delay on. Unpaced (``paced=False``) it only jumps, so a
    day plays as fast as the hub can commit it; :meth:`pace` turns an unpaced clock into a
    paced one where it stands (the demo plays the morning at once, then the rest at speed).
    """

    def __init__(self, start: datetime, speed: float = 1.0, *, paced: bool = True) -> None:
        self._schedule = VirtualClock(start, speed)
        """Where time would be if nothing ever held it."""
        self._paced = paced
        self._floor = start.astimezone(UTC)
        """Time never goes below this: the last instant held."""
        self._horizon: datetime | None = self._floor
        """Time never goes beyond this; None: it flows on without limit."""

    @property
    def speed(self) -> float:
        return self._schedule.speed

    @property
    def paced(self) -> bool:
        return self._paced

    def now(self) -> datetime:
        if not self._paced or self._horizon == self._floor:
            return self._floor
        flowed = self._schedule.now()
        if self._horizon is not None:
            flowed = min(flowed, self._horizon)
        return max(flowed, self._floor)

    def hold(self, at: datetime) -> None:
        """Stand at ``at`` (or now, if that is later) until :meth:`run_until` lets time flow."""
        self._floor = max(at.astimezone(UTC), self.now())
        self._horizon = self._floor

    def pace(self) -> None:
        """From here on, follow a schedule that starts now where the clock stands: ``speed``
        hub seconds per real second. The time it jumped before is not owed: no catching up.
        It holds there until :meth:`run_until` lets it flow."""
        here = self.now()
        self._schedule = VirtualClock(here, self.speed)
        self._paced = True
        self._floor = self._horizon = here

    def run_until(self, horizon: datetime | None) -> None:
        """Let time flow on its schedule from now, at most to ``horizon`` (None: no limit)."""
        self._floor = self.now()
        self._horizon = None if horizon is None else max(horizon.astimezone(UTC), self._floor)

    def real_seconds_until(self, at: datetime) -> float:
        """Wall seconds until the schedule reaches ``at`` (0 if unpaced or already past)."""
        if not self._paced:
            return 0.0
        return max(0.0, (at - self._schedule.now()).total_seconds() / self.speed)

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(max(0.0, hub_seconds) / self.speed if self._paced else 0.0)
