"""What a correct hub never does on demand — a gap in the live stream, a command left
unanswered, a connection cut while a command waits — played by a scripted peer that speaks the
protocol frame by frame, so the client's side of each rule can be checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from client_fixtures import running_client
from server_fixtures import UNIT
from websockets.asyncio.server import ServerConnection, serve

from backend_client import CommandTimeout, ConnectionState, NotConnected
from dispatch.commands import Note
from dispatch.events import Event, EventType, case_fields
from dispatch.models import Case, Kind, Role, Source, Status, Urgency
from dispatch.protocol import (
    Events,
    Hello,
    Snapshot,
    Welcome,
    decode_client,
    encode,
)

AT = datetime(2025, 3, 4, 1, 12, 5, tzinfo=UTC)
CASE = Case(
    id="2503040001", kind=Kind.EVENT, category="0201", source=Source.PATROL,
    urgency=Urgency.GENERAL, status=Status.REPORTED, title="路边堆放垃圾", reported_at=AT,
)  # fmt: skip

Script = Callable[[ServerConnection, int], Awaitable[None]]


class ScriptedHub:
    """Answers each connection's hello with ``script(ws, n)`` (n counts connections from 1)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.hellos: list[Hello] = []
        self.connected = asyncio.Event()

    async def handle(self, ws: ServerConnection) -> None:
        hello = decode_client(await ws.recv())
        assert isinstance(hello, Hello)
        self.hellos.append(hello)
        self.connected.set()
        await self.script(ws, len(self.hellos))


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[tuple[ScriptedHub, str]]:
    hub = ScriptedHub(script)
    async with serve(hub.handle, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield hub, f"ws://127.0.0.1:{port}"


def welcome(seq: int, resync: str) -> bytes:
    return encode(
        Welcome(protocol=1, operator="op", role=Role.COMMANDER, unit=None, hub_time=AT, seq=seq,
                resync=resync)
    )  # fmt: skip


def creation(seq: int) -> bytes:
    event = Event(
        seq=seq, at=AT, actor="op", type=EventType.CASE_CREATED, case=CASE.id,
        changes=case_fields(CASE),
    )  # fmt: skip
    return encode(Events(events=[event]))


def noted(seq: int, case: str = CASE.id) -> bytes:
    event = Event(seq=seq, at=AT, actor="op", type=EventType.NOTED, case=case, reason="x")
    return encode(Events(events=[event]))


async def hold(ws: ServerConnection) -> None:
    """Read and drop frames until the client goes."""
    async for _ in ws:
        pass


async def test_a_gap_in_live_events_reconnects_from_the_last_applied_seq() -> None:
    async def script(ws: ServerConnection, n: int) -> None:
        if n == 1:
            await ws.send(welcome(0, "snapshot"))
            await ws.send(encode(Snapshot(seq=0, chunk=1, chunks=1)))
            await ws.send(creation(1))
            await ws.send(noted(3))  # seq 2 never came
        else:
            await ws.send(welcome(2, "events"))
            await ws.send(noted(2))
        await hold(ws)

    async with (
        scripted(script) as (hub, url),
        running_client(url, "token") as (client, seen, _),
    ):
        await seen.until(lambda: len(hub.hellos) == 2 and client.state is ConnectionState.LIVE)
        assert [h.last_seq for h in hub.hellos] == [None, 1]
        assert client.mirror.seq == 2
        assert any("out of sequence" in d for s, d in seen.states)
        assert seen.snapshots == 1


async def test_an_event_on_an_unknown_case_makes_the_next_hello_ask_for_a_snapshot() -> None:
    async def script(ws: ServerConnection, n: int) -> None:
        await ws.send(welcome(0, "snapshot"))
        await ws.send(encode(Snapshot(seq=0, chunk=1, chunks=1)))
        if n == 1:
            await ws.send(noted(1, case="nobody"))
        await hold(ws)

    async with (
        scripted(script) as (hub, url),
        running_client(url, "token") as (client, seen, _),
    ):
        await seen.until(lambda: len(hub.hellos) == 2 and client.state is ConnectionState.LIVE)
        assert [h.last_seq for h in hub.hellos] == [None, None]


async def test_a_command_without_answer_times_out_and_the_client_stays_live() -> None:
    async def script(ws: ServerConnection, n: int) -> None:
        await ws.send(welcome(0, "snapshot"))
        await ws.send(encode(Snapshot(seq=0, chunk=1, chunks=1)))
        await hold(ws)

    async with (
        scripted(script) as (_, url),
        running_client(url, "token", command_timeout=UNIT / 10) as (client, _, _),
    ):
        await client.wait_live(UNIT * 5)
        note = Note(id=client.new_id(), case=CASE.id, version=1, reason="x")
        with pytest.raises(CommandTimeout, match="same id"):
            await client.send(note)
        assert client.state is ConnectionState.LIVE


async def test_a_connection_lost_while_waiting_says_resend_with_the_same_id() -> None:
    got_command = asyncio.Event()

    async def script(ws: ServerConnection, n: int) -> None:
        await ws.send(welcome(0, "snapshot"))
        await ws.send(encode(Snapshot(seq=0, chunk=1, chunks=1)))
        if n == 1:
            await ws.recv()
            got_command.set()
            await ws.close(1011, "crashed")
        await hold(ws)

    async with (
        scripted(script) as (hub, url),
        running_client(url, "token") as (client, seen, _),
    ):
        await client.wait_live(UNIT * 5)
        note = Note(id=client.new_id(), case=CASE.id, version=1, reason="x")
        with pytest.raises(NotConnected, match="may or may not have applied"):
            await client.send(note)
        assert got_command.is_set()
        await seen.until(lambda: len(hub.hellos) == 2 and client.state is ConnectionState.LIVE)
        assert [s for s, _ in seen.states].count(ConnectionState.DISCONNECTED) >= 1
