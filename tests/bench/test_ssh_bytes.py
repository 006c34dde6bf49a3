"""The SSH bytes bench end to end at a tiny size: a real sshd, a hub with a steady hall, and
``top``, ``htop`` and ``griddesk console`` each through ``ssh -tt`` in a pty. Nothing here looks
at the figures (that is the bench's job); it checks the run completes and reports each one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_run_measures_all_three_programs() -> None:
    command = [sys.executable, "-m", "bench.ssh_bytes", "--sizes", "80x24", "--seconds", "1",
               "--settle", "3", "--cases", "4", "--lang", "en"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for program in ("top", "htop", "griddesk"):
        assert any(line.split()[1:2] == [program] and "B/s" in line for line in lines), done.stdout
    assert any("console/htop" in line for line in lines)
    assert any(line.split()[1:2] == ["bar:"] for line in lines)
