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
            raise ValueError("VirtualClock needs an aware start time")
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
