"""Fan-out benchmark: latency from publish to receive on many connected clients, hub vs bare.

Two phases in one run, with the same receive-only client processes (bench/recv_client.py,
hand-rolled readers in separate processes, so the clients are not what is measured):

1. **hub**: our HubServer on a fresh SQLite file with the demo city. Each message is one
   ``intake`` command executed in the hub process (group commit, then the ``events`` frame
   fans out); the submit time is embedded in the case title and read back by the clients.
2. **bare**: a plain ``websockets`` server doing ``broadcast()`` of frames of the same size
   (the hub phase's bytes per message) at the same rate, compression off as in the hub.

The hub's latency is reported in two spans, because only the second is like for like with the
bare server, which broadcasts a ready-made frame:

- **end to end**, submit → client: deciding the command, its durable commit (fsync), the
  fan-out. This is what the 50 ms bar is about.
- **fan-out**, hand-off → client: from the moment the committed events are handed to the
  hub's fan-out (an engine listener registered before the server's, so it runs just before
  it; nothing on the wire changes) to the client. The bare server's span starts just before
  its ``broadcast()``, so its whole latency is this span.

Per message it also reports the server's CPU: the whole process's (hub: deciding, committing
and fanning out) and the fan-out's alone (this thread's CPU inside the hub's fan-out listener,
bracketed by two engine listeners, and inside the bare ``broadcast()`` call: encoding,
per-client work, the socket writes). Then the ratios hub/bare and the bars of DESIGN.md §4,
each labelled with the span it is about. Loopback only; bounded in count and time.

**Scoped clients** (``--scoped 50``): that many of the clients log in as role-scoped operators
— a unit terminal and a standby officer in turn, spread over ``--units`` (5) departments — and
the rest as the commander. The hub then encodes each batch once for the commander's view and
once per unit's view (docs/PROTOCOL.md §5.1). Each message is a ``note`` on a case owned by one
of those units, taken in turn (the cases are made and dispatched before the clock starts;
marker in the note's text): every commander console receives every message, a unit's
terminals the messages on its unit's cases (and an empty span frame for the others). The
bare server still broadcasts every frame to every client.

    .venv/bin/python -m bench.fanout [--clients 200] [--rate 100] [--duration 10] [--quick]
                                     [--scoped 50 --units 5]
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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.recv_client import Result

if TYPE_CHECKING:
    from dispatch.events import Event
    from dispatch.models import Actor, Unit
    from hub.engine import Engine
    from hub.store import Store

HOST = "127.0.0.1"
CLIENT = Path(__file__).resolve().parent / "recv_client.py"
DRAIN_S = 1.5
"""After the last message: how long frames may still arrive before they count as lost."""
E2E_BAR_MS = 50.0
RATIO_BAR = 2.0


@dataclass
class Timeline:
    """Server-side instants and CPU of one phase, by message index (time.time_ns)."""

    submit_ns: dict[int, int] = field(default_factory=dict)
    handoff_ns: dict[int, int] = field(default_factory=dict)
    fanout_cpu_s: float = 0.0
    """This thread's CPU time inside the fan-out calls."""

    def commit_us(self, index: int) -> int:
        """Submit → hand-off of one message (0 when it was never seen handed over)."""
        handoff = self.handoff_ns.get(index)
        return (handoff - self.submit_ns[index]) // 1000 if handoff is not None else 0


@dataclass
class Phase:
    name: str
    sent: int
    clients: int
    e2e_us: list[int]  # submit → client, one per (client, message), sorted
    fanout_us: list[int]  # hand-off → client, same samples, sorted
    commit_us: list[int]  # submit → hand-off, one per message, sorted
    server_cpu_s: float
    fanout_cpu_s: float
    client_cpu_s: float
    marker_frames: int
    frame_bytes: float
    errors: list[str]
    expected_n: int = 0
    """(client, message) pairs due, when not every client is due every message (scoped)."""

    @property
    def received(self) -> int:
        return len(self.e2e_us)

    @property
    def expected(self) -> int:
        return self.expected_n or self.sent * self.clients

    @property
    def cpu_per_msg_ms(self) -> float:
        return self.server_cpu_s / self.sent * 1000 if self.sent else math.nan

    @property
    def fanout_cpu_per_msg_ms(self) -> float:
        return self.fanout_cpu_s / self.sent * 1000 if self.sent else math.nan

    @property
    def frames_per_client(self) -> float:
        """Frames that carried messages, per client (the hub may carry several in one)."""
        return self.marker_frames / self.clients if self.clients else math.nan

    @property
    def fanout_cpu_per_frame_ms(self) -> float:
        frames = self.frames_per_client
        return self.fanout_cpu_s / frames * 1000 if frames else math.nan


def pct(sorted_us: Sequence[int], q: float) -> float:
    """The q-quantile in ms (nearest rank) of sorted microseconds."""
    if not sorted_us:
        return math.nan
    return sorted_us[min(len(sorted_us) - 1, max(0, math.ceil(q * len(sorted_us)) - 1))] / 1000


# --- client processes ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def client_processes(
    port: int, hellos: Sequence[str], procs: int
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Start the receive-only clients (one per hello: the hub's login of each), wait until
    every connection is subscribed."""
    clients = len(hellos)
    procs = max(1, min(procs, clients))
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    argv = [sys.executable, str(CLIENT), "--host", HOST, "--port", str(port)]
    pipe = asyncio.subprocess.PIPE
    started = []
    first = 0
    for n in shares:
        logins = [arg for h in hellos[first : first + n] for arg in ("--hello", h)]
        first += n
        started.append(
            await asyncio.create_subprocess_exec(
                *argv, *logins, "--connections", str(n), stdin=pipe, stdout=pipe, limit=1 << 16
            )
        )
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


def marker(i: int, timeline: Timeline) -> str:
    now = time.time_ns()
    timeline.submit_ns[i] = now
    return f"~b{i}.{now}~"


async def measure(
    name: str,
    args: argparse.Namespace,
    port: int,
    hellos: Sequence[str],
    send: Callable[[int], None],
    timeline: Timeline,
    settle: Callable[[], asyncio.Future[object]] | None = None,
) -> Phase:
    count = int(args.rate * args.duration)
    async with client_processes(port, hellos, args.procs) as started:
        cpu0 = time.process_time()
        await publish(args.rate, count, send)
        if settle is not None:
            await settle()
        await asyncio.sleep(DRAIN_S)
        cpu = time.process_time() - cpu0
        results = await collect(started)
    e2e: list[int] = []
    fanout: list[int] = []
    for r in results:
        e2e.extend(r.latencies_us)
        fanout.extend(
            lat - timeline.commit_us(i) for lat, i in zip(r.latencies_us, r.indices, strict=True)
        )
    frames = sum(r.marker_frames for r in results)
    return Phase(
        name=name,
        sent=count,
        clients=args.clients,
        e2e_us=sorted(e2e),
        fanout_us=sorted(fanout),
        commit_us=sorted(timeline.commit_us(i) for i in timeline.submit_ns),
        server_cpu_s=cpu,
        fanout_cpu_s=timeline.fanout_cpu_s,
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
    timeline = Timeline()

    async def handler(ws: ServerConnection) -> None:
        connected.add(ws)
        try:
            await ws.send(welcome)
            await ws.wait_closed()
        finally:
            connected.discard(ws)

    def send(i: int) -> None:
        # The marker's time is the hand-off: the frame is built and broadcast right after.
        cpu0 = time.thread_time()
        head = '{"type":"events","events":[{"seq":%d,"type":"case_created","reason":"%s","pad":"'
        frame = head % (i + 1, marker(i, timeline))
        timeline.handoff_ns[i] = timeline.submit_ns[i]
        broadcast(connected, frame + "x" * max(0, frame_bytes - len(frame) - 5) + '"}]}')
        timeline.fanout_cpu_s += time.thread_time() - cpu0

    async with serve(handler, HOST, 0, compression=None, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        return await measure("bare", args, port, [""] * args.clients, send, timeline)


# --- our hub -------------------------------------------------------------------------------


Prepare = Callable[["Store"], Awaitable[None]]
"""Seeds more of the hall before the hub starts (bench/positions.py: its grid workers)."""
Alongside = Callable[[int, str], AbstractAsyncContextManager[object]]
"""A load run beside the measured phase, given the hub's port and the commander's token."""


async def run_hub(
    args: argparse.Namespace, *, prepare: Prepare | None = None, alongside: Alongside | None = None
) -> Phase:
    from dispatch.catalog import Catalog
    from dispatch.commands import Command, Intake, Note
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
    prefix = f"bench-{os.getpid()}-"
    timeline = Timeline()
    fanout_cpu0 = 0.0

    def handed_over(events: Sequence[Event]) -> None:
        """Runs just before the server's fan-out listener: the hand-off instant."""
        nonlocal fanout_cpu0
        now = time.time_ns()
        for event in events:
            if event.command is not None and event.command.startswith(prefix):
                timeline.handoff_ns.setdefault(int(event.command[len(prefix) :]), now)
        fanout_cpu0 = time.thread_time()

    def fanned_out(events: Sequence[Event]) -> None:
        """Runs just after the server's fan-out listener."""
        timeline.fanout_cpu_s += time.thread_time() - fanout_cpu0

    with tempfile.TemporaryDirectory(prefix="griddesk-bench-") as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/hub.db")
        await store.seed(city.areas, city.units, city.staff)
        token = await store.add_operator("bench", Role.COMMANDER)
        if prepare is not None:
            await prepare(store)
        engine = Engine(store, settings, catalog, WallClock())
        await engine.start()
        # Listeners run in the order they were added: ours bracket the server's.
        engine.listen(handed_over)
        server = HubServer(engine, store, settings.hub)
        engine.listen(fanned_out)
        await server.start(HOST, 0)
        actor = Actor(name="bench", role=Role.COMMANDER)
        pending: set[asyncio.Task[object]] = set()
        refused: list[str] = []

        def done(task: asyncio.Task[object]) -> None:
            pending.discard(task)
            if not task.cancelled() and task.exception() is not None:
                refused.append(repr(task.exception()))

        def hello(token: str) -> str:
            return encode(Hello(protocol=PROTOCOL_VERSION, token=token, client="bench")).decode()

        count = int(args.rate * args.duration)
        scoped = min(args.scoped, args.clients)
        hellos = [hello(token)] * (args.clients - scoped)
        expected = 0
        targets: list[tuple[str, int]] = []  # scoped mode: the case each message notes
        if scoped:
            units = bench_units(city.units, args.units)
            for k in range(scoped):
                unit = units[k % len(units)]
                role = Role.UNIT if k // len(units) % 2 == 0 else Role.STANDBY
                hellos.append(hello(await store.add_operator(f"bench-{k}", role, unit)))
            targets = await unit_cases(engine, actor, count, units, grids, categories)
            per_unit = [len(range(u, count, len(units))) for u in range(len(units))]
            expected = (args.clients - scoped) * count + sum(
                per_unit[k % len(units)] for k in range(scoped)
            )

        def send(i: int) -> None:
            command: Command
            if targets:
                case, version = targets[i]
                command = Note(id=f"{prefix}{i}", case=case, version=version,
                               reason=f"bench {marker(i, timeline)}")  # fmt: skip
            else:
                command = Intake(
                    id=f"{prefix}{i}",
                    kind=Kind.EVENT,
                    category=categories[i % len(categories)],
                    source=Source.PATROL,
                    title=f"bench {marker(i, timeline)}",
                    grid=grids[i % len(grids)],
                )
            task: asyncio.Task[object] = asyncio.create_task(engine.execute(command, actor))
            pending.add(task)
            task.add_done_callback(done)

        def settle() -> asyncio.Future[object]:
            return asyncio.ensure_future(asyncio.wait_for(_all(pending), 30))

        try:
            beside = alongside(server.port, token) if alongside else contextlib.nullcontext()
            async with beside:
                phase = await measure("hub", args, server.port, hellos, send, timeline, settle)
            phase.expected_n = expected
        finally:
            await server.close()
            await engine.stop()
            await store.close()
        missing = len(timeline.submit_ns) - len(timeline.handoff_ns)
        if missing:
            refused.insert(0, f"{missing} messages never handed to the fan-out")
        phase.errors = refused[:5] + phase.errors
        return phase


def bench_units(units: Sequence[Unit], n: int) -> list[str]:
    """``n`` departments with no units under them (each its own scope)."""
    from dispatch.models import UnitKind

    parents = {u.parent for u in units}
    chosen = [u.id for u in units if u.kind is UnitKind.DEPARTMENT and u.id not in parents]
    return chosen[: max(1, n)]


async def unit_cases(
    engine: Engine,
    actor: Actor,
    count: int,
    units: Sequence[str],
    grids: Sequence[str],
    categories: Sequence[str],
) -> list[tuple[str, int]]:
    """``count`` cases dispatched to ``units`` in turn, before the clock starts: (id, version)."""
    from dispatch.commands import Accept, Dispatch, Intake
    from dispatch.models import Kind, Source

    async def one(i: int) -> tuple[str, int]:
        made = await engine.execute(
            Intake(id=f"setup-{i}", kind=Kind.EVENT, category=categories[i % len(categories)],
                   source=Source.PATROL, title=f"setup {i}", grid=grids[i % len(grids)]),
            actor,
        )  # fmt: skip
        assert made.case is not None and made.version is not None
        accepted = await engine.execute(
            Accept(id=f"setup-a-{i}", case=made.case, version=made.version), actor
        )
        assert accepted.version is not None
        sent = await engine.execute(
            Dispatch(id=f"setup-d-{i}", case=made.case, version=accepted.version,
                     unit=units[i % len(units)]),
            actor,
        )  # fmt: skip
        assert sent.version is not None
        return made.case, sent.version

    out: list[tuple[str, int]] = []
    for first in range(0, count, 200):
        out += await asyncio.gather(*(one(i) for i in range(first, min(count, first + 200))))
    return out


async def _all(tasks: set[asyncio.Task[object]]) -> None:
    if tasks:
        await asyncio.wait(set(tasks))


# --- report ----------------------------------------------------------------------------------


def report(phases: list[Phase], args: argparse.Namespace, load: tuple[float, ...]) -> None:
    print(
        f"fan-out: {args.clients} clients in {min(args.procs, args.clients)} receive-only "
        f"processes, {args.rate:g} msgs/s for {args.duration:g} s, loopback, {os.cpu_count()} "
        f"CPUs, load {load[0]:.2f} before / {os.getloadavg()[0]:.2f} after"
    )
    if args.scoped:
        print(
            f"scoped: {min(args.scoped, args.clients)} of the {args.clients} hub clients are unit "
            f"terminals and standby officers over {args.units} units (each sees its unit's "
            "share of the messages: notes on its cases); the rest are commanders"
        )
    print(f"{'latency':39} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows: list[tuple[str, list[int]]] = []
    for p in phases:
        if p.name == "hub":
            rows += [
                ("hub  end to end  submit → client", p.e2e_us),
                ("hub    commit    submit → hand-off", p.commit_us),
                ("hub    fan-out   hand-off → client", p.fanout_us),
            ]
        else:
            rows.append((f"{p.name:4} fan-out   broadcast → client", p.fanout_us))
    for label, lat in rows:
        print(f"{label:39} {pct(lat, 0.5):8.2f} {pct(lat, 0.99):8.2f} {pct(lat, 1.0):8.2f}")
    print(
        f"{'':6} {'received/expected':>20} {'frame B':>8} {'msgs/frame':>10} "
        f"{'srv CPU/msg ms':>15} {'fan-out CPU ms/msg':>19} {'ms/frame':>9} "
        f"{'cli CPU/frame µs':>17}"
    )
    for p in phases:
        frac = f"{p.received}/{p.expected}"
        cli = p.client_cpu_s / p.marker_frames * 1e6 if p.marker_frames else math.nan
        per_frame = p.sent / p.frames_per_client if p.frames_per_client else math.nan
        print(
            f"{p.name:6} {frac:>20} {p.frame_bytes:8.0f} {per_frame:10.2f} "
            f"{p.cpu_per_msg_ms:15.2f} {p.fanout_cpu_per_msg_ms:19.2f} "
            f"{p.fanout_cpu_per_frame_ms:9.2f} {cli:17.1f}"
        )
        for e in p.errors[:5]:
            print(f"  {p.name} error: {e}")
    by = {p.name: p for p in phases}
    if "hub" in by and "bare" in by:
        report_bars(by["hub"], by["bare"])


def report_bars(hub: Phase, bare: Phase) -> None:
    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    fan50 = ratio(pct(hub.fanout_us, 0.5), pct(bare.fanout_us, 0.5))
    fan99 = ratio(pct(hub.fanout_us, 0.99), pct(bare.fanout_us, 0.99))
    e2e50 = ratio(pct(hub.e2e_us, 0.5), pct(bare.e2e_us, 0.5))
    e2e99 = ratio(pct(hub.e2e_us, 0.99), pct(bare.e2e_us, 0.99))
    cpu = ratio(hub.cpu_per_msg_ms, bare.cpu_per_msg_ms)
    fan_cpu = ratio(hub.fanout_cpu_per_msg_ms, bare.fanout_cpu_per_msg_ms)
    fan_cpu_frame = ratio(hub.fanout_cpu_per_frame_ms, bare.fanout_cpu_per_frame_ms)
    print(
        f"ratio hub/bare: fan-out (like for like) p50 {fan50:.2f}x, p99 {fan99:.2f}x; "
        f"end to end p50 {e2e50:.2f}x, p99 {e2e99:.2f}x; server CPU/msg {cpu:.2f}x; "
        f"fan-out CPU/msg {fan_cpu:.2f}x, /frame {fan_cpu_frame:.2f}x"
    )
    e2e = pct(hub.e2e_us, 0.99)
    print("bars (DESIGN.md §4):")
    print(f"  end to end  p99 {e2e:.1f} ms ≤ {E2E_BAR_MS:g} ms: {_ok(e2e <= E2E_BAR_MS)}")
    print(f"  fan-out     p99 ≤ {RATIO_BAR:g}× bare (hand-off → client): {fan99:.2f}×  "
          f"{_ok(fan99 <= RATIO_BAR)}")  # fmt: skip
    print(f"  fan-out     CPU/msg ≤ {RATIO_BAR:g}× bare: {fan_cpu:.2f}×  "
          f"{_ok(fan_cpu <= RATIO_BAR)}")  # fmt: skip
    print(f"  end to end  p99 ≤ {RATIO_BAR:g}× bare (not like for like: adds deciding and the "
          f"durable commit): {e2e99:.2f}×  {_ok(e2e99 <= RATIO_BAR)}")  # fmt: skip
    print(f"  server      CPU/msg ≤ {RATIO_BAR:g}× bare (whole process, commit included): "
          f"{cpu:.2f}×  {_ok(cpu <= RATIO_BAR)}")  # fmt: skip
    print(f"  every frame delivered: {_ok(hub.received == hub.expected)}")


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


async def main(args: argparse.Namespace) -> int:
    load = os.getloadavg()
    phases: list[Phase] = []
    frame_bytes = args.frame_bytes
    if not args.bare_only:
        hub = await run_hub(args)
        phases.append(hub)
        # Bytes per message, not per frame: the hub may carry several messages in one frame.
        frame_bytes = frame_bytes or round(hub.frame_bytes * hub.marker_frames / hub.received)
    phases.append(await run_bare(args, frame_bytes or 400))
    report(phases, args, load)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="messages per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    p.add_argument("--procs", type=int, default=4, help="client processes")
    p.add_argument("--frame-bytes", type=int, default=0, help="bare frame size (0: as the hub's)")
    p.add_argument("--bare-only", action="store_true", help="skip the hub phase")
    p.add_argument("--quick", action="store_true", help="smoke run: 20 clients, 2 s")
    p.add_argument(
        "--scoped", type=int, default=0, help="hub clients logged in as unit terminals (0: none)"
    )
    p.add_argument("--units", type=int, default=5, help="units the scoped clients spread over")
    args = p.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.procs = 20, 2.0, 2
        args.scoped = min(args.scoped, 5)
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
