"""``griddesk demo``: the embedded demo hall and a commander's console on it, in one process.

This is the one place besides ``griddesk hub`` that wires the hub and the console together
(DESIGN.md §2): the hub runs in this process on a fresh SQLite file in a temporary folder, on a
thread of its own with its own event loop (so the console painting a burst cannot hold up the
scenario and the hub's clock), the console runs in the main thread (Textual's signal handling
needs it) and connects to the hub over loopback websockets like any other console. When the
console exits — ``q``, Ctrl+C, SIGTERM or a dropped SSH session — the hub stops, its thread is
joined and the folder is removed. Nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from backend_client.scenario_feed import read_scenario as read_scenario_file
from dispatch.config import Settings
from dispatch.scenario import Scenario, ScenarioError, format_time

if TYPE_CHECKING:
    from hub.replay import Progress

DEFAULT_SCENARIO = "normal-day"
DEFAULT_SPEED = 30.0
"""A day in about half an hour; the 15-minute urgent clock lasts 30 seconds on screen."""


def shipped_scenarios() -> dict[str, Path]:
    """The scenarios that come with griddesk, by name (file name without ``.toml``)."""
    folder = resources.files("hub.data").joinpath("scenarios")
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def read_scenario(name_or_path: str | None) -> Scenario:
    """A shipped scenario by name, or a scenario file; ScenarioError says what is wrong."""
    shipped = shipped_scenarios()
    choice = name_or_path or DEFAULT_SCENARIO
    path = shipped.get(choice)
    if path is None and not Path(choice).exists():
        names = ", ".join(sorted(shipped))
        raise ScenarioError(f"{choice}: no such file, nor a shipped scenario ({names})")
    return read_scenario_file(path or Path(choice))


def run_demo(settings: Settings, *, scenario: Scenario, speed: float) -> int:
    """Run the demo until the commander quits; prints where the scenario got to."""
    from hub.demo import DemoHallThread

    kept = _KeptWarnings()
    logging.getLogger().addHandler(kept)  # a log line on stderr would tear the screen
    try:
        with tempfile.TemporaryDirectory(prefix="griddesk-demo-") as name:
            folder = Path(name)
            demo = DemoHallThread(scenario, directory=folder, speed=speed, settings=settings)
            with demo:
                code = asyncio.run(_run_console(settings, demo.hall.url, demo.hall.token, folder))
            # The hub's thread has ended: its clock and progress stand still, safe to read here.
            summary = _summary(scenario, demo.hall.clock.now(), demo.hall.progress)
    finally:
        logging.getLogger().removeHandler(kept)
    for line in kept.lines:
        print(line, file=sys.stderr)
    print(summary, file=sys.stderr)
    return code


async def _run_console(settings: Settings, url: str, token: str, folder: Path) -> int:
    """The commander's console on the demo hub, until it exits; its exit code."""
    from console.app import make_console

    console = msgspec.structs.replace(settings.console, hub_url=url)
    app = make_console(
        msgspec.structs.replace(settings, console=console),
        hub_url=url,
        token=token,
        prefs_dir=folder / "prefs",
        demo=True,
    )
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, app.exit)

    def hang_up(signum: int, frame: object) -> None:
        # A hang-up comes with SIGCONT; Textual's SIGCONT handler would restart its screen on
        # the dead terminal and its shutdown then blocks for ever. Pending handlers run in
        # signal-number order, so this one (1) runs before Textual's (18) and turns it off.
        signal.signal(signal.SIGCONT, signal.SIG_DFL)
        loop.call_soon_threadsafe(app.exit)

    signal.signal(signal.SIGHUP, hang_up)
    try:
        code = await app.run_async()
    finally:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)
    return code if isinstance(code, int) else 0


def _summary(scenario: Scenario, at: datetime, progress: Progress) -> str:
    refused = f", {len(progress.refused)} refused" if progress.refused else ""
    return (
        f"griddesk demo: {scenario.header.name} stopped at "
        f"{format_time(scenario.offset(at))} (demo clock), "
        f"{progress.played} of {progress.total} steps played{refused}"
    )


class _KeptWarnings(logging.Handler):
    """Keeps warnings and errors while the console owns the terminal, to print after."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
