"""Shared by the wall's tests: a wall on a hub feed, and pumping it until the wall shows what
the test waits for (polled against a deadline in :data:`UNIT`\\ s, never a fixed sleep)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication
from server_fixtures import UNIT

from dispatch.config import Settings
from wallboard.app import WallDriver, make_wall
from wallboard.feed import HubFeed
from wallboard.words import Translate, identity


def wall_on(
    url: str,
    token: str,
    *,
    tr: Translate = identity,
    export: Path | None = None,
    size: tuple[int, int] = (1280, 720),
) -> WallDriver:
    """A wall (not yet started) reading the hub at ``url``; its warnings go to ``driver.err``."""
    feed = HubFeed(url, token, backoff_max=0.3)
    driver = make_wall(Settings(), tr, feed, size=size, export=export, err=io.StringIO())
    driver.window.show()
    return driver


async def pump(driver: WallDriver, check: Callable[[], object], within: float = UNIT * 5) -> None:
    """Run the wall's frames (and Qt's events) until ``check()`` holds; fail after ``within``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        driver.frame()
        QApplication.processEvents()
        if check():
            return
        if loop.time() > deadline:
            raise AssertionError(f"the wall did not get there within {within} s")
        await asyncio.sleep(0.02)  # let the hub (this loop) and the feed's thread work
