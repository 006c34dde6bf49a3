"""Benchmark (not a test): does ``griddesk demo``'s hub keep its pace while the console paints?

The demo hall (hub, SimClock, scenario player) runs with the console app driven headless
(``App.run_test()`` at 200×50, the demo's own ``make_console``) on the normal-day scenario at
×300 for 40 real seconds by default — long enough to cover the 08:30 hand-over and the morning
peak. Two arrangements, one after the other, on fresh temporary folders:

1. **shared** (the baseline: how ``griddesk demo`` ran before): ``demo_hall`` in the console's
   own event loop.
2. **thread** (how it runs now): ``DemoHallThread``, the hub on a thread with its own loop.

A sampler thread (so a busy loop cannot delay its readings) reads every 50 ms:

- **hub lag**: how far the hub's SimClock is behind its schedule (``speed`` hub seconds per
  real second from the start). It is behind when the player holds it: at work on an instant,
  or starved of its loop.
- **console ahead**: the console's estimate of hub time (``HubClient.hub_now()``) minus the
  hub's clock. The console extrapolates at the hub's speed from its last reading, so a hub that
  falls behind shows as a console running ahead.
- **console loop stall**: the longest gap between the ticks of a 50 ms timer in the console's
  loop (how long a paint blocked it), to show both runs painted the same load.

The readings cross threads without locks (single attribute reads under the GIL): good enough
for a measurement, not for the product. Figures are in hub (virtual) seconds; the ratio is
thread / shared.

    .venv/bin/python -m bench.demo_pace [--speed 300] [--seconds 40] [--scenario normal-day]
        [--only shared|thread] [--switch-interval SECONDS]

``--switch-interval`` sets ``sys.setswitchinterval`` for both runs: how long the painting thread
may hold the GIL before the hub's thread gets it (Python's default is 5 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from statistics import quantiles
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec

from console.app import make_console
from console.demo import read_scenario
from dispatch.config import Settings
from dispatch.scenario import Scenario, format_time
from hub.clock import SimClock
from hub.demo import DemoHall, DemoHallThread, demo_hall

SAMPLE_S = 0.05
SIZE = (200, 50)
FAR = datetime(2100, 1, 1).astimezone()


def scheduled(clock: SimClock) -> datetime:
    """Where the clock's schedule stands now (from its public ``real_seconds_until``)."""
    return FAR - timedelta(seconds=clock.real_seconds_until(FAR) * clock.speed)


@dataclass
class Samples:
    """One run's readings (hub seconds) and where the play got to."""

    hub_lag: list[float] = field(default_factory=list)
    console_ahead: list[float] = field(default_factory=list)
    stall: float = 0.0
    reached: str = ""
    played: int = 0


class Sampler(threading.Thread):
    """Reads the hub clock and the console's estimate every SAMPLE_S until stopped."""

    def __init__(self, hall: DemoHall, console_now: Callable[[], datetime | None]) -> None:
        super().__init__(name="demo-pace-sampler", daemon=True)
        self.hall = hall
        self.console_now = console_now
        self.samples = Samples()
        self.done = threading.Event()

    def run(self) -> None:
        clock = self.hall.clock
        while not self.done.wait(SAMPLE_S):
            hub = clock.now()
            self.samples.hub_lag.append((scheduled(clock) - hub).total_seconds())
            console = self.console_now()
            if console is not None:
                self.samples.console_ahead.append((console - hub).total_seconds())


async def drive_console(
    settings: Settings, hall: DemoHall, folder: Path, seconds: float
) -> Samples:
    """The demo's console on ``hall`` for ``seconds``, sampled from another thread."""
    console = msgspec.structs.replace(settings.console, hub_url=hall.url)
    app = make_console(
        msgspec.structs.replace(settings, console=console),
        hub_url=hall.url,
        token=hall.token,
        prefs_dir=folder / "prefs",
        demo=True,
    )

    def console_now() -> datetime | None:
        client: Any = app.client
        if client is None or not client._clock.known:
            return None
        now: datetime = client.hub_now()
        return now

    sampler = Sampler(hall, console_now)
    stall = 0.0
    async with app.run_test(size=SIZE):
        sampler.start()
        loop = asyncio.get_running_loop()
        last = began = loop.time()
        while last - began < seconds:
            await asyncio.sleep(SAMPLE_S)
            now = loop.time()
            stall = max(stall, now - last - SAMPLE_S)
            last = now
        sampler.done.set()
        sampler.join()
    sampler.samples.stall = stall
    return sampler.samples


def run_shared(settings: Settings, scenario: Scenario, speed: float, seconds: float) -> Samples:
    async def run(folder: Path) -> Samples:
        async with demo_hall(scenario, directory=folder, speed=speed, settings=settings) as hall:
            samples = await drive_console(settings, hall, folder, seconds)
            _note_end(samples, scenario, hall)
        return samples

    with tempfile.TemporaryDirectory(prefix="demo-pace-") as folder:
        return asyncio.run(run(Path(folder)))


def run_thread(settings: Settings, scenario: Scenario, speed: float, seconds: float) -> Samples:
    with tempfile.TemporaryDirectory(prefix="demo-pace-") as folder:
        with DemoHallThread(
            scenario, directory=Path(folder), speed=speed, settings=settings
        ) as hub:
            samples = asyncio.run(drive_console(settings, hub.hall, Path(folder), seconds))
        _note_end(samples, scenario, hub.hall)  # the hub thread has joined: safe to read
        return samples


def _note_end(samples: Samples, scenario: Scenario, hall: DemoHall) -> None:
    samples.reached = format_time(scenario.offset(hall.clock.now()))
    samples.played = hall.progress.played


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _pct(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0], values[0], values[0]) if values else (0.0, 0.0, 0.0)
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], max(values)


def _row(name: str, shared: list[float], thread: list[float]) -> str:
    a, b = _pct(shared), _pct(thread)
    ratio = "  ".join(f"{y / x:5.2f}×" if x > 0 else "    —" for x, y in zip(a, b, strict=True))
    figures = "  ".join(f"{x:7.1f} /{y:7.1f}" for x, y in zip(a, b, strict=True))
    return f"{name:<22}{figures}   {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--scenario", default="normal-day")
    parser.add_argument("--only", choices=["shared", "thread"], help="run one arrangement")
    parser.add_argument(
        "--switch-interval", type=float, help="sys.setswitchinterval (seconds) for both runs"
    )
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    scenario = read_scenario(args.scenario)
    settings = Settings()
    print(f"{scenario.header.name} at ×{args.speed:g} for {args.seconds:g} s, console {SIZE}")
    runs: dict[str, Samples] = {}
    with _quiet():
        for name, run in (("shared", run_shared), ("thread", run_thread)):
            if args.only in (None, name):
                runs[name] = run(settings, scenario, args.speed, args.seconds)
                got = runs[name]
                print(
                    f"  {name}: reached {got.reached} (demo clock), {got.played} steps played, "
                    f"{len(got.hub_lag)} samples, console loop stalled up to {got.stall:.2f} s"
                )
    shared = runs.get("shared", Samples())
    thread = runs.get("thread", Samples())
    print("hub seconds:          p50 shared / thread, p95 …, max …   ratio thread/shared")
    print(_row("hub lag", shared.hub_lag, thread.hub_lag))
    print(_row("console ahead", shared.console_ahead, thread.console_ahead))
    print(
        _row(
            "|console ahead|",
            [abs(x) for x in shared.console_ahead],
            [abs(x) for x in thread.console_ahead],
        )
    )


if __name__ == "__main__":
    main()
