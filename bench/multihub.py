"""Several hubs on one PostgreSQL: commands/s and event → client latency, 3 hubs against 1.

Two phases in one run, each on a fresh PostgreSQL database with the demo city, each hub a
process of its own (``--serve``: ``run_hub`` with the frame limit lifted, as a load balancer's
hall of consoles would never hit it), exactly as ``griddesk hub`` runs them:

1. **latency**: ``--clients`` receive-only clients (bench/recv_client.py, in separate processes:
   the websockets client would measure itself, DESIGN.md §4) spread evenly over the hubs; a
   driver sends ``--rate`` intakes a second for ``--duration`` s, round robin over the hubs, the
   submit time in each title. Reported: submit → client p50/p99/max over every (client, event),
   so with 3 hubs two thirds of the samples crossed hubs (commit, NOTIFY, the peer's read of
   the log, its fan-out).
2. **throughput**: the receivers gone, ``--commands`` intakes sent by ``--senders`` connections
   per hub, ``--window`` in flight each; commands/s from first send to last ack.

Bars (DESIGN.md §4): event → client p99 ≤ 100 ms across 3 hubs at 100 events/s with 200
clients; every event delivered to every client.

    .venv/bin/python -m bench.multihub [--pg URL] [--clients 200] [--rate 100] [--duration 10]
                                       [--commands 3000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import DRAIN_S, client_processes, collect, pct, publish

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
P99_BAR_MS = 100.0


@dataclass
class Figures:
    hubs: int
    sent: int
    expected: int
    latencies_us: list[int]  # submit → client, sorted
    cross_us: list[int]  # those of an event committed through another hub than the client's
    errors: list[str]
    commands: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else math.nan


# --- a hub process --------------------------------------------------------------------------


def serve(db: str) -> None:
    """``--serve``: one hub on ``db``, port printed on stdout once listening."""
    import msgspec

    from dispatch.config import Settings
    from hub.runner import run_hub

    base = Settings()
    hub = msgspec.structs.replace(
        base.hub, database=db, listen="127.0.0.1:0", frames_per_second=100_000, burst=100_000
    )
    asyncio.run(
        run_hub(
            msgspec.structs.replace(base, hub=hub),
            ready=lambda server: print(f"port {server.port}", flush=True),
        )
    )


@contextlib.asynccontextmanager
async def hub_processes(db: str, n: int) -> AsyncIterator[list[int]]:
    procs: list[asyncio.subprocess.Process] = []
    try:
        ports = []
        for _ in range(n):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.multihub", "--serve", db,
                cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)},
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            procs.append(proc)
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line.startswith(b"port "):
                raise RuntimeError(f"hub process failed to start: {line!r}")
            ports.append(int(line.split()[1]))
        yield ports
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            await proc.wait()


@contextlib.asynccontextmanager
async def fresh_database(base_url: str) -> AsyncIterator[tuple[str, str]]:
    """A new PostgreSQL database with the demo city and a commander: (url, token)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from dispatch.models import Role
    from hub.demo_city import demo_city
    from hub.engines import async_url
    from hub.store import Store

    base = async_url(base_url)
    name = f"griddesk_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        try:
            store = await Store.open(url)
            try:
                city = demo_city()
                await store.seed(city.areas, city.units, city.staff)
                token = await store.add_operator("bench", Role.COMMANDER)
            finally:
                await store.close()
            yield url, token
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


# --- one phase ------------------------------------------------------------------------------


async def run_phase(args: argparse.Namespace, hubs: int) -> Figures:
    from backend_client import HubClient
    from dispatch.catalog import Catalog
    from dispatch.commands import Intake
    from dispatch.models import AreaKind, Kind, Source
    from dispatch.protocol import PROTOCOL_VERSION, Hello, encode
    from hub.demo_city import demo_city

    city = demo_city()
    grids = [a.code for a in city.areas if a.kind is AreaKind.GRID]
    categories = [c.code for c in Catalog.default() if c.kind is Kind.EVENT]

    def intake(command_id: str, title: str, i: int) -> Intake:
        return Intake(id=command_id, kind=Kind.EVENT, category=categories[i % len(categories)],
                      source=Source.PATROL, title=title, grid=grids[i % len(grids)])  # fmt: skip

    async with fresh_database(args.pg) as (db, token), hub_processes(db, hubs) as ports:
        urls = [f"ws://127.0.0.1:{port}" for port in ports]
        hello = encode(Hello(protocol=PROTOCOL_VERSION, token=token, client="bench")).decode()
        async with contextlib.AsyncExitStack() as stack:
            drivers = [
                await stack.enter_async_context(HubClient.connected(url, token, timeout=30))
                for url in urls
                for _ in range(args.senders)
            ]
            # 1. latency: receivers spread over the hubs, events at a fixed rate.
            count = int(args.rate * args.duration)
            pending: set[asyncio.Task[object]] = set()
            errors: list[str] = []
            per_hub = [args.clients // hubs + (1 if i < args.clients % hubs else 0)
                       for i in range(hubs)]  # fmt: skip
            async with contextlib.AsyncExitStack() as receivers:
                started = [
                    await receivers.enter_async_context(
                        client_processes(port, [hello] * n, max(1, args.procs // hubs))
                    )
                    for port, n in zip(ports, per_hub, strict=True)
                ]

                def send(i: int) -> None:
                    title = f"bench ~b{i}.{time.time_ns()}~"
                    driver = drivers[i % len(drivers)]
                    task: asyncio.Task[object] = asyncio.create_task(
                        driver.send(intake(f"lat-{i}", title, i))
                    )
                    pending.add(task)
                    task.add_done_callback(lambda t: _done(t, pending, errors))

                await publish(args.rate, count, send)
                if pending:
                    await asyncio.wait(set(pending), timeout=30)
                await asyncio.sleep(DRAIN_S)
                by_hub = [await collect(group) for group in started]
            results = [r for group in by_hub for r in group]
            latencies = sorted(lat for r in results for lat in r.latencies_us)
            # Event i went through driver i % len(drivers), of hub (i % len(drivers)) // senders.
            cross = sorted(
                lat
                for hub, group in enumerate(by_hub)
                for r in group
                for lat, i in zip(r.latencies_us, r.indices, strict=True)
                if (i % len(drivers)) // args.senders != hub
            )
            errors += [e for r in results for e in r.errors]

            # 2. throughput: every driver keeps a window of commands in flight.
            total = args.commands
            queue = iter(range(total))

            async def drive(driver: HubClient) -> None:
                for i in queue:
                    await driver.send(intake(f"cps-{i}", f"cps {i}", i))

            started_at = time.perf_counter()
            await asyncio.gather(*(drive(d) for d in drivers for _ in range(args.window)))
            seconds = time.perf_counter() - started_at
    return Figures(hubs=hubs, sent=count, expected=count * args.clients,
                   latencies_us=latencies, cross_us=cross, errors=errors[:5], commands=total,
                   seconds=seconds)  # fmt: skip


def _done(
    task: asyncio.Task[object], pending: set[asyncio.Task[object]], errors: list[str]
) -> None:
    pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        errors.append(repr(task.exception()))


# --- report ---------------------------------------------------------------------------------


def report(phases: Sequence[Figures], args: argparse.Namespace, load: float) -> bool:
    print(
        f"multihub: one PostgreSQL, {args.clients} receive-only clients over the hubs, "
        f"{args.rate:g} events/s for {args.duration:g} s; {args.commands} intakes over "
        f"{args.senders}×{args.window} in flight per hub; {os.cpu_count()} CPUs, "
        f"load {load:.2f} before / {os.getloadavg()[0]:.2f} after"
    )
    print(f"{'hubs':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'received/expected':>20} "
          f"{'commands/s':>11} {'cross-hub p99 ms':>17}")  # fmt: skip
    for f in phases:
        frac = f"{len(f.latencies_us)}/{f.expected}"
        print(f"{f.hubs:>4} {pct(f.latencies_us, 0.5):8.2f} {pct(f.latencies_us, 0.99):8.2f} "
              f"{pct(f.latencies_us, 1.0):8.2f} {frac:>20} {f.rate:11.0f} "
              f"{pct(f.cross_us, 0.99):17.2f}")  # fmt: skip
        for e in f.errors:
            print(f"  {f.hubs} hubs error: {e}")
    ok = True
    if len(phases) == 2:
        one, many = phases
        print(f"ratio {many.hubs} hubs / 1: commands/s {many.rate / one.rate:.2f}x, "
              f"p99 {pct(many.latencies_us, 0.99) / pct(one.latencies_us, 0.99):.2f}x")  # fmt: skip
        p99 = pct(many.latencies_us, 0.99)
        delivered = all(len(f.latencies_us) == f.expected and not f.errors for f in phases)
        print("bars (DESIGN.md §4):")
        print(f"  event → client p99 across {many.hubs} hubs {p99:.1f} ms ≤ {P99_BAR_MS:g} ms: "
              f"{'met' if p99 <= P99_BAR_MS else 'MISSED'}")  # fmt: skip
        print(f"  every event delivered to every client: {'met' if delivered else 'MISSED'}")
        ok = delivered
    return ok


async def main(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]
    phases = [await run_phase(args, 1), await run_phase(args, args.hubs)]
    return 0 if report(phases, args, load) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--pg", default=os.environ.get("GRIDDESK_TEST_PG", DEFAULT_PG),
                   help="a PostgreSQL server (a fresh database is made per phase)")  # fmt: skip
    p.add_argument("--hubs", type=int, default=3)
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="events per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of events")
    p.add_argument("--procs", type=int, default=3, help="receiver processes in all")
    p.add_argument("--commands", type=int, default=3000, help="intakes of the throughput run")
    p.add_argument("--senders", type=int, default=2, help="connections per hub sending")
    p.add_argument("--window", type=int, default=16, help="commands in flight per connection")
    p.add_argument("--quick", action="store_true", help="smoke run: 30 clients, 2 s, 300 cmds")
    p.add_argument("--serve", metavar="DB", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.rate, args.commands = 30, 2.0, 50.0, 300
    return args


if __name__ == "__main__":
    parsed = parse_args()
    if parsed.serve:
        serve(parsed.serve)
        sys.exit(0)
    sys.exit(asyncio.run(main(parsed)))
