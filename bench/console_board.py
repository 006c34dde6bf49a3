"""The whole board at 20,000 and 100,000 open cases, against a bare Textual ``DataTable``.

The path a person waits on, headless (``App.run_test()``, 200×50): a real hub (store, engine,
server, SLA ticker; a process of its own, on a clock standing at the hall's hub time,
``VirtualClock(now, 1.0)``) serves :mod:`bench.hall_seed`'s hall over loopback to the real
console (``make_console``: ``HubClient`` mirror → hub link → ``Desk`` / ``HallModel`` →
``BoardScreen`` with its strip, tabs, case list, detail and roster), in a process of its own
so its RSS is the console's. At each size:

1. **first board**: snapshot in hand (the app takes the link's ``Synced``: the mirror is
   complete) → the
   board drawn live (the operator's preferences taken, the screen repainted). Connect →
   drawn, the wire included, is printed beside it.
2. **1,000-event batch**: 1,000 changed cases — a quarter each: an urge (changed in place), a
   reassignment to another person (roster load moves), a step forward (the case changes
   queue), and new intakes — posted as one ``HallBatch``, as the link posts what the mirror
   folded, → ``HallModel.apply`` → ``DeskChanged`` → the board repainted. Median and worst
   of ``--batches``.
3. **a key while 100 events/s arrive**: the hub applies ``--rate`` notes a second on random
   open cases (real events over the wire, through the mirror and the link); meanwhile
   ``--keys`` arrow-downs and tab switches (keys 1–7), each timed from the key to the screen
   repainted after it; p50 and p99, and the console's CPU share meanwhile.
4. **RSS** of the console process after all of it.

Baseline, in the same run, in a process of its own: a bare Textual app with one plain
``DataTable`` of the same cases (8 text columns): load N rows → drawn; 1,000 ``update_cell``
→ drawn; arrow down while a 10 Hz timer updates 10 rows (100 updates/s); RSS. Each step is
timed the same way (to ``call_after_refresh``), so both include the screen's update timer.

Bars (issue 8, DESIGN.md §4): batch ≤ 50 ms at 20,000 and 100,000; key p99 ≤ 100 ms at
100,000 with 100 events/s; first board ≤ 1.5 s at 20,000 and ≤ 2.5 s at 100,000; RSS ≤ 150 MB
at 20,000 and ≤ 400 MB at 100,000. Exits 0 whether or not a bar is met.

    python -m bench.console_board [--sizes 20000,100000] [--batches 10] [--keys 200]
                                  [--rate 100] [--no-bare] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import itertools
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from bench.hall_plan import HallParams
from bench.hall_seed import hall_of, seeded_sqlite

REPO = Path(__file__).resolve().parent.parent
SIZE = (200, 50)

QUICK = HallParams(open_cases=2_000, events=20_000, command_ids=4_000)
"""``--quick``: a small hall, seeded in seconds, for a smoke run."""

BATCH = 1_000
PROFILE = "GRIDDESK_BENCH_PROFILE"
"""Names a file: the console's process profiles the batches and keys into it (cProfile)."""
BARS: dict[int, dict[str, float]] = {
    20_000: {"first": 1.5, "batch": 0.050, "rss": 150},
    100_000: {"first": 2.5, "batch": 0.050, "rss": 400, "key": 0.100},
}


def params_for(open_cases: int) -> HallParams:
    """The seeded hall of ``open_cases``: the eighth month's proportions (10 events and 2
    command ids per open case)."""
    if open_cases == 100_000:
        return HallParams()
    return HallParams(open_cases=open_cases, events=10 * open_cases, command_ids=2 * open_cases)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def drawn(app: Any, rounds: int = 3) -> float:
    """Wait until the app, the screen and every widget on it have handled what is queued
    (``rounds`` times over: a key goes app → widget → action → messages to the screen), then
    until the screen has repainted; the instant it did. (Not ``Pilot.press``/``pause``: they
    also wait for the process to go idle, which takes ~60 ms, and up to a second while events
    keep arriving.)"""
    loop = asyncio.get_running_loop()
    for _ in range(rounds):
        waits = []
        for pump in [app, *app.screen.walk_children(with_self=True)]:
            done: asyncio.Future[float] = loop.create_future()
            if pump.call_later(_settle, done):
                waits.append(done)
        await asyncio.gather(*waits)
    painted: asyncio.Future[float] = loop.create_future()
    app.screen.call_after_refresh(_settle, painted)
    return await painted


def _settle(done: asyncio.Future[float]) -> None:
    if not done.done():
        done.set_result(time.perf_counter())


def press(app: Any, key: str) -> None:
    """Type ``key`` as the terminal driver would hand it to the app."""
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))


# --- the hub's process ------------------------------------------------------------------------


async def hub_main(db: str) -> int:
    """Serve the hall at ``db``; say the url; on ``drive R`` apply R notes a second on random
    open cases (as the commander), on ``stop`` stop, on end of input close."""
    from dispatch.catalog import Catalog
    from dispatch.commands import Note
    from dispatch.config import HubSettings, Settings
    from dispatch.models import Actor, Role
    from hub.clock import VirtualClock
    from hub.engine import Engine
    from hub.server import HubServer
    from hub.store import Store

    hall = hall_of(Path(db))
    settings = Settings(hub=HubSettings(frames_per_second=1_000_000, burst=1_000_000))
    store = await Store.open(f"sqlite:///{db}")
    engine = Engine(store, settings, Catalog.default(), VirtualClock(hall.now, 1.0))
    await engine.start()
    server = HubServer(engine, store, settings.hub)
    await server.start("127.0.0.1", 0)
    say(json.dumps({"url": f"ws://127.0.0.1:{server.port}"}))
    actor = Actor(name="bench-driver", role=Role.COMMANDER)
    rng = random.Random(8)
    driver: asyncio.Task[None] | None = None

    async def drive(rate: float) -> None:
        ids = [k for k, c in engine.cases.items() if c.is_open]
        pending: set[asyncio.Task[Any]] = set()
        started = time.perf_counter()
        for n in itertools.count():
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            case = engine.cases[rng.choice(ids)]
            note = Note(id=f"bench-note-{n}-{rng.random()}", case=case.id,
                        version=case.version, reason="bench")  # fmt: skip
            task = asyncio.create_task(engine.execute(note, actor))
            pending.add(task)
            task.add_done_callback(pending.discard)
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            word, *rest = line.split()
            if word == "drive" and driver is None:
                driver = asyncio.create_task(drive(float(rest[0])))
            elif word == "stop" and driver is not None:
                driver.cancel()
                driver = None
    finally:
        if driver is not None:
            driver.cancel()
        await server.close()
        await engine.stop()
        await store.close()
    return 0


# --- the console's process --------------------------------------------------------------------


class Spec(msgspec.Struct, frozen=True):
    url: str
    token: str
    batches: int
    keys: int
    warmup: float


def synthetic_batch(model: Any, rng: random.Random, now: datetime, n: int) -> tuple[Any, ...]:
    """``n`` new case values as ``n`` events would leave them: a quarter urged (in place), a
    quarter reassigned to another person of the unit, a quarter a step further on (another
    queue), a quarter new intakes (copies of open cases under new ids)."""
    from dispatch.models import Status

    step = {
        Status.REPORTED: Status.ACCEPTED, Status.VERIFIED: Status.ACCEPTED,
        Status.ACCEPTED: Status.DISPATCHED, Status.DISPATCHED: Status.ACKNOWLEDGED,
        Status.ACKNOWLEDGED: Status.ON_SCENE, Status.ON_SCENE: Status.REPORTED_BACK,
        Status.REPORTED_BACK: Status.CHECKED, Status.CHECKED: Status.CLOSED,
    }  # fmt: skip
    by_unit: dict[str | None, list[str]] = {}
    for person in model.staff.values():
        by_unit.setdefault(person.unit, []).append(person.id)
    open_ids = [k for k, c in model.cases.items() if c.is_open]
    out = []
    for i, key in enumerate(rng.sample(open_ids, n)):
        case = model.cases[key]
        replace = msgspec.structs.replace
        kind = i % 4
        if kind == 0:
            out.append(replace(case, urges=case.urges + 1, version=case.version + 1))
        elif kind == 1:
            people = by_unit.get(case.owner_unit) or [s for v in by_unit.values() for s in v]
            out.append(replace(case, owner_staff=rng.choice(people), version=case.version + 1))
        elif kind == 2 and case.status in step:
            to = step[case.status]
            closed = now if to is Status.CLOSED else None
            out.append(replace(case, status=to, closed_at=closed, version=case.version + 1))
        else:
            new_id = f"9{rng.randrange(10**9):09d}"
            out.append(replace(case, id=new_id, status=Status.REPORTED, reported_at=now,
                               owner_unit=None, owner_staff=None, version=1))  # fmt: skip
    return tuple(out)


async def console_main(raw: str) -> int:
    from console.app import make_console
    from console.messages import ConnectionChanged, HallBatch, Synced
    from dispatch.config import Settings
    from screens.board import BoardScreen
    from widgets.queue_list import QueueList

    spec = msgspec.json.decode(raw, type=Spec)
    marks: dict[str, float] = {}
    prefs = Path(tempfile.mkdtemp(prefix="griddesk-board-"))

    app = make_console(Settings(), hub_url=spec.url, token=spec.token, prefs_dir=prefs)

    def hook(message: object) -> None:
        # Called as the app takes a message, before its handler: the check runs after it.
        if isinstance(message, Synced):
            marks.setdefault("synced", time.perf_counter())
        if isinstance(message, Synced | ConnectionChanged):
            app.call_later(arm)

    def arm() -> None:
        """Once the snapshot is in and the link live: note when the screen next repaints."""
        if "synced" in marks and app.live and "armed" not in marks:
            marks["armed"] = time.perf_counter()
            app.screen.call_after_refresh(lambda: marks.setdefault("drawn", time.perf_counter()))

    result: dict[str, Any] = {}
    try:
        connect = time.perf_counter()
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            while "drawn" not in marks:
                await pilot.pause(0.01)
            board = next(s for s in app.screen_stack if isinstance(s, BoardScreen))
            listed = board.query_one(QueueList)
            result["first"] = marks["drawn"] - marks["synced"]
            result["connect_to_drawn"] = marks["drawn"] - connect
            result["cases"] = len(app.desk.model.cases)
            result["listed"] = listed.row_count
            result["rss_first"] = rss_mb()
            await pilot.pause(0.5)
            profile = cProfile.Profile() if os.environ.get(PROFILE) else None
            if profile is not None:
                profile.enable()
            rng = random.Random(1)
            seconds = []
            for _ in range(spec.batches):
                cases = synthetic_batch(app.desk.model, rng, app.hub_now(), BATCH)
                await pilot.pause()
                started = time.perf_counter()
                app.post_message(HallBatch(cases, (), ()))
                seconds.append(await drawn(app) - started)
                await pilot.pause(0.05)
            result["batch"] = seconds
            say("drive")  # the parent has the hub apply --rate events a second from now on
            await pilot.pause(spec.warmup)
            keys: dict[str, list[float]] = {"down": [], "tab": []}
            cpu = time.process_time()
            wall = time.perf_counter()
            tabs = itertools.cycle("1234567")
            for n in range(spec.keys):
                key, kind = (next(tabs), "tab") if n % 5 == 4 else ("down", "down")
                started = time.perf_counter()
                press(app, key)
                keys[kind].append(await drawn(app) - started)
                await pilot.pause(rng.uniform(0.02, 0.08))
            result["cpu_share"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
            result["keys"] = keys
            say("stop")
            if profile is not None:
                profile.disable()
                profile.dump_stats(os.environ[PROFILE])
            result["rss"] = rss_mb()
    finally:
        shutil.rmtree(prefs, ignore_errors=True)
    say(json.dumps(result))
    return 0


# --- the bare baseline's process ----------------------------------------------------------


async def bare_main(db: str, presses: int) -> int:
    """A bare Textual app with a plain ``DataTable`` doing what the board does."""
    import sqlite3

    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from dispatch.models import TERMINAL_STATUSES, Case

    decoder = msgspec.json.Decoder(Case)
    finished = ",".join(f"'{s}'" for s in TERMINAL_STATUSES)
    with sqlite3.connect(db) as conn:
        query = f"SELECT data FROM cases WHERE status NOT IN ({finished})"
        cases = [decoder.decode(d) for (d,) in conn.execute(query)]
    rows = [
        (c.id, c.urgency.value, c.status.value, c.category, c.title, c.grid or "",
         c.owner_unit or "", c.level.value)
        for c in cases
    ]  # fmt: skip
    del cases

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

    app = Bare()
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        table: DataTable[str] = app.query_one(DataTable)
        table.focus()
        await pilot.pause()
        started = time.perf_counter()
        table.add_columns("case", "urg.", "status", "category", "title", "grid", "unit", "level")
        keys = table.add_rows(rows)
        result["first"] = await drawn(app) - started
        result["rss_first"] = rss_mb()
        rng = random.Random(1)
        status = list(table.columns)[2]
        seconds = []
        for b in range(3):
            await pilot.pause(0.05)
            started = time.perf_counter()
            for key in rng.sample(keys, BATCH):
                table.update_cell(key, status, f"changed {b}")
            seconds.append(await drawn(app) - started)
        result["batch"] = seconds

        def trickle() -> None:
            for key in rng.sample(keys, 10):
                table.update_cell(key, status, f"tick {rng.random():.3f}")

        app.set_interval(0.1, trickle)
        downs = []
        for _ in range(presses):
            started = time.perf_counter()
            press(app, "down")
            downs.append(await drawn(app) - started)
            await pilot.pause(rng.uniform(0.02, 0.08))
        result["keys"] = {"down": downs}
        result["rss"] = rss_mb()
    say(json.dumps(result))
    return 0


# --- the parent -------------------------------------------------------------------------------


async def child(*args: str, on_line: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Run ``python -m bench.console_board ARGS``; its last line's JSON (lines before it go
    to ``on_line``)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.console_board", *args, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, limit=1 << 24,
    )  # fmt: skip
    assert proc.stdout is not None
    last = ""
    while said := (await proc.stdout.readline()).decode():
        said = said.strip()
        if said.startswith("{"):
            last = said
        elif on_line is not None:
            on_line(said)
    if await proc.wait() != 0 or not last:
        raise RuntimeError(f"bench.console_board {args[0]} failed (exit {proc.returncode})")
    out: dict[str, Any] = json.loads(last)
    return out


async def measure(open_cases: int, args: argparse.Namespace) -> dict[str, Any]:
    db = seeded_sqlite(QUICK if args.quick else params_for(open_cases))
    try:
        return await _measure(db, open_cases, args)
    finally:
        shutil.rmtree(db.parent, ignore_errors=True)  # the hall's private copy


async def _measure(db: Path, open_cases: int, args: argparse.Namespace) -> dict[str, Any]:
    from dispatch.models import Role

    hall = hall_of(db)
    hub = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.console_board", "--hub", str(db), cwd=REPO,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert hub.stdin is not None and hub.stdout is not None
    try:
        url = json.loads(await hub.stdout.readline())["url"]

        def relay(line: str) -> None:
            assert hub.stdin is not None
            if line == "drive":
                hub.stdin.write(f"drive {args.rate}\n".encode())
            elif line == "stop":
                hub.stdin.write(b"stop\n")

        spec = Spec(url=url, token=hall.token(Role.COMMANDER), batches=args.batches,
                    keys=args.keys, warmup=1.0)  # fmt: skip
        ours = await child("--console", msgspec.json.encode(spec).decode(), on_line=relay)
    finally:
        hub.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.wait(), 30)
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
    presses = str(min(args.keys, 100))
    bare = await child("--bare", str(db), "--keys", presses) if args.bare else None
    return {"hall": hall.counts, "ours": ours, "bare": bare, "open_cases": open_cases}


def report(m: dict[str, Any], quick: bool) -> list[str]:
    ours, bare = m["ours"], m["bare"]
    n = m["open_cases"]
    bars = BARS.get(n, {}) if not quick else {}
    c = m["hall"]
    say(f"\n== {c.open_cases:,} open of {c.cases:,} cases ({c.events:,} events); "
        f"{ours['cases']:,} in the console's model, "
        f"{ours['listed']:,} on the opening tab")  # fmt: skip
    say(f"{'':40} {'griddesk':>11} {'bare':>11} {'ratio':>7}  bar")
    verdicts = []

    def row(name: str, value: float, base: float | None, unit: str, bar: float | None,
            scale: float = 1.0) -> None:  # fmt: skip
        shown = f"{value * scale:9.1f} {unit}"
        b = f"{base * scale:9.1f} {unit}" if base is not None else f"{'—':>11}"
        r = f"{value / base:6.2f}x" if base else f"{'—':>7}"
        verdict = ""
        if bar is not None:
            ok = value <= bar
            verdict = f"≤ {bar * scale:g} {unit}: {'met' if ok else 'MISSED'}"
            verdicts.append(f"{name} at {n:,}: {'met' if ok else 'MISSED'}")
        say(f"{name:40} {shown:>11} {b:>11} {r:>7}  {verdict}")

    def get(d: dict[str, Any] | None, *path: str) -> Any:
        for p in path:
            if d is None:
                return None
            d = d.get(p)
        return d

    row("first board (snapshot → drawn)", ours["first"], get(bare, "first"), "s",
        bars.get("first"))  # fmt: skip
    row("  connect → drawn (wire included)", ours["connect_to_drawn"], None, "s", None)
    med = statistics.median(ours["batch"])
    bare_batch = get(bare, "batch")
    bare_med = statistics.median(bare_batch) if bare_batch else None
    row("1,000-event batch, median", med, bare_med, "ms", bars.get("batch"), 1000)
    row("1,000-event batch, worst", max(ours["batch"]),
        max(bare_batch) if bare_batch else None, "ms", None, 1000)  # fmt: skip
    bare_down = get(bare, "keys", "down")
    for kind, label in (("down", "arrow down"), ("tab", "tab switch")):
        values = ours["keys"][kind]
        base = bare_down if kind == "down" else None
        row(f"{label}, p50", pct(values, 0.5), pct(base, 0.5) if base else None, "ms", None, 1000)
        row(f"{label}, p99", pct(values, 0.99), pct(base, 0.99) if base else None, "ms",
            bars.get("key"), 1000)  # fmt: skip
    say(f"{'  console CPU while keys and events':40} {ours['cpu_share'] * 100:9.0f} %")
    row("RSS after first board", ours["rss_first"], get(bare, "rss_first"), "MB", None)
    row("RSS at the end", ours["rss"], get(bare, "rss"), "MB", bars.get("rss"))
    return verdicts


async def main(args: argparse.Namespace) -> int:
    say(f"the whole board, headless at {SIZE[0]}×{SIZE[1]}: hub process (VirtualClock at the "
        f"hall's time) → console process; {args.batches} batches of {BATCH:,}, {args.keys} "
        f"keys with {args.rate:g} events/s arriving; baseline: bare Textual DataTable")  # fmt: skip
    verdicts: list[str] = []
    sizes = [QUICK.open_cases] if args.quick else args.sizes
    for n in sizes:
        verdicts += report(await measure(n, args), args.quick)
    if verdicts:
        say("\nbars: " + "; ".join(verdicts))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.console_board",
                                description=(__doc__ or "").splitlines()[0])  # fmt: skip
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                   default=[20_000, 100_000], help="open cases, comma-separated")  # fmt: skip
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--keys", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="events/s during the keys")
    p.add_argument("--no-bare", dest="bare", action="store_false")
    p.add_argument("--quick", action="store_true", help="a 2,000-case hall, fewer keys")
    p.add_argument("--hub", help=argparse.SUPPRESS)
    p.add_argument("--console", help=argparse.SUPPRESS)
    p.add_argument("--bare", dest="bare_db", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.batches, args.keys = 2, 20
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.hub is not None:
        sys.exit(asyncio.run(hub_main(arguments.hub)))
    if arguments.console is not None:
        sys.exit(asyncio.run(console_main(arguments.console)))
    if arguments.bare_db is not None:
        sys.exit(asyncio.run(bare_main(arguments.bare_db, arguments.keys)))
    sys.exit(asyncio.run(main(arguments)))
