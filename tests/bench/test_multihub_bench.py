"""The multi-hub benchmark runs end to end on the machine's PostgreSQL (a smoke run: 1 hub,
then 3, 30 receivers, 2 s of events, 300 intakes) and every event reaches every client."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from server_fixtures import PG_ENV, UNIT

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.pg
async def test_the_multihub_bench_runs_and_delivers_everything() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.multihub", "--quick", "--pg", os.environ[PG_ENV],
        cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 30 * UNIT)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "every event delivered to every client: met" in text, text
    rows = [line.split() for line in text.splitlines() if line.strip().startswith(("1 ", "3 "))]
    assert [row[0] for row in rows] == ["1", "3"], text
    assert all(float(row[-2]) > 0 for row in rows), "commands/s measured for both"
