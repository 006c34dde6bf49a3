"""The wall's frame bench runs end to end at tiny sizes (a crash must not hide behind
"benchmarks exit 0"); nothing here looks at the figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_wall_bench_runs_end_to_end() -> None:
    command = [sys.executable, "-m", "bench.wall_frames", "--seconds", "2", "--cases", "300",
               "--rate", "40", "--size", "640x360"]  # fmt: skip
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| wall (model + 6 panels, painted) |" in done.stdout
    assert "| bare PlotWidget (bars + line, painted) |" in done.stdout
