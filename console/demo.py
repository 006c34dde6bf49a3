"""``griddesk demo``: the embedded demo hall and a commander's console on it, in one process.

This is the one place besides ``griddesk hub`` that wires the hub and the console together
(DESIGN.md §2): the hub runs in this process on a fresh SQLite file in a temporary folder, on a
thread of its own with its own event loop (so the console painting a burst cannot hold up the
scenario and the hub's clock), the console runs in the main thread (Textual's signal handling
needs it) and connects to the hub over loopback websockets like any other console. When the
console exits — ``q``, Ctrl+C, SIGTERM or a dropped SSH session — the hub stops, its thread is
joined and the folder is removed. Nothing is left behind.

The hall opens at the scenario's busy moment (its ``demo_from``, or ``--from``): what comes
before is played at once, so a newcomer's first screen is a hall at work, not an empty board at
dawn. :func:`screenshot_demo` takes that first screen headless as an SVG (the README's picture).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from rich.cells import cell_len

from backend_client.scenario_feed import read_scenario as read_scenario_file
from dispatch.config import Settings
from dispatch.scenario import Scenario, ScenarioError, format_time, parse_time

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from console.app import GriddeskApp
    from hub.demo import DemoHall

DEFAULT_SCENARIO = "normal-day"
DEFAULT_SPEED = 30.0
"""A day in about half an hour; the 15-minute urgent clock lasts 30 seconds on screen."""

FROM_START = "start"
"""``--from start``: play the whole scenario at the demo speed, from its first minute."""

SHOT_SECONDS = 30.0
"""Real seconds :func:`screenshot_demo` waits for the console to show the hall."""


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


def opening(scenario: Scenario, text: str | None) -> timedelta:
    """Where the demo opens: ``--from`` (``HH:MM``, or ``start``), else the scenario's own
    ``demo_from``; ScenarioError if it is not a time within the scenario."""
    if text is None:
        return scenario.opening
    if text == FROM_START:
        return scenario.start
    try:
        at = parse_time(text)
    except ScenarioError as exc:
        raise ScenarioError(f"--from: {exc}") from None
    if not scenario.start <= at <= scenario.end:
        raise ScenarioError(
            f"--from {text} is outside {scenario.header.name}'s "
            f"{format_time(scenario.start)}–{format_time(scenario.end)}"
        )
    return at


def run_demo(
    settings: Settings,
    *,
    scenario: Scenario,
    speed: float,
    opening: timedelta | None = None,
    wall: bool = False,
) -> int:
    """Run the demo until the commander quits; prints where the scenario got to. 2 when
    there is no terminal to run the console in. ``wall``: the wallboard opens beside the
    console, in a process of its own (Qt wants its main thread), and closes with it."""
    from console.app import in_a_terminal
    from hub.demo import DemoHallThread

    kept = _KeptWarnings()
    logging.getLogger().addHandler(kept)  # a log line on stderr would tear the screen
    try:
        with tempfile.TemporaryDirectory(prefix="griddesk-demo-") as name:
            folder = Path(name)
            demo = DemoHallThread(
                scenario, directory=folder, speed=speed, settings=settings, opening=opening
            )
            with demo:
                # Checked once the hall is up: what stops the hub (a scenario for another
                # city) is the more useful thing to say.
                if not in_a_terminal("demo"):
                    return 2
                app = _demo_console(settings, demo.hall, folder)
                shown = start_wall(demo.hall, folder, settings.console.locale) if wall else None
                try:
                    code = asyncio.run(_run_console(app))
                finally:
                    if shown is not None:
                        stop_wall(shown)
            # The hub's thread has ended: its clock and progress stand still, safe to read here.
            summary = _summary(demo.hall)
    finally:
        logging.getLogger().removeHandler(kept)
    for line in kept.lines:
        print(line, file=sys.stderr)
    print(summary, file=sys.stderr)
    return code


def screenshot_demo(
    settings: Settings,
    *,
    scenario: Scenario,
    speed: float,
    path: Path,
    size: tuple[int, int],
    opening: timedelta | None = None,
) -> int:
    """Write the demo's first screen to ``path`` as SVG: the console, headless at ``size``, on
    the demo hall held still at its opening. 0 when written, 1 when the console did not show
    the hall in time (nothing is written then)."""
    from hub.demo import DemoHallThread

    with tempfile.TemporaryDirectory(prefix="griddesk-demo-") as name:
        folder = Path(name)
        demo = DemoHallThread(
            scenario,
            directory=folder,
            speed=speed,
            settings=settings,
            opening=opening,
            hold=True,
        )
        with demo:
            hall = demo.hall  # held: nothing moves it any more
            if not hall.progress.case_ids:
                raise ScenarioError(
                    f"no case has come in by {format_time(scenario.offset(hall.opened))}: "
                    "nothing to picture"
                )
            app = _demo_console(settings, hall, folder)
            title = f"griddesk demo · {scenario.header.name} · {_at(hall)}"
            shots: list[str] = []

            async def shoot(pilot: Pilot[object]) -> None:
                # The hall is on screen once a case id the hub knows is drawn: the snapshot is
                # applied to every panel in one batch, so the rest of the board is there too.
                ids = hall.progress.case_ids.values()
                loop = asyncio.get_running_loop()
                give_up = loop.time() + SHOT_SECONDS
                while not _shows_any(app.export_screenshot(), ids):
                    if loop.time() > give_up:
                        break
                    await pilot.pause(0.1)
                else:
                    await pilot.pause()
                    shots.append(app.export_screenshot(title=title))
                await app.action_quit()

            asyncio.run(app.run_async(headless=True, size=size, auto_pilot=shoot))
    if not shots:
        print(f"griddesk demo: the console did not show the hall within {SHOT_SECONDS:g} s",
              file=sys.stderr)  # fmt: skip
        return 1
    path.write_text(widen_wide_text(shots[0]), encoding="utf-8")
    return 0


_SVG_TEXT = re.compile(r'(<text [^>]*?textLength=")([0-9.]+)("[^>]*>)([^<]*)(</text>)')


def widen_wide_text(svg: str) -> str:
    """Rich's SVG export with each run's ``textLength`` counted in cells, not characters.

    Rich sizes a run by ``len(text)`` (Textualize/rich#2742, open): a run of Chinese is given
    half the width its cells take, and browsers squeeze its glyphs onto each other to fit.
    """

    def widen(match: re.Match[str]) -> str:
        text = html.unescape(match[4])
        if not text or cell_len(text) == len(text):
            return match[0]
        cells = float(match[2]) / len(text) * cell_len(text)
        return f"{match[1]}{cells:g}{match[3]}{match[4]}{match[5]}"

    return _SVG_TEXT.sub(widen, svg)


def _shows_any(svg: str, case_ids: Iterable[str]) -> bool:
    return any(case_id in svg for case_id in case_ids)


WALL_RUN = "import sys; from console.cli import main; sys.exit(main(sys.argv[1:]))"
"""How the demo starts the wallboard: the same ``griddesk wallboard`` a hall runs."""


def wall_command(hall: DemoHall, folder: Path, locale: str, *extra: str) -> list[str]:
    """The command line of the demo's wallboard on ``hall`` (its observer token written into
    ``folder``, which the demo removes at exit)."""
    token = folder / "wall-token"
    token.write_text(hall.wall_token, encoding="utf-8")
    token.chmod(0o600)
    return [
        sys.executable, "-c", WALL_RUN, "wallboard", "--hub", hall.url,
        "--token-file", str(token), "--lang", locale, *extra,
    ]  # fmt: skip


def start_wall(hall: DemoHall, folder: Path, locale: str, *extra: str) -> subprocess.Popen[bytes]:
    """Open the wallboard on ``hall`` in its own process; what it says goes to a log in
    ``folder`` (on the terminal it would tear the console's screen)."""
    with (folder / "wall.log").open("ab") as log:
        return subprocess.Popen(
            wall_command(hall, folder, locale, *extra),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


def stop_wall(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Close the demo's wallboard (it has no state to save): terminate, then kill."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def _demo_console(settings: Settings, hall: DemoHall, folder: Path) -> GriddeskApp:
    """The demo commander's console on ``hall``, with no saved preferences (a fresh folder)."""
    from console.app import make_console

    console = msgspec.structs.replace(settings.console, hub_url=hall.url)
    return make_console(
        msgspec.structs.replace(settings, console=console),
        hub_url=hall.url,
        token=hall.token,
        prefs_dir=folder / "prefs",
        demo=True,
    )


async def _run_console(app: GriddeskApp) -> int:
    """The console until it exits; its exit code (non-zero if it died)."""
    from console.app import exit_code

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
    return exit_code(app, code)


def _at(hall: DemoHall) -> str:
    return format_time(hall.scenario.offset(hall.opened))


def _summary(hall: DemoHall) -> str:
    progress, scenario = hall.progress, hall.scenario
    refused = f", {len(progress.refused)} refused" if progress.refused else ""
    return (
        f"griddesk demo: {scenario.header.name} opened at {_at(hall)}, stopped at "
        f"{format_time(scenario.offset(hall.clock.now()))} (demo clock), "
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
