"""The embedded demo hall: a hub on a fresh SQLite file, the demo city, and a scenario playing.

``griddesk demo`` opens this and points a console at it; tests use it the same way. The hub is
the real one — store, engine, websockets server on loopback — with two differences: its clock
is a :class:`~hub.clock.SimClock` at the demo speed, and the scenario :class:`~hub.replay.Player`
is its SLA ticker. Everything it writes lives in ``directory``; the caller owns and removes it.

The hall opens at the scenario's *opening* (its ``demo_from``, or the instant asked for): every
step and deadline before it is played at once on the virtual clock, before the hub listens, so
the first console that connects finds the hall at work — the morning's cases in hand, their
countdowns running — rather than an empty board at dawn. From the opening on the play is paced
at the demo speed. The event log is the one a play from the start gives: the player works on
the same instants in the same order, only without waiting between them.

:func:`demo_hall` runs the hall in the caller's event loop. :class:`DemoHallThread` runs it on a
thread of its own with its own loop, which is how ``griddesk demo`` runs it: a console painting
a burst in its loop can then no longer starve the player and hold the hub's clock back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from dispatch.config import Settings
from dispatch.models import Role
from dispatch.patrol_walk import walk_position
from dispatch.scenario import Scenario
from dispatch.tracks import GRID_WORKER, TrackPoint
from hub.clock import SimClock
from hub.engine import Engine
from hub.replay import Player, Progress, scenario_hall
from hub.server import HubServer

log = logging.getLogger(__name__)

T = TypeVar("T")

STOP_SECONDS = 20.0
"""Real seconds :class:`DemoHallThread` waits for its hub to close before giving up on it: more
than the 10 s websockets gives a closing handshake, so a console that never answers its close
still lets the hub stop in time."""

DEMO_COMMANDER = "演练指挥长"
"""The operator the demo's console logs in as (a commander: the user may do anything)."""

DEMO_WALL = "演练大屏"
"""The observer the demo's wallboard logs in as (``griddesk demo --wall``)."""


@dataclass(frozen=True)
class DemoHall:
    url: str  # ws://127.0.0.1:PORT
    token: str  # the demo commander's token
    scenario: Scenario
    clock: SimClock
    progress: Progress  # live: the player updates it, in the hub's event loop
    opened: datetime  # the instant the hall opened at: what came before was played at once
    wall_token: str = ""  # an observer's token, for the demo's wallboard


@contextlib.asynccontextmanager
async def demo_hall(
    scenario: Scenario,
    *,
    directory: Path,
    speed: float,
    settings: Settings | None = None,
    opening: timedelta | None = None,
    hold: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[DemoHall]:
    """Run the demo hall until the block exits; then stop it and close its database.

    ``opening`` (time since the scenario's midnight, as its steps' ``at``; default the
    scenario's own :attr:`~dispatch.scenario.Scenario.opening`) is where the hall opens: what
    comes before is played at once. With ``hold`` the clock then stands still there and nothing
    more is played — the hall as it is at that instant, for a picture of it.
    """
    database = f"sqlite:///{directory / 'demo.db'}"
    settings = settings or Settings()
    opened = scenario.instant(scenario.opening if opening is None else opening)
    clock = SimClock(scenario.instant(scenario.start), speed, paced=False)
    async with scenario_hall(scenario, database, clock, settings) as (store, engine):
        token = await store.add_operator(DEMO_COMMANDER, Role.COMMANDER)
        wall_token = await store.add_operator(DEMO_WALL, Role.OBSERVER)
        player = Player(engine, scenario, clock)
        await player.run(until=opened)
        # The server starts once the morning is played: a console's first snapshot is the hall
        # at the opening, not the morning's events to replay on screen.
        server = HubServer(engine, store, settings.hub)
        await server.start(host, port)
        playing: asyncio.Task[Progress] | None = None
        walking: asyncio.Task[None] | None = None
        if not hold:
            clock.pace()
            playing = asyncio.create_task(player.run(keep_ticking=True), name="griddesk-demo")
            playing.add_done_callback(_report_failure)
            walking = asyncio.create_task(_walk(server, engine, clock), name="griddesk-patrol")
        try:
            yield DemoHall(
                url=f"ws://{host}:{server.port}",
                token=token,
                scenario=scenario,
                clock=clock,
                progress=player.progress,
                opened=opened,
                wall_token=wall_token,
            )
        finally:
            for task in (playing, walking):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            # Time stops with the play, so the clock read after the hall closed says where the
            # play stopped, not where the schedule has got to since.
            clock.hold(clock.now())
            await server.close()


WALK_SECONDS = 30.0
"""Hub seconds between two positions of a demo grid worker (a phone every 30 s)."""


async def _walk(server: HubServer, engine: Engine, clock: SimClock) -> None:
    """Move the demo's grid workers on their patrol loops (dispatch.patrol_walk), a position
    each every 30 hub seconds through the same path a terminal's ``position`` report takes
    (all of a round in one flush of the patrol keeper)."""
    while True:
        now = clock.now()
        hall = engine.hall
        reports = []
        for person in hall.staff.values():
            area = hall.areas.get(person.grids[0]) if person.grids else None
            if person.role != GRID_WORKER or area is None or area.centre is None:
                continue
            point = walk_position(person.id, area.centre, now)
            track = [TrackPoint(at=now, lon=point.lon, lat=point.lat)]
            reports.append(server.patrol.report(person.id, track))
        for failure in await asyncio.gather(*reports, return_exceptions=True):
            if isinstance(failure, Exception):
                log.warning("a demo patrol position was not stored: %s", failure)
        await clock.sleep(WALK_SECONDS)


def _report_failure(task: asyncio.Task[Progress]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the demo scenario stopped", exc_info=task.exception())


class DemoHallThread:
    """:func:`demo_hall` on a thread of its own, with its own event loop, as a ``with`` block.

    Entering starts the thread and returns once the hub is listening; a failure to start is
    raised here, in the caller's thread, as the very exception :func:`demo_hall` raised. Leaving
    stops the hub (player, server, engine, store) and joins the thread, at most
    :data:`STOP_SECONDS`; a failure while stopping is raised then.

    Use ``with`` where no event loop runs (``griddesk demo`` leaves it once the console's loop
    has closed). Inside a running loop use ``async with``: the loop then runs on while the hub
    stops, so its own connections to the hub can finish their closing handshakes — a blocking
    exit would leave the hub waiting for them.

    :attr:`hall` (its ``clock`` and ``progress``) belongs to the hub's thread while it runs:
    read it through :meth:`call` then, and directly once the block has exited (the thread has
    ended by then, so nothing moves it any more).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        directory: Path,
        speed: float,
        settings: Settings | None = None,
        opening: timedelta | None = None,
        hold: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._open = functools.partial(
            demo_hall,
            scenario,
            directory=directory,
            speed=speed,
            settings=settings,
            opening=opening,
            hold=hold,
            host=host,
            port=port,
        )
        # Made here, run there: call_soon_threadsafe works from the start, so a stop asked for
        # while the hub is still starting is not lost.
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._started: Future[DemoHall] = Future()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="griddesk-demo-hub", daemon=True)

    @property
    def hall(self) -> DemoHall:
        """The running hall (only once entered)."""
        return self._started.result(timeout=0)

    @property
    def thread(self) -> threading.Thread:
        """The hub's thread (named ``griddesk-demo-hub``)."""
        return self._thread

    def __enter__(self) -> Self:
        self._thread.start()
        try:
            self._started.result()  # interruptible: Ctrl+C while the hub starts lands here
        except BaseException:
            self._shut(raise_failure=False)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._shut(raise_failure=exc is None)

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._shut, raise_failure=exc is None)

    def call(self, fn: Callable[[DemoHall], T], timeout: float) -> T:
        """``fn(hall)`` run in the hub's loop, between two of its steps; its result here."""
        result: Future[T] = Future()

        def run() -> None:
            try:
                result.set_result(fn(self.hall))
            except Exception as exc:
                result.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return result.result(timeout)

    def _main(self) -> None:
        try:
            with asyncio.Runner(loop_factory=lambda: self._loop) as runner:
                runner.run(self._serve())
        finally:
            if not self._started.done():  # whatever ended the thread, the caller must not wait
                self._started.set_exception(RuntimeError("the demo hub's thread ended early"))

    async def _serve(self) -> None:
        try:
            async with self._open() as hall:
                self._started.set_result(hall)
                await self._stop.wait()
        except Exception as exc:
            if self._started.done():
                self._failure = exc  # stopping failed: the caller raises it at exit
            else:
                self._started.set_exception(exc)

    def _shut(self, *, raise_failure: bool) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the hub stopped already
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_SECONDS)
        if self._thread.is_alive():
            raise RuntimeError(f"the demo hub did not stop within {STOP_SECONDS:g} s")
        if raise_failure and self._failure is not None:
            raise self._failure
