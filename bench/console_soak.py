"""Benchmark (not a test): five virtual days at ×300 — do the console and the hub stop growing?

A generated scenario of ``--days`` days (~300 cases a day, ~1,500 in all) is played at
``--speed`` into a real hub, with a real console attached and a bare baseline beside it, each
in a process of its own so each RSS is that process's own:

- **hub**: store (SQLite file), engine, websockets server, and the scenario player as its
  clock driver and SLA ticker (what ``griddesk demo`` runs, opened at the scenario's start).
- **console**: ``make_console`` as the commander, headless (``App.run_test()`` at 200×50).
- **baseline**: a plain :class:`~backend_client.client.HubClient` with no UI on the same
  stream: its mirror holds the hall's own data, so its growth is what the hall itself costs.

Once per virtual hour the bench reads each process's VmRSS from ``/proc/PID/status`` and asks
each for what it holds (cases in the mirror, open cases). Tracemalloc runs in the hub and the
console from their start; its own bookkeeping is taken off their RSS (column ``rss``), and the
top allocations grown between the end of the first day and the end of the last are printed
(by line), so growth is explained, not guessed. The bar (issue 8): after the first day neither
process grows by more than the hall's own data — the baseline's growth over the same hours.

    .venv/bin/python -m bench.console_soak [--days 5] [--cases 300] [--speed 300] [--seed 1]
        [--every 4] [--top 15] [--quick]

``--quick``: one short day (six virtual hours from 07:00, split in half for the comparison) at
×600, about 40 s, for a smoke run. The children are started with ``--role``; not for people.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.commands import Merge
from dispatch.scenario import Scenario, Step

SIZE = (200, 50)
START_DATE = date(2026, 11, 23)
"""A Monday: five working days follow."""
HOUR = timedelta(hours=1)
MB = 1024 * 1024
ANSWER_S = 60.0
"""Real seconds a child has to answer the bench (a probe, a trace report)."""

_OUT: IO[str] = sys.stdout
"""The child's channel to the bench: a copy of fd 1 taken before Textual captures stdout."""


# --- the children ------------------------------------------------------------------------------


def _say(**fields: Any) -> None:
    _OUT.write(json.dumps(fields, ensure_ascii=False) + "\n")
    _OUT.flush()


def _requests(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """The bench's requests, one a line on stdin; ``quit`` when stdin closes."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.strip())
        loop.call_soon_threadsafe(queue.put_nowait, "quit")

    threading.Thread(target=pump, name="soak-stdin", daemon=True).start()
    return queue


class _Tracer:
    """Traced memory by line, kept by name, and the growth between two marks.

    A tracemalloc snapshot copies every trace — tens of MB, which the allocator keeps once
    freed — so a mark is taken in a forked copy of the process: the copy takes the snapshot,
    writes the totals per line to a file and exits, and the measured process never holds it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.marks: dict[str, Path] = {}
        """Where each mark was written: read back only for the report, after every reading."""

    def mark(self, name: str) -> None:
        gc.collect()
        path = self.folder / f"mark-{os.getpid()}-{name}.json"
        pid = os.fork()
        if pid == 0:  # the copy: snapshot, write, leave without running the parent's cleanup
            code = 1
            try:
                path.write_text(json.dumps(_lines()), encoding="utf-8")
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError(f"the mark {name!r} failed in its forked copy")
        self.marks[name] = path

    def _read(self, name: str) -> dict[tuple[str, int], tuple[int, int]]:
        rows = json.loads(self.marks[name].read_text(encoding="utf-8"))
        return {(f, n): (size, count) for f, n, size, count in rows}

    def growth(self, first: str, last: str, top: int) -> list[dict[str, Any]]:
        before, after = self._read(first), self._read(last)
        diff = []
        for key in before.keys() | after.keys():
            size0, count0 = before.get(key, (0, 0))
            size1, count1 = after.get(key, (0, 0))
            diff.append((size1 - size0, count1 - count0, key))
        diff.sort(reverse=True)
        return [
            {"size": size, "count": count, "where": f"{_short(file)}:{line}"}
            for size, count, (file, line) in diff[:top]
        ]

    def total(self, first: str, last: str) -> int:
        before, after = self._read(first), self._read(last)
        return sum(s for s, _ in after.values()) - sum(s for s, _ in before.values())


def _lines() -> list[tuple[str, int, int, int]]:
    """Traced memory now, by the line that allocated it: (file, line, bytes, blocks)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        (
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
            tracemalloc.Filter(False, __file__),
        )
    )
    out = []
    for stat in snapshot.statistics("lineno"):
        frame = stat.traceback[0]
        out.append((frame.filename, frame.lineno, stat.size, stat.count))
    return out


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return path.removeprefix(root)


async def _serve_requests(
    requests: asyncio.Queue[str],
    tracer: _Tracer | None,
    probe: Callable[[], dict[str, Any]],
    top: int,
    go: Callable[[], None] | None = None,
) -> None:
    """Answer the bench until it says ``quit``: ``probe``, ``mark NAME``, ``growth A B``,
    ``go`` (the hub: start the play)."""
    while True:
        line = await requests.get()
        verb, *args = line.split()
        if verb == "quit":
            _say(reply="quit")
            return
        if verb == "go" and go is not None:
            go()
            _say(reply="go")
        if verb == "probe":
            gc.collect()
            traced = peak = 0
            if tracemalloc.is_tracing():
                traced = tracemalloc.get_tracemalloc_memory()
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
            _say(reply="probe", traced=traced, peak=peak, **probe())
        elif verb == "mark":
            if tracer is not None:
                tracer.mark(args[0])
            _say(reply="mark")
        elif verb == "growth":
            if tracer is None:
                _say(reply="growth", top=[], total=0)
            else:
                _say(
                    reply="growth",
                    top=tracer.growth(args[0], args[1], top),
                    total=tracer.total(args[0], args[1]),
                )


async def _hub(args: argparse.Namespace) -> None:
    from dispatch.config import Settings
    from dispatch.models import Role
    from hub.clock import SimClock
    from hub.replay import Player, scenario_hall
    from hub.server import HubServer

    requests = _requests(asyncio.get_running_loop())
    scenario = soak_scenario(args.days, args.day_hours, args.from_hour, args.cases, args.seed)
    settings = Settings()
    database = f"sqlite:///{Path(args.dir) / 'soak.db'}"
    start = scenario.instant(scenario.start)
    clock = SimClock(start, args.speed, paced=False)
    async with scenario_hall(scenario, database, clock, settings) as (store, engine):
        commander = await store.add_operator("soak-commander", Role.COMMANDER)
        observer = await store.add_operator("soak-baseline", Role.OBSERVER)
        server = HubServer(engine, store, settings.hub)
        await server.start("127.0.0.1", 0)
        _say(reply="ready", url=f"ws://127.0.0.1:{server.port}", token=commander,
             baseline=observer, cases=scenario.cases)  # fmt: skip
        player = Player(engine, scenario, clock)
        tasks: list[asyncio.Task[Any]] = []

        async def hours() -> None:
            hour = 1
            while True:
                due = start + hour * HOUR
                wait = clock.real_seconds_until(due)
                if wait > 0:
                    await asyncio.sleep(min(wait, 0.2))
                    continue
                _say(hour=hour, played=player.progress.played, steps=player.progress.total)
                hour += 1

        def probe() -> dict[str, Any]:
            cases = engine.cases
            return {
                "cases": len(cases),
                "open": sum(1 for c in cases.values() if c.is_open),
                "seq": engine.seq,
            }

        def go() -> None:  # once the clients are live
            clock.pace()
            tasks.append(asyncio.create_task(player.run(keep_ticking=True), name="soak-play"))
            tasks.append(asyncio.create_task(hours(), name="soak-hours"))

        try:
            await _serve_requests(requests, _Tracer(Path(args.dir)), probe, args.top, go)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await server.close()


async def _console(args: argparse.Namespace) -> None:
    from console.app import make_console
    from dispatch.config import Settings
    from dispatch.queues import Queue

    requests = _requests(asyncio.get_running_loop())
    settings = Settings()
    console = msgspec.structs.replace(settings.console, hub_url=args.url)
    app = make_console(
        msgspec.structs.replace(settings, console=console),
        hub_url=args.url,
        token=args.token,
        prefs_dir=Path(args.dir) / "prefs",
        demo=True,
    )

    def probe() -> dict[str, Any]:
        model = app.desk.model
        mirror = app.client.mirror.cases if app.client is not None else {}
        return {
            "cases": len(mirror),
            "open": sum(1 for c in mirror.values() if c.is_open),
            "model": len(model.cases),
            "listed": model.count(Queue.ALL),
            "seen": len(app.desk.seen),
            "widgets": sum(1 for _ in app.screen.walk_children()),
            "state": str(app.client.state) if app.client is not None else "",
        }

    async with app.run_test(size=SIZE):
        _say(reply="ready")
        await _serve_requests(requests, _Tracer(Path(args.dir)), probe, args.top)
        await app.action_quit()


async def _baseline(args: argparse.Namespace) -> None:
    from backend_client.client import HubClient

    requests = _requests(asyncio.get_running_loop())
    client = HubClient(args.url, args.token, client_name="soak-baseline")
    running = asyncio.create_task(client.run())
    await client.wait_live(ANSWER_S)
    _say(reply="ready")

    def probe() -> dict[str, Any]:
        cases = client.mirror.cases
        return {
            "cases": len(cases),
            "open": sum(1 for c in cases.values() if c.is_open),
            "state": str(client.state),
        }

    try:
        await _serve_requests(requests, _Tracer(Path(args.dir)), probe, args.top)
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def _child(args: argparse.Namespace) -> None:
    global _OUT
    _OUT = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    tracemalloc.start()
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    run = {"hub": _hub, "console": _console, "baseline": _baseline}[args.role]
    asyncio.run(run(args))


# --- the bench ---------------------------------------------------------------------------------


class Child:
    """One child process and its line protocol (requests on stdin, JSON lines on stdout)."""

    def __init__(self, role: str, folder: Path, extra: list[str], top: int) -> None:
        self.role = role
        self.log = folder / f"{role}.log"
        command = [sys.executable, "-m", "bench.console_soak", "--role", role,
                   "--dir", str(folder), "--top", str(top), *extra]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self.lines: deque[dict[str, Any]] = deque()
        self._got = threading.Condition()
        threading.Thread(target=self._read, name=f"soak-{role}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._got:
                self.lines.append(json.loads(line))
                self._got.notify_all()
        with self._got:
            self.lines.append({"reply": "eof"})
            self._got.notify_all()

    def next(self, want: str, timeout: float = ANSWER_S) -> dict[str, Any]:
        """The next line with ``want`` as key (``reply`` or ``hour``); others stay queued."""
        give_up = time.monotonic() + timeout
        with self._got:
            while True:
                for line in self.lines:
                    if line.get("reply") == "eof":
                        raise RuntimeError(f"the {self.role} ended: see {self.log}\n"
                                           + self.log.read_text()[-3000:])  # fmt: skip
                    if want in line:
                        self.lines.remove(line)
                        return line
                left = give_up - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the {self.role} did not answer {want!r} in {timeout} s")
                self._got.wait(left)

    def ask(self, request: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        return self.next("reply")

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.ask("quit")
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Sample:
    hour: int
    at: str
    rss: dict[str, int]  # raw VmRSS by role
    traced: dict[str, int]  # tracemalloc's own memory by role
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def net(self, role: str) -> int:
        """RSS without tracemalloc's bookkeeping."""
        return self.rss[role] - self.traced.get(role, 0)


def soak_scenario(days: int, day_hours: int, from_hour: int, cases: int, seed: int) -> Scenario:
    """``days`` generated days played back to back as one scenario (a generated scenario
    spans at most two days): day ``d`` is its own seed and date, its steps shifted by ``d``
    days, its case names and step numbers made unique. Cases a day leaves open stay open."""
    from dispatch.catalog import Catalog
    from dispatch.config import Settings
    from dispatch.scenario_gen import DayParams, generate
    from hub.demo_city import demo_city

    city, catalog, settings = demo_city(), Catalog.default(), Settings()
    keyed: list[tuple[timedelta, int, Step]] = []
    first: Scenario | None = None
    for d in range(days):
        params = DayParams(
            seed=seed + d,
            date=START_DATE + timedelta(days=d),
            start=f"{from_hour:02d}:00",
            end=f"{from_hour + day_hours:02d}:00",
            cases=cases,
            name=f"soak-{d + 1}",
        )
        day = generate(params, city=city, catalog=catalog, settings=settings)
        first = first or day
        shift = timedelta(days=d)
        for step in day.steps:
            template = step.template
            if isinstance(template, Merge):
                template = msgspec.structs.replace(template, into=f"d{d + 1}{template.into}")
            case = f"d{d + 1}{step.case}" if step.case is not None else None
            moved = dataclasses.replace(step, at=step.at + shift, case=case, template=template)
            keyed.append((moved.at, len(keyed), moved))
    assert first is not None
    keyed.sort(key=lambda k: k[:2])
    steps = tuple(dataclasses.replace(s, number=n) for n, (_, _, s) in enumerate(keyed, 1))
    header = msgspec.structs.replace(first.header, name="soak", end=None, demo_from=None)
    return Scenario(header, steps)


def _mb(n: float) -> str:
    return f"{n / MB:7.1f}"


def _day_table(day: int, samples: list[Sample], every: int) -> None:
    print(f"\nday {day}: RSS in MB less tracemalloc's own (raw RSS in brackets); cases held")
    print("  hour  clock  console            hub                baseline  "
          "mirror   open  hub cases  hub open   seen")  # fmt: skip
    for s in samples:
        if s.hour % every and s is not samples[-1]:
            continue
        c, h = s.probes["console"], s.probes["hub"]
        print(
            f"  {s.hour:4d}  {s.at}  {_mb(s.net('console'))} [{_mb(s.rss['console'])}]"
            f"  {_mb(s.net('hub'))} [{_mb(s.rss['hub'])}]  {_mb(s.net('baseline'))}"
            f"  {c['cases']:6d} {c['open']:6d}  {h['cases']:9d}  {h['open']:8d} {c['seen']:6d}"
        )


def _growth(role: str, answer: dict[str, Any], first: str, last: str) -> None:
    print(f"\n{role}: traced growth {first} → {last}: {answer['total'] / MB:+.2f} MB in all; "
          f"top {len(answer['top'])} by line")  # fmt: skip
    for row in answer["top"]:
        print(f"  {row['size'] / 1024:+9.1f} KiB {row['count']:+8d} blocks  {row['where']}")


def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="console-soak-") as name:
        folder = Path(name)
        hours = args.days * args.day_hours
        settle = args.day_hours if args.days > 1 else args.day_hours // 2
        plan = [f"--{k}={getattr(args, k.replace('-', '_'))}"
                for k in ("days", "day-hours", "from-hour", "cases", "seed", "speed")]  # fmt: skip
        hub = Child("hub", folder, plan, args.top)
        children = [hub]
        try:
            ready = hub.next("reply", timeout=300)
            print(
                f"console soak: {args.days} virtual day(s) of {args.day_hours} h from "
                f"{args.from_hour:02d}:00, {ready['cases']} cases (seeds {args.seed}…) at "
                f"×{args.speed:g} (~{hours * 3600 / args.speed / 60:.0f} min); console headless "
                f"at {SIZE[0]}×{SIZE[1]}; growth measured from hour {settle} to hour {hours}"
            )
            url = ["--url", ready["url"]]
            console = Child("console", folder, [*url, f"--token={ready['token']}"], args.top)
            children.append(console)
            baseline = Child("baseline", folder, [*url, f"--token={ready['baseline']}"], args.top)
            children.append(baseline)
            console.next("reply", timeout=120)
            baseline.next("reply", timeout=120)
            roles = {"console": console, "hub": hub, "baseline": baseline}
            hub.ask("go")  # both clients are live: the play begins
            samples: list[Sample] = []
            began = time.monotonic()
            for hour in range(1, hours + 1):
                tick = hub.next("hour", timeout=3600 / args.speed * 4 + ANSWER_S)
                probes = {role: child.ask("probe") for role, child in roles.items()}
                rss = {role: child.rss() for role, child in roles.items()}
                traced = {role: p.get("traced", 0) for role, p in probes.items()}
                clock = f"{(args.from_hour + hour) % 24:02d}:00"
                samples.append(Sample(tick["hour"], clock, rss, traced, probes))
                if hour == settle:
                    for child in children:
                        child.ask("mark settled")
                if hour % args.day_hours == 0:
                    day = hour // args.day_hours
                    _day_table(day, samples[-args.day_hours :], args.every)
            for child in children:
                child.ask("mark end")
            elapsed = time.monotonic() - began
            traced = {role: child.ask("growth settled end") for role, child in roles.items()}
            _summary(samples, settle, elapsed, tick, {r: a["total"] for r, a in traced.items()})
            for role in ROLES:
                _growth(role, traced[role], "settled", "end")
        finally:
            for child in reversed(children):
                child.stop()


ROLES = ("console", "hub", "baseline")


def _summary(
    samples: list[Sample],
    settle: int,
    elapsed: float,
    tick: dict[str, Any],
    traced: dict[str, int],
) -> None:
    start, first, last = samples[0], samples[settle - 1], samples[-1]
    grow = {r: last.net(r) - first.net(r) for r in ROLES}
    raw = {r: last.rss[r] - first.rss[r] for r in ROLES}
    print(f"\n{elapsed:.0f} s real, {tick['played']} of {tick['steps']} steps played")
    print(f"growth in MB  RSS h{start.hour}→{settle}  RSS h{settle}→{last.hour} (raw)  ÷ baseline"
          f"   traced h{settle}→{last.hour}  ÷ baseline")  # fmt: skip
    for role in ROLES:
        early = first.net(role) - start.net(role)
        print(
            f"  {role:<9}  {early / MB:+10.1f}  {grow[role] / MB:+10.1f} ({raw[role] / MB:+5.1f})"
            f"  {_ratio(grow[role], grow['baseline'])}"
            f"   {traced[role] / MB:+14.2f}  {_ratio(traced[role], traced['baseline'])}"
        )
    held = {r: last.probes[r]["cases"] - first.probes[r]["cases"] for r in ROLES}
    print(
        f"  cases taken meanwhile: console mirror {held['console']:+d}, "
        f"baseline {held['baseline']:+d}, hub {held['hub']:+d}"
    )
    for what, figures in (("RSS", grow), ("traced (live objects)", traced)):
        met = all(figures[r] <= max(figures["baseline"], 0) + MB for r in ("console", "hub"))
        print(
            f"  bar on {what}: after the first day, console and hub grow no more than the "
            f"baseline (the hall's own data; 1 MB allowed): {'met' if met else 'NOT met'}"
        )


def _ratio(value: float, base: float) -> str:
    return f"{value / base:8.2f}×" if base > 0 else "        —"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--day-hours", type=int, default=24, help="virtual hours in a 'day'")
    parser.add_argument("--from-hour", type=int, default=0, help="the play starts at HH:00")
    parser.add_argument("--cases", type=int, default=300, help="cases per full day")
    parser.add_argument("--speed", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=4, help="hours between table rows")
    parser.add_argument("--top", type=int, default=15, help="allocation lines shown")
    parser.add_argument("--quick", action="store_true", help="one short day at ×600")
    parser.add_argument("--role", choices=["hub", "console", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        _child(args)
        return
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # tables as they come
    if args.quick:
        args.days, args.day_hours, args.from_hour, args.speed = 1, 6, 7, 600.0
        args.every = 1
    bench(args)


if __name__ == "__main__":
    main()
