"""A client that stops reading is let go within the documented bound (docs/PROTOCOL.md §7):
a raw socket completes the WebSocket handshake and ``hello``, then never reads, while another
client's commands make ~6 KB events flow at ~80 a second. The hub closes it (1013) once it has
taken nothing for ``hub.stall_seconds``, gives the closing handshake ``hub.close_timeout``,
then aborts the TCP connection: the socket leaves the hub, the bytes held for it are freed,
and a normal client goes on receiving with low latency meanwhile."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable

import pytest
from server_fixtures import UNIT, RunningHub, TestClient, running_hub
from websockets.asyncio.client import connect

from dispatch.config import HubSettings
from dispatch.models import Actor, Role
from dispatch.protocol import PROTOCOL_VERSION, Events, Hello, encode

LONG = "小区门口堆放生活垃圾" * 200
"""A description at the protocol's limit (2000 characters): ~6 KB in an event."""

STALL = 2.0
CLOSE = 1.0
BOUND = STALL + CLOSE + 0.5  # + one look of the hub's watch (every ≤ 0.5 s)
"""Seconds from the hub holding bytes the client does not take to its socket being gone."""

RATE = 80
"""Intakes a second, each making one ~6 KB event."""


@pytest.fixture
async def hub(sqlite_url: str) -> AsyncIterator[RunningHub]:
    settings = HubSettings(stall_seconds=STALL, close_timeout=CLOSE)
    async with running_hub(sqlite_url, settings) as running:
        yield running


def _masked_text(payload: bytes) -> bytes:
    """One client→server text frame (clients must mask)."""
    mask = os.urandom(4)
    size = len(payload)
    header = b"\x81" + (bytes([0x80 | size]) if size < 126 else struct.pack("!BH", 0xFE, size))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _stalled_socket(hub: RunningHub, token: str) -> socket.socket:
    """A non-blocking socket that has done the WebSocket handshake and sent hello, with a
    small receive window so what it does not read piles up in the hub, not in the kernel."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 12)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", hub.server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{hub.server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    async with asyncio.timeout(UNIT * 5):
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(sock, 1)  # byte by byte: not one byte past the head
    assert head.startswith(b"HTTP/1.1 101"), head
    hello = Hello(protocol=PROTOCOL_VERSION, token=token, client="never-reads")
    await loop.sock_sendall(sock, _masked_text(encode(hello)))
    return sock


async def _poll(condition: Callable[[], bool], within: float) -> None:
    """Wait until ``condition()`` holds, looking every 20 ms: what it watches (the hub's
    counts and buffers) has no event to wait on."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def _until_eof(sock: socket.socket) -> None:
    """Read (and drop) what the kernel still holds for ``sock`` until EOF or a reset."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(ConnectionResetError):
        while await loop.sock_recv(sock, 1 << 16):
            pass


async def test_a_client_that_never_reads_is_dropped_within_the_bound_and_others_go_on(
    hub: RunningHub,
) -> None:
    sender = TestClient(await connect(hub.url, compression=None, max_size=None))
    watcher = TestClient(await connect(hub.url, compression=None, max_size=None))
    await sender.hello(hub.tokens[Role.COMMANDER])
    await watcher.hello(hub.tokens[Role.DISPATCHER])
    sock = await _stalled_socket(hub, hub.tokens[Role.DISPATCHER])
    await _poll(lambda: hub.server.clients == 3, UNIT * 5)
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    stop = asyncio.Event()

    async def send() -> None:  # ~80 intakes a second, each one ~6 KB event
        n = 0
        while not stop.is_set():
            command = hub.intake(n, description=LONG)
            sent_at[command.id] = time.monotonic()
            await sender.command(command)
            n += 1
            await asyncio.sleep(1 / RATE)

    async def drain(client: TestClient, timed: bool) -> None:
        while True:
            message = await client.recv(UNIT * 5)
            if timed and isinstance(message, Events):
                now = time.monotonic()
                latencies.extend(now - sent_at[e.command] for e in message.events if e.command)

    tasks = [
        asyncio.create_task(send()),
        asyncio.create_task(drain(sender, False)),
        asyncio.create_task(drain(watcher, True)),
    ]
    try:
        # The hub starts holding bytes for the stalled client once the kernel buffers are full.
        await _poll(lambda: hub.server.backlog >= 64 * 1024, UNIT * 8)
        stuck_at = time.monotonic()
        peak = hub.server.backlog

        def gone() -> bool:
            nonlocal peak
            peak = max(peak, hub.server.backlog)
            return hub.server.clients == 2 and hub.server.sockets == 2

        await _poll(gone, BOUND + UNIT)
        dropped = time.monotonic() - stuck_at
        async with asyncio.timeout(UNIT * 5):
            await _until_eof(sock)  # the hub's end is closed: EOF (or a reset) after the rest
        await asyncio.sleep(0.5)  # the others keep receiving after the drop, too
        after = hub.server.backlog
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        sock.close()
        await sender.ws.close()
        await watcher.ws.close()
    assert dropped <= BOUND + 0.5, f"dropped {dropped:.1f} s after it stalled"
    assert peak > 256 * 1024  # it did hold the stalled client's bytes …
    assert after < 64 * 1024  # … and let them go with it
    assert len(latencies) > RATE * 2
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    assert p99 < 0.25 * UNIT, f"the watcher's event latency p99 was {p99 * 1000:.0f} ms"


async def test_the_hub_stops_within_the_close_timeout_with_a_client_that_never_reads(
    sqlite_url: str,
) -> None:
    """Shutting down closes every client (1001); one that never reads cannot take the closing
    frame, so after ``hub.close_timeout`` its connection is aborted and the hub stops."""
    settings = HubSettings(stall_seconds=600, close_timeout=CLOSE)  # the watch stays out of it
    async with running_hub(sqlite_url, settings) as hub:
        sock = await _stalled_socket(hub, hub.tokens[Role.DISPATCHER])
        actor = Actor(name=f"op-{Role.COMMANDER}", role=Role.COMMANDER)
        try:
            n = 0
            async with asyncio.timeout(UNIT * 10):
                while hub.server.backlog < 256 * 1024:
                    intakes = (hub.intake(f"{n}-{k}", description=LONG) for k in range(50))
                    await asyncio.gather(*(hub.engine.execute(c, actor) for c in intakes))
                    n += 1
            began = time.monotonic()
            await hub.server.close()
            took = time.monotonic() - began
            assert hub.server.sockets == 0
            assert took <= CLOSE + UNIT / 2, f"the hub took {took:.1f} s to stop"
        finally:
            sock.close()
