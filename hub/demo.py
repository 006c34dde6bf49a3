"""The embedded demo hall: a hub on a fresh SQLite file, the demo city, and a scenario playing.

``griddesk demo`` opens this and points a console at it; tests use it the same way. The hub is
the real one — store, engine, websockets server on loopback — with two differences: its clock
is a :class:`~hub.clock.SimClock` at the demo speed, and the scenario :class:`~hub.replay.Player`
is its SLA ticker. Everything it writes lives in ``directory``; the caller owns and removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from dispatch.config import Settings
from dispatch.models import Role
from dispatch.scenario import Scenario
from hub.clock import SimClock
from hub.replay import Player, Progress, scenario_hall
from hub.server import HubServer

log = logging.getLogger(__name__)

DEMO_COMMANDER = "演练指挥长"
"""The operator the demo's console logs in as (a commander: the user may do anything)."""


@dataclass(frozen=True)
class DemoHall:
    url: str  # ws://127.0.0.1:PORT
    token: str  # the demo commander's token
    scenario: Scenario
    clock: SimClock
    progress: Progress  # live: the player updates it


@contextlib.asynccontextmanager
async def demo_hall(
    scenario: Scenario,
    *,
    directory: Path,
    speed: float,
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[DemoHall]:
    """Run the demo hall until the block exits; then stop it and close its database."""
    database = f"sqlite:///{directory / 'demo.db'}"
    hub = msgspec.structs.replace((settings or Settings()).hub, database=database)
    settings = msgspec.structs.replace(settings or Settings(), hub=hub)
    clock = SimClock(scenario.instant(scenario.start), speed, paced=True)
    async with scenario_hall(scenario, database, clock, settings) as (store, engine):
        token = await store.add_operator(DEMO_COMMANDER, Role.COMMANDER)
        player = Player(engine, scenario, clock)
        server = HubServer(engine, store, settings.hub)
        await server.start(host, port)
        playing = asyncio.create_task(player.run(keep_ticking=True), name="griddesk-demo")
        playing.add_done_callback(_report_failure)
        try:
            yield DemoHall(
                url=f"ws://{host}:{server.port}",
                token=token,
                scenario=scenario,
                clock=clock,
                progress=player.progress,
            )
        finally:
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playing
            await server.close()


def _report_failure(task: asyncio.Task[Progress]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the demo scenario stopped", exc_info=task.exception())
