"""Hub restart on a hall in its eighth month, against a bare read of the rows it needs.

The hall is :mod:`bench.hall_seed`'s (100,000 open cases, ~1,000,000 events, 200,000 command
ids; a private copy of the cached one). Measured in the same run, alternating, page cache warm
for both (the best of ``--repeats`` each, and the median):

1. **bare**: ``sqlite3`` and typed ``msgspec`` decoding of exactly what the hub holds in memory
   — areas, units and staff, the log's tail, every open case and those finished within a week,
   the acks of the newest 50,000 commands, today's case ids — with the same queries the store
   makes, and nothing else.
2. **restart**: what a restarted hub does before it serves: ``Store.open`` (migrations
   checked), ``Engine.start`` (``Store.load``, the command ids, the indexes: open cases by
   category and grid, the deadline queue) and the server listening.
3. ``Store.load`` and ``Store.recent_commands`` alone, to show where the time goes (after the
   comparison, not between its runs: each leaves 100,000 cases to free).

Bar (DESIGN.md §4): restart ≤ 2× the bare read.

    python -m bench.restart [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from bench.hall_plan import HallParams
from bench.hall_seed import hall_of, seeded_sqlite
from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.models import TERMINAL_STATUSES, Area, Case, Staff, Unit
from hub.clock import VirtualClock
from hub.engine import RECENT_IDS, Engine
from hub.server import HubServer
from hub.store import RECENT_CLOSED, Store

QUICK = HallParams(open_cases=2_000, events=20_000, command_ids=4_000)
"""``--quick``: a small hall, seeded in seconds, for a smoke run."""


@dataclass
class Timings:
    name: str
    seconds: list[float] = field(default_factory=list)
    rows: int = 0

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _stamp(at: datetime) -> str:
    """A timestamp as the store's UTC column holds it in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bare_read(db: Path, now: datetime) -> tuple[int, float]:
    """What the hub keeps in memory, read with sqlite3 and decoded by msgspec: rows read, and
    the seconds it took."""
    started = time.perf_counter()
    areas, units = msgspec.json.Decoder(Area), msgspec.json.Decoder(Unit)
    staff, cases = msgspec.json.Decoder(Staff), msgspec.json.Decoder(Case)
    with sqlite3.connect(db) as conn:
        held: list[Area | Unit | Staff | Case] = [
            areas.decode(d) for (d,) in conn.execute("SELECT data FROM areas")
        ]
        held += [units.decode(d) for (d,) in conn.execute("SELECT data FROM units")]
        held += [staff.decode(d) for (d,) in conn.execute("SELECT data FROM staff")]
        (_, last_at), *_ = conn.execute("SELECT seq, at FROM events ORDER BY seq DESC LIMIT 1")
        cutoff = _stamp(datetime.fromisoformat(last_at).replace(tzinfo=UTC) - RECENT_CLOSED)
        finished = ",".join(f"'{s}'" for s in TERMINAL_STATUSES)
        held += [
            cases.decode(d)
            for (d,) in conn.execute(
                f"SELECT data FROM cases WHERE status NOT IN ({finished}) "
                "OR reported_at >= ? OR closed_at >= ?",
                (cutoff, cutoff),
            )
        ]
        acks = conn.execute(
            'SELECT id, digest, seq, "case", version FROM commands ORDER BY seq DESC LIMIT ?',
            (RECENT_IDS,),
        ).fetchall()
        first_day = (now - timedelta(days=1)).strftime("%y%m%d")
        ids = conn.execute("SELECT id FROM cases WHERE id >= ?", (first_day,)).fetchall()
    return len(held) + len(acks) + len(ids), time.perf_counter() - started


async def restart(url: str, now: datetime) -> tuple[int, float]:
    """Open the store, start the engine and the server, as ``griddesk hub`` does: cases held,
    and the seconds until the server listens (stopping it again is not counted)."""
    settings = Settings()
    started = time.perf_counter()
    store = await Store.open(url)
    engine = Engine(store, settings, Catalog.default(), VirtualClock(now, 1.0))
    await engine.start()
    server = HubServer(engine, store, settings.hub)
    await server.start("127.0.0.1", 0)
    seconds = time.perf_counter() - started
    await server.close()
    await engine.stop()
    await store.close()
    return len(engine.cases), seconds


async def store_part(url: str, now: datetime, part: str) -> tuple[int, float]:
    """``Store.load`` or ``Store.recent_commands`` alone, on a store already open."""
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        if part == "load":
            rows = len((await store.load(serials_from=now)).cases)
        else:
            rows = len(await store.recent_commands(RECENT_IDS))
        return rows, time.perf_counter() - started
    finally:
        await store.close()


async def _timed(timings: Timings, run: Callable[[], Awaitable[tuple[int, float]]]) -> None:
    timings.rows, seconds = await run()
    timings.seconds.append(seconds)


async def _bare(db: Path, now: datetime) -> tuple[int, float]:
    return bare_read(db, now)


async def main(args: argparse.Namespace) -> int:
    db = seeded_sqlite(QUICK if args.quick else HallParams())
    with db.open("rb+") as copy:  # written out first, not while the hub reads it
        os.fsync(copy.fileno())
    try:
        hall = hall_of(db)
        c = hall.counts
        print(f"hall: {c.open_cases:,} open of {c.cases:,} cases, {c.events:,} events, "
              f"{c.command_ids:,} command ids; SQLite {db.stat().st_size / 1e6:,.0f} MB; "
              f"hub time {hall.now.isoformat()}")  # fmt: skip
        url = f"sqlite:///{db}"
        bare, ours = Timings("bare sqlite3 + msgspec read"), Timings("hub restart")
        load, recent = Timings("  Store.load"), Timings("  Store.recent_commands")
        await restart(url, hall.now)  # once first: migrations, page cache
        for _ in range(args.repeats):  # the two compared, alternating
            await _timed(bare, lambda: _bare(db, hall.now))
            await _timed(ours, lambda: restart(url, hall.now))
        for _ in range(args.repeats):  # then the parts, apart: they leave 100,000 cases behind
            await _timed(load, lambda: store_part(url, hall.now, "load"))
            await _timed(recent, lambda: store_part(url, hall.now, "recent"))
        print(f"{'':32} {'best':>8} {'median':>8}")
        for t in (bare, ours, load, recent):
            print(f"{t.name:32} {t.best:7.2f}s {t.median:7.2f}s")
        ratio = ours.best / bare.best
        print(f"ratio restart/bare: {ratio:.2f}x best, {ours.median / bare.median:.2f}x median")
        print(f"bar: restart ≤ 2× bare read: {'met' if ratio <= 2 else 'MISSED'} ({ratio:.2f}×)")
    finally:
        shutil.rmtree(db.parent, ignore_errors=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.restart",
                                description=(__doc__ or "").splitlines()[0])  # fmt: skip
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="a small hall (2,000 open cases)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
