"""The demo hall moves its grid workers: their positions reach a commander's console in the
coalesced ``positions`` frames, and the day's ``tracks`` hold their patrol; a worker's walk
is deterministic and mostly inside the loop around their grid's centre."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend_client import HubClient
from console.demo import read_scenario
from dispatch.geo import distance_m
from dispatch.models import Point
from dispatch.patrol_walk import RADIUS_M, walk_position
from hub.demo import demo_hall
from tests.hub.server_fixtures import UNIT


def test_a_walk_is_deterministic_and_mostly_on_its_loop() -> None:
    centre = Point(lon=121.4945, lat=31.2065)
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    minutes = [start + timedelta(minutes=m) for m in range(120)]
    walk = [walk_position("S010", centre, at) for at in minutes]
    assert walk == [walk_position("S010", centre, at) for at in minutes]
    near = [p for p in walk if abs(distance_m(p, centre) - RADIUS_M) < 2]
    assert 0.8 * len(walk) < len(near) < len(walk)  # out of the grid a few minutes an hour
    assert walk_position("S011", centre, start) != walk[0]  # not in step with the others


async def test_the_demo_hall_moves_its_grid_workers(tmp_path: Path) -> None:
    short = read_scenario("short")
    async with (
        demo_hall(short, directory=tmp_path, speed=600.0, opening=short.start) as hall,
        HubClient.connected(hall.url, hall.token, timeout=5 * UNIT) as client,
    ):
        day = hall.clock.now().astimezone(short.tz).date()
        async with asyncio.timeout(10 * UNIT):
            while True:
                tracks = await client.tracks(day)
                walked = tracks.patrols and max(p.patrol_minutes for p in tracks.patrols) >= 5
                if walked and len(client.positions) >= 10:  # seen live, too
                    break
                await asyncio.sleep(0.1)
    walkers = {p.staff for p in tracks.patrols if p.points >= 2}
    assert walkers >= {"S010", "S011", "S015"}
