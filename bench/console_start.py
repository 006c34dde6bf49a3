"""Benchmark (not a test): the console's cold start, to the first drawn board, in a real terminal.

A hub (``griddesk hub`` on a fresh SQLite file) holds the demo city and ~200 cases seeded through
the engine, a quarter of them urgent. Each run starts ``griddesk console --lang en`` as a fresh
process in a new detached tmux server (100×30, fresh config/data dirs: no saved preferences) and
polls ``capture-pane`` until a known urgent case id is on screen (a cold start opens on the
urgent queue): that is the time to the first drawn board, connection and sync included. Then the
console's RSS is read from ``/proc/PID/status``. Five runs after one unmeasured warm-up.

Baseline in the same run, started the same way: a minimal Textual app (one ``Static`` saying
"ready"), timed until its text shows. Bar (issue 3): ≤ 1.5 s to the first drawn board.

    .venv/bin/python -m bench.console_start [--runs 5] [--cases 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BAR_S = 1.5
SIZE = ("100", "30")
POLL_S = 0.01
GIVE_UP_S = 30.0
GRIDDESK = Path(sys.executable).parent / "griddesk"
LISTENING = re.compile(r"griddesk hub listening on (ws://\S+)")
BASELINE_APP = """\
from textual.app import App, ComposeResult
from textual.widgets import Static


class Ready(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("ready")


Ready().run()
"""


@dataclass
class Run:
    seconds: float
    rss_mb: float


async def seed(db: str, cases: int) -> tuple[str, str]:
    """The demo city, a commander and ``cases`` cases (every 4th urgent, every 3rd accepted);
    returns (token, id of the first urgent case)."""
    from dispatch.catalog import Catalog
    from dispatch.commands import Accept, Intake
    from dispatch.config import Settings
    from dispatch.models import Actor, AreaKind, Kind, Role, Source, Urgency
    from hub.clock import WallClock
    from hub.demo_city import demo_city
    from hub.engine import Engine
    from hub.store import Store

    catalog = Catalog.default()
    city = demo_city()
    grids = [a.code for a in city.areas if a.kind is AreaKind.GRID]
    categories = [c.code for c in catalog if c.kind is Kind.EVENT]
    sources = (Source.PATROL, Source.VIDEO)  # no verification step needed before accepting
    store = await Store.open(db)
    try:
        await store.seed(city.areas, city.units, city.staff)
        token = await store.add_operator("bench-commander", Role.COMMANDER)
        engine = Engine(store, Settings(), catalog, WallClock())
        await engine.start()
        actor = Actor(name="bench-commander", role=Role.COMMANDER)
        known = ""
        try:
            for n in range(cases):
                urgent = n % 4 == 0
                ack = await engine.execute(
                    Intake(
                        id=f"seed-{n}",
                        kind=Kind.EVENT,
                        category=categories[n % len(categories)],
                        source=sources[n % len(sources)],
                        title=f"bench case {n}",
                        grid=grids[n % len(grids)],
                        urgency=Urgency.URGENT if urgent else Urgency.GENERAL,
                    ),
                    actor,
                )
                assert ack.case is not None and ack.version is not None
                known = known or (ack.case if urgent else "")
                if n % 3 == 0:
                    await engine.execute(
                        Accept(id=f"accept-{n}", case=ack.case, version=ack.version), actor
                    )
        finally:
            await engine.stop()
    finally:
        await store.close()
    return token, known


def tmux(socket: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", socket, *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def timed_start(argv: Sequence[str], shows: str, home: Path, env: dict[str, str]) -> Run:
    """Start ``argv`` in a new tmux server; seconds until ``shows`` is on screen, and its RSS."""
    socket = f"griddesk-bench-{uuid.uuid4().hex[:12]}"
    data = home / socket  # fresh config/data dirs: a first start, no saved preferences
    env = env | {
        "XDG_CONFIG_HOME": str(data / "config"),
        "XDG_DATA_HOME": str(data / "data"),
        "TMUX_TMPDIR": str(home),  # tmux leaves its socket file behind; home is removed at the end
    }
    try:
        t0 = time.perf_counter()
        tmux(socket, env, "-f", "/dev/null", "new-session", "-d", "-s", "b",
             "-x", SIZE[0], "-y", SIZE[1], "-c", str(home), *argv)  # fmt: skip
        while shows not in tmux(socket, env, "capture-pane", "-p", "-t", "b"):
            if time.perf_counter() - t0 > GIVE_UP_S:
                screen = tmux(socket, env, "capture-pane", "-p", "-t", "b")
                raise SystemExit(f"{shows!r} not shown after {GIVE_UP_S} s:\n{screen}")
            time.sleep(POLL_S)
        seconds = time.perf_counter() - t0
        pid = tmux(socket, env, "display-message", "-p", "-t", "b", "#{pane_pid}").strip()
        return Run(seconds, rss_mb(int(pid)))
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], env=env, capture_output=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_hub(db: str, home: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    hub = subprocess.Popen(
        [str(GRIDDESK), "hub", "--db", db, "--listen", "127.0.0.1:0"],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert hub.stderr is not None
    for line in hub.stderr:
        if m := LISTENING.search(line):
            # Keep reading its log so a full pipe never stalls the hub.
            threading.Thread(target=hub.stderr.read, daemon=True).start()
            return hub, m.group(1)
    raise SystemExit("the hub did not start")


def summary(name: str, runs: Sequence[Run]) -> str:
    s = [r.seconds for r in runs]
    rss = median(r.rss_mb for r in runs)
    return (
        f"{name:<40} median {median(s):6.3f} s  min {min(s):6.3f} s  max {max(s):6.3f} s"
        f"  RSS {rss:5.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (apt install tmux)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDDESK_", "TMUX"))}
    with tempfile.TemporaryDirectory(prefix="griddesk-bench-") as tmp:
        home = Path(tmp)
        db = f"sqlite:///{home / 'hub.db'}"
        token, known = asyncio.run(seed(db, args.cases))
        (home / "token").write_text(token)
        (home / "ready.py").write_text(BASELINE_APP)
        hub, url = start_hub(db, home, env)
        console = [str(GRIDDESK), "console", "--hub", url, "--token-file", str(home / "token"),
                   "--lang", "en"]  # fmt: skip
        baseline = [sys.executable, str(home / "ready.py")]
        try:
            timed_start(console, known, home, env)  # warm-up: the OS file cache
            timed_start(baseline, "ready", home, env)
            ours = [timed_start(console, known, home, env) for _ in range(args.runs)]
            bare = [timed_start(baseline, "ready", home, env) for _ in range(args.runs)]
        finally:
            hub.terminate()
            hub.wait()
    print(
        f"console cold start in tmux {SIZE[0]}x{SIZE[1]}, hub on loopback with the demo city and "
        f"{args.cases} cases, {args.runs} runs each after one warm-up, {os.cpu_count()} CPUs"
    )
    print(summary("griddesk console → board shows case", ours))
    print(summary('bare Textual App → Static "ready"', bare))
    ratio = median(r.seconds for r in ours) / median(r.seconds for r in bare)
    print(f"ratio ours/bare (median): {ratio:.2f}x")
    worst = max(r.seconds for r in ours)
    verdict = "met" if median(r.seconds for r in ours) <= BAR_S else "MISSED"
    print(
        f"bar: first drawn board ≤ {BAR_S} s: {verdict} "
        f"(median {median(r.seconds for r in ours):.3f} s, worst {worst:.3f} s)"
    )


if __name__ == "__main__":
    main()
