"""``griddesk demo --wall``: the wallboard opens in its own process on the demo's hub, logged
in as the demo's observer, and shows the demo hall (here as the PNG it writes with --once)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtGui import QImage
from server_fixtures import UNIT

from console.cli import main
from console.demo import read_scenario, start_wall, stop_wall
from hub.demo import DemoHallThread


async def test_the_demo_wall_shows_the_demo_hall(tmp_path: Path) -> None:
    pictures = tmp_path / "png"
    with DemoHallThread(read_scenario("short"), directory=tmp_path, speed=60.0) as demo:
        assert demo.hall.wall_token
        wall = start_wall(
            demo.hall, tmp_path, "zh_CN", "--export", str(pictures), "--once", "--size", "960x540"
        )
        try:
            code = await asyncio.to_thread(wall.wait, UNIT * 15)
        finally:
            stop_wall(wall)
    assert code == 0, (tmp_path / "wall.log").read_text()
    [png] = pictures.glob("wall-*.png")
    assert QImage(str(png)).width() == 960


def test_demo_takes_the_wall_flag() -> None:
    assert main(["demo", "--wall", "--scenario", "no-such-scenario"]) == 2  # parsed, refused
