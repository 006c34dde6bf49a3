"""The scenario player on a real hub (store, engine): the short scenario, timing, determinism.

The short scenario (hub/data/scenarios/short.toml) makes two cases late on purpose; the hub,
not the script, must escalate them at the exact virtual instants their deadlines pass, and the
day must end with the figures the scenario's [expect] table states.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from console.demo import read_scenario
from dispatch.commands import Intake
from dispatch.events import Event, EventType
from dispatch.models import Kind, Source, Status
from dispatch.scenario import Scenario, ScenarioError, loads, parse_time
from hub.clock import SimClock
from hub.demo import DemoHall, demo_hall
from hub.replay import play_offline
from hub.store import Store
from tests.hub.server_fixtures import UNIT


@pytest.fixture(scope="module")
def short() -> Scenario:
    return read_scenario("short")


def _log(events: list[Event]) -> bytes:
    return msgspec.json.encode(events)


async def test_short_scenario_escalates_late_cases_at_their_deadlines(
    short: Scenario, db_url: str
) -> None:
    outcome = await play_offline(short, db_url)

    assert outcome.refused == []
    assert short.expect is not None
    by_id = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    escalated = [
        (by_id[e.case], short.offset(e.at), e.changes["level"])
        for e in outcome.events
        if e.type is EventType.ESCALATED and e.case is not None
    ]
    expected = [(x.case, parse_time(x.at), str(x.level)) for x in short.expect.escalation]
    assert escalated == expected
    # Every escalation is the hub's own, right after the breach it follows from.
    for event in outcome.events:
        if event.type is EventType.ESCALATED:
            assert event.actor == "hub"
    c1 = outcome.cases[outcome.case_ids["c1"]]
    assert c1.level == "district" and c1.status is Status.CLOSED and c1.on_time is False


async def test_short_scenario_ends_with_the_figures_it_implies(
    short: Scenario, sqlite_url: str
) -> None:
    outcome = await play_offline(short, sqlite_url)

    assert short.expect is not None
    figures = {name: getattr(outcome.figures, name) for name in short.expect.figures()}
    assert figures == short.expect.figures()
    assert outcome.figures.closure_rate == pytest.approx(6 / 8)
    assert outcome.end == short.instant(short.end)
    # The evening hand-over happened: day staff off, the standby rota on.
    assert any(e.type is EventType.SHIFT_CHANGED for e in outcome.events)


async def test_same_scenario_gives_the_same_event_log(short: Scenario, tmp_path: Path) -> None:
    first = await play_offline(short, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    second = await play_offline(short, f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")

    assert len(first.events) > 100
    assert _log(first.events) == _log(second.events)


async def _demo_log(directory: Path) -> list[Event]:
    """The event log a demo hall left in ``directory``."""
    store = await Store.open(f"sqlite+aiosqlite:///{directory / 'demo.db'}", migrate=False)
    try:
        return await store.events_after(0, 100_000)
    finally:
        await store.close()


async def _play_to_the_end(hall: DemoHall) -> float:
    """Wait for a paced demo to play to its end; the real seconds it took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not hall.progress.finished:
        await asyncio.sleep(0.02)
        assert loop.time() - began < 20 * UNIT, "the paced play did not finish"
    return loop.time() - began


async def test_paced_play_at_speed_gives_the_unpaced_log(short: Scenario, tmp_path: Path) -> None:
    """At --speed N the day takes (length / N) of real time and ends with the same log."""
    unpaced = await play_offline(short, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    speed = 3600.0  # the scenario's 110 minutes in under 2 s
    async with demo_hall(short, directory=tmp_path, speed=speed, opening=short.start) as hall:
        took = await _play_to_the_end(hall)

    length = (short.end - short.start).total_seconds()
    assert took >= 0.9 * length / speed  # it really waited on the virtual clock
    assert _log(await _demo_log(tmp_path)) == _log(unpaced.events)


async def test_a_demo_that_opens_later_ends_in_the_same_hall(
    short: Scenario, tmp_path: Path
) -> None:
    """The stretch before the opening played at once, the rest paced: the log of one play."""
    unpaced = await play_offline(short, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    opening = parse_time("17:30")  # after c1's first escalation, before its second (17:44)
    speed = 3600.0
    async with demo_hall(short, directory=tmp_path, speed=speed, opening=opening) as hall:
        assert hall.opened == short.instant(opening)
        assert hall.clock.paced
        took = await _play_to_the_end(hall)

    paced_part = (short.end - opening).total_seconds()
    assert took >= 0.9 * paced_part / speed  # only what follows the opening is paced
    assert took < 0.9 * (short.end - short.start).total_seconds() / speed
    assert _log(await _demo_log(tmp_path)) == _log(unpaced.events)


async def test_a_held_demo_stands_at_its_opening_as_a_replay_had_it(
    short: Scenario, tmp_path: Path
) -> None:
    """By default a demo opens at the scenario's demo_from with everything before it done —
    exactly the replay's hall at that instant — and, held, nothing moves after."""
    unpaced = await play_offline(short, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    opened = short.instant(short.opening)
    assert short.opening > short.start
    async with demo_hall(short, directory=tmp_path, speed=60.0, hold=True) as hall:
        assert hall.opened == opened
        due = sum(1 for step in short.steps if short.instant(step.at) <= opened)
        assert hall.progress.played == due
        await asyncio.sleep(0.05)  # held: 3 hub seconds at ×60 would show if the clock ran
        assert hall.clock.now() == opened
    before = [e for e in unpaced.events if e.at <= opened]
    assert _log(await _demo_log(tmp_path)) == _log(before)


async def test_a_commanders_own_case_is_escalated_on_time_while_the_script_waits(
    tmp_path: Path,
) -> None:
    """Deadlines made by someone else's command wake the player: the breach is exact."""
    scenario = loads(
        """
[scenario]
name = "quiet"
date = 2026-11-23
start = "10:00"
end = "11:00"

[[step]]
at = "10:50"
do = "intake"
case = "late"
kind = "event"
category = "E0101"
source = "video"
title = "垃圾"
grid = "310115001001"
"""
    )
    async with demo_hall(scenario, directory=tmp_path, speed=600.0) as hall:
        from backend_client.client import HubClient

        async with HubClient.connected(hall.url, hall.token) as client:
            ack = await client.send(
                Intake(
                    id="own-1",
                    kind=Kind.EVENT,
                    category="E0401",  # road collapse: urgent, accept within 5 minutes
                    source=Source.PATROL,
                    title="路面塌陷",
                    grid="310115001002",
                )
            )
            assert ack.case is not None
            case_id = ack.case
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10 * UNIT
            while client.mirror.cases[case_id].level == "community":
                assert loop.time() < deadline, "the case was never escalated"
                await asyncio.sleep(0.02)
            created = next(
                e.at for e in await client.history(case_id) if e.type is EventType.CASE_CREATED
            )
            escalated = next(
                e.at for e in await client.history(case_id) if e.type is EventType.ESCALATED
            )
    assert escalated - created == timedelta(minutes=5)


def test_sim_clock_holds_flows_and_never_goes_back() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    clock = SimClock(start, speed=1e6)
    assert clock.now() == start  # held at the start until the player lets it run
    clock.run_until(start + timedelta(minutes=5))
    later = clock.now()
    assert start <= later <= start + timedelta(minutes=5)
    import time

    time.sleep(0.01)  # 10 ms at a million times is hours: the horizon stops it
    assert clock.now() == start + timedelta(minutes=5)
    clock.hold(start)  # asked to go back: it stays where it is
    assert clock.now() == start + timedelta(minutes=5)
    unpaced = SimClock(start, paced=False)
    unpaced.run_until(start + timedelta(hours=1))
    assert unpaced.now() == start  # unpaced time only jumps
    unpaced.hold(start + timedelta(hours=1))
    assert unpaced.now() == start + timedelta(hours=1)


async def test_a_step_naming_a_stranger_is_refused_before_anything_plays(
    sqlite_url: str,
) -> None:
    bad = loads(
        """
[scenario]
name = "bad"
date = 2026-11-23
start = "10:00"

[[step]]
at = "10:01"
do = "intake"
case = "c"
kind = "event"
category = "E0101"
source = "patrol"
title = "x"

[[step]]
at = "10:02"
do = "acknowledge"
case = "c"
by = "S999"
"""
    )
    with pytest.raises(ScenarioError, match="S999"):
        await play_offline(bad, sqlite_url)
    store = await Store.open(sqlite_url, migrate=False)
    try:
        assert await store.events_after(0) == []
    finally:
        await store.close()


def test_an_unpaced_sim_clock_paces_from_where_it_stands() -> None:
    """The demo plays its morning unpaced, then paces: time it jumped is not caught up."""
    import time
    from datetime import UTC, datetime

    start = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    clock = SimClock(start, speed=1000.0, paced=False)
    opening = start + timedelta(hours=10)
    clock.hold(opening)  # the morning, played at once
    clock.pace()
    assert clock.paced and clock.now() == opening  # held there until the player lets it run
    assert clock.real_seconds_until(opening + timedelta(seconds=100)) <= 0.1
    clock.run_until(None)
    time.sleep(0.01)
    assert opening < clock.now() < opening + timedelta(minutes=5)


def test_sim_clock_catches_up_after_the_player_held_it() -> None:
    """A slow burst of steps holds time still; afterwards the clock is back on its schedule
    instead of carrying the delay into the rest of the day."""
    import time
    from datetime import UTC, datetime

    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    clock = SimClock(start, speed=1000.0)
    clock.run_until(start + timedelta(hours=1))
    time.sleep(0.01)
    clock.hold(start)  # the player works on an instant already passed: it holds "now"…
    held = clock.now()
    time.sleep(0.03)  # …for 30 hub seconds at this speed
    assert clock.now() == held
    clock.run_until(start + timedelta(hours=1))
    assert clock.now() - start >= timedelta(seconds=40)  # 10 ms + 30 ms, on schedule
