"""The wall on a real hub (loopback, SQLite file), drawn offscreen: it follows events (a case
taken in moves the backlog and the map as written on screen), its PNG has ink where every panel
is, and it rides out a hub restart, reconnecting by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget
from server_fixtures import RunningHub, TestClient, running_hub, seed_store, sqlite_url_in
from wall_helpers import pump, wall_on

from backend_client import ConnectionState
from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.models import Level, Role, Urgency
from hub.clock import WallClock
from hub.engine import Engine
from hub.server import HubServer
from hub.store import Store
from wallboard import theme
from wallboard.app import WallDriver


def community_backlog(driver: WallDriver) -> str:
    """The number written over the 社区 bar."""
    return str(driver.window.backlog.level_numbers[0].textItem.toPlainText())


async def take_in(
    url: str, token: str, hub: RunningHub, n: int, grid: str, urgency: Urgency | None = None
) -> None:
    async with TestClient.connect(url) as client:
        await client.hello(token)
        _, ack = await client.execute(hub.intake(n, grid=grid, urgency=urgency))
        assert ack.case is not None


async def test_a_case_taken_in_moves_the_backlog_and_the_map(
    tmp_path: Path, qt_app: QApplication
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        driver = wall_on(hub.url, hub.tokens[Role.OBSERVER])
        driver.feed.start()
        try:
            await pump(driver, lambda: driver.has_hall and driver.state is ConnectionState.LIVE)
            grid = "310115001003"
            await pump(driver, lambda: driver.window.map.grid_label(grid) != "")
            assert community_backlog(driver) == "0"
            assert driver.window.map.grid_label(grid) == "青石新村网格\nopen 0"
            await take_in(hub.url, hub.tokens[Role.DISPATCHER], hub, 1, grid)
            await pump(driver, lambda: community_backlog(driver) == "1")
            # The map is redrawn in its own frame of the round: within a second.
            await pump(driver, lambda: driver.window.map.grid_label(grid) == "青石新村网格\nopen 1")
            assert driver.model.data().by_level[Level.COMMUNITY] == 1
            assert driver.window.link.text() == "● live"
            assert "observer" not in driver.err.getvalue()  # type: ignore[attr-defined]
        finally:
            await asyncio.to_thread(driver.feed.stop)  # the hub runs on this loop


async def test_a_wall_on_a_commanders_token_says_it_should_be_an_observer(
    tmp_path: Path, qt_app: QApplication
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        driver = wall_on(hub.url, hub.tokens[Role.COMMANDER])
        driver.feed.start()
        try:
            await pump(driver, lambda: driver.has_hall and driver.state is ConnectionState.LIVE)
        finally:
            await asyncio.to_thread(driver.feed.stop)  # the hub runs on this loop
    said = driver.err.getvalue()  # type: ignore[attr-defined]
    assert "commander's" in said and "--role observer" in said


async def test_the_exported_png_has_ink_where_every_panel_is(
    tmp_path: Path, qt_app: QApplication
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        for n, urgency in enumerate((Urgency.URGENT, None, None)):
            await take_in(hub.url, hub.tokens[Role.DISPATCHER], hub, n, "310115001002", urgency)
        driver = wall_on(hub.url, hub.tokens[Role.OBSERVER], export=tmp_path / "png")
        driver.feed.start()
        try:
            await pump(driver, lambda: driver.has_hall and driver.state is ConnectionState.LIVE)
            await pump(driver, lambda: community_backlog(driver) == "3")
            path = driver.write_png()
        finally:
            await asyncio.to_thread(driver.feed.stop)  # the hub runs on this loop
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 720)
    for panel in driver.window.panels:
        body_top = panel.title.geometry().bottom() + 4
        share = inked(image, panel, body_top, driver.window)
        assert share > 0.01, f"{type(panel).__name__} is blank ({share:.3%} ink)"
    # And the header names the street and the time.
    assert inked(image, driver.window.title, 0, driver.window) > 0.02


async def test_export_every_n_seconds_keeps_writing(tmp_path: Path, qt_app: QApplication) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        driver = wall_on(hub.url, hub.tokens[Role.OBSERVER], export=tmp_path / "png")
        driver.every = 0.05
        driver.feed.start()
        try:
            await pump(driver, lambda: len(driver.written) >= 3)
        finally:
            await asyncio.to_thread(driver.feed.stop)  # the hub runs on this loop
    assert all(path.exists() for path in driver.written)
    assert len(set(driver.written)) == len(driver.written)  # none overwritten
    assert driver.exit_code is None  # without --once the wall keeps running


def inked(image: QImage, widget: QWidget, top: int, window: QWidget) -> float:
    """The share of ``widget``'s pixels (below ``top`` inside it) that are not its background."""
    origin = widget.mapTo(window, QPoint(0, 0))
    grounds = {QColor(theme.PANEL).rgb(), QColor(theme.BACKGROUND).rgb()}
    x0, y0 = origin.x() + 4, origin.y() + top
    x1, y1 = origin.x() + widget.width() - 4, origin.y() + widget.height() - 4
    total = ink = 0
    for y in range(y0, y1, 3):
        for x in range(x0, x1, 3):
            total += 1
            ink += image.pixel(x, y) not in grounds
    return ink / max(1, total)


class RestartableHub:
    """A hub over one database file that can be stopped and started again on its port."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = 0
        self._parts: tuple[Store, Engine, HubServer] | None = None

    async def start(self) -> None:
        settings = Settings()
        store = await Store.open(self.url, migrate=True)
        engine = Engine(store, settings, Catalog.default(), WallClock())
        await engine.start()
        server = HubServer(engine, store, settings.hub)
        await server.start("127.0.0.1", self.port)
        self.port = server.port
        self._parts = (store, engine, server)

    async def stop(self) -> None:
        assert self._parts is not None
        store, engine, server = self._parts
        await server.close()
        await engine.stop()
        await store.close()
        self._parts = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def engine(self) -> Engine:
        assert self._parts is not None
        return self._parts[1]


async def test_the_wall_rides_out_a_hub_restart(tmp_path: Path, qt_app: QApplication) -> None:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url)
    hub = RestartableHub(url)
    await hub.start()
    driver = wall_on(hub.ws_url, tokens[Role.OBSERVER])
    driver.feed.start()
    try:
        await pump(driver, lambda: driver.has_hall and driver.state is ConnectionState.LIVE)
        await hub.stop()
        await pump(driver, lambda: driver.state is ConnectionState.DISCONNECTED)
        assert "reconnecting" in driver.window.link.text()
        assert community_backlog(driver) == "0"  # the last state stays on the wall
        await hub.start()
        await pump(driver, lambda: driver.state is ConnectionState.LIVE)
        shim = RunningHub(store=None, engine=hub.engine, server=None, tokens=tokens)  # type: ignore[arg-type]
        await take_in(hub.ws_url, tokens[Role.DISPATCHER], shim, 1, "310115001001")
        await pump(driver, lambda: community_backlog(driver) == "1")
        assert driver.window.link.text() == "● live"
    finally:
        await asyncio.to_thread(driver.feed.stop)  # the hub runs on this loop
        await hub.stop()
