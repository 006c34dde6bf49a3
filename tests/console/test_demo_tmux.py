"""End to end: the installed ``griddesk demo`` in a real terminal (tmux), as someone trying it.

``griddesk demo --scenario short --speed 60`` runs in a detached tmux session of 100×30 on a
tmux server of its own (``tmux -L``), with ``TMPDIR`` pointing into the test's folder so the
demo's temporary hall can be seen to go away. The tests read the screen (``capture-pane``):
the urgent strip with countdowns that tick on the demo clock, the status bar's demo badge, a
case registered and accepted through the ``:`` command line; then ``q`` or Ctrl+C must end the
process with status 0, print the demo's summary line and leave no ``griddesk-demo-*`` folder.

A newcomer's first screen is checked the same way: plain ``griddesk demo`` (what ``make demo``
runs: normal-day at ×30, Chinese) at 200×50 with no saved preferences must show the hall at
work within 10 s of the command — cases listed on the urgent tab it opens on, the strip's
countdowns running, people busy on the roster.

The shell in the pane runs ``griddesk demo …; echo EXIT=$? > FILE``, so the exit status is read
from that file. The screen has no event to await, so the pane is polled, with limits that are
multiples of :data:`UNIT` scaled by ``GRIDDESK_TEST_TIMEOUT_SCALE`` (as test_e2e_tmux.py does).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.console.test_e2e_tmux import GRIDDESK, UNIT, Tmux, env, wait_until

__all__ = ["env"]  # the fixture, imported for its name

SESSION = "demo"

BADGE = re.compile(r"DEMO ×60 \d\d:\d\d:\d\d")
"""The status bar's demo badge with the demo clock's time (--lang en)."""
CASE_ID = re.compile(r"\b\d{10}\b")
COUNTDOWN = re.compile(r"-?\d+:\d\d\b|-?\d+h\d\dm|-?\d+d\d+h")
SUMMARY = re.compile(
    r"griddesk demo: short opened at 16:50:00, stopped at \d\d:\d\d:\d\d \(demo clock\), "
    r"\d+ of \d+ steps played"
)
BOARD_KEY = "? Help"
"""The key bar's first key (en); it leaves the bar while the ``:`` line has the keys."""
TITLE = "e2e-demo-drain"


FIRST_SCREEN_S = 5 * UNIT
"""A newcomer's wait, from the command to the hall at work on screen: 10 s, scaled."""


@dataclass
class Demo:
    """``griddesk demo`` in a pane of a tmux server of our own (``-L``)."""

    server: Tmux
    tmpdir: Path
    """TMPDIR of the demo: where its temporary hall folder lives while it runs."""
    exit_file: Path
    """Written by the pane's shell once ``griddesk demo`` has ended: ``EXIT=<status>``."""
    started: float = 0.0
    """``time.monotonic()`` just before the command was typed into tmux."""

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.server(*args, check=check)

    def pane(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", SESSION).stdout

    def pane_and_history(self) -> str:
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", SESSION).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", SESSION, *(("-l",) if literal else ()), *keys)

    def strip(self) -> list[str]:
        """The urgent strip: the top three lines (ids, titles, countdowns)."""
        return self.pane().splitlines()[:3]

    def row(self, needle: str) -> str:
        """The first case-list line holding ``needle``, or ""."""
        return next((line for line in self.pane().splitlines() if needle in line), "")

    def footer(self) -> str:
        """The key bar: the last two lines (it wraps to two when its keys do not fit one)."""
        return "\n".join(self.pane().rstrip("\n").splitlines()[-2:])

    def typing(self) -> bool:
        """The ``:`` line has the keys: the board's keys have left the footer."""
        return BOARD_KEY not in self.footer()

    def command(self, line: str) -> None:
        """Type ``line`` into the ``:`` command line and send it."""
        self.keys(":")
        # Textual moves the focus a moment after the line opens: typed before that, the letters
        # would be board keys (i: intake …), and a key sent just after Enter would go to the line.
        wait_until("the : line has the keys", self.typing, self.pane)
        self.keys(line, literal=True)
        wait_until("the line is typed", lambda: line in self.pane(), self.pane)
        self.keys("Enter")
        wait_until("the board has the keys again", lambda: not self.typing(), self.pane)

    def running(self) -> list[int]:
        """Pids of what the pane's shell still runs (griddesk demo, until it ends)."""
        shell = self.tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}", check=False)
        if shell.returncode != 0 or not shell.stdout.strip().isdigit():
            return []
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", shell.stdout.strip()],
            capture_output=True,
            text=True,
            check=False,
        )
        return [int(pid) for pid in children.stdout.split()]


@contextlib.contextmanager
def demo_in_tmux(
    tmp_path: Path, env: dict[str, str], args: list[str], size: tuple[int, int]
) -> Iterator[Demo]:
    """``griddesk demo ARGS`` started in a tmux pane of ``size``; ended and cleaned up after."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed; the end-to-end demo test needs it (apt install tmux)")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    exit_file = tmp_path / "exit"
    # The socket lives in a short directory of its own (a socket path has a ~100 byte limit).
    sockets = tempfile.mkdtemp(prefix="griddesk-tmux-")
    server = Tmux(f"demo-{uuid.uuid4().hex[:12]}", env | {"TMUX_TMPDIR": sockets})
    running = Demo(server, tmpdir, exit_file)
    # remain-on-exit keeps the pane after the shell ends, so the summary line can be read.
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g remain-on-exit on\n")
    q = shlex.quote
    line = (
        f"TMPDIR={q(str(tmpdir))} {q(str(GRIDDESK))} demo {shlex.join(args)};"
        f" echo EXIT=$? > {q(str(exit_file))}"
    )
    try:
        running.started = time.monotonic()
        running.tmux(
            "-f", str(conf), "new-session", "-d", "-s", SESSION,
            "-x", str(size[0]), "-y", str(size[1]), "-c", str(tmp_path), line,
        )  # fmt: skip
        yield running
    finally:
        # A demo still running when its terminal goes away may not get to exit on its own:
        # end it by its pid before the tmux server goes.
        for pid in running.running():
            os.kill(pid, signal.SIGKILL)
        running.tmux("kill-server", check=False)
        shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture
def demo(tmp_path: Path, env: dict[str, str]) -> Iterator[Demo]:
    """``griddesk demo --scenario short --speed 60 --lang en`` started in a 100×30 tmux pane."""
    args = ["--scenario", "short", "--speed", "60", "--lang", "en"]
    with demo_in_tmux(tmp_path, env, args, (100, 30)) as running:
        yield running


def _board_is_live(demo: Demo) -> None:
    """The board is up on the demo hall: live, with the demo badge and the urgent strip."""
    wait_until(
        "the board is live with the demo badge",
        lambda: "● live" in demo.pane() and BADGE.search(demo.pane()) is not None,
        demo.pane,
    )
    wait_until(
        "the urgent strip shows a case and its countdown",
        lambda: (
            CASE_ID.search(demo.strip()[0]) is not None
            and COUNTDOWN.search(demo.strip()[2]) is not None
        ),
        demo.pane,
    )
    assert "1 Urgent" in demo.pane()


def _exits_cleanly(demo: Demo, summary: re.Pattern[str] = SUMMARY) -> None:
    """Status 0, the summary line on the terminal, the temporary hall removed."""
    wait_until("griddesk demo exits", demo.exit_file.exists, demo.pane)
    wait_until("the exit status is written", lambda: "\n" in demo.exit_file.read_text(), demo.pane)
    assert demo.exit_file.read_text().strip() == "EXIT=0", demo.pane()
    # The line is printed once the console has left the screen; depending on where tmux had
    # the cursor then, it may have scrolled up into the pane's history.
    wait_until(
        "the summary line shows",
        lambda: summary.search(demo.pane_and_history()) is not None,
        demo.pane_and_history,
    )
    assert list(demo.tmpdir.glob("griddesk-demo-*")) == []


def test_demo_clock_ticks_a_command_changes_the_hall_and_q_quits(demo: Demo) -> None:
    _board_is_live(demo)

    # Countdowns run on the demo clock: at ×60 a minute goes by each second.
    before = demo.strip()[2]
    wait_until("a strip countdown changes", lambda: demo.strip()[2] != before, demo.pane)

    demo.command(f"intake --category E0101 --source patrol --grid 310115001001 --title {TITLE}")
    demo.keys("7")  # the "All" queue: a general case is not on the urgent tab the board opens on
    wait_until(
        "the new case is listed as reported", lambda: "reported" in demo.row(TITLE), demo.pane
    )
    found = CASE_ID.search(demo.row(TITLE))
    assert found, demo.pane()
    case_id = found.group()

    demo.command(f"accept {case_id}")
    wait_until(f"{case_id} shows accepted", lambda: "accepted" in demo.row(case_id), demo.pane)

    demo.keys("q")
    _exits_cleanly(demo)


@pytest.mark.parametrize("where", ["board", "command line"])
def test_ctrl_c_quits_the_demo_cleanly(demo: Demo, where: str) -> None:
    _board_is_live(demo)
    if where == "command line":
        # Ctrl+C quits even where an input would take it as "copy".
        demo.keys(":")
        wait_until("the : line has the keys", demo.typing, demo.pane)

    demo.keys("C-c")
    _exits_cleanly(demo)


# --- a newcomer's first screen -------------------------------------------------------------------

NORMAL_DAY_SUMMARY = re.compile(r"griddesk demo: normal-day opened at 17:00:00, stopped at ")
BADGE_ZH = re.compile(r"演练 ×30 \d\d:\d\d:\d\d")
URGENT_TAB = re.compile(r"1 紧急 (\d+)")
BUSY = re.compile(r"(白班|备勤)\s+(现场|在途|忙碌)\s+[1-9]")
"""A roster row of someone at work: shift, then field status on scene / en route / busy, then
a case load of one or more."""


@dataclass
class FirstScreen:
    """What the newcomer's pane shows, read once."""

    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def strip_has_countdowns(self) -> bool:
        """Case ids on the strip's first line, countdowns on its third."""
        lines = self.lines
        return (
            len(lines) > 3
            and CASE_ID.search(lines[0]) is not None
            and COUNTDOWN.search(lines[2]) is not None
        )

    def urgent_count(self) -> int:
        found = URGENT_TAB.search(self.text)
        return int(found.group(1)) if found else 0

    def listed(self) -> list[str]:
        """The case list's rows: below the tab bar and column heads, a countdown and an id,
        left of the detail and roster panel."""
        rows = self.lines[5:]
        left = [row.split("│")[0] for row in rows]
        return [row for row in left if re.match(r"\s*(" + COUNTDOWN.pattern + r")\s+\d{10}", row)]

    def busy_staff(self) -> list[str]:
        return [line for line in self.lines if BUSY.search(line.split("│")[-1])]

    def at_work(self) -> bool:
        return (
            BADGE_ZH.search(self.text) is not None
            and self.strip_has_countdowns()
            and self.urgent_count() > 0
            and len(self.listed()) == self.urgent_count()
            and bool(self.busy_staff())
        )


@pytest.fixture
def newcomer(tmp_path: Path, env: dict[str, str]) -> Iterator[Demo]:
    """Plain ``griddesk demo`` (what ``make demo`` runs) in a 200×50 pane, nothing saved."""
    with demo_in_tmux(tmp_path, env, [], (200, 50)) as running:
        yield running


def test_a_newcomer_sees_the_hall_at_work_within_ten_seconds(newcomer: Demo) -> None:
    """From the command to a busy board — urgent cases listed on the tab the board opens on,
    the strip's countdowns running, people on scene on the roster — in 10 s at most."""
    left = FIRST_SCREEN_S - (time.monotonic() - newcomer.started)
    wait_until(
        "the first screen shows the hall at work",
        lambda: FirstScreen(newcomer.pane()).at_work(),
        newcomer.pane,
        within=left,
    )
    # The countdowns run on the demo clock: at ×30 the strip changes every second.
    before = newcomer.strip()[2]
    wait_until("a strip countdown changes", lambda: newcomer.strip()[2] != before, newcomer.pane)

    newcomer.keys("q")
    _exits_cleanly(newcomer, NORMAL_DAY_SUMMARY)
