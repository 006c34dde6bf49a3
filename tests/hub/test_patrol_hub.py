"""Patrol tracks and the assessment's reads on a real hub: a grid worker's terminal reports
positions (thinned, stored, acknowledged after the commit), the hall sees them coalesced in
one ``positions`` frame, ``tracks`` answers a day's patrol and inside-grid minutes with the
short-patrol flag, ``cases_window`` reads the cases reported in a window (paged, redacted
for observers); the wrong roles and bad input are refused and change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from server_fixtures import RunningHub, TestClient, running_hub, seed_store

import hub.server
from dispatch.errors import ErrorCode
from dispatch.models import Point, Role, Source
from dispatch.protocol import (
    Cases,
    CasesRequest,
    Error,
    HubMessage,
    Message,
    PositionReport,
    Positions,
    PositionTaken,
    Tracks,
    TracksRequest,
    encode,
)
from dispatch.tracks import PatrolTally, TrackPoint
from hub.demo_city import demo_city
from hub.store import Store
from hub.tracks_store import PatrolState

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in the hall (Asia/Shanghai)
GRID = "310115001001"
WORKER = "S010"  # 网格员 of jw-1, whose own grid is GRID
OTHER_UNITS_WORKER = "S015"  # 网格员 of jw-2
# GRID's outline for these tests: a 600 m square around its centre (121.4945, 31.2065).
OUTLINE = (
    Point(lon=121.4915, lat=31.2038),
    Point(lon=121.4975, lat=31.2038),
    Point(lon=121.4975, lat=31.2092),
    Point(lon=121.4915, lat=31.2092),
)


class StepClock:
    """Hub time that moves only when the test says so."""

    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(3600)


@dataclass
class Hall:
    hub: RunningHub
    clock: StepClock
    tokens: dict[str, str]


@pytest.fixture
async def hall(db_url: str) -> AsyncIterator[Hall]:
    """The demo city with GRID's outline drawn, and a unit terminal of jw-1."""
    tokens = {str(r): t for r, t in (await seed_store(db_url)).items()}
    store = await Store.open(db_url)
    try:
        area = next(a for a in demo_city().areas if a.code == GRID)
        await store.seed([msgspec.structs.replace(area, outline=OUTLINE)], [], [])
        tokens["unit"] = await store.add_operator("jw1-terminal", Role.UNIT, "jw-1")
    finally:
        await store.close()
    clock = StepClock(START)
    async with running_hub(db_url, seed=False, clock=clock) as running:
        yield Hall(running, clock, tokens)


async def ask(client: TestClient, request: Message, request_id: str) -> HubMessage:
    await client.send(encode(request).decode())
    async with asyncio.timeout(5):
        while True:
            message = await client.recv(5)
            if getattr(message, "id", None) == request_id and not isinstance(message, Error):
                return message
            if isinstance(message, Error) and message.command == request_id:
                return message


def walk(minutes: int, lon: float, every_s: int = 5) -> list[TrackPoint]:
    """A worker standing at ``lon`` (lat 31.2065) reporting every ``every_s`` seconds."""
    return [
        TrackPoint(at=START + timedelta(seconds=s), lon=lon, lat=31.2065)
        for s in range(0, minutes * 60, every_s)
    ]


async def test_positions_are_thinned_stored_coalesced_and_give_the_days_patrol(hall: Hall) -> None:
    async with (
        TestClient.connect(hall.hub.url) as terminal,
        TestClient.connect(hall.hub.url) as commander,
        TestClient.connect(hall.hub.url) as observer,
    ):
        await terminal.hello(hall.tokens["unit"])
        await terminal.snapshot()
        await commander.hello(hall.tokens["commander"])
        await commander.snapshot()
        await observer.hello(hall.tokens["observer"])
        await observer.snapshot()
        hall.clock.at = START + timedelta(hours=1)
        # Twenty minutes inside the own grid, a report every 5 s: one point in six is kept.
        inside = walk(20, 121.4945)
        taken = await ask(
            terminal, PositionReport(id="p1", staff=WORKER, points=tuple(inside[:120])), "p1"
        )
        assert taken == PositionTaken(id="p1", kept=20)
        taken = await ask(
            terminal, PositionReport(id="p2", staff=WORKER, points=tuple(inside[120:])), "p2"
        )
        assert taken == PositionTaken(id="p2", kept=20)
        again = await ask(
            terminal, PositionReport(id="p3", staff=WORKER, points=tuple(inside[:10])), "p3"
        )
        assert again == PositionTaken(id="p3", kept=0)  # a retry of old points stores nothing
        # The hall and the wall get the last position in one coalesced frame; not one per report.
        _, frame = await commander.until(Positions)
        assert frame.positions[WORKER] == Point(lon=121.4945, lat=31.2065)
        _, seen = await observer.until(Positions)
        assert WORKER in seen.positions

        day = date(2026, 11, 23)
        tracks = await ask(
            commander, TracksRequest(id="t1", day=day, staff=(WORKER,), points=True), "t1"
        )
        assert isinstance(tracks, Tracks)
        (patrol,) = tracks.patrols
        assert (patrol.staff, patrol.points, patrol.inside_minutes) == (WORKER, 40, 19.5)
        assert patrol.patrol_minutes == 19.5 and patrol.short  # under the 240-minute minimum
        assert tracks.minimum_minutes == 240 and len(tracks.points[WORKER]) == 40
    stored = await hall.hub.store.track_points(START, START + timedelta(days=1))
    assert len(stored[WORKER]) == 40


async def test_position_and_read_refusals_change_nothing(hall: Hall) -> None:
    point = (TrackPoint(at=START, lon=121.4945, lat=31.2065),)
    async with (
        TestClient.connect(hall.hub.url) as terminal,
        TestClient.connect(hall.hub.url) as observer,
    ):
        await terminal.hello(hall.tokens["unit"])
        await terminal.snapshot()
        await observer.hello(hall.tokens["observer"])
        await observer.snapshot()
        other = await ask(
            terminal, PositionReport(id="x1", staff=OTHER_UNITS_WORKER, points=point), "x1"
        )
        assert isinstance(other, Error) and other.code is ErrorCode.FORBIDDEN
        nobody = await ask(terminal, PositionReport(id="x2", staff="S999", points=point), "x2")
        assert isinstance(nobody, Error) and nobody.code is ErrorCode.NOT_FOUND
        wall = await ask(observer, PositionReport(id="x3", staff=WORKER, points=point), "x3")
        assert isinstance(wall, Error) and wall.detail == "role_may_not"
        reads = await ask(terminal, TracksRequest(id="x4", day=START.date()), "x4")
        assert isinstance(reads, Error) and reads.code is ErrorCode.FORBIDDEN
        cases = await ask(
            terminal, CasesRequest(id="x5", since=START, until=START + timedelta(days=1)), "x5"
        )
        assert isinstance(cases, Error) and cases.code is ErrorCode.FORBIDDEN
        backwards = await ask(observer, CasesRequest(id="x6", since=START, until=START), "x6")
        assert isinstance(backwards, Error) and backwards.code is ErrorCode.INVALID
        await terminal.send(
            '{"type":"position","id":"x7","staff":"S010","points":[{"at":"2026-11-23T01:00:00Z","lon":500,"lat":31.2}]}'
        )
        bad = await terminal.until(Error)
        assert bad[1].code is ErrorCode.INVALID and bad[1].command == "x7"
    assert (
        await hall.hub.store.track_points(START - timedelta(days=1), START + timedelta(days=1))
        == {}
    )


async def test_cases_window_reads_the_reported_cases_paged_and_redacted_for_observers(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub.server, "CASES_PAGE", 2)
    async with (
        TestClient.connect(hall.hub.url) as commander,
        TestClient.connect(hall.hub.url) as observer,
    ):
        await commander.hello(hall.tokens["commander"])
        await commander.snapshot()
        await observer.hello(hall.tokens["observer"])
        await observer.snapshot()
        for n in range(3):
            hall.clock.at = START + timedelta(hours=n)
            intake = hall.hub.intake(n, source=Source.HOTLINE, reporter=f"12345-{n}")
            await commander.execute(intake)
        hall.clock.at = START + timedelta(days=1)
        await commander.execute(hall.hub.intake(9))  # reported the next day: outside
        window = (START, START + timedelta(hours=23))
        first = await ask(commander, CasesRequest(id="c1", since=window[0], until=window[1]), "c1")
        assert isinstance(first, Cases) and first.more and len(first.cases) == 2
        rest = await ask(
            commander,
            CasesRequest(id="c2", since=window[0], until=window[1], after=first.cases[-1].id),
            "c2",
        )
        assert isinstance(rest, Cases) and not rest.more
        titles = [c.title for c in (*first.cases, *rest.cases)]
        assert titles == ["case 0", "case 1", "case 2"]
        assert first.cases[0].reporter == "12345-0"
        seen = await ask(observer, CasesRequest(id="c3", since=window[0], until=window[1]), "c3")
        assert isinstance(seen, Cases) and seen.cases[0].reporter is None  # no personal data


async def test_track_points_older_than_the_retention_are_pruned(db_url: str) -> None:
    await seed_store(db_url)
    store = await Store.open(db_url)
    try:
        old = TrackPoint(at=START - timedelta(days=91), lon=121.49, lat=31.2)
        new = TrackPoint(at=START - timedelta(days=89), lon=121.49, lat=31.2)
        days = [PatrolState(WORKER, p.at.date(), PatrolTally(points=1, last=p)) for p in (old, new)]
        await store.save_patrol([(WORKER, old), (WORKER, new)], days)
        assert await store.prune_patrol(START - timedelta(days=90), new.at.date()) == 1
        kept = await store.track_points(START - timedelta(days=100), START)
        assert kept == {WORKER: [new]}
        latest = await store.latest_patrol(WORKER)
        assert latest is not None and latest.day == new.at.date() and latest.tally.last == new
        assert await store.patrol_days(old.at.date()) == []
    finally:
        await store.close()


async def test_a_restarted_hub_goes_on_counting_the_days_patrol(db_url: str) -> None:
    """The day's count and the last point come back from the database: the patrol goes on
    from where it stood, and a terminal retrying what it sent before the restart adds nothing."""
    await seed_store(db_url)
    walk_start = START
    first = [TrackPoint(at=walk_start + timedelta(minutes=m), lon=121.4945, lat=31.2065)
             for m in range(0, 11)]  # fmt: skip
    second = [TrackPoint(at=walk_start + timedelta(minutes=m), lon=121.4945, lat=31.2065)
              for m in range(11, 21)]  # fmt: skip
    clock = StepClock(START + timedelta(hours=1))
    async with running_hub(db_url, seed=False, clock=clock) as running:
        assert await running.server.patrol.report(WORKER, first) == 11
    async with running_hub(db_url, seed=False, clock=clock) as running:
        assert await running.server.patrol.report(WORKER, first) == 0  # a retry: nothing new
        assert await running.server.patrol.report(WORKER, second) == 10
        days, _ = await running.server.patrol.patrols(START.date(), [WORKER], False)
    assert (days[0].points, days[0].patrol_minutes) == (21, 20.0)
