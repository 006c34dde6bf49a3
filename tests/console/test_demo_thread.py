"""``griddesk demo``'s hub on a thread of its own: a console that blocks its loop cannot hold it.

The demo hall starts as ``run_demo`` starts it (:class:`~hub.demo.DemoHallThread`) and the
console runs on it in the test's loop. Then the test blocks that loop with a synchronous sleep,
as a long paint would: meanwhile the hub's clock must follow its schedule and the scenario play
on. The hub is read through ``DemoHallThread.call`` — run in the hub's loop, so it answers
while this one is blocked — and the console must catch up once its loop runs again. A hub that
fails to start raises its own error in the caller's thread, and leaves no thread behind.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from console_fixtures import UNIT, board_live, console_for, until

from console.demo import read_scenario
from dispatch.scenario import Scenario, ScenarioError, loads
from hub.demo import DemoHall, DemoHallThread

SPEED = 600.0
PAINT_S = 2.0
"""How long the console's loop is blocked: the simulated paint (a workload, not a limit)."""
LAG_S = 0.25 * UNIT
"""Real seconds the hub's clock may fall behind its schedule meanwhile (a step being played)."""


def steady_day() -> Scenario:
    """An intake every hub minute for eight hours: at ×600, ten steps a real second."""
    header = '[scenario]\nname = "steady"\ndate = 2026-11-23\nstart = "09:00"\nend = "17:00"\n'
    steps = [
        f'[[step]]\nat = "{9 + m // 60:02}:{m % 60:02}:30"\ndo = "intake"\ncase = "c{m}"\n'
        f'kind = "event"\ncategory = "E0101"\nsource = "video"\ntitle = "垃圾 {m}"\n'
        f'grid = "310115001001"\n'
        for m in range(8 * 60)
    ]
    return loads("\n".join([header, *steps]))


@dataclass(frozen=True)
class Standing:
    """The hub's clock and play at one moment, read in the hub's own loop."""

    thread: threading.Thread
    now: datetime
    played: int
    case_ids: frozenset[str]


def standing(hall: DemoHall) -> Standing:
    return Standing(
        thread=threading.current_thread(),
        now=hall.clock.now(),
        played=hall.progress.played,
        case_ids=frozenset(hall.progress.case_ids.values()),
    )


async def test_the_hub_keeps_its_schedule_while_the_console_loop_is_blocked(
    tmp_path: Path,
) -> None:
    scenario = steady_day()
    async with DemoHallThread(scenario, directory=tmp_path, speed=SPEED) as hub:
        app = console_for(hub.hall.url, hub.hall.token, tmp_path / "prefs")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            before, began = hub.call(standing, UNIT), time.monotonic()
            time.sleep(PAINT_S)  # noqa: ASYNC251 (a long paint: this loop runs nothing meanwhile)
            after, ended = hub.call(standing, UNIT), time.monotonic()

            assert before.thread is hub.thread is not threading.main_thread()
            scheduled = (ended - began) * SPEED
            assert (after.now - before.now).total_seconds() >= scheduled - LAG_S * SPEED
            # Every step due by the hub's clock was played: the clock kept its schedule, and
            # the play kept up with the clock.
            due = sum(1 for step in scenario.steps if scenario.instant(step.at) < after.now)
            assert after.played >= due > before.played
            assert len(after.case_ids) > len(before.case_ids)
            # Once its loop runs again, the console catches up with what was committed.
            mirror = app.client.mirror
            await until(pilot, lambda: after.case_ids <= mirror.cases.keys())
    assert not hub.thread.is_alive()


async def test_a_hub_that_cannot_start_raises_its_own_error_here(tmp_path: Path) -> None:
    short = read_scenario("short")
    async with DemoHallThread(short, directory=tmp_path, speed=SPEED) as first:
        pass
    assert not first.thread.is_alive()
    # The folder now holds a hall: a second demo there must refuse to start.
    again = DemoHallThread(short, directory=tmp_path, speed=SPEED)
    with pytest.raises(ScenarioError, match="already holds a hall"):
        async with again:
            pytest.fail("the hub started on a used folder")
    assert not again.thread.is_alive()
