"""Following the other hubs on one PostgreSQL database: LISTEN/NOTIFY plus a periodic catch-up.

Every commit on a shared store notifies :data:`~hub.store.LOG_CHANNEL` with its last seq, and
nothing else (a payload stays far below PostgreSQL's 8,000 bytes however big the batch). A hub
woken by a seq beyond its own reads the range from the log (:meth:`Engine.follow`), applies it
through the same reducer as its own events, and fans it out to its clients. A notification
can be missed — the listening connection drops, the database restarts — so the hub also
follows every :data:`CATCH_UP_SECONDS` regardless: a missed notification delays, never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hub.engine import Engine
from hub.store import LOG_CHANNEL, Store

log = logging.getLogger(__name__)

CATCH_UP_SECONDS = 1.0
"""How long a hub goes at most without reading the shared log's tail, notified or not."""


class LogFollower:
    """Keeps one engine up to date with what the other hubs commit; :meth:`run` until cancelled."""

    def __init__(self, engine: Engine, store: Store, *, every: float = CATCH_UP_SECONDS) -> None:
        self._engine = engine
        self._store = store
        self._every = every
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Listen and follow; on any database trouble, poll on the timer and listen again."""
        while True:
            try:
                await self._listen_and_follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: keep catching up, retry
                log.warning("listening for other hubs failed (%s); retrying", exc)
                await asyncio.sleep(self._every)
                with contextlib.suppress(Exception):
                    await self._engine.follow()

    async def _listen_and_follow(self) -> None:
        async with self._store.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # asyncpg's connection: LISTEN is its own API
            await driver.add_listener(LOG_CHANNEL, self._notified)
            try:
                # What was committed before this LISTEN took effect is read here.
                await self._engine.follow()
                while not driver.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._every)
                    self._wake.clear()
                    await self._engine.follow()
                raise ConnectionError("the listening connection closed")
            finally:
                if not driver.is_closed():
                    with contextlib.suppress(Exception):
                        await driver.remove_listener(LOG_CHANNEL, self._notified)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        """A commit's last seq: wake the follower if this hub has not got that far (its own
        commits notify it too, and are already applied by then or soon)."""
        try:
            seq = int(payload)
        except ValueError:
            log.warning("ignoring a notification that is not a seq: %.40r", payload)
            return
        if seq > self._engine.seq:
            self._wake.set()
