"""The live fan-out over real websockets: every console gets every event once, in order, its
own command's events before its ack — under a burst from many consoles, with consoles joining
and resuming in the middle of it, and a console that stops reading closed (1013) while the
others go on."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from server_fixtures import UNIT, RunningHub, TestClient, events_in, running_hub
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dispatch.config import HubSettings
from dispatch.models import Actor, Role
from dispatch.protocol import Ack, Events, Hello, Snapshot, Welcome, decode_hub, encode
from hub.connection import TRY_AGAIN_LATER
from hub.server import EVENTS_PER_FRAME

LONG = "小区门口堆放生活垃圾" * 200
"""A description at the protocol's limit (2000 characters): ~6 KB in an event."""


@pytest.fixture
async def hub(db_url: str) -> AsyncIterator[RunningHub]:
    async with running_hub(db_url) as running:
        yield running


async def _subscribed(hub: RunningHub, role: Role, last_seq: int | None = None) -> TestClient:
    """A client that has said hello and read its resync; the caller closes ``client.ws``."""
    ws = await connect(hub.url, compression=None, max_size=None, open_timeout=UNIT * 5)
    client = TestClient(ws)
    welcome = await client.hello(hub.tokens[role], last_seq=last_seq)
    if welcome.resync == "snapshot":
        await client.snapshot()
    return client


async def _stream_until(client: TestClient, start: int, last: int) -> list[int]:
    """Seqs of every event after the welcome (resync frames, then live ones), read until
    ``last``; ``start`` is where the client's mirror stood before them."""
    seqs = [e.seq for e in events_in(client.seen)]
    async with asyncio.timeout(UNIT * 10):
        while (seqs[-1] if seqs else start) < last:
            message = await client.recv(UNIT * 10)
            if isinstance(message, Events):
                seqs.extend(e.seq for e in message.events)
    return seqs


def _small_window(hub: RunningHub) -> socket.socket:
    """A socket to the hub with a small receive buffer (set before the TCP window is), so
    what a console does not read piles up in the hub, not in the kernel."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
    sock.connect(("127.0.0.1", hub.server.port))
    return sock


def _start(client: TestClient, last_seq: int | None) -> int:
    """The seq a client's event stream continues from: its snapshot's, or its last seen."""
    welcome = next(m for m in client.seen if isinstance(m, Welcome))
    if welcome.resync == "snapshot":
        return welcome.seq
    assert last_seq is not None
    return last_seq


async def test_a_burst_from_many_consoles_reaches_every_console_whole_and_in_order(
    hub: RunningHub,
) -> None:
    watchers = [await _subscribed(hub, Role.OBSERVER) for _ in range(12)]
    senders = [await _subscribed(hub, Role.COMMANDER) for _ in range(3)]
    per_sender = 40
    try:
        # Pipelined: each sender has all its commands in flight at once, and the hub's own
        # callers (an in-process submitter, like the scenario player) add theirs meanwhile.
        for s, sender in enumerate(senders):
            for n in range(per_sender):
                await sender.command(hub.intake(f"{s}-{n}"))
        actor = Actor(name=f"op-{Role.COMMANDER}", role=Role.COMMANDER)
        await asyncio.gather(
            *(hub.engine.execute(hub.intake(f"local-{n}"), actor) for n in range(per_sender))
        )
        replies = await asyncio.gather(*(_acks(sender, per_sender) for sender in senders))
        last = hub.engine.seq
        streams = await asyncio.gather(*(_stream_until(c, 0, last) for c in watchers + senders))
    finally:
        for client in watchers + senders:
            await client.ws.close()
    assert last >= 4 * per_sender
    for stream in streams:
        assert stream == list(range(1, last + 1))  # every event once, in seq order, no gap
    for sender, acks in zip(senders, replies, strict=True):
        assert len(acks) == per_sender
        # Each ack comes after every event up to its seq.
        for i, message in enumerate(sender.seen):
            if isinstance(message, Ack):
                seen = [e.seq for e in events_in(sender.seen[:i])]
                assert seen and seen[-1] >= message.seq


async def _acks(sender: TestClient, count: int) -> list[Ack]:
    acks: list[Ack] = []
    async with asyncio.timeout(UNIT * 10):
        while len(acks) < count:
            message = await sender.recv(UNIT * 10)
            assert not isinstance(message, Snapshot)
            if isinstance(message, Ack):
                acks.append(message)
    return acks


async def test_consoles_joining_and_resuming_mid_burst_see_no_gap_and_no_repeat(
    hub: RunningHub,
) -> None:
    actor = Actor(name=f"op-{Role.COMMANDER}", role=Role.COMMANDER)
    # A log long enough that replaying it takes several frames, which a client's socket
    # cannot take in at once: live frames arrive while those are still queued for it.
    await asyncio.gather(*(hub.engine.execute(hub.intake(f"old-{n}"), actor) for n in range(600)))
    joined: list[tuple[TestClient, int | None]] = []

    all_joined = asyncio.Event()

    async def burst() -> None:
        wave = 0
        while not all_joined.is_set() or wave < 15:
            await asyncio.gather(
                *(hub.engine.execute(hub.intake(f"{wave}-{n}"), actor) for n in range(5))
            )
            wave += 1

    async def join() -> None:
        # New consoles (snapshot) and returning ones (the whole log again, or a little of
        # it), registering while frames are being committed and fanned out.
        for i in range(18):
            last_seq = [None, 0, max(0, hub.engine.seq - 3)][i % 3]
            joined.append((await _subscribed(hub, Role.OBSERVER, last_seq), last_seq))
        all_joined.set()

    try:
        await asyncio.gather(burst(), join())
        last = hub.engine.seq
        starts = [_start(client, last_seq) for client, last_seq in joined]
        streams = await asyncio.gather(
            *(_stream_until(c, start, last) for (c, _), start in zip(joined, starts, strict=True))
        )
    finally:
        for client, _ in joined:
            await client.ws.close()
    assert last > 2 * EVENTS_PER_FRAME
    resumed = 0
    for (client, _), start, stream in zip(joined, starts, streams, strict=True):
        assert stream == list(range(start + 1, last + 1)), f"from {start}"
        resumed += any(isinstance(m, Welcome) and m.resync == "events" for m in client.seen)
    assert resumed == 12


async def test_live_events_wait_behind_a_long_replay_still_on_its_way(hub: RunningHub) -> None:
    actor = Actor(name=f"op-{Role.COMMANDER}", role=Role.COMMANDER)
    # More log than the sockets between hub and console hold (~4 MB): 900 ~7 KB events.
    old = [hub.intake(f"old-{n}", description=LONG) for n in range(900)]
    await asyncio.gather(*(hub.engine.execute(command, actor) for command in old))
    ws = await connect(hub.url, sock=_small_window(hub), compression=None, max_size=None)
    client = TestClient(ws)
    try:
        welcome = await client.hello(hub.tokens[Role.OBSERVER], last_seq=0)
        # The console reads nothing for a while: the replay stays queued in the hub for it,
        # and the live frames must queue behind it, not jump ahead into the socket.
        ws.transport.pause_reading()
        for n in range(20):
            await hub.engine.execute(hub.intake(f"live-{n}"), actor)
        ws.transport.resume_reading()
        last = hub.engine.seq
        stream = await _stream_until(client, 0, last)
    finally:
        await ws.close()
    assert welcome.resync == "events" and welcome.seq > 2 * EVENTS_PER_FRAME
    assert stream == list(range(1, last + 1))


async def test_a_console_that_stops_reading_is_closed_and_the_others_go_on(
    db_url: str,
) -> None:
    # Given time to complete the closing handshake once it reads again (else the hub aborts
    # the connection: tests/hub/test_stalled_client.py).
    async with running_hub(db_url, HubSettings(close_timeout=UNIT * 30)) as hub:
        await _stops_reading_then_resumes(hub)


async def _stops_reading_then_resumes(hub: RunningHub) -> None:
    watcher = await _subscribed(hub, Role.OBSERVER)
    stalled = await connect(hub.url, sock=_small_window(hub), compression=None, max_size=None)
    # A dispatcher: an observer is sent no descriptions, so its backlog would grow too slowly.
    hello = Hello(protocol=1, token=hub.tokens[Role.DISPATCHER], client="stalled")
    await stalled.send(encode(hello).decode())
    assert isinstance(decode_hub(await stalled.recv()), Welcome)
    # It stops reading: the hub's send buffer for it grows until it passes the backlog limit.
    stalled.transport.pause_reading()
    actor = Actor(name=f"op-{Role.COMMANDER}", role=Role.COMMANDER)
    try:
        async with asyncio.timeout(UNIT * 30):
            n = 0
            while hub.server.clients == 2:
                await asyncio.gather(
                    *(
                        hub.engine.execute(hub.intake(f"{n}-{k}", description=LONG), actor)
                        for k in range(200)
                    )
                )
                n += 1
        last = hub.engine.seq
        stream = await _stream_until(watcher, 0, last)
        stalled.transport.resume_reading()
        async with asyncio.timeout(UNIT * 10):
            with contextlib.suppress(ConnectionClosed):
                async for _ in stalled:  # what it was sent before the close, then the close
                    pass
    finally:
        await watcher.ws.close()
        await stalled.close()
    assert stream == list(range(1, last + 1))
    assert stalled.close_code == TRY_AGAIN_LATER
