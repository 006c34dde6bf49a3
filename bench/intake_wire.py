"""Intake over the wire with 8 clients: a fresh hall against a hall in its eighth month.

The whole path an operator waits on: 8 websocket clients (in a process of their own, so the
hub's process is the hub's) each keep ``--window`` intakes in flight, as hotline bridges and
busy desks do, and time each from its send to its ack. The hub is the real one — store,
engine, server, SLA ticker — on a SQLite file (WAL, ``synchronous=FULL``), serving every
client every event, on a clock standing at the hall's hub time (``VirtualClock(now, 1.0)``).

1. **fresh**: the demo city and nothing else (the baseline).
2. **month eight**: :mod:`bench.hall_seed`'s hall — 100,000 open cases, ~1,000,000 events,
   200,000 command ids (a private copy of the cached one).

Each intake is an event case in one of the city's grids, a few hundred metres from its centre,
so the duplicate check has real neighbours to weigh (on the seeded hall, those reported in the
last two hours; on both, the bench's own). Reported per hall: intakes acknowledged per second
over ``--seconds`` after ``--warmup``, ack latency p50/p99, the hub process's CPU per intake.
The phases alternate ``--rounds`` times, and the bars take the median of each round's ratio
(the two halls of a round run back to back, so the ratio is the least disturbed by whatever
else the machine does) and of the month-eight rates. For the disk's own speed, the bare
SQLAlchemy + aiosqlite baseline of ``bench.commands_sqlite`` (100 case+event rows per
transaction) runs in the same session.

Bars (DESIGN.md §4): month eight ≥ 80 % of fresh, and ≥ 1,000 commands/s.

    python -m bench.intake_wire [--clients 8] [--window 4] [--seconds 10] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from bench.commands_sqlite import run_bare
from bench.hall_plan import HallParams
from bench.hall_seed import cached_hall, hall_of, seeded_sqlite
from dispatch.catalog import Catalog
from dispatch.commands import Intake
from dispatch.config import HubSettings, Settings
from dispatch.models import AreaKind, Kind, Point, Role, Source
from dispatch.protocol import (
    PROTOCOL_VERSION,
    Ack,
    CommandFrame,
    Error,
    Hello,
    Welcome,
    decode_hub,
    encode,
)
from hub.clock import VirtualClock
from hub.demo_city import demo_city
from hub.engine import Engine
from hub.server import HubServer
from hub.store import Store

REPO = Path(__file__).resolve().parent.parent

QUICK = HallParams(open_cases=2_000, events=20_000, command_ids=4_000)
"""``--quick``: a small hall, seeded in seconds, for a smoke run."""

BENCH_SETTINGS = HubSettings(frames_per_second=1_000_000, burst=1_000_000)
"""The per-connection rate limit off: 8 clients stand for a whole hall's operators."""


# --- the clients' process ---------------------------------------------------------------------


class ClientSpec(msgspec.Struct, frozen=True):
    url: str
    token: str
    last_seq: int
    clients: int
    window: int
    warmup: float
    seconds: float
    run: str  # makes this run's command ids unique in the hall


class ClientResult(msgspec.Struct):
    acked: int  # acks that arrived within the measured window
    latencies_ms: list[float]  # of those
    refused: dict[str, int]  # error detail → count, whole run
    sent: int


def _intakes(spec: ClientSpec, k: int) -> Iterator[Intake]:
    """Client ``k``'s intakes: event cases over the demo city's grids, near their centres."""
    rng = random.Random(k)
    grids = [a for a in demo_city().areas if a.kind is AreaKind.GRID and a.centre is not None]
    categories = [c.code for c in Catalog.default() if c.kind is Kind.EVENT]
    for n in itertools.count():
        grid = rng.choice(grids)
        assert grid.centre is not None
        jitter = Point(lon=grid.centre.lon + rng.uniform(-0.003, 0.003),
                       lat=grid.centre.lat + rng.uniform(-0.003, 0.003))  # fmt: skip
        yield Intake(id=f"{spec.run}-{k}-{n}", kind=Kind.EVENT, category=rng.choice(categories),
                     source=Source.PATROL, title=f"巡查发现 {k}-{n}", grid=grid.code,
                     position=jitter)  # fmt: skip


async def _drive(ws: ClientConnection, spec: ClientSpec, k: int, measure: tuple[float, float],
                 result: ClientResult) -> None:  # fmt: skip
    """Keep ``spec.window`` intakes in flight on ``ws`` until the measured window ends."""
    slots = asyncio.Semaphore(spec.window)
    sent_at: dict[str, float] = {}
    start, end = measure

    async def read() -> None:
        async for frame in ws:
            # Events frames are the bulk; only acks and errors are decoded.
            if not isinstance(frame, str) or not frame.startswith(('{"type":"ack"',
                                                                   '{"type":"error"')):  # fmt: skip
                continue
            reply = decode_hub(frame)
            assert isinstance(reply, Ack | Error)
            sent = sent_at.pop(reply.command or "", None)
            if sent is None:
                continue
            now = time.perf_counter()
            if isinstance(reply, Error):
                detail = reply.detail or str(reply.code)
                result.refused[detail] = result.refused.get(detail, 0) + 1
            elif start <= now < end:
                result.acked += 1
                result.latencies_ms.append((now - sent) * 1000)
            slots.release()

    reader = asyncio.create_task(read())
    for intake in _intakes(spec, k):
        await slots.acquire()
        if time.perf_counter() >= end:
            break
        sent_at[intake.id] = time.perf_counter()
        await ws.send(encode(CommandFrame(command=intake)).decode())
        result.sent += 1
    # What is still in flight is answered (each answer frees a slot; this loop holds one):
    # the hub is idle when the clients leave.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            for _ in range(spec.window - 1):
                await slots.acquire()
    reader.cancel()


async def run_clients(spec: ClientSpec) -> ClientResult:
    result = ClientResult(acked=0, latencies_ms=[], refused={}, sent=0)
    hello = encode(Hello(protocol=PROTOCOL_VERSION, token=spec.token, last_seq=spec.last_seq,
                         client="bench.intake_wire")).decode()  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        conns = []
        for _ in range(spec.clients):
            ws = await stack.enter_async_context(
                connect(spec.url, compression=None, max_size=None, open_timeout=30)
            )
            await ws.send(hello)
            welcome = decode_hub(await ws.recv())
            assert isinstance(welcome, Welcome), welcome
            conns.append(ws)
        start = time.perf_counter() + spec.warmup
        end = start + spec.seconds
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + spec.warmup, _say, "measuring")
        loop.call_at(loop.time() + spec.warmup + spec.seconds, _say, "measured")
        await asyncio.gather(*(_drive(ws, spec, k, (start, end), result)
                               for k, ws in enumerate(conns)))  # fmt: skip
    return result


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def client_main(raw: str) -> int:
    spec = msgspec.json.decode(raw, type=ClientSpec)
    result = asyncio.run(run_clients(spec))
    _say(msgspec.json.encode(result).decode())
    return 0


# --- the hub's process ------------------------------------------------------------------------


@dataclass
class Figure:
    hall: str
    rate: float  # intakes acknowledged per second in the measured window
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # hub process CPU per acknowledged intake in the window
    refused: dict[str, int]


async def measure(hall: str, url: str, token: str, now: datetime, args: argparse.Namespace,
                  run: str) -> Figure:  # fmt: skip
    settings = Settings(hub=BENCH_SETTINGS)
    store = await Store.open(url)
    engine = Engine(store, settings, Catalog.default(), VirtualClock(now, 1.0))
    await engine.start()
    server = HubServer(engine, store, settings.hub)
    await server.start("127.0.0.1", 0)
    try:
        spec = ClientSpec(url=f"ws://127.0.0.1:{server.port}", token=token, last_seq=engine.seq,
                          clients=args.clients, window=args.window, warmup=args.warmup,
                          seconds=args.seconds, run=run)  # fmt: skip
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.intake_wire", "--client",
            msgspec.json.encode(spec).decode(), stdout=asyncio.subprocess.PIPE,
            cwd=REPO, limit=1 << 26,  # the result is one line with every latency
        )  # fmt: skip
        assert child.stdout is not None
        cpu: dict[str, float] = {}
        result: ClientResult | None = None
        while said := (await child.stdout.readline()).decode().strip():
            if said in ("measuring", "measured"):
                cpu[said] = time.process_time()  # the hub's process: engine, server, writer
            else:
                result = msgspec.json.decode(said, type=ClientResult)
        if await child.wait() != 0 or result is None:
            raise RuntimeError(f"the clients' process failed (exit code {child.returncode})")
    finally:
        await server.close()
        await engine.stop()
        await store.close()
    lat = sorted(result.latencies_ms)
    return Figure(
        hall=hall,
        rate=result.acked / args.seconds,
        p50_ms=_pct(lat, 0.5),
        p99_ms=_pct(lat, 0.99),
        cpu_ms=(cpu["measured"] - cpu["measuring"]) * 1000 / max(result.acked, 1),
        refused=result.refused,
    )


def _pct(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return math.nan
    return sorted_ms[min(len(sorted_ms) - 1, max(0, math.ceil(q * len(sorted_ms)) - 1))]


async def fresh_hall(directory: Path) -> tuple[str, str]:
    """The demo city on a new SQLite file, with a commander: (url, token)."""
    url = f"sqlite:///{directory / 'fresh.db'}"
    store = await Store.open(url)
    try:
        city = demo_city()
        await store.seed(city.areas, city.units, city.staff)
        token = await store.add_operator("bench-commander", Role.COMMANDER)
    finally:
        await store.close()
    return url, token


def _flush(db: Path) -> None:
    """Write a fresh copy of a hall out before it is measured: the kernel writing back half a
    gigabyte meanwhile slowed the first round's commits by a third."""
    with db.open("rb+") as file:
        os.fsync(file.fileno())


def line(f: Figure) -> str:
    refused = ", ".join(f"{k} {v}" for k, v in f.refused.items()) or "none"
    return (f"{f.hall:12} {f.rate:8.0f} intakes/s  p50 {f.p50_ms:6.1f} ms  p99 {f.p99_ms:6.1f} ms"
            f"  hub CPU {f.cpu_ms:5.2f} ms/intake  refused: {refused}")  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    params = QUICK if args.quick else HallParams()
    scratch = Path(tempfile.mkdtemp(prefix="griddesk-intake-"))
    try:
        hall = hall_of(cached_hall(params) / "hall.db")  # seeded now if it is not cached
        c = hall.counts
        print(f"intake over the wire: {args.clients} clients × {args.window} in flight, "
              f"{args.seconds:g} s measured after {args.warmup:g} s; SQLite WAL, "
              f"synchronous=FULL, under {tempfile.gettempdir()}")  # fmt: skip
        print(f"month eight: {c.open_cases:,} open of {c.cases:,} cases, {c.events:,} events, "
              f"{c.command_ids:,} command ids; hub time {hall.now.isoformat()}")  # fmt: skip
        bare = await run_bare(args.bare_rows, 100, "bare SQLAlchemy+aiosqlite, 100 rows/txn")
        print(f"disk: {bare.name}: {bare.rate:,.0f} case+event rows/s")
        rounds: dict[str, list[Figure]] = {"fresh": [], "month eight": []}
        for n in range(args.rounds):
            # Every round on new copies of both halls at the same hub time (a Wednesday
            # morning): the last round's 20,000 intakes would be in the next one's duplicate
            # window, where no real hall has them.
            here = scratch / f"round{n}"
            fresh_url, fresh_token = await fresh_hall(here)
            eighth = seeded_sqlite(params, into=here)
            _flush(eighth)
            for name, url, token in (
                ("fresh", fresh_url, fresh_token),
                ("month eight", f"sqlite:///{eighth}", hall.token(Role.COMMANDER)),
            ):
                figure = await measure(name, url, token, hall.now, args, run=f"bench{n}")
                rounds[name].append(figure)
                print(f"round {n + 1}: {line(figure)}")
            shutil.rmtree(here, ignore_errors=True)
        # Each round's two halls ran back to back: their ratio is the least disturbed by
        # whatever else the machine was doing; the bars take the median of those.
        fresh, month = rounds["fresh"], rounds["month eight"]
        ratios = [m.rate / f.rate for f, m in zip(fresh, month, strict=True)]
        cpu = [m.cpu_ms / f.cpu_ms for f, m in zip(fresh, month, strict=True)]
        rate = statistics.median(m.rate for m in month)
        ratio = statistics.median(ratios)
        best = max(m.rate for m in month) / max(f.rate for f in fresh)
        print(f"month eight/fresh per round: {', '.join(f'{r:.2f}x' for r in ratios)}; "
              f"median {ratio:.2f}x (best rounds {best:.2f}x); "
              f"hub CPU per intake {statistics.median(cpu):.2f}x")  # fmt: skip
        print(f"bars: month eight ≥ 80 % of fresh: {'met' if ratio >= 0.8 else 'MISSED'} "
              f"({ratio:.0%}); ≥ 1,000 commands/s: {'met' if rate >= 1000 else 'MISSED'} "
              f"(median {rate:,.0f}/s)")  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.intake_wire",
                                description=(__doc__ or "").splitlines()[0])  # fmt: skip
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--window", type=int, default=4, help="intakes in flight per client")
    p.add_argument("--seconds", type=float, default=10.0, help="measured, per hall and round")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--bare-rows", type=int, default=10_000)
    p.add_argument("--quick", action="store_true", help="a small hall, 2 s per phase, 1 round")
    p.add_argument("--client", help=argparse.SUPPRESS)  # the clients' process
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.rounds, args.bare_rows = 2.0, 0.5, 1, 1000
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.client is not None:
        sys.exit(client_main(arguments.client))
    sys.exit(asyncio.run(main(arguments)))
