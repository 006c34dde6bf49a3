"""A hall in its eighth month, written straight into a store: the benchmarks' seeded hall.

DESIGN.md §4: every bar must hold on a hall with 100,000 open cases, 1,000,000 events and
200,000 command ids. Through the engine (≈1,000 commands/s) that takes a quarter of an hour
or more; :func:`seed_hall` writes the same rows in well under a minute on two cores:

- the schema by the store's own migrations (``Store.open(url, migrate=True)``), the demo city
  by ``Store.seed``, an operator for every role by ``Store.add_operator`` (tokens returned);
- every case's life as :mod:`bench.hall_plan` plans it and :mod:`bench.hall_play` plays it
  through the pure workflow, in time order, written by ``Store.commit`` — the hub's own write
  path, SQLAlchemy Core executemany — in transactions of 50,000 commands: events with a
  gap-free ``seq``, each case once at its final version, and the idempotency records of the
  last ``command_ids`` commands (the older ones as in a hall that has forgotten them: their
  events keep their command ids, the commands table does not).

A child process plans and plays while this one writes what it has played so far: the two
halves cost about the same. Like anything started by ``multiprocessing``'s spawn, a script
that seeds must guard its entry point (``if __name__ == "__main__":``).

The hall's time is :attr:`SeededHall.now`: every event lies before it, every deadline due
before it is breached as the SLA ticker would have. A hub serving the file on the wall clock
much later than ``now`` finds every running deadline past and breaches them all at start; a
benchmark runs its hub on a clock that starts at ``now`` (``VirtualClock(hall.now, 1.0)``).

    python -m bench.hall_seed --out hall.db                  # 100k open, 1M events, now
    python -m bench.hall_seed --open-cases 2000 --events 20000 --out small.db
    python -m bench.hall_seed --db postgresql://… --tokens hall.tokens.json
    python -m bench.hall_seed --cache                        # fill the benchmarks' cache

Benchmarks take a private copy of a cached file: ``seeded_sqlite(HallParams(...))``, and
``hall_of(path)`` for its tokens and ``now``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import gc
import hashlib
import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from queue import Empty
from typing import TypeVar

import msgspec

from bench.hall_plan import DEFAULT_NOW, HallParams, plan_hall
from bench.hall_play import Act, Cast, Play, lights
from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.hall import Hall
from dispatch.models import Case, Role
from hub.demo_city import demo_city
from hub.engine import _digest as command_digest  # the hub's own: a retry is then a replay
from hub.engines import async_url, sqlite_file
from hub.store import Applied, Store

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("GRIDDESK_BENCH_CACHE", REPO / "bench" / ".cache"))
"""Seeded halls kept for the benchmarks (gitignored); ``GRIDDESK_BENCH_CACHE`` moves it."""
CACHE_ENTRIES = 3
"""Seeded halls kept at most (the full one is ~0.5 GB): the least recently used go first."""
CACHE_SOURCES = (
    "hub/schema.py", "hub/migrations", "hub/store.py", "hub/engine.py", "hub/demo_city.py",
    "dispatch", "bench/hall_plan.py", "bench/hall_play.py", "bench/hall_seed.py",
)  # fmt: skip
"""What a seeded hall is made from: a change to any of these seeds the cache afresh."""

BATCH_ACTS = 50_000
"""Commands (and breaches) written per transaction."""

_T = TypeVar("_T")


class SeededOperator(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    role: Role
    unit: str | None
    token: str


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """What the seeded hall holds."""

    cases: int
    open_cases: int
    events: int
    command_ids: int
    by_status: dict[str, int]
    lights: dict[str, int]  # open cases at ``now``: green, amber, red, none (no clock runs)
    sources: dict[str, int]
    urgent: int
    breaches: int
    duplicates_flagged: int
    merged: int
    refused: dict[str, int]  # planned commands the workflow refused (left out)


class SeededHall(msgspec.Struct, frozen=True, kw_only=True):
    """A seeded hall: its time, its operators and their tokens, what it holds, how long it
    took. Kept as JSON beside the database (:func:`tokens_file`)."""

    now: datetime
    seed: int
    operators: tuple[SeededOperator, ...]
    counts: Counts
    seconds: dict[str, float]

    def operator(self, role: Role, unit: str | None = None) -> SeededOperator:
        """The first operator with ``role`` (and of ``unit``, when given)."""
        for op in self.operators:
            if op.role is role and (unit is None or op.unit == unit):
                return op
        raise KeyError(f"no {role} operator{f' of {unit}' if unit else ''} in the seeded hall")

    def token(self, role: Role, unit: str | None = None) -> str:
        return self.operator(role, unit).token

    def write(self, path: Path) -> None:
        path.write_bytes(msgspec.json.format(msgspec.json.encode(self)) + b"\n")

    @classmethod
    def read(cls, path: Path) -> SeededHall:
        return msgspec.json.decode(path.read_bytes(), type=cls)


def tokens_file(db: Path) -> Path:
    """Where the :class:`SeededHall` of a seeded SQLite file is kept: ``hall.tokens.json``."""
    return db.with_name(f"{db.stem}.tokens.json")


def hall_of(db: Path) -> SeededHall:
    """The :class:`SeededHall` of a seeded SQLite file (or of a copy from :func:`seeded_sqlite`)."""
    return SeededHall.read(tokens_file(db))


# --- seeding --------------------------------------------------------------------------------


async def seed_hall(
    url: str,
    *,
    open_cases: int = 100_000,
    events: int = 1_000_000,
    command_ids: int = 200_000,
    now: datetime = DEFAULT_NOW,
    seed: int = 8,
) -> SeededHall:
    """Write an eighth-month hall into the empty database at ``url`` (SQLite or PostgreSQL).

    ``open_cases`` is exact; ``events`` is reached within a few percent (breaches and
    duplicates are what the workflow makes of the plans); ``command_ids`` is exact when the
    hall has that many commands. Deterministic in ``seed`` and ``now``, tokens aside.
    """
    params = HallParams(open_cases=open_cases, events=events, command_ids=command_ids,
                        now=now, seed=seed)  # fmt: skip
    return await seed_params(url, params)


async def seed_params(url: str, params: HallParams) -> SeededHall:
    """:func:`seed_hall` with its parameters in one value.

    Two processes on two cores: a child plans the hall and plays it through the workflow,
    handing over each batch as soon as it is played; this one writes the batches meanwhile.
    """
    started, cpu = time.perf_counter(), time.process_time()
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    queue: multiprocessing.Queue[bytes] = context.Queue()
    child = context.Process(target=_produce, args=(params, queue), name="hall-seed-play",
                            daemon=True)  # fmt: skip
    child.start()
    writing = 0.0
    try:
        store = await Store.open(url, migrate=True)
        try:
            if not await store.is_empty():
                raise ValueError(f"{url}: not an empty database; seed a fresh one")
            city = demo_city()
            await store.seed(city.areas, city.units, city.staff)
            operators = [
                SeededOperator(name=actor.name, role=actor.role, unit=actor.unit,
                               token=await store.add_operator(actor.name, actor.role, actor.unit))
                for actor in Cast(demo_hall(), params.now).everyone
            ]  # fmt: skip
            loop = asyncio.get_running_loop()
            with _no_cycle_collector():
                while True:
                    raw = await loop.run_in_executor(None, _take, queue, child)
                    message = _decoder.decode(raw)
                    if isinstance(message, _Failed):
                        raise RuntimeError(f"playing the hall failed:\n{message.error}")
                    if isinstance(message, _Done):
                        break
                    began = time.perf_counter()
                    await store.commit(message.batch)
                    writing += time.perf_counter() - began
        finally:
            await store.close()
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
    path = sqlite_file(async_url(url))
    if path is not None:
        with sqlite3.connect(path) as conn:
            # One self-contained file (nothing left in the WAL) that can be copied alone.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seconds = {**message.seconds, "write": writing, "writer_cpu": time.process_time() - cpu,
               "total": time.perf_counter() - started}  # fmt: skip
    return SeededHall(
        now=params.now,
        seed=params.seed,
        operators=tuple(operators),
        counts=message.counts,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )


class _Batch(msgspec.Struct, tag="batch"):
    """Played commands for one transaction, as the engine would have committed them."""

    batch: list[Applied]


class _Done(msgspec.Struct, tag="done"):
    counts: Counts
    seconds: dict[str, float]


class _Failed(msgspec.Struct, tag="failed"):
    error: str


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Batch | _Done | _Failed)


def _take(queue: multiprocessing.Queue[bytes], child: BaseProcess) -> bytes:
    """The child's next message; fails if the child died without one."""
    while True:
        try:
            return queue.get(timeout=1)
        except Empty:
            if not child.is_alive():
                raise RuntimeError(f"the hall's player died (exit code {child.exitcode})") from None


def _produce(params: HallParams, queue: multiprocessing.Queue[bytes]) -> None:
    """The child: plan the hall, play it, hand over each batch; then the counts."""
    try:
        gc.disable()  # see _no_cycle_collector; this process lives only for this
        seconds: dict[str, float] = {}
        hall = demo_hall()
        with _timed(seconds, "plan"):
            plans = plan_hall(hall, params)
        play = Play(plans, hall, params.now, params.seed)
        tally: Counter[str] = Counter()
        with _timed(seconds, "play"):
            for batch in _batches(play, params.command_ids, tally):
                queue.put(_encoder.encode(_Batch(batch)))
        counts = _counts(play, tally, hall, params)
        seconds["player_cpu"] = time.process_time()
        queue.put(_encoder.encode(_Done(counts=counts, seconds=seconds)))
    except BaseException:
        queue.put(_encoder.encode(_Failed(traceback.format_exc())))
        raise


def demo_hall() -> Hall:
    """The demo city as the hall every seeded case lives in, on default settings."""
    city = demo_city()
    return Hall.of(Settings(), Catalog.default(), areas=city.areas, units=city.units,
                   staff=city.staff)  # fmt: skip


def _batches(play: Play, command_ids: int, tally: Counter[str]) -> Iterator[list[Applied]]:
    """The play as the engine would have committed it, :data:`BATCH_ACTS` at a time.

    The last ``command_ids`` commands keep their idempotency record, so acts are held back
    until it is sure they are older than that. Each case is written once, at its final
    version: with the first batch handed over after its life ended, or with the last batch
    for the cases still open (a case row may go in before the last of its events: nobody
    reads the database until it is all written).
    """
    held: deque[Act] = deque()  # the acts of the last ``command_ids`` commands, and later ones
    commands = 0  # in ``held``
    older: list[Act] = []
    written: set[int] = set()
    for act in play:
        tally["events"] += len(act.events)
        tally["breaches"] += act.command is None
        tally["commands"] += act.command is not None
        held.append(act)
        commands += act.command is not None
        while commands > command_ids or (held and held[0].command is None):
            first = held.popleft()
            commands -= first.command is not None
            older.append(first)
        if len(older) >= BATCH_ACTS:
            yield _applied(older, _finished(play, written), keep_ids=False)
            older = []
    if older:
        yield _applied(older, _finished(play, written), keep_ids=False)
    recent = list(held)
    for n in range(0, len(recent), BATCH_ACTS):
        last = n + BATCH_ACTS >= len(recent)
        if last:
            play.finished.extend(range(len(play.plans)))  # the open ones too, now
        yield _applied(recent[n : n + BATCH_ACTS], _finished(play, written), keep_ids=True)


def _finished(play: Play, written: set[int]) -> list[Case]:
    """The cases whose life ended since the last batch, at their final version."""
    cases = [play.case(j) for j in play.finished if j not in written]
    written.update(play.finished)
    play.finished.clear()
    return cases


def _applied(acts: Sequence[Act], cases: list[Case], *, keep_ids: bool) -> list[Applied]:
    """``acts`` as the store's batch, ``cases`` written with the last of them."""
    return [
        Applied(
            command_id=act.command.id if keep_ids and act.command else None,
            digest=command_digest(act.command, act.actor) if keep_ids and act.command else "",
            actor=act.actor.name,
            events=act.events,
            cases=cases if n == len(acts) - 1 else [],
            staff=[],
            ack_case=act.case,
            ack_version=act.version,
        )
        for n, act in enumerate(acts)
    ]


def _counts(play: Play, tally: Counter[str], hall: Hall, params: HallParams) -> Counts:
    cases = play.cases
    return Counts(
        cases=len(cases),
        open_cases=sum(1 for c in cases if c.is_open),
        events=tally["events"],
        command_ids=min(tally["commands"], params.command_ids),
        by_status=dict(Counter(str(c.status) for c in cases).most_common()),
        lights=dict(lights(cases, params.now, hall.calendar).most_common()),
        sources=dict(Counter(str(c.source) for c in cases).most_common()),
        urgent=sum(1 for c in cases if c.urgency == "urgent"),
        breaches=tally["breaches"],
        duplicates_flagged=play.flagged,
        merged=play.merged,
        refused=dict(play.refused),
    )


@contextmanager
def _no_cycle_collector() -> Iterator[None]:
    """The cyclic GC off while millions of acyclic objects are made: with it on, its full
    passes over everything alive made playing 200,000 events take twice as long, and more
    the bigger the hall (none of these objects is part of a cycle)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started


# --- the benchmarks' cache -------------------------------------------------------------------


def seeded_sqlite(params: HallParams | None = None, *, into: Path | None = None) -> Path:
    """A private copy of a seeded SQLite hall, for one benchmark run to use and change.

    The hall is seeded once per ``params`` (and per version of the code it is made from,
    :data:`CACHE_SOURCES`) into :data:`CACHE`; each call copies it to ``into`` (a directory;
    default: a new temporary one, the caller's to remove) and returns the copy's path.
    :func:`hall_of` reads its tokens and ``now``. Blocks while seeding; callable from inside
    an event loop.
    """
    params = params or HallParams()
    entry = cached_hall(params)
    target = into or Path(tempfile.mkdtemp(prefix="griddesk-hall-"))
    target.mkdir(parents=True, exist_ok=True)
    db = target / "hall.db"
    shutil.copyfile(entry / "hall.db", db)
    shutil.copyfile(tokens_file(entry / "hall.db"), tokens_file(db))
    return db


def cached_hall(params: HallParams) -> Path:
    """The cache entry (a directory holding ``hall.db`` and its tokens) for ``params``,
    seeded now if it is missing."""
    entry = CACHE / f"hall-{cache_key(params)}"
    if not (entry / "hall.db").is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        building = CACHE / f"{entry.name}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        db = building / "hall.db"
        hall = _run(lambda: seed_params(f"sqlite:///{db}", params))
        hall.write(tokens_file(db))
        try:
            building.rename(entry)
        except OSError:  # another run seeded the same hall meanwhile: keep theirs
            shutil.rmtree(building, ignore_errors=True)
    os.utime(entry)
    _prune(keep=entry)
    return entry


def cache_key(params: HallParams, sources: Sequence[Path] | None = None) -> str:
    """A digest of the parameters and of every source a seeded hall is made from (default:
    :data:`CACHE_SOURCES`; a folder counts with every ``.py`` and ``.json`` file in it)."""
    digest = hashlib.sha256(repr(sorted(asdict(params).items())).encode())
    for root in sources if sources is not None else [REPO / name for name in CACHE_SOURCES]:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for file in files:
            if file.is_file() and file.suffix in (".py", ".json"):
                digest.update(file.relative_to(root.parent).as_posix().encode() + b"\0")
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _prune(*, keep: Path) -> None:
    entries = sorted(CACHE.glob("hall-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [e for e in entries if e != keep and ".building-" not in e.name][
        CACHE_ENTRIES - 1 :
    ]:
        shutil.rmtree(old, ignore_errors=True)


def _run(make: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion, also from code already inside an event loop."""

    async def main() -> _T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


# --- the command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hall_seed", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--open-cases", type=int, default=100_000, metavar="N")
    parser.add_argument("--events", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--command-ids", type=int, default=200_000, metavar="N")
    parser.add_argument("--now", type=_instant, metavar="ISO",
                        help="hub time of the hall (default: now; with --cache: "
                             f"{DEFAULT_NOW.isoformat()})")  # fmt: skip
    parser.add_argument("--seed", type=int, default=8)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="FILE", help="a new SQLite file")
    where.add_argument("--db", metavar="URL", help="an empty database (e.g. PostgreSQL)")
    where.add_argument("--cache", action="store_true",
                       help="seed the benchmarks' cached hall if it is missing")  # fmt: skip
    parser.add_argument("--tokens", type=Path, metavar="FILE",
                        help="where to write the operators' tokens (default: beside --out, "
                             "else ./hall.tokens.json)")  # fmt: skip
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    args = parser.parse_args(argv)
    default_now = DEFAULT_NOW if args.cache else datetime.now(UTC).replace(microsecond=0)
    params = HallParams(open_cases=args.open_cases, events=args.events,
                        command_ids=args.command_ids, now=args.now or default_now,
                        seed=args.seed)  # fmt: skip
    if args.cache:
        entry = cached_hall(params)
        _report(hall_of(entry / "hall.db"), entry / "hall.db", tokens_file(entry / "hall.db"))
        return 0
    if args.out is not None:
        if args.out.exists() and not args.force:
            parser.error(f"{args.out} exists (--force replaces it)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.out}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{args.out.resolve()}"
        tokens = args.tokens or tokens_file(args.out)
    else:
        url, tokens = args.db, args.tokens or Path("hall.tokens.json")
    hall = asyncio.run(seed_params(url, params))
    hall.write(tokens)
    _report(hall, args.out, tokens)
    return 0


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time zone, e.g. {text}+08:00")
    return at.astimezone(UTC)


def _report(hall: SeededHall, db: Path | None, tokens: Path) -> None:
    c = hall.counts
    s = hall.seconds
    print(f"seeded in {s['total']:.1f} s: plan {s['plan']:.1f} s, play {s['play']:.1f} s, "
          f"write {s['write']:.1f} s (written while played); CPU: player "
          f"{s['player_cpu']:.1f} s, writer {s['writer_cpu']:.1f} s")  # fmt: skip
    print(f"hub time (now): {hall.now.isoformat()}")
    print(f"cases {c.cases:,}: open {c.open_cases:,}; events {c.events:,}; "
          f"command ids {c.command_ids:,}")  # fmt: skip
    print("by status: " + ", ".join(f"{k} {v:,}" for k, v in c.by_status.items()))
    print("open cases' clocks at now: " + ", ".join(f"{k} {v:,}" for k, v in c.lights.items()))
    print("sources: " + ", ".join(f"{k} {v:,}" for k, v in c.sources.items()))
    print(f"urgent {c.urgent:,} ({c.urgent / max(c.cases, 1):.1%}); breaches {c.breaches:,}; "
          f"duplicates flagged {c.duplicates_flagged:,}, merged {c.merged:,}")  # fmt: skip
    if c.refused:
        print("planned but refused by the workflow (left out): "
              + ", ".join(f"{k} {v}" for k, v in c.refused.items()))  # fmt: skip
    if db is not None and db.exists():
        print(f"database: {db} ({db.stat().st_size / 1e6:,.0f} MB)")
    print(f"tokens: {tokens}")


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "DEFAULT_NOW",
    "HallParams",
    "SeededHall",
    "SeededOperator",
    "cached_hall",
    "hall_of",
    "seed_hall",
    "seeded_sqlite",
    "tokens_file",
]
