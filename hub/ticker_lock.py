"""Exactly one SLA ticker among the hubs of one PostgreSQL database.

The hub that holds the session advisory lock :data:`TICKER_LOCK_KEY` runs the ticker; the
others try for it every :data:`POLL_SECONDS`. A hub that dies (kill -9 included) loses its
connection, the server releases the lock, and the next try of another hub takes it over: within
about two polls. Before ticking, the new holder reads the log, so it breaches every deadline the
dead hub left due and none it breached already. Should two hubs ever tick at once (a holder cut
off from the database for a moment), a breach is still written once: it is decided in the
log's turn (hub/store.py ``log_turn``), on a state that holds the other hub's breach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text

from hub.engine import Engine
from hub.store import Store

log = logging.getLogger(__name__)

TICKER_LOCK_KEY = 0x6772_6964_7469_636B  # "gridtick"
"""The session advisory lock the ticking hub holds (migrations and commits use others)."""

POLL_SECONDS = 1.0
"""How often a hub without the ticker tries for it, and the holder checks it still has it."""


class TickerLock:
    """Runs ``engine``'s SLA ticker while this hub holds the ticker lock; :meth:`run` until
    cancelled (then the lock is released for the next hub at once)."""

    def __init__(self, engine: Engine, store: Store, *, every: float = POLL_SECONDS) -> None:
        self._engine = engine
        self._store = store
        self._every = every

    async def run(self) -> None:
        while True:
            try:
                await self._hold()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection is gone, and the lock with it
                log.warning("the SLA ticker lock was lost (%s); trying again", exc)
            finally:
                if self._engine.ticking:
                    log.info("this hub no longer runs the SLA ticker")
                await self._engine.stop_ticker()
            await asyncio.sleep(self._every)

    async def _hold(self) -> None:
        async with self._store.engine.connect() as conn:
            try:
                while not await conn.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": TICKER_LOCK_KEY}
                ):
                    await conn.commit()  # no transaction left open between tries
                    await asyncio.sleep(self._every)
                await conn.commit()  # a session lock outlives the transaction
                await self._engine.follow()  # what the last holder left, due or done
                self._engine.start_ticker()
                log.info("this hub runs the SLA ticker")
                while True:  # the lock lives as long as this connection: check it does
                    await asyncio.sleep(self._every)
                    await conn.execute(text("SELECT 1"))
                    await conn.commit()
            finally:
                # Back to the pool without the lock (a session lock outlives a transaction).
                with contextlib.suppress(Exception):
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": TICKER_LOCK_KEY}
                    )
