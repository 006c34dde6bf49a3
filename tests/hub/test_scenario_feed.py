"""Feeding a scenario into a running hub through the client library (``griddesk replay``):
each step at its hub time, case names mapped to the hub's ids, refusals reported without
stopping, a lost connection waited out with no step applied twice, and a bad scenario refused
before anything is sent. The hubs run on a fast virtual clock, so scripted minutes pass in
fractions of a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from server_fixtures import UNIT, RunningHub, running_hub, sqlite_url_in
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from backend_client import HubClient
from backend_client.scenario_feed import FeedAborted, Outcome, StepResult, feed, read_scenario
from dispatch.commands import Reject
from dispatch.config import HubSettings
from dispatch.errors import ErrorCode
from dispatch.events import Event, EventType
from dispatch.models import Field, Role, Status
from dispatch.protocol import Ack, decode_hub
from dispatch.scenario import ScenarioError, loads
from hub.clock import VirtualClock

HUB_START = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)
"""A Tuesday, 09:00 in the hall's time zone: inside working hours."""

HEADER = """\
[scenario]
name = "{name}"
date = 2025-03-04
start = "09:00"
"""

GRID = "310115001001"  # 梧桐苑网格, answered for by jw-1

# Two cases and a roster change over three scripted minutes.
MORNING = (
    HEADER.format(name="morning")
    + f"""
[[step]]
at = "09:00"
do = "intake"
case = "garbage"
kind = "event"
category = "E0101"
source = "patrol"
title = "梧桐路暴露垃圾"
grid = "{GRID}"

[[step]]
at = "09:00:30"
do = "intake"
case = "vendor"
kind = "event"
category = "E0501"
source = "patrol"
title = "桐荫广场占道经营"
grid = "{GRID}"

[[step]]
at = "09:01"
do = "accept"
case = "garbage"

[[step]]
at = "09:01:30"
do = "dispatch"
case = "garbage"
by = "hall"
unit = "jw-1"
staff = "S010"

[[step]]
at = "09:02"
do = "staff_status"
staff = "S005"
field = "en_route"

[[step]]
at = "09:02:30"
do = "acknowledge"
case = "garbage"
by = "jw-1"

[[step]]
at = "09:03"
do = "accept"
case = "vendor"
"""
)


# --- a hub on a fast clock, and clients of it ------------------------------------------------


def fast_hub(
    url: str, speed: float, *, seed: bool = True
) -> AbstractAsyncContextManager[RunningHub]:
    """A hub with the demo city over the store at ``url``, its clock at ``speed``× from
    :data:`HUB_START`."""
    clock = VirtualClock(HUB_START, speed)
    return running_hub(url, HubSettings(tick_seconds=0.05), seed=seed, clock=clock)


@asynccontextmanager
async def live_client(url: str, token: str) -> AsyncIterator[HubClient]:
    options = {"backoff_min": 0.05, "backoff_max": 0.2, "command_timeout": UNIT * 2}
    async with HubClient.connected(url, token, timeout=UNIT * 5, **options) as client:
        yield client


async def until(client: HubClient, condition: Callable[[], bool], within: float = UNIT * 5) -> None:
    """Wait until ``condition()`` holds, looking again at each events frame the client applies."""
    wake = asyncio.Event()
    client.on_change(lambda _: wake.set())
    async with asyncio.timeout(within):
        while not condition():
            wake.clear()
            await wake.wait()


async def log_of(hub: RunningHub) -> list[Event]:
    return await hub.store.events_after(0, 100_000)


def by_command(events: list[Event]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {}
    for event in events:
        if event.command is not None:
            out.setdefault(event.command, []).append(event)
    return out


# --- timing and ids --------------------------------------------------------------------------


async def test_steps_reach_the_hub_in_order_at_their_hub_times(tmp_path: Path) -> None:
    speed = 120.0  # three scripted minutes in 1.5 s
    scenario = loads(MORNING)
    async with (
        fast_hub(sqlite_url_in(tmp_path), speed) as hub,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as client,
    ):
        began = time.monotonic()
        report = await feed(client, scenario)
        elapsed = time.monotonic() - began
        events = by_command(await log_of(hub))

    assert [r.outcome for r in report.results] == [Outcome.APPLIED] * len(scenario.steps)
    assert report.speed == speed
    # The hub's own record of each step: its first event, stamped by the hub clock.
    firsts = [events[r.command_id][0] for r in report.results if r.command_id]
    assert [e.seq for e in firsts] == sorted(e.seq for e in firsts)
    assert [e.type for e in firsts] == [
        EventType.CASE_CREATED, EventType.CASE_CREATED, EventType.ACCEPTED,
        EventType.DISPATCHED, EventType.STAFF_CHANGED, EventType.ACKNOWLEDGED,
        EventType.ACCEPTED,
    ]  # fmt: skip
    early = timedelta(seconds=speed * 0.05)  # the client's estimate of hub time may lead a bit
    late = timedelta(seconds=speed * UNIT / 4)
    for step, event in zip(scenario.steps, firsts, strict=True):
        due = report.started + (step.at - scenario.start)
        assert due - early <= event.at <= due + late, f"{step.where} at {event.at}, due {due}"
    # Hub minutes, real seconds: the script's three minutes took about 180 / speed seconds.
    span = (scenario.steps[-1].at - scenario.start).total_seconds() / speed
    assert span * 0.9 <= elapsed <= span + UNIT


async def test_case_names_map_to_the_hubs_ids_and_versions_follow_the_mirror(
    tmp_path: Path,
) -> None:
    seen: list[StepResult] = []
    async with (
        fast_hub(sqlite_url_in(tmp_path), 600.0) as hub,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as client,
    ):
        report = await feed(client, loads(MORNING), on_step=seen.append)
        cases = dict(hub.engine.cases)
        person = next(s for s in hub.engine.snapshot().staff if s.id == "S005")

    assert seen == report.results
    assert set(report.cases) == {"garbage", "vendor"}
    garbage, vendor = cases[report.cases["garbage"]], cases[report.cases["vendor"]]
    assert (garbage.title, vendor.title) == ("梧桐路暴露垃圾", "桐荫广场占道经营")
    assert garbage.status is Status.ACKNOWLEDGED
    assert (garbage.owner_unit, garbage.owner_staff) == ("jw-1", "S010")
    assert vendor.status is Status.ACCEPTED
    assert person.field is Field.EN_ROUTE
    # Every case step went to its case's hub id, each at the version it had then.
    for result in report.results:
        assert result.attempts == 1
        if result.step.case is not None:
            assert result.case_id == report.cases[result.step.case]
            assert result.ack is not None and result.ack.case == result.case_id
    assert [r.ack.version for r in report.results if r.step.case == "garbage" and r.ack] == [
        1, 2, 3, 4,
    ]  # fmt: skip
    assert (
        report.summary() == "scenario 'morning': 7 steps, 7 applied, 0 refused, 0 skipped; 2 cases"
    )


# --- refusals --------------------------------------------------------------------------------

REFUSALS = (
    HEADER.format(name="refusals")
    + f"""
[[step]]
at = "09:00"
do = "intake"
case = "mismatch"
kind = "component"
category = "E0101"
source = "patrol"
title = "事件类别报成了部件"
grid = "{GRID}"

[[step]]
at = "09:00:30"
do = "accept"
case = "mismatch"

[[step]]
at = "09:01"
do = "intake"
case = "bins"
kind = "event"
category = "E0109"
source = "patrol"
title = "垃圾桶满溢"
grid = "{GRID}"

[[step]]
at = "09:01:30"
do = "accept"
case = "bins"

[[step]]
at = "09:02"
do = "intake"
case = "noise"
kind = "event"
category = "E0602"
source = "patrol"
title = "夜间施工噪声"
grid = "{GRID}"

[[step]]
at = "09:02:30"
do = "close"
case = "noise"

[[step]]
at = "09:03"
do = "accept"
case = "noise"
"""
)


async def test_refused_and_unsendable_steps_are_reported_and_the_feed_goes_on(
    tmp_path: Path,
) -> None:
    async with (
        fast_hub(sqlite_url_in(tmp_path), 600.0) as hub,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as client,
        live_client(hub.url, hub.tokens[Role.DISPATCHER]) as person,
    ):

        async def console_acts_first(result: StepResult) -> None:
            # A dispatcher at the console rejects the overflowing bin before the script
            # gets to accept it.
            if result.step.case == "bins" and result.step.do == "intake":
                assert result.case_id is not None
                await until(person, lambda: result.case_id in person.mirror.cases)
                case = person.mirror.cases[result.case_id]
                reject = Reject(id=person.new_id(), case=case.id, version=case.version,
                                reason="已由环卫当场清运")  # fmt: skip
                await person.send(reject)

        report = await feed(client, loads(REFUSALS), on_step=console_acts_first)
        cases = dict(hub.engine.cases)

    outcomes = [(r.step.case, r.step.do, r.outcome, r.code) for r in report.results]
    assert outcomes == [
        ("mismatch", "intake", Outcome.REFUSED, ErrorCode.INVALID),
        ("mismatch", "accept", Outcome.SKIPPED, None),
        ("bins", "intake", Outcome.APPLIED, None),
        ("bins", "accept", Outcome.REFUSED, ErrorCode.ILLEGAL_STEP),
        ("noise", "intake", Outcome.APPLIED, None),
        ("noise", "close", Outcome.REFUSED, ErrorCode.ILLEGAL_STEP),
        ("noise", "accept", Outcome.APPLIED, None),
    ]
    assert "'mismatch' was never created" in report.results[1].message
    assert "cannot accept a case that is rejected" in report.results[3].line()
    assert (report.applied, report.refused, report.skipped) == (3, 3, 1)
    assert report.cases.keys() == {"bins", "noise"}
    assert cases[report.cases["bins"]].status is Status.REJECTED
    assert cases[report.cases["noise"]].status is Status.ACCEPTED


# --- a lost connection -----------------------------------------------------------------------


class DroppingProxy:
    """Relays frames between clients and the hub, but once cuts the client off instead of
    passing on the ack of its ``drop_ack``-th command — the hub applied it, the client
    cannot know."""

    def __init__(self, upstream: str, drop_ack: int) -> None:
        self.upstream = upstream
        self.drop_ack = drop_ack
        self.acks = 0
        self.dropped: Ack | None = None
        self.connections = 0

    async def handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        async with connect(self.upstream, compression=None, max_size=None) as hub:

            async def up() -> None:
                async for frame in ws:
                    await hub.send(frame)

            async def down() -> None:
                async for frame in hub:
                    message = decode_hub(frame)
                    if isinstance(message, Ack):
                        self.acks += 1
                        if self.dropped is None and self.acks == self.drop_ack:
                            self.dropped = message
                            await ws.close(1011, "proxy lost the line")
                            return
                    await ws.send(frame)

            tasks = {asyncio.create_task(up()), asyncio.create_task(down())}
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with suppress(asyncio.CancelledError, ConnectionClosed):
                        await task


async def test_a_connection_lost_mid_feed_is_waited_out_and_no_step_applies_twice(
    tmp_path: Path,
) -> None:
    scenario = loads(MORNING)
    async with fast_hub(sqlite_url_in(tmp_path), 600.0) as hub:
        proxy = DroppingProxy(hub.url, drop_ack=4)  # the dispatch of the garbage case
        async with serve(proxy.handle, "127.0.0.1", 0, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            async with live_client(f"ws://127.0.0.1:{port}", hub.tokens[Role.COMMANDER]) as client:
                report = await feed(client, scenario)
                assert client.mirror.cases == dict(hub.engine.cases)
        events = await log_of(hub)

    assert proxy.dropped is not None and proxy.connections == 2
    assert [r.outcome for r in report.results] == [Outcome.APPLIED] * len(scenario.steps)
    dispatch = report.results[3]
    assert dispatch.step.do == "dispatch"
    assert dispatch.attempts == 2 and dispatch.command_id == proxy.dropped.command
    assert dispatch.ack is not None and dispatch.ack.replayed
    assert all(r.attempts == 1 for r in report.results if r is not dispatch)
    # Applied once each: one group of events per step, the dispatch among them only once.
    groups = by_command(events)
    assert list(groups) == [r.command_id for r in report.results]
    assert [e.type for e in events].count(EventType.DISPATCHED) == 1


async def test_a_client_closed_mid_feed_stops_it_with_what_was_done(tmp_path: Path) -> None:
    async with (
        fast_hub(sqlite_url_in(tmp_path), 600.0) as hub,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as client,
    ):

        async def owner_quits(result: StepResult) -> None:
            if result.step.number == 2:
                await client.close()

        with pytest.raises(FeedAborted, match="not connected") as aborted:
            await feed(client, loads(MORNING), on_step=owner_quits)
        assert len(hub.engine.cases) == 2

    report = aborted.value.report
    assert [r.step.number for r in report.results] == [1, 2]
    assert report.cases.keys() == {"garbage", "vendor"}


# --- bad scenarios ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[scenario\nname = 1", "not valid TOML"),
        (HEADER.format(name="x") + '[[step]]\nat = "09:00"\ndo = "teleport"\n', "unknown `do`"),
        (
            HEADER.format(name="x") + '[[step]]\nat = "09:00"\ndo = "accept"\ncase = "ghost"\n',
            "has no intake step before it",
        ),
        (
            HEADER.format(name="x") + 'demo_from = "08:00"\n\n[[step]]\nat = "09:30"\n'
            'do = "intake"\ncase = "c"\nkind = "event"\ncategory = "E0101"\nsource = "patrol"\n'
            'title = "x"\n',
            r"demo_from 08:00 is outside the scenario's 09:00:00–09:30:00",
        ),
    ],
)
def test_a_bad_scenario_file_is_a_scenario_error(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=why) as raised:
        read_scenario(path)
    assert str(path) in str(raised.value)


def test_a_missing_scenario_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        read_scenario(tmp_path / "nowhere.toml")


async def test_a_scenario_for_another_city_sends_nothing(tmp_path: Path) -> None:
    elsewhere = MORNING.replace('unit = "jw-1"', 'unit = "jw-9"')
    scenario = loads(elsewhere)  # well-formed: only the hub knows jw-9 is not in its city
    async with (
        fast_hub(sqlite_url_in(tmp_path), 600.0) as hub,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as client,
    ):
        with pytest.raises(ScenarioError, match="unknown unit 'jw-9'"):
            await feed(client, scenario)
        assert await log_of(hub) == []
        assert hub.engine.cases == {}
