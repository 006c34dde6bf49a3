"""End to end: the installed ``griddesk console`` in a real terminal (tmux) against a real hub.

Everything runs as the operator would run it: a ``griddesk hub`` process with the demo city on a
SQLite file, a commander's token from ``griddesk operator add``, a case registered with
``griddesk ctl``, and the console in a detached tmux session of 100×30 on its own tmux server
(``tmux -L``), driven by ``send-keys`` and read with ``capture-pane``. The test checks what the
commander sees, what the hub stored, and that quitting and stopping leave nothing running.

The screen has no event to await, so the pane is polled, with limits that are multiples of
:data:`UNIT` scaled by ``GRIDDESK_TEST_TIMEOUT_SCALE``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

UNIT = 2.0 * float(os.environ.get("GRIDDESK_TEST_TIMEOUT_SCALE", "1"))
GRIDDESK = Path(sys.executable).parent / "griddesk"
LISTENING = re.compile(r"griddesk hub listening on (ws://\S+)")
ACCEPTED = "accepted"  # console.labels.STATUS[Status.ACCEPTED], shown as is with --lang en
REPORTED = "reported"


@dataclass
class Hub:
    """A ``griddesk hub`` subprocess; its stderr is drained by a thread so it never blocks."""

    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)
    url: str = ""
    listening: threading.Event = field(default_factory=threading.Event)

    def drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if not self.listening.is_set() and (m := LISTENING.search(line)):
                self.url = m.group(1)
                self.listening.set()
        self.listening.set()  # the hub ended: wake a waiter, who sees no url

    def stop(self) -> int:
        """SIGTERM, as a service manager would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=5 * UNIT)


@dataclass
class Tmux:
    """A tmux server of our own (``-L``), so nothing touches the developer's sessions."""

    socket: str
    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=UNIT * 5,
            check=check,
        )

    def pane(self) -> str:
        return self("capture-pane", "-p", "-t", "console").stdout

    def has_session(self) -> bool:
        return self("has-session", "-t", "console", check=False).returncode == 0


def wait_until(
    what: str, ready: Callable[[], bool], detail: Callable[[], str], *, within: float = 10 * UNIT
) -> None:
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}; now:\n{detail()}")
        time.sleep(0.05)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The developer's environment without GRIDDESK_* or tmux's, and home dirs in tmp_path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDDESK_", "TMUX", "XDG_"))}
    clean |= {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }
    return clean


@contextmanager
def hub_process(tmp_path: Path, env: dict[str, str], *options: str) -> Iterator[Hub]:
    """``griddesk hub --demo-city`` on ``tmp_path/hall.db`` and a free port, killed at exit."""
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    process = subprocess.Popen(
        [str(GRIDDESK), "hub", "--demo-city", "--db", db, "--listen", "127.0.0.1:0", *options],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = Hub(process)
    drainer = threading.Thread(target=running.drain, daemon=True)
    drainer.start()
    try:
        if not running.listening.wait(5 * UNIT) or not running.url:
            pytest.fail("the hub did not start listening:\n" + "".join(running.log))
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        drainer.join(UNIT)


@pytest.fixture
def hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    with hub_process(tmp_path, env) as running:
        yield running


@pytest.fixture
def tmux(env: dict[str, str]) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail(
            "tmux is not installed; the end-to-end console test needs it (apt install tmux)"
        )
    # The socket lives in a short directory of its own (a socket path has a ~100 byte limit),
    # removed afterwards: tmux leaves the file behind when its server is killed.
    sockets = tempfile.mkdtemp(prefix="griddesk-tmux-")
    server = Tmux(f"e2e-{uuid.uuid4().hex[:12]}", env | {"TMUX_TMPDIR": sockets})
    try:
        yield server
    finally:
        server("kill-server", check=False)
        shutil.rmtree(sockets, ignore_errors=True)


def griddesk(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(GRIDDESK), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=10 * UNIT,
    )
    assert done.returncode == 0, f"griddesk {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def test_commander_accepts_a_case_in_the_installed_console(
    tmp_path: Path, env: dict[str, str], hub: Hub, tmux: Tmux
) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    token = griddesk(
        tmp_path, env, "operator", "add", "值班指挥长", "--role", "commander", "--db", db
    )
    token_file = tmp_path / "token"
    token_file.write_text(token)
    ctl = ("ctl", "--hub", hub.url, "--token-file", str(token_file))
    griddesk(
        tmp_path, env, *ctl,
        "intake", "--category", "E0101", "--source", "patrol", "--grid", "310115001001",
        "--title", "e2e garbage",
    )  # fmt: skip
    (case,) = json.loads(griddesk(tmp_path, env, *ctl, "--json", "list", "all"))
    case_id = case["id"]

    # The shell in the pane writes the console's exit status to a file: tmux's own
    # #{pane_dead_status} can stay empty when the pty closes before tmux reaps the process
    # (tmux/tmux#4841). remain-on-exit keeps the pane, so what the console printed can be read.
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g remain-on-exit on\n")
    exit_file = tmp_path / "exit"
    q = shlex.quote
    console = (
        f"{q(str(GRIDDESK))} console --hub {q(hub.url)} --token-file {q(str(token_file))}"
        f" --lang en; echo EXIT=$? > {q(str(exit_file))}"
    )
    tmux(
        "-f", str(conf), "new-session", "-d", "-s", "console", "-x", "100", "-y", "30",
        "-c", str(tmp_path), console,
    )  # fmt: skip

    # A cold start opens on the urgent queue; this general case is under 7 "All".
    wait_until("the board is live", lambda: "● live" in tmux.pane(), tmux.pane)
    tmux("send-keys", "-t", "console", "7")

    def row() -> str:
        return next((line for line in tmux.pane().splitlines() if case_id in line), "")

    wait_until(f"the board lists {case_id} as reported", lambda: REPORTED in row(), tmux.pane)

    tmux("send-keys", "-t", "console", "a")

    def hub_status() -> str:
        status: str = json.loads(griddesk(tmp_path, env, *ctl, "--json", "show", case_id))["status"]
        return status

    wait_until("the hub stored the case as accepted", lambda: hub_status() == ACCEPTED, hub_status)
    wait_until(f"the board shows {case_id} accepted", lambda: ACCEPTED in row(), tmux.pane)

    tmux("send-keys", "-t", "console", "q")
    wait_until("the console exits", exit_file.exists, tmux.pane)
    wait_until("its exit status is written", lambda: "\n" in exit_file.read_text(), tmux.pane)
    assert exit_file.read_text().strip() == "EXIT=0", tmux.pane()
    tmux("kill-session", "-t", "console")
    assert not tmux.has_session()

    assert hub.stop() == 0, "".join(hub.log)
