"""Commands-per-second benchmark of the hub's engine on SQLite, against bare SQLAlchemy.

Our figure: a fresh temporary SQLite file with the demo city, one commander, N concurrent
submitters each walking cases through a realistic life (intake → accept → dispatch →
acknowledge → urge → arrive → note → report back → check → close) with ``Engine.execute`` until
a fixed number of commands is acknowledged. Reported: commands/s, p50/p99 ack latency, and the
same with one submitter (no concurrency, so no group commit: what group commit buys).

The bare baseline, in the same run and on the same disk: plain SQLAlchemy async + aiosqlite
(WAL, ``synchronous=FULL`` as the store uses) inserting one case row + one event row per
transaction, then the same rows 100 per transaction. Bar (DESIGN.md §4): ≥ 1,000 commands/s.

    .venv/bin/python bench/commands_sqlite.py [--commands 5000] [--submitters 50] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.catalog import Catalog
from dispatch.commands import (
    Accept,
    Acknowledge,
    Arrive,
    CaseCommand,
    Check,
    Close,
    Command,
    Dispatch,
    Intake,
    Note,
    ReportBack,
    Urge,
)
from dispatch.config import Settings
from dispatch.models import Actor, AreaKind, Kind, Role, Source

ROW_TEXT = "x" * 900
"""Padding so a bare row weighs about what a stored case or event row does (~1 KB of JSON)."""


@dataclass
class Figure:
    name: str
    count: int  # commands (or transactions / rows for the bare runs)
    seconds: float
    latencies_s: list[float]
    unit: str = "commands"

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def pct_ms(self, q: float) -> float:
        lat = sorted(self.latencies_s)
        if not lat:
            return math.nan
        return lat[min(len(lat) - 1, max(0, math.ceil(q * len(lat)) - 1))] * 1000


# --- ours --------------------------------------------------------------------------------------


def lifecycle(
    case_id: str, version: int, unit: str, n: Callable[[], str]
) -> Iterator[Callable[[int], CaseCommand]]:
    """The steps after intake; each takes the version the previous ack returned."""
    c = case_id
    yield lambda v: Accept(id=n(), case=c, version=v)
    yield lambda v: Dispatch(id=n(), case=c, version=v, unit=unit)
    yield lambda v: Acknowledge(id=n(), case=c, version=v)
    yield lambda v: Urge(id=n(), case=c, version=v, reason="请尽快到场")
    yield lambda v: Arrive(id=n(), case=c, version=v)
    yield lambda v: Note(id=n(), case=c, version=v, reason="现场已拍照")
    yield lambda v: ReportBack(id=n(), case=c, version=v, reason="已清理完毕")
    yield lambda v: Check(id=n(), case=c, version=v, passed=True)
    yield lambda v: Close(id=n(), case=c, version=v)


async def run_ours(commands: int, submitters: int, name: str) -> Figure:
    from hub.clock import WallClock
    from hub.demo_city import demo_city
    from hub.engine import Engine
    from hub.store import Store

    settings = Settings()
    catalog = Catalog.default()
    city = demo_city()
    grids = [(a.code, a.locality) for a in city.areas if a.kind is AreaKind.GRID and a.locality]
    categories = [c.code for c in catalog if c.kind is Kind.EVENT]
    actor = Actor(name="bench-commander", role=Role.COMMANDER)
    ids = itertools.count()
    latencies: list[float] = []
    refused: list[str] = []

    def next_id() -> str:
        return f"cmd-{next(ids)}"

    with tempfile.TemporaryDirectory(prefix="griddesk-bench-") as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/hub.db")
        await store.seed(city.areas, city.units, city.staff)
        engine = Engine(store, settings, catalog, WallClock())
        await engine.start()

        async def submit(command: Command) -> int | None:
            t0 = time.perf_counter()
            try:
                ack = await engine.execute(command, actor)
            except Exception as exc:  # a refusal is a bug in the mix: report it
                refused.append(f"{type(command).__name__}: {exc!r}")
                return None
            latencies.append(time.perf_counter() - t0)
            return ack.version

        async def submitter(k: int) -> None:
            for round_ in itertools.count():
                grid, unit = grids[(k + round_ * submitters) % len(grids)]
                if len(latencies) + len(refused) >= commands:
                    return
                intake = Intake(
                    id=next_id(),
                    kind=Kind.EVENT,
                    category=categories[(k + round_) % len(categories)],
                    source=Source.PATROL,
                    title=f"bench case {k}-{round_}",
                    grid=grid,
                )
                t0 = time.perf_counter()
                try:
                    ack = await engine.execute(intake, actor)
                except Exception as exc:
                    refused.append(f"Intake: {exc!r}")
                    continue
                latencies.append(time.perf_counter() - t0)
                version = ack.version or 1
                assert ack.case is not None
                for step in lifecycle(ack.case, version, unit, next_id):
                    if len(latencies) + len(refused) >= commands:
                        return
                    new_version = await submit(step(version))
                    if new_version is None:
                        break
                    version = new_version

        t0 = time.perf_counter()
        await asyncio.gather(*(submitter(k) for k in range(submitters)))
        elapsed = time.perf_counter() - t0
        await engine.stop()
        await store.close()
    for line in sorted(set(refused))[:5]:
        print(f"  {name}: refused {line}")
    return Figure(name, len(latencies), elapsed, latencies)


# --- bare SQLAlchemy ---------------------------------------------------------------------------


async def run_bare(rows: int, per_txn: int, name: str) -> Figure:
    from sqlalchemy import Column, Integer, MetaData, String, Table, Text, event, insert
    from sqlalchemy.ext.asyncio import create_async_engine

    meta = MetaData()
    cases = Table(
        "cases", meta, Column("id", String, primary_key=True), Column("data", Text)
    )  # fmt: skip
    events = Table(
        "events", meta,
        Column("seq", Integer, primary_key=True), Column("case_id", String),
        Column("type", String), Column("data", Text),
    )  # fmt: skip

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="griddesk-bench-") as tmp:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp}/bare.db")
        event.listen(engine.sync_engine, "connect", on_connect)
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)
        t0 = time.perf_counter()
        for start in range(0, rows, per_txn):
            batch = range(start, min(rows, start + per_txn))
            t1 = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(
                    insert(cases), [{"id": f"c{i}", "data": ROW_TEXT} for i in batch]
                )
                await conn.execute(
                    insert(events),
                    [{"seq": i + 1, "case_id": f"c{i}", "type": "case_created", "data": ROW_TEXT}
                     for i in batch],
                )  # fmt: skip
            latencies.append(time.perf_counter() - t1)
        elapsed = time.perf_counter() - t0
        await engine.dispose()
    return Figure(name, rows, elapsed, latencies, unit="case+event")


# --- report ------------------------------------------------------------------------------------


def line(f: Figure) -> str:
    return (
        f"{f.name:44} {f.rate:9.0f} {f.unit}/s  ({f.count} in {f.seconds:.2f} s)  "
        f"p50 {f.pct_ms(0.5):6.2f} ms  p99 {f.pct_ms(0.99):6.2f} ms"
    )


async def main(args: argparse.Namespace) -> int:
    print(f"commands on SQLite (WAL, synchronous=FULL), temp files under {tempfile.gettempdir()}")
    bare1 = await run_bare(args.bare_rows, 1, "bare SQLAlchemy+aiosqlite, 1 case+event/txn")
    print(line(bare1) + "  (latency = per transaction)")
    bare100 = await run_bare(args.bare_rows * 10, 100, "bare, 100 case+event rows/txn")
    print(line(bare100) + "  (latency = per transaction)")
    seq = await run_ours(args.sequential, 1, "griddesk engine, 1 submitter (sequential)")
    print(line(seq))
    ours = await run_ours(
        args.commands, args.submitters, f"griddesk engine, {args.submitters} submitters"
    )
    print(line(ours))
    print(
        f"ratio ours/bare-per-txn: {ours.rate / bare1.rate:.2f}x; "
        f"group commit vs sequential: {ours.rate / seq.rate:.2f}x; "
        f"ours/bare-100-per-txn: {ours.rate / bare100.rate:.2f}x"
    )
    print(
        f"bar: ≥ 1,000 commands/s: {'met' if ours.rate >= 1000 else 'MISSED'} ({ours.rate:.0f}/s)"
    )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", type=int, default=5000)
    p.add_argument("--submitters", type=int, default=50)
    p.add_argument("--sequential", type=int, default=1000, help="commands for the 1-submitter run")
    p.add_argument(
        "--bare-rows", type=int, default=1000, help="transactions of the bare per-txn run"
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 500 commands")
    args = p.parse_args(argv)
    if args.quick:
        args.commands, args.sequential, args.bare_rows = 500, 200, 200
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
