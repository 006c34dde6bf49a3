"""Snapshots of every screen (board, case, roster, help, intake, hand-over, assessment) at 80×24 and
200×50 in zh_CN and en, against a real hub whose clock stands still (so countdowns and case
ids are the same on every run).

``snap_compare`` runs the app in its own event loop, so the hub runs in a thread with its own
loop; they talk over loopback like any console and hub.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console_fixtures import UNIT, TestClient, board_live, console_for, sqlite_url_in, until
from server_fixtures import seed_store
from textual.pilot import Pilot
from textual.screen import Screen

from dispatch.catalog import Catalog
from dispatch.commands import Accept, Dispatch, Intake
from dispatch.config import Settings
from dispatch.models import Role, Source, Urgency
from hub.clock import VirtualClock
from hub.engine import Engine
from hub.server import HubServer
from hub.store import Store
from screens.assessment import AssessmentScreen
from screens.board import BoardScreen
from screens.case import CaseScreen
from screens.handover import HandoverScreen
from screens.help import HelpScreen
from screens.intake import IntakeScreen
from screens.roster import RosterScreen
from widgets.case_detail import CaseDetail
from widgets.countdown_strip import CountdownStrip
from widgets.queue_list import QueueList
from widgets.roster_table import RosterTable

START = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in the hall, a working morning
STILL = 1e-9
"""Clock speed: hub time stands still for the length of a test."""


async def _fill(url: str, token: str, engine: Engine) -> None:
    """A small, fixed morning: urgent and general cases in several states."""
    hall = engine.hall
    grids = sorted(a.code for a in hall.areas.values() if a.kind == "grid")
    cats = sorted(hall.catalog, key=lambda c: c.code)
    async with TestClient.connect(url) as client:
        await client.hello(token)
        for n in range(12):
            cat = cats[(n * 7) % len(cats)]
            _, ack = await client.execute(
                Intake(
                    id=f"snap-{n}",
                    kind=cat.kind,
                    category=cat.code,
                    source=list(Source)[n % 5],
                    title=f"{cat.name}{n}",
                    grid=grids[n % len(grids)],
                    urgency=Urgency.URGENT if n % 4 == 0 else None,
                )
            )
            if n % 3 == 1:
                await client.execute(Accept(id=f"snap-acc-{n}", case=ack.case, version=1))
            if n % 6 == 1:
                unit = sorted(hall.units)[n % len(hall.units)]
                await client.execute(
                    Dispatch(id=f"snap-dis-{n}", case=ack.case, version=2, unit=unit)
                )


@pytest.fixture(scope="module")
def still_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(hub url, commander token) of a filled hub with a still clock, in its own thread."""
    url = sqlite_url_in(tmp_path_factory.mktemp("snap"))
    ready: dict[str, Any] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        tokens = await seed_store(url)
        settings = Settings()
        store = await Store.open(url, migrate=True)
        engine = Engine(store, settings, Catalog.default(), VirtualClock(START, STILL))
        await engine.start()
        server = HubServer(engine, store, settings.hub)
        await server.start("127.0.0.1", 0)
        hub_url = f"ws://127.0.0.1:{server.port}"
        await _fill(hub_url, tokens[Role.DISPATCHER], engine)
        stop = asyncio.Event()
        ready.update(url=hub_url, token=tokens[Role.COMMANDER], stop=stop)
        started.set()
        await stop.wait()
        await server.close()
        await engine.stop()
        await store.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(UNIT * 10), "the hub did not start"
    yield ready["url"], ready["token"]
    loop.call_soon_threadsafe(ready["stop"].set)
    thread.join(UNIT * 5)


async def _settled(pilot: Pilot[int]) -> None:
    """The board as the operator sees it once everything arrived: the all-cases tab listing
    the 12 cases, the strip and the roster drawn."""
    app: Any = pilot.app
    await until(pilot, lambda: board_live(app) and len(app.desk.model.cases) == 12)
    await pilot.press("7")
    board = app.screen
    await until(
        pilot,
        lambda: board.query_one(QueueList).row_count == 12
        and board.query_one(CountdownStrip).shown_keys
        and board.query_one(RosterTable).row_count > 0,
    )
    await pilot.pause()


async def _opened(pilot: Pilot[int], kind: type[Screen[Any]]) -> None:
    """The screen is on top and drawn (the case screen: with the hub's history)."""
    app: Any = pilot.app
    await until(pilot, lambda: isinstance(app.screen, kind))
    if isinstance(app.screen, CaseScreen):
        detail = app.screen.query_one(CaseDetail)
        await until(
            pilot,
            lambda: detail.view is not None
            and not any("…" in line.text for line in detail.view.history),
        )
    if isinstance(app.screen, HandoverScreen):
        screen = app.screen
        await until(pilot, lambda: screen.report is not None)
    if isinstance(app.screen, AssessmentScreen):
        assessed = app.screen
        await until(pilot, lambda: assessed.assessment is not None)
    await pilot.pause()


SCREENS: dict[str, tuple[tuple[str, ...], type[Screen[Any]]]] = {
    "board": ((), BoardScreen),
    "case": (("home", "down", "enter"), CaseScreen),
    "roster": (("R",), RosterScreen),
    "help": (("question_mark",), HelpScreen),
    "intake": (("i",), IntakeScreen),
    "handover": (("H",), HandoverScreen),
    "assessment": (("K",), AssessmentScreen),
}
"""Each screen and the keys that open it from the board (on the "all" tab)."""


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    snap_compare: Any,
    still_hub: tuple[str, str],
    tmp_path: Path,
    screen: str,
    locale: str,
    size: tuple[int, int],
) -> None:
    url, token = still_hub
    app = console_for(url, token, tmp_path, locale=locale)

    async def opened(pilot: Pilot[int]) -> None:
        keys, kind = SCREENS[screen]
        await _settled(pilot)
        await pilot.press(*keys)
        await _opened(pilot, kind)

    assert snap_compare(app, terminal_size=size, run_before=opened)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_board_in_sixteen_colours(
    snap_compare: Any, still_hub: tuple[str, str], tmp_path: Path, locale: str
) -> None:
    """``TERM=xterm`` over SSH: the 16-colour theme, green, yellow and red three hues, the
    cursor row blue with its countdown still legible (issue 11, item 7)."""
    url, token = still_hub
    app = console_for(url, token, tmp_path, locale=locale, sixteen_colours=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled)
