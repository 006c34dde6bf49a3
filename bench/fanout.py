"""Fan-out benchmark: publish-to-receive latency to many connected clients, hub vs bare.

Two phases in one run, with the same receive-only client processes (bench/recv_client.py,
hand-rolled readers in separate processes, so the clients are not what is measured):

1. **hub**: our HubServer on a fresh SQLite file with the demo city. Each message is one
   ``intake`` command executed in the hub process (group commit, then the ``events`` frame
   fans out); the submit time is embedded in the case title and read back by the clients.
2. **bare**: a plain ``websockets`` server doing ``broadcast()`` of frames of the same size
   (the hub phase's bytes per message) at the same rate, compression off as in the hub.

Reports p50/p99/max latency, frames received/expected, server CPU per message (this process's
CPU time over the publishing window / messages), and the ratios hub/bare against the bars of
DESIGN.md §4 (p99 ≤ 50 ms, p99 ≤ 2× bare). Loopback only; bounded in count and time.

    .venv/bin/python bench/fanout.py [--clients 200] [--rate 100] [--duration 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.recv_client import Result

HOST = "127.0.0.1"
CLIENT = Path(__file__).resolve().parent / "recv_client.py"
DRAIN_S = 1.5
"""After the last message: how long frames may still arrive before they count as lost."""


@dataclass
class Phase:
    name: str
    sent: int
    clients: int
    latencies_us: list[int]
    received: int
    server_cpu_s: float
    client_cpu_s: float
    marker_frames: int
    frame_bytes: float
    errors: list[str]

    @property
    def expected(self) -> int:
        return self.sent * self.clients

    def pct(self, q: float) -> float:
        """The q-quantile latency in ms (nearest rank)."""
        lat = self.latencies_us
        if not lat:
            return math.nan
        return lat[min(len(lat) - 1, max(0, math.ceil(q * len(lat)) - 1))] / 1000

    @property
    def cpu_per_msg_ms(self) -> float:
        return self.server_cpu_s / self.sent * 1000 if self.sent else math.nan


# --- client processes ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def client_processes(
    port: int, clients: int, procs: int, hello: str
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Start the receive-only clients, wait until every connection is subscribed."""
    procs = max(1, min(procs, clients))
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    argv = [sys.executable, str(CLIENT), "--host", HOST, "--port", str(port), "--hello", hello]
    pipe = asyncio.subprocess.PIPE
    started = [
        await asyncio.create_subprocess_exec(
            *argv, "--connections", str(n), stdin=pipe, stdout=pipe, limit=1 << 16
        )
        for n in shares
    ]
    try:
        for p in started:
            assert p.stdout is not None
            line = await asyncio.wait_for(p.stdout.readline(), 60)
            if line.strip() != b"ready":
                raise RuntimeError(f"client process failed to connect: {line!r}")
        yield started
    finally:
        for p in started:
            if p.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                await p.wait()


async def collect(started: list[asyncio.subprocess.Process]) -> list[Result]:
    results = []
    for p in started:
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(b"stop\n")
        await p.stdin.drain()
    for p in started:
        assert p.stdout is not None
        out = await asyncio.wait_for(p.stdout.read(), 30)  # the one result line, then EOF
        results.append(msgspec.json.decode(out, type=Result))
        await asyncio.wait_for(p.wait(), 10)
    return results


async def publish(rate: float, count: int, send: Callable[[int], None]) -> None:
    """Call ``send(i)`` ``count`` times on a fixed schedule (no drift from slow sends)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(count):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        send(i)


def marker(i: int) -> str:
    return f"~b{i}.{time.time_ns()}~"


async def measure(
    name: str,
    args: argparse.Namespace,
    port: int,
    hello: str,
    send: Callable[[int], None],
    settle: Callable[[], asyncio.Future[object]] | None = None,
) -> Phase:
    count = int(args.rate * args.duration)
    async with client_processes(port, args.clients, args.procs, hello) as started:
        cpu0 = time.process_time()
        await publish(args.rate, count, send)
        if settle is not None:
            await settle()
        await asyncio.sleep(DRAIN_S)
        cpu = time.process_time() - cpu0
        results = await collect(started)
    latencies = sorted(lat for r in results for lat in r.latencies_us)
    frames = sum(r.marker_frames for r in results)
    return Phase(
        name=name,
        sent=count,
        clients=args.clients,
        latencies_us=latencies,
        received=len(latencies),
        server_cpu_s=cpu,
        client_cpu_s=sum(r.cpu_s for r in results),
        marker_frames=frames,
        frame_bytes=sum(r.marker_bytes for r in results) / frames if frames else 0.0,
        errors=[e for r in results for e in r.errors],
    )


# --- the bare baseline -----------------------------------------------------------------------


async def run_bare(args: argparse.Namespace, frame_bytes: int) -> Phase:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    connected: set[ServerConnection] = set()
    welcome = '{"type":"welcome","resync":"events"}'

    async def handler(ws: ServerConnection) -> None:
        connected.add(ws)
        try:
            await ws.send(welcome)
            await ws.wait_closed()
        finally:
            connected.discard(ws)

    def send(i: int) -> None:
        head = '{"type":"events","events":[{"seq":%d,"type":"case_created","reason":"%s","pad":"'
        frame = head % (i + 1, marker(i))
        broadcast(connected, frame + "x" * max(0, frame_bytes - len(frame) - 5) + '"}]}')

    async with serve(handler, HOST, 0, compression=None, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        return await measure("bare", args, port, "", send)


# --- our hub -------------------------------------------------------------------------------


async def run_hub(args: argparse.Namespace) -> Phase:
    from dispatch.catalog import Catalog
    from dispatch.commands import Intake
    from dispatch.config import Settings
    from dispatch.models import Actor, AreaKind, Kind, Role, Source
    from dispatch.protocol import PROTOCOL_VERSION, Hello, encode
    from hub.clock import WallClock
    from hub.demo_city import demo_city
    from hub.engine import Engine
    from hub.server import HubServer
    from hub.store import Store

    settings = Settings()
    catalog = Catalog.default()
    city = demo_city()
    grids = [a.code for a in city.areas if a.kind is AreaKind.GRID]
    categories = [c.code for c in catalog if c.kind is Kind.EVENT]
    with tempfile.TemporaryDirectory(prefix="griddesk-bench-") as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/hub.db")
        await store.seed(city.areas, city.units, city.staff)
        token = await store.add_operator("bench", Role.COMMANDER)
        engine = Engine(store, settings, catalog, WallClock())
        await engine.start()
        server = HubServer(engine, store, settings.hub)
        await server.start(HOST, 0)
        actor = Actor(name="bench", role=Role.COMMANDER)
        pending: set[asyncio.Task[object]] = set()
        refused: list[str] = []

        def done(task: asyncio.Task[object]) -> None:
            pending.discard(task)
            if not task.cancelled() and task.exception() is not None:
                refused.append(repr(task.exception()))

        def send(i: int) -> None:
            command = Intake(
                id=f"bench-{os.getpid()}-{i}",
                kind=Kind.EVENT,
                category=categories[i % len(categories)],
                source=Source.PATROL,
                title=f"bench {marker(i)}",
                grid=grids[i % len(grids)],
            )
            task: asyncio.Task[object] = asyncio.create_task(engine.execute(command, actor))
            pending.add(task)
            task.add_done_callback(done)

        def settle() -> asyncio.Future[object]:
            return asyncio.ensure_future(asyncio.wait_for(_all(pending), 30))

        hello = encode(Hello(protocol=PROTOCOL_VERSION, token=token, client="bench")).decode()
        try:
            phase = await measure("hub", args, server.port, hello, send, settle)
        finally:
            await server.close()
            await engine.stop()
            await store.close()
        phase.errors = refused[:5] + phase.errors
        return phase


async def _all(tasks: set[asyncio.Task[object]]) -> None:
    if tasks:
        await asyncio.wait(set(tasks))


# --- report ----------------------------------------------------------------------------------


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    print(
        f"fan-out: {args.clients} clients in {min(args.procs, args.clients)} receive-only "
        f"processes, {args.rate:g} msgs/s for {args.duration:g} s, loopback, {os.cpu_count()} CPUs"
    )
    print(
        f"{'':6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'received/expected':>22} "
        f"{'frame B':>8} {'srv CPU/msg ms':>15} {'cli CPU/frame µs':>17}"
    )
    for p in phases:
        frac = f"{p.received}/{p.expected}"
        cli = p.client_cpu_s / p.marker_frames * 1e6 if p.marker_frames else math.nan
        print(
            f"{p.name:6} {p.pct(0.5):8.2f} {p.pct(0.99):8.2f} {p.pct(1.0):8.2f} {frac:>22} "
            f"{p.frame_bytes:8.0f} {p.cpu_per_msg_ms:15.2f} {cli:17.1f}"
        )
        for e in p.errors[:5]:
            print(f"  {p.name} error: {e}")
    by = {p.name: p for p in phases}
    if "hub" in by and "bare" in by:
        hub, bare = by["hub"], by["bare"]
        ratio = hub.pct(0.99) / bare.pct(0.99)
        cpu_ratio = hub.cpu_per_msg_ms / bare.cpu_per_msg_ms
        print(f"ratio hub/bare: p50 {hub.pct(0.5) / bare.pct(0.5):.2f}x, p99 {ratio:.2f}x, "
              f"server CPU/msg {cpu_ratio:.2f}x")  # fmt: skip
        complete = hub.received == hub.expected
        print(
            f"bars: p99 {hub.pct(0.99):.1f} ms ≤ 50 ms: {_ok(hub.pct(0.99) <= 50)}; "
            f"p99 ≤ 2× bare: {_ok(ratio <= 2)}; every frame delivered: {_ok(complete)}"
        )


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


async def main(args: argparse.Namespace) -> int:
    phases: list[Phase] = []
    frame_bytes = args.frame_bytes
    if not args.bare_only:
        hub = await run_hub(args)
        phases.append(hub)
        # Bytes per message, not per frame: the hub may carry several messages in one frame.
        frame_bytes = frame_bytes or round(hub.frame_bytes * hub.marker_frames / hub.received)
    phases.append(await run_bare(args, frame_bytes or 400))
    report(phases, args)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="messages per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    p.add_argument("--procs", type=int, default=4, help="client processes")
    p.add_argument("--frame-bytes", type=int, default=0, help="bare frame size (0: as the hub's)")
    p.add_argument("--bare-only", action="store_true", help="skip the hub phase")
    p.add_argument("--quick", action="store_true", help="smoke run: 20 clients, 2 s")
    args = p.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.procs = 20, 2.0, 2
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
