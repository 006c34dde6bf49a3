"""The hub's clock as seen from a client: the last hub reading, advanced at the hub's speed.

Countdowns must run on hub time, not the local clock (the two may disagree by minutes, and a
demo hub runs N× fast). Each reading (``welcome.hub_time``, ``pong.hub_time``) is pinned to the
local monotonic clock, corrected by half the round trip when it is known; between readings
hub time advances at ``speed`` hub seconds per local second. Monotonic, so a local wall-clock
jump (NTP, DST) never moves the countdowns.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class HubClock:
    def __init__(self) -> None:
        self.speed = 1.0
        self._hub: datetime | None = None  # a hub reading …
        self._local = 0.0  # … and the local monotonic time it stands for

    @property
    def known(self) -> bool:
        return self._hub is not None

    def observe(self, hub_time: datetime, speed: float, *, sent: float | None = None) -> None:
        """Take a hub reading received now; ``sent`` is the monotonic time the request left."""
        received = time.monotonic()
        half_trip = (received - sent) / 2 if sent is not None else 0.0
        self.speed = speed
        self._hub = hub_time + timedelta(seconds=half_trip * speed)
        self._local = received

    def now(self) -> datetime:
        """Hub time now (the local clock until the first reading)."""
        if self._hub is None:
            return datetime.now(UTC)
        return self._hub + timedelta(seconds=(time.monotonic() - self._local) * self.speed)

    def offset(self) -> timedelta:
        """Hub time minus local wall time, for display ("hub clock +2.3 s")."""
        return self.now() - datetime.now(UTC)
