"""The hub over real websockets: greeting and auth, snapshot, live fan-out, resume,
idempotency and conflicts between two consoles — a real store, engine and server each time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from server_fixtures import (
    UNIT,
    RunningHub,
    TestClient,
    events_in,
    running_hub,
    sqlite_url_in,
)
from websockets.asyncio.client import connect

from dispatch.commands import Accept
from dispatch.config import HubSettings
from dispatch.errors import ErrorCode
from dispatch.events import EventType
from dispatch.models import Role
from dispatch.protocol import Ack, Error, Events, Pong, Snapshot, Welcome, decode_hub
from hub.demo_city import demo_city


@pytest.fixture
async def hub(db_url: str) -> AsyncIterator[RunningHub]:
    """A hub on SQLite and, with GRIDDESK_TEST_PG set, the same tests on PostgreSQL."""
    async with running_hub(db_url) as running:
        yield running


async def test_a_bad_token_gets_one_error_and_a_4001_close(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.send('{"type":"hello","protocol":1,"token":"not-a-token"}')
        code, frames = await client.closed()
    assert code == 4001
    assert len(frames) == 1
    assert isinstance(frames[0], Error) and frames[0].code is ErrorCode.UNAUTHENTICATED


async def test_a_command_before_hello_is_unauthenticated(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.command(hub.intake(1))
        code, frames = await client.closed()
    assert code == 4001
    assert [f.code for f in frames if isinstance(f, Error)] == [ErrorCode.UNAUTHENTICATED]
    assert await hub.store.last_seq() == 0


async def test_another_protocol_version_is_refused(hub: RunningHub) -> None:
    token = hub.tokens[Role.COMMANDER]
    async with TestClient.connect(hub.url) as client:
        await client.send(f'{{"type":"hello","protocol":99,"token":"{token}"}}')
        code, frames = await client.closed()
    assert code == 4002
    assert [f.code for f in frames if isinstance(f, Error)] == [ErrorCode.PROTOCOL_VERSION]


async def test_a_silent_client_is_dropped_after_the_hello_timeout(tmp_path: Path) -> None:
    async with (
        running_hub(sqlite_url_in(tmp_path), hello_timeout=UNIT / 4) as hub,
        TestClient.connect(hub.url) as client,
    ):
        code, frames = await client.closed()
    assert code == 4001
    assert [f.code for f in frames if isinstance(f, Error)] == [ErrorCode.UNAUTHENTICATED]


async def test_welcome_then_a_snapshot_of_the_seeded_city(tmp_path: Path) -> None:
    hub_settings = HubSettings(snapshot_chunk=2)
    async with running_hub(sqlite_url_in(tmp_path), hub_settings) as hub:
        commander = hub.tokens[Role.COMMANDER]
        async with TestClient.connect(hub.url) as writer:
            await writer.hello(commander)
            await writer.snapshot()
            for n in range(5):
                _, ack = await writer.execute(hub.intake(n))
                assert isinstance(ack, Ack)
        async with TestClient.connect(hub.url) as client:
            welcome = await client.hello(hub.tokens[Role.OBSERVER])
            chunks = await client.snapshot()
    assert welcome.operator == "op-observer" and welcome.role is Role.OBSERVER
    assert welcome.resync == "snapshot" and welcome.seq == hub.engine.seq
    assert welcome.hub_time.utcoffset() is not None
    city = demo_city()
    assert [c.chunk for c in chunks] == [1, 2, 3] and {c.chunks for c in chunks} == {3}
    assert {c.seq for c in chunks} == {welcome.seq}
    assert {a.code for a in chunks[0].areas} == {a.code for a in city.areas}
    assert {u.id for u in chunks[0].units} == {u.id for u in city.units}
    assert {s.id for s in chunks[0].staff} == {s.id for s in city.staff}
    assert all(not c.areas and not c.units and not c.staff for c in chunks[1:])
    cases = [case for chunk in chunks for case in chunk.cases]
    assert sorted(c.id for c in cases) == sorted(c.id for c in await hub.store.all_cases())
    assert len(cases) == 5


async def test_healthz_answers_with_the_seq(hub: RunningHub) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), UNIT)
    writer.close()
    assert response.startswith(b"HTTP/1.1 200")
    assert response.endswith(b"ok seq=0\n")


async def test_ping_gets_the_hub_time(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.OBSERVER])
        await client.snapshot()
        await client.send('{"type":"ping"}')
        pong = await client.expect(Pong)
    assert abs((pong.hub_time - hub.engine.clock.now()).total_seconds()) < UNIT


async def test_a_command_reaches_the_other_console_and_its_sender_sees_events_first(
    hub: RunningHub,
) -> None:
    async with (
        TestClient.connect(hub.url) as a,
        TestClient.connect(hub.url) as b,
    ):
        await a.hello(hub.tokens[Role.COMMANDER])
        await a.snapshot()
        await b.hello(hub.tokens[Role.OBSERVER])
        await b.snapshot()
        before, ack = await a.execute(hub.intake(1))
        assert isinstance(ack, Ack)
        assert [e.seq for e in events_in(before)] == list(range(1, ack.seq + 1))
        _, frame = await b.until(Events)
    created = frame.events[0]
    assert created.type is EventType.CASE_CREATED and created.case == ack.case
    assert created.changes["title"] == "case 1"


async def test_a_resumed_client_gets_exactly_the_missed_events(hub: RunningHub) -> None:
    commander = hub.tokens[Role.COMMANDER]
    async with TestClient.connect(hub.url) as a:
        await a.hello(commander)
        await a.snapshot()
        _, first = await a.execute(hub.intake(1))
        assert isinstance(first, Ack)
        seen = first.seq
        for n in range(2, 5):  # while the other console is away
            _, ack = await a.execute(hub.intake(n))
            assert isinstance(ack, Ack)
        async with TestClient.connect(hub.url) as b:
            welcome = await b.hello(hub.tokens[Role.OBSERVER], last_seq=seen)
            _, missed_frame = await b.until(Events)
            missed = [e.seq for e in missed_frame.events]
            # and the live stream goes on from there, with no gap and no repeat
            _, live_ack = await a.execute(hub.intake(5))
            assert isinstance(live_ack, Ack)
            _, live = await b.until(Events)
    assert welcome.resync == "events" and welcome.seq == ack.seq
    assert not any(isinstance(f, Snapshot) for f in b.seen)
    assert missed == list(range(seen + 1, ack.seq + 1))
    assert [e.seq for e in live.events] == list(range(ack.seq + 1, live_ack.seq + 1))


async def test_a_client_claiming_a_future_seq_gets_a_snapshot(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        welcome = await client.hello(hub.tokens[Role.OBSERVER], last_seq=1000)
        chunks = await client.snapshot()
    assert welcome.resync == "snapshot"
    assert chunks[0].seq == hub.engine.seq == 0


async def test_a_retried_command_applies_once(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        command = hub.intake(1)
        _, first = await client.execute(command)
        seq_after_first = await hub.store.last_seq()
        before, second = await client.execute(command)
    assert isinstance(first, Ack) and isinstance(second, Ack)
    assert not first.replayed and second.replayed
    assert second.case == first.case and second.seq == first.seq
    assert events_in(before) == []
    assert await hub.store.last_seq() == seq_after_first
    assert len(await hub.store.all_cases()) == 1


async def test_two_consoles_on_one_version_one_wins(hub: RunningHub) -> None:
    async with (
        TestClient.connect(hub.url) as a,
        TestClient.connect(hub.url) as b,
    ):
        await a.hello(hub.tokens[Role.COMMANDER])
        await a.snapshot()
        await b.hello(hub.tokens[Role.DISPATCHER])
        await b.snapshot()
        _, created = await a.execute(hub.intake(1))
        assert isinstance(created, Ack) and created.case and created.version
        case, version = created.case, created.version
        replies = await asyncio.gather(
            a.execute(Accept(id="accept-a", case=case, version=version)),
            b.execute(Accept(id="accept-b", case=case, version=version)),
        )
    outcomes = [reply for _, reply in replies]
    (won,) = [r for r in outcomes if isinstance(r, Ack)]
    (lost,) = [r for r in outcomes if isinstance(r, Error)]
    assert lost.code is ErrorCode.CONFLICT
    # The loser is told who changed the case and what it is now, in words it can localise …
    winner = "op-commander" if won.command == "accept-a" else "op-dispatcher"
    assert (lost.detail, lost.params) == (
        "version_conflict_by",
        {"case": case, "version": version + 1, "status": "accepted", "expected": version,
         "by": winner},
    )  # fmt: skip
    assert winner in lost.message
    # … and its command changed nothing: one accept, written once.
    stored = {c.id: c for c in await hub.store.all_cases()}
    assert stored[case].version == version + 1
    assert await hub.store.last_seq() == won.seq == hub.engine.seq
    events = await hub.store.case_events(case)
    assert [e.command for e in events if e.type is EventType.ACCEPTED] == [won.command]


async def test_greeting_refusals_carry_their_detail(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.send('{"type":"hello","protocol":1,"token":"not-a-token"}')
        _, frames = await client.closed()
    assert [(f.detail, f.params) for f in frames if isinstance(f, Error)] == [("bad_token", {})]
    token = hub.tokens[Role.COMMANDER]
    async with TestClient.connect(hub.url) as client:
        await client.send(f'{{"type":"hello","protocol":99,"token":"{token}"}}')
        _, frames = await client.closed()
    errors = [(f.detail, f.params) for f in frames if isinstance(f, Error)]
    assert errors == [("protocol_version", {"protocol": 1, "expected": 99})]


async def test_observers_receive_but_their_commands_are_forbidden(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.OBSERVER])
        await client.snapshot()
        _, reply = await client.execute(hub.intake(1))
    assert isinstance(reply, Error) and reply.code is ErrorCode.FORBIDDEN
    assert reply.command == "intake-1"
    assert (reply.detail, reply.params) == ("role_may_not", {"role": "observer", "op": "intake"})
    assert await hub.store.last_seq() == 0


async def test_closing_the_server_closes_clients_with_going_away(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        ws = await connect(hub.url, compression=None)
        await ws.send(f'{{"type":"hello","protocol":1,"token":"{hub.tokens[Role.OBSERVER]}"}}')
        assert isinstance(decode_hub(await ws.recv()), Welcome)
        assert hub.server.clients == 1
    await asyncio.wait_for(ws.wait_closed(), UNIT)
    assert ws.close_code == 1001
