"""The hand-over on the hub: the outgoing commander's note and the incoming commander's
acknowledgement are events in the log; bad windows and the wrong roles are refused and change
nothing; ``events_window`` reads exactly the events of a time window (found by bisecting the
log on ``at``), pages, filters by type, and is refused to an observer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from server_fixtures import RunningHub, TestClient, running_hub

from dispatch.commands import HandoverAck, HandoverNote, Note, ShiftChange
from dispatch.errors import ErrorCode
from dispatch.events import EventType
from dispatch.models import Role, Shift
from dispatch.protocol import Ack, Error, Window, WindowRequest, encode

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class StepClock:
    """Hub time that moves only when the test says so."""

    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(3600)  # the ticker waits; the test moves time by hand


@pytest.fixture
def clock() -> StepClock:
    return StepClock(START)


@pytest.fixture
async def hub(db_url: str, clock: StepClock) -> AsyncIterator[RunningHub]:
    """A hub on SQLite and, with GRIDDESK_TEST_PG set, the same tests on PostgreSQL."""
    async with running_hub(db_url, clock=clock) as running:
        yield running


async def ask(client: TestClient, request: WindowRequest) -> Window | Error:
    await client.send(encode(request).decode())
    while True:
        message = await client.recv()
        if isinstance(message, Window | Error) and getattr(message, "id", None) == request.id:
            return message
        if isinstance(message, Error) and message.command == request.id:
            return message


async def test_note_and_ack_are_events_in_the_log(hub: RunningHub, clock: StepClock) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        clock.at = START + timedelta(hours=9)
        _, ack = await client.execute(HandoverNote(id="n1", text="青石路供水管仍关闭，20:00 回电"))
        assert isinstance(ack, Ack) and ack.case is None
        clock.at = START + timedelta(hours=9, minutes=30)
        ack_cmd = HandoverAck(
            id="k1", since=START, until=clock.at, outgoing="张指挥", digest="0123456789abcdef"
        )
        _, ack = await client.execute(ack_cmd)
        assert isinstance(ack, Ack)
    stored = await hub.store.events_after(0)
    note, taken = stored[-2], stored[-1]
    assert (note.type, note.reason, note.actor) == (
        EventType.HANDOVER_NOTED,
        "青石路供水管仍关闭，20:00 回电",
        "op-commander",
    )
    assert taken.type is EventType.HANDOVER_ACKNOWLEDGED
    assert taken.data["outgoing"] == "张指挥" and taken.data["digest"] == "0123456789abcdef"
    assert taken.data["since"] == "2026-11-23T08:00:00Z"
    assert taken.at == START + timedelta(hours=9, minutes=30)


@pytest.mark.parametrize(
    ("since", "until", "detail"),
    [
        (START + timedelta(hours=2), START + timedelta(hours=1), "handover_window"),
        (START, START + timedelta(hours=5), "handover_in_future"),
        (START - timedelta(days=4), START, "handover_too_long"),
    ],
)
async def test_a_bad_window_is_refused_and_changes_nothing(
    hub: RunningHub, since: datetime, until: datetime, detail: str
) -> None:
    before = hub.engine.seq
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        bad = HandoverAck(id="bad", since=since, until=until, outgoing="张指挥")
        _, answer = await client.execute(bad)
    assert isinstance(answer, Error)
    assert (answer.code, answer.detail) == (ErrorCode.INVALID, detail)
    assert hub.engine.seq == before


async def test_an_observer_may_neither_acknowledge_nor_read_the_window(hub: RunningHub) -> None:
    before = hub.engine.seq
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.OBSERVER])
        await client.snapshot()
        ack = HandoverAck(id="o1", since=START - timedelta(hours=1), until=START, outgoing="x")
        _, answer = await client.execute(ack)
        assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN
        _, answer = await client.execute(HandoverNote(id="o2", text="x"))
        assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN
        window = await ask(client, WindowRequest(id="w1", since=START - timedelta(hours=8)))
        assert isinstance(window, Error)
        assert (window.code, window.detail) == (ErrorCode.FORBIDDEN, "role_may_not")
    assert hub.engine.seq == before


async def test_the_window_holds_exactly_the_events_between_its_times(
    hub: RunningHub, clock: StepClock
) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        cases = []
        for hour in range(6):  # one case an hour, 08:00 .. 13:00
            clock.at = START + timedelta(hours=hour)
            _, ack = await client.execute(hub.intake(hour))
            assert isinstance(ack, Ack) and ack.case is not None
            cases.append(ack.case)
        clock.at = START + timedelta(hours=6)
        _, ack = await client.execute(ShiftChange(id="s1", to=Shift.STANDBY))
        assert isinstance(ack, Ack)
        clock.at = START + timedelta(hours=7)
        _, ack = await client.execute(Note(id="n1", case=cases[0], version=1, reason="x"))
        assert isinstance(ack, Ack)

        since, until = START + timedelta(hours=2), START + timedelta(hours=4)
        window = await ask(client, WindowRequest(id="w1", since=since, until=until))
        assert isinstance(window, Window) and not window.more
        stored = await hub.store.events_after(0)
        expected = [e for e in stored if since <= e.at <= until]
        assert window.events == expected
        assert {e.case for e in window.events} == set(cases[2:5])
        assert (window.first, window.last) == (expected[0].seq, expected[-1].seq)

        # Only the asked types; no until: up to hub time now.
        only = WindowRequest(id="w2", since=START, types=(EventType.SHIFT_CHANGED,))
        window = await ask(client, only)
        assert isinstance(window, Window)
        assert [e.type for e in window.events] == [EventType.SHIFT_CHANGED]
        assert window.until == clock.at

        # A window after the last event is empty, not an error.
        later = WindowRequest(id="w3", since=START + timedelta(days=1))
        window = await ask(client, later)
        assert isinstance(window, Window) and window.events == [] and window.first > window.last


async def test_a_long_window_comes_in_pages_that_the_client_joins(
    hub: RunningHub, clock: StepClock
) -> None:
    from backend_client import HubClient
    from dispatch import protocol

    protocol_page = protocol.WINDOW_PAGE
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        for n in range(5):
            _, ack = await client.execute(hub.intake(n))
            assert isinstance(ack, Ack)
    # A small page makes five events three pages.
    import hub.server as server_module

    server_module.WINDOW_PAGE = 2  # type: ignore[misc]
    try:
        async with HubClient.connected(hub.url, hub.tokens[Role.COMMANDER], timeout=5) as c:
            until, events, cut = await c.events_window(START - timedelta(hours=1))
            assert not cut and until == clock.at
            assert [e.seq for e in events] == [e.seq for e in await hub.store.events_after(0)]
            _, events, cut = await c.events_window(START - timedelta(hours=1), most=3)
            assert cut and len(events) == 3
    finally:
        server_module.WINDOW_PAGE = protocol_page  # type: ignore[misc]


async def test_the_demo_day_hands_over_at_17_30(sqlite_url: str) -> None:
    """``griddesk demo``'s scripted day: the day desk writes its note before 17:30, the roster
    goes to standby at 17:30, and the standby desk acknowledges the day shift's report then."""
    from console.demo import DEFAULT_SCENARIO, read_scenario
    from hub.replay import play_offline

    day = read_scenario(DEFAULT_SCENARIO)
    outcome = await play_offline(day, sqlite_url)
    assert outcome.refused == []
    at = day.instant(timedelta(hours=17, minutes=30))
    note = [e for e in outcome.events if e.type is EventType.HANDOVER_NOTED and e.at < at]
    assert note and at - note[-1].at <= timedelta(minutes=10)
    [change] = [e for e in outcome.events if e.type is EventType.SHIFT_CHANGED and e.at == at]
    [ack] = [e for e in outcome.events
             if e.type is EventType.HANDOVER_ACKNOWLEDGED and e.at == at]  # fmt: skip
    assert ack.seq > change.seq > note[-1].seq
    assert ack.data["since"] == msgspec.to_builtins(day.instant(timedelta(hours=8, minutes=30)))
    assert ack.data["until"] == msgspec.to_builtins(at)


async def test_a_time_without_its_offset_is_refused_at_decoding(hub: RunningHub) -> None:
    before = hub.engine.seq
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        naive = ('{"type":"command","command":{"op":"handover_ack","id":"k9",'
                 '"since":"2026-11-23T08:30:00","until":"2026-11-23T09:00:00Z","outgoing":"x"}}')
        await client.send(naive)
        answer = await client.expect(Error)
        assert (answer.code, answer.command) == (ErrorCode.INVALID, "k9")
        await client.send('{"type":"events_window","id":"w9","since":"2026-11-23T08:30:00"}')
        answer = await client.expect(Error)
        assert (answer.code, answer.command) == (ErrorCode.INVALID, "w9")
    assert hub.engine.seq == before
