"""The wall at 100 events/s: frame time and CPU, against a bare pyqtgraph plot at the same rate.

The wall is the real one (``wallboard.app.make_wall``: model, six panels, 1920×1080, offscreen)
on a hall of ``--cases`` cases (open and closed over ten days, some urgent) and the demo city's
roster; a scripted feed hands it ``--rate`` case changes a second (intakes, steps, closures) as
the hub's batches would arrive. Each frame (every 200 ms, as the wall runs) is timed from
draining the feed to the window painted (Qt's pending paint of what changed is run inside the
timed frame, with ``processEvents()``).
The baseline, in the same run: a plain ``PlotWidget`` of the same size whose bar chart and line
are updated at the same rate and painted at the same cadence. Making the events is not timed
nor counted as the wall's CPU (it is the hub's work); the network hop is not in here either
(bench.fanout measures the hub's side of it).

    QT_QPA_PLATFORM=offscreen python -m bench.wall_frames [--seconds 60] [--rate 100]
        [--cases 20000] [--size 1920x1080]

Bars (issue 12): frame p99 ≤ 50 ms and ≤ 20 % of a core.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import msgspec
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from dispatch.config import Settings
from dispatch.models import (
    Basis,
    Case,
    Deadline,
    Kind,
    Level,
    Role,
    Source,
    Status,
    Step,
    Urgency,
)
from hub.demo_city import cell_code, demo_city
from wallboard.app import FRAME_MS, make_wall
from wallboard.feed import Batch, Item, Whole
from wallboard.words import identity

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in the hall
FRAME_S = FRAME_MS / 1000
STEPS = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.ON_SCENE, Status.CLOSED)


class ScriptedFeed:
    """The hub's side, scripted: a snapshot first, then whatever the bench puts in."""

    def __init__(self, first: Whole) -> None:
        self.items: list[Item] = [first]
        self.started = time.monotonic()

    def start(self) -> None:
        pass

    def take(self) -> list[Item]:
        out, self.items = self.items, []
        return out

    def hub_now(self) -> datetime:
        return T0 + timedelta(seconds=time.monotonic() - self.started)

    @property
    def role(self) -> Role | None:
        return Role.OBSERVER

    def stop(self, timeout: float = 5.0) -> None:
        pass


def make_case(n: int, rng: random.Random, now: datetime) -> Case:
    status = rng.choice(STEPS)
    reported = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 10))
    urgent = rng.random() < 0.03
    due = reported + timedelta(minutes=rng.randrange(15, 60 * 48))
    deadlines = (
        ()
        if status is Status.CLOSED
        else (
            Deadline(step=Step.RESULT, start=reported, due=due,
                     limit_minutes=int((due - reported).total_seconds() // 60), basis=Basis.WALL),
        )
    )  # fmt: skip
    return Case(
        id=f"W{n:08d}", kind=Kind.EVENT, category="E0101",
        source=rng.choice(list(Source)), urgency=Urgency.URGENT if urgent else Urgency.GENERAL,
        status=status, title=f"案件 {n}", grid=cell_code(rng.randrange(1, 6), 1),
        reported_at=reported, level=rng.choice(list(Level)),
        owner_unit=rng.choice(("sanitation", "enforcement-1", "jw-1", "jw-3", "market")),
        deadlines=deadlines, accepted_at=reported if status is not Status.REPORTED else None,
        closed_at=reported + timedelta(hours=3) if status is Status.CLOSED else None,
        on_time=rng.random() < 0.9 if status is Status.CLOSED else None,
    )  # fmt: skip


def next_change(cases: dict[str, Case], rng: random.Random, now: datetime, n: int) -> Case:
    """One event's worth: a new intake (a third), else the next step of an open case."""
    if rng.random() < 0.33:
        case = msgspec.structs.replace(
            make_case(n, rng, now), status=Status.REPORTED, reported_at=now, closed_at=None
        )
    else:
        case = cases[rng.choice(list(cases))] if len(cases) < 5000 else _pick(cases, rng)
        step = (
            STEPS[min(len(STEPS) - 1, STEPS.index(case.status) + 1)]
            if (case.status in STEPS)
            else Status.CLOSED
        )
        case = msgspec.structs.replace(
            case, status=step, version=case.version + 1,
            closed_at=now if step is Status.CLOSED else case.closed_at,
            deadlines=() if step is Status.CLOSED else case.deadlines,
        )  # fmt: skip
    cases[case.id] = case
    return case


_keys: list[str] = []


def _pick(cases: dict[str, Case], rng: random.Random) -> Case:
    if len(_keys) != len(cases):
        _keys[:] = list(cases)
    return cases[rng.choice(_keys)]


def run(
    seconds: float, rate: float, arrive: Callable[[int], None], frame: Callable[[], None]
) -> tuple[list[float], float, float]:
    """Every FRAME_S for ``seconds``: ``arrive(events)`` (the hub's side: not timed, its CPU
    not counted), then ``frame()``, timed. Frame times, the frames' CPU and the wall time."""
    per_frame = rate * FRAME_S
    owed = 0.0
    times: list[float] = []
    cpu = 0.0
    wall0 = time.perf_counter()
    next_at = wall0
    while (now := time.perf_counter()) - wall0 < seconds:
        if now < next_at:
            time.sleep(next_at - now)
        next_at += FRAME_S
        owed += per_frame
        events = int(owed)
        owed -= events
        arrive(events)
        cpu0, started = time.process_time(), time.perf_counter()
        frame()
        times.append(time.perf_counter() - started)
        cpu += time.process_time() - cpu0
    return times, cpu, time.perf_counter() - wall0


def p99(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[98]
        if len(values) >= 2
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    app = QApplication.instance() or QApplication([])
    rng = random.Random(12)
    city = demo_city()
    cases = {c.id: c for c in (make_case(n, rng, T0) for n in range(args.cases))}
    feed = ScriptedFeed(Whole(tuple(cases.values()), tuple(city.staff), tuple(city.units),
                              tuple(city.areas), T0))  # fmt: skip
    started = time.perf_counter()
    driver = make_wall(Settings(), identity, feed, size=(width, height), err=io.StringIO())
    driver.window.show()
    driver.frame()
    driver.window.repaint()
    first = time.perf_counter() - started
    counter = [args.cases]

    def wall_events(events: int) -> None:
        now = feed.hub_now()
        for _ in range(events):
            counter[0] += 1
            changed = next_change(cases, rng, now, counter[0])
            feed.items.append(Batch((changed,), (), (), now))

    def wall_frame() -> None:
        driver.frame()
        app.processEvents()  # paints what changed, as the running wall does

    wall_times, wall_cpu, wall_span = run(args.seconds, args.rate, wall_events, wall_frame)
    driver.window.close()

    plot = pg.PlotWidget()
    plot.resize(width, height)
    bars = pg.BarGraphItem(x=list(range(24)), height=[0] * 24, width=0.6, brush="c")
    line = pg.PlotDataItem()
    plot.addItem(bars)
    plot.addItem(line)
    plot.show()
    hours = [0] * 24

    def bare_events(events: int) -> None:
        for _ in range(events):
            hours[rng.randrange(24)] += 1

    def bare_frame() -> None:
        bars.setOpts(height=list(hours))
        line.setData(list(range(24)), list(hours))
        app.processEvents()

    bare_times, bare_cpu, bare_span = run(args.seconds, args.rate, bare_events, bare_frame)
    plot.close()

    print(f"wall_frames: {args.cases} cases, {args.rate:.0f} events/s for {args.seconds:.0f} s "
          f"per side, {width}x{height}, frame every {FRAME_S * 1000:.0f} ms")  # fmt: skip
    print(f"  first wall (snapshot in, painted): {first * 1000:.0f} ms")
    print("  | | frames | p50 ms | p99 ms | max ms | CPU % of a core |")
    print("  |---|---|---|---|---|---|")
    for name, times, cpu, span in (
        ("wall (model + 6 panels, painted)", wall_times, wall_cpu, wall_span),
        ("bare PlotWidget (bars + line, painted)", bare_times, bare_cpu, bare_span),
    ):
        print(f"  | {name} | {len(times)} | {statistics.median(times) * 1000:.1f} | "
              f"{p99(times) * 1000:.1f} | {max(times) * 1000:.1f} | "
              f"{cpu / span * 100:.1f} |")  # fmt: skip
    print(f"  ratio wall/bare p99: {p99(wall_times) / p99(bare_times):.1f}x")


if __name__ == "__main__":
    main()
