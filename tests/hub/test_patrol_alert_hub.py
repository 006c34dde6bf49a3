"""The short-patrol alert on a real hub (SQLite file, the demo city, a hall without a rota):
at the end of the day shift (17:30 in the hall) each grid worker on day duty whose patrol
inside their own grid fell under the minimum gets one ``alert`` — not before the end, not
twice across a restart; a worker over the minimum, one on standby and one marked off get none.
The commander's client receives it as PROTOCOL.md §5 documents it; a unit terminal only for
its own workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from server_fixtures import TestClient, events_in, running_hub, seed_store

import hub.patrol_alerts
from dispatch.config import AssessmentSettings, Settings
from dispatch.events import EventType
from dispatch.models import Duty, Point, Role
from dispatch.protocol import Events
from dispatch.tracks import TrackPoint
from hub.demo_city import demo_city, demo_rota
from hub.store import Store

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in the hall (Asia/Shanghai)
DAY_END = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 17:30, the last period's end
GRID = "310115001001"  # the own grid of S010 and S011 (jw-1)
SHORT, LONG, STANDBY, OFF = "S010", "S011", "S012", "S015"  # S015: 网格员 of jw-2
OUTLINE = (
    Point(lon=121.4915, lat=31.2038),
    Point(lon=121.4975, lat=31.2038),
    Point(lon=121.4975, lat=31.2092),
    Point(lon=121.4915, lat=31.2092),
)
SETTINGS = Settings(assessment=AssessmentSettings(patrol_minimum_minutes=30))


class StepClock:
    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(3600)


@dataclass
class Seeded:
    url: str
    tokens: dict[str, str]


@pytest.fixture(autouse=True)
def no_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch looks once at start, then only when the test calls ``check``."""
    monkeypatch.setattr(hub.patrol_alerts, "POLL_SECONDS", 3600.0)


@pytest.fixture
async def seeded(db_url: str) -> AsyncIterator[Seeded]:
    """The demo city with GRID drawn, S015 marked off, and a terminal of jw-1 and of jw-2."""
    tokens = {str(r): t for r, t in (await seed_store(db_url)).items()}
    store = await Store.open(db_url)
    try:
        city = demo_city()
        area = next(a for a in city.areas if a.code == GRID)
        off = next(s for s in city.staff if s.id == OFF)
        await store.seed([msgspec.structs.replace(area, outline=OUTLINE)], [],
                         [msgspec.structs.replace(off, duty=Duty.OFF)])  # fmt: skip
        tokens["jw-1"] = await store.add_operator("jw1-terminal", Role.UNIT, "jw-1")
        tokens["jw-2"] = await store.add_operator("jw2-terminal", Role.UNIT, "jw-2")
    finally:
        await store.close()
    yield Seeded(db_url, tokens)


def walk(minutes: int) -> list[TrackPoint]:
    """A minute apart, standing in the middle of GRID from 10:00."""
    return [TrackPoint(at=START + timedelta(hours=1, minutes=m), lon=121.4945, lat=31.2065)
            for m in range(minutes + 1)]  # fmt: skip


async def test_a_short_patrol_is_alerted_once_at_the_days_end(seeded: Seeded) -> None:
    clock = StepClock(START + timedelta(hours=2))
    async with running_hub(seeded.url, seed=False, clock=clock, settings=SETTINGS) as running:
        alerts = running.server.patrol_alerts
        assert await running.server.patrol.report(SHORT, walk(20)) == 21
        assert await running.server.patrol.report(LONG, walk(45)) == 46
        async with (
            TestClient.connect(running.url) as commander,
            TestClient.connect(running.url) as jw1,
            TestClient.connect(running.url) as jw2,
        ):
            for client, token in ((commander, "commander"), (jw1, "jw-1"), (jw2, "jw-2")):
                await client.hello(seeded.tokens[token])
                await client.snapshot()
            clock.at = DAY_END - timedelta(seconds=1)
            assert await alerts.check() == 0  # not before the end
            clock.at = DAY_END
            written = await alerts.check()
            frames, _ = await commander.until(Events)
            got = {e.staff: e for e in events_in([*frames, _]) if e.type is EventType.ALERT}
            assert SHORT in got and LONG not in got and STANDBY not in got and OFF not in got
            # Every other day-shift worker on duty who never reported counts with 0 minutes.
            assert "S016" in got and got["S016"].data["inside_minutes"] == 0
            assert written == len(got)
            alert = got[SHORT]
            assert alert.case is None and alert.actor == "hub"
            shape = {"kind": "short_patrol", "day": "2026-11-23", "unit": "jw-1",
                     "minutes": 20.0, "inside_minutes": 20.0, "minimum": 30}  # fmt: skip
            assert alert.data == shape
            # A unit terminal sees its own workers' alerts only.
            jw1_frames, last = await jw1.until(Events)
            jw1_alerts = [e for e in events_in([*jw1_frames, last]) if e.type is EventType.ALERT]
            assert {e.staff for e in jw1_alerts} == {SHORT}
            clock.at = DAY_END + timedelta(minutes=5)
            assert await alerts.check() == 0  # the day is done
    # A restart the same evening catches up the day's end: nothing is written twice.
    clock.at = DAY_END + timedelta(minutes=15)
    async with running_hub(seeded.url, seed=False, clock=clock, settings=SETTINGS) as running:
        assert await running.server.patrol_alerts.check() == 0
        stored = await running.store.events_after(0)
    alerted = [e.staff for e in stored if e.type is EventType.ALERT]
    assert alerted.count(SHORT) == 1 and len(alerted) == len(set(alerted)) == written


async def test_a_hub_down_across_the_days_end_alerts_when_it_starts(seeded: Seeded) -> None:
    clock = StepClock(START + timedelta(hours=2))
    async with running_hub(seeded.url, seed=False, clock=clock, settings=SETTINGS) as running:
        assert await running.server.patrol.report(SHORT, walk(20)) == 21
    clock.at = DAY_END + timedelta(hours=1)
    async with running_hub(seeded.url, seed=False, clock=clock, settings=SETTINGS) as running:
        await running.server.patrol_alerts.check()  # (the start's look may have done it)
        assert await running.server.patrol_alerts.check() == 0
        stored = await running.store.events_after(0)
    assert [e.staff for e in stored if e.type is EventType.ALERT].count(SHORT) == 1


async def test_a_hall_on_a_rota_is_alerted_at_the_day_to_after_hours_change(
    seeded: Seeded,
) -> None:
    store = await Store.open(seeded.url)
    try:
        await store.seed_rota(demo_rota())
    finally:
        await store.close()
    clock = StepClock(START + timedelta(hours=2))
    async with running_hub(seeded.url, seed=False, clock=clock, settings=SETTINGS) as running:
        assert running.engine.has_rota
        assert await running.server.patrol.report(SHORT, walk(20)) == 21
        assert await running.server.patrol.report(LONG, walk(45)) == 46
        clock.at = DAY_END - timedelta(minutes=1)
        assert await running.server.patrol_alerts.check() == 0
        clock.at = DAY_END
        await running.engine.run_due()  # the rota's shift change: the day shift goes off
        assert await running.server.patrol_alerts.check() > 0
        stored = await running.store.events_after(0)
    alerted = {e.staff for e in stored if e.type is EventType.ALERT}
    assert SHORT in alerted and LONG not in alerted and STANDBY not in alerted
