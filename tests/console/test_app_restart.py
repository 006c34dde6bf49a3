"""Killing and restarting the hub: the console shows it at once, keeps the last state read
only, and resyncs to exactly the hub's state (including what changed while it was away)."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import TestClient, console_for, sqlite_url_in, until
from server_fixtures import seed_store

from dispatch.catalog import Catalog
from dispatch.commands import Intake
from dispatch.config import Settings
from dispatch.models import Kind, Role, Source
from hub.clock import WallClock
from hub.engine import Engine
from hub.server import HubServer
from hub.store import Store
from widgets.queue_list import QueueList
from widgets.status_bar import StatusBar


class Hub:
    """A hub over one database file that can be stopped and started again on its port."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = 0
        self.engine: Engine | None = None
        self._store: Store | None = None
        self._server: HubServer | None = None

    async def start(self) -> Engine:
        settings = Settings()
        self._store = await Store.open(self.url, migrate=True)
        self.engine = Engine(self._store, settings, Catalog.default(), WallClock())
        await self.engine.start()
        self._server = HubServer(self.engine, self._store, settings.hub)
        await self._server.start("127.0.0.1", self.port)
        self.port = self._server.port
        return self.engine

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
        if self.engine is not None:
            await self.engine.stop()
        if self._store is not None:
            await self._store.close()
        self._server = self.engine = self._store = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


async def intake(hub: Hub, token: str, n: int) -> str:
    assert hub.engine is not None
    category = next(c for c in hub.engine.hall.catalog if c.kind == Kind.EVENT)
    grid = next(a.code for a in hub.engine.hall.areas.values() if a.kind == "grid")
    async with TestClient.connect(hub.ws_url) as client:
        await client.hello(token)
        _, ack = await client.execute(
            Intake(
                id=f"restart-{n}",
                kind=category.kind,
                category=category.code,
                source=Source.PATROL,
                title=f"case {n}",
                grid=grid,
            )
        )
    assert ack.case is not None
    return ack.case


async def test_hub_restart_shows_disconnected_then_resyncs_exactly(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url)
    hub = Hub(url)
    await hub.start()
    try:
        first = await intake(hub, tokens[Role.DISPATCHER], 1)
        app = console_for(hub.ws_url, tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.live and first in app.desk.model.cases)
            await pilot.press("7")
            await hub.stop()  # the hub goes away …
            await until(pilot, lambda: not app.live)
            bar = app.screen.query_one(StatusBar)
            assert bar.connected is False and bar.has_class("-offline")
            assert app.screen.has_class("-readonly")
            assert app.screen.check_action("accept", ()) is None
            assert first in app.desk.model.cases  # the last state stays on screen
            engine = await hub.start()  # … and comes back on the same port, with news
            second = await intake(hub, tokens[Role.DISPATCHER], 2)
            await until(pilot, lambda: app.live and second in app.desk.model.cases)
            assert app.desk.model.cases == dict(engine.cases)
            assert app.screen.query_one(QueueList).row(second) is not None
            assert app.screen.query_one(StatusBar).connected is True
    finally:
        await hub.stop()
