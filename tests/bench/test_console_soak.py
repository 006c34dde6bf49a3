"""The soak bench: its days of generated hall played back to back, and a short run end to end
(a crash must not hide behind "benchmarks exit 0"). Nothing here looks at the figures."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bench.console_soak import soak_scenario
from dispatch.commands import Intake, Merge

ROOT = Path(__file__).resolve().parents[2]


def test_days_follow_each_other_with_names_of_their_own() -> None:
    scenario = soak_scenario(days=2, day_hours=4, from_hour=8, cases=300, seed=1)
    steps = scenario.steps
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    created = [s.case for s in steps if isinstance(s.template, Intake)]
    assert len(created) == len(set(created)) == scenario.cases > 0
    for day, hours in (("d1", (8, 12)), ("d2", (32, 36))):
        ours = [s for s in steps if s.case is not None and s.case.startswith(day)]
        intakes = [s.at for s in ours if isinstance(s.template, Intake)]
        assert intakes and min(intakes) >= timedelta(hours=hours[0])
        assert max(intakes) < timedelta(hours=hours[1])
    for step in steps:
        if step.case is not None:
            assert step.case in created
        if isinstance(step.template, Merge):
            assert step.into in created and step.into[:2] == (step.case or "")[:2]


def test_a_short_soak_runs_end_to_end() -> None:
    command = [sys.executable, "-m", "bench.console_soak", "--days", "2", "--day-hours", "1",
               "--from-hour", "9", "--speed", "1200", "--every", "1", "--top", "3"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "day 1:" in out and "day 2:" in out
    assert "÷ baseline" in out and "bar on RSS: after the first day" in out
    assert "console: traced growth settled → end" in out
    assert "hub: traced growth settled → end" in out
