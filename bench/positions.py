"""Position reports beside the fan-out: does a thousand grid workers' patrol tracks cost the
consoles anything?

Two hub phases of bench/fanout.py in one run, the same consoles (``--clients`` receive-only
readers in separate processes) and the same case traffic (``--rate`` intakes a second):

1. **without positions**: the fan-out as bench/fanout.py measures it;
2. **with positions**: the same, while ``--workers`` (1,000) grid workers' terminals report a
   position every ``--every`` (30) seconds each — 33 reports a second, from a separate process
   (bench/position_load.py) over 20 connections; each moves its worker 20 m, so every point is
   stored (thinning keeps nothing back). The hub stores them a flush at a time and sends the
   consoles one ``positions`` frame a second, not a frame per report.

Prints both phases' latencies, the ratio with/without (fan-out hand-off → client, and end to
end), the position load's own figures (reports answered, points stored, ack p50/p99 — send to
the answer after the commit) and whether fan-out p99 stayed within 25 % (the noise of a shared
two-core machine; DESIGN §4: "fan-out p99 unchanged").

    .venv/bin/python -m bench.positions [--clients 200] [--rate 100] [--duration 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fanout
from bench.fanout import Phase, pct

if TYPE_CHECKING:
    from hub.store import Store

LOAD = Path(__file__).resolve().parent / "position_load.py"
PREFIX = "BW"
"""Staff ids of the bench's grid workers: BW0 … BW999."""
UNCHANGED = 1.25
"""Fan-out p99 with positions at most this many times the one without: "unchanged"."""


class LoadResult(msgspec.Struct):
    sent: int
    answered: int
    kept: int
    errors: int
    ack_p50_ms: float
    ack_p99_ms: float


def seeder(workers: int) -> fanout.Prepare:
    async def seed(store: Store) -> None:
        from dispatch.models import AreaKind, Shift, Staff
        from dispatch.tracks import GRID_WORKER
        from hub.demo_city import demo_city

        city = demo_city()
        grids = [a.code for a in city.areas if a.kind is AreaKind.GRID]
        unit = next(u.id for u in city.units if u.kind == "locality")
        staff = [
            Staff(
                id=f"{PREFIX}{i}",
                name=f"网格员{i}",
                unit=unit,
                role=GRID_WORKER,
                shift=Shift.DAY,
                grids=(grids[i % len(grids)],),
            )
            for i in range(workers)
        ]
        await store.seed([], [], staff)

    return seed


def load(args: argparse.Namespace, out: list[LoadResult]) -> fanout.Alongside:
    @contextlib.asynccontextmanager
    async def beside(port: int, token: str) -> AsyncIterator[None]:
        seconds = args.duration + 4  # the consoles connect first; the load outlasts the phase
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(LOAD), "--port", str(port), "--token", token,
            "--staff-prefix", PREFIX, "--workers", str(args.workers),
            "--every", str(args.every), "--seconds", str(seconds),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            yield
        finally:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), seconds + 60)
            await proc.wait()
            out.append(msgspec.json.decode(line, type=LoadResult))

    return beside


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def report(base: Phase, loaded: Phase, result: LoadResult, args: argparse.Namespace) -> bool:
    print(
        f"positions beside the fan-out: {args.clients} consoles, {args.rate:g} intakes/s for "
        f"{args.duration:g} s; {args.workers} grid workers reporting every {args.every:g} s "
        f"({args.workers / args.every:.1f} reports/s); {os.cpu_count()} CPUs, loopback"
    )
    print(f"{'phase':20} {'fan-out p50':>12} {'fan-out p99':>12} {'e2e p99':>9} "
          f"{'srv CPU/msg ms':>15} {'received/expected':>18}")  # fmt: skip
    for name, p in (("without positions", base), ("with positions", loaded)):
        print(f"{name:20} {pct(p.fanout_us, 0.5):12.2f} {pct(p.fanout_us, 0.99):12.2f} "
              f"{pct(p.e2e_us, 0.99):9.2f} {p.cpu_per_msg_ms:15.2f} "
              f"{p.received:>9}/{p.expected:<8}")  # fmt: skip
    fan99 = ratio(pct(loaded.fanout_us, 0.99), pct(base.fanout_us, 0.99))
    e2e99 = ratio(pct(loaded.e2e_us, 0.99), pct(base.e2e_us, 0.99))
    print(f"ratio with/without: fan-out p99 {fan99:.2f}x, end to end p99 {e2e99:.2f}x")
    print(
        f"position load: {result.answered}/{result.sent} reports answered, {result.kept} points "
        f"stored, {result.errors} errors; ack p50 {result.ack_p50_ms:.1f} ms, "
        f"p99 {result.ack_p99_ms:.1f} ms"
    )
    sustained = result.answered == result.sent and result.errors == 0
    unchanged = fan99 <= UNCHANGED and loaded.received == loaded.expected
    print(f"  reports sustained (every one answered): {'met' if sustained else 'MISSED'}")
    print(f"  fan-out p99 unchanged (≤ {UNCHANGED:g}× without): {fan99:.2f}×  "
          f"{'met' if unchanged else 'MISSED'}")  # fmt: skip
    return sustained and unchanged


async def main(args: argparse.Namespace) -> int:
    base = await fanout.run_hub(args)
    results: list[LoadResult] = []
    loaded = await fanout.run_hub(args, prepare=seeder(args.workers), alongside=load(args, results))
    report(base, loaded, results[0], args)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="intakes per second")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    p.add_argument("--procs", type=int, default=4, help="console processes")
    p.add_argument("--workers", type=int, default=1000)
    p.add_argument("--every", type=float, default=30.0, help="seconds between a worker's reports")
    p.add_argument("--quick", action="store_true", help="smoke run: 20 consoles, 2 s, 100 workers")
    args = p.parse_args(argv)
    args.scoped, args.units = 0, 5
    if args.quick:
        args.clients, args.duration, args.procs, args.workers, args.every = 20, 2.0, 2, 100, 2.0
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
