"""bench/positions.py runs end to end on a tiny load (``--quick``) and prints both phases, the
ratio and its bars: a crash must not hide behind "benchmarks exit 0". No timing is judged."""

from __future__ import annotations

import pytest

from bench import positions


async def test_the_positions_bench_runs_both_phases(capsys: pytest.CaptureFixture[str]) -> None:
    assert await positions.main(positions.parse_args(["--quick"])) == 0
    out = capsys.readouterr().out
    assert "without positions" in out and "with positions" in out
    assert "ratio with/without: fan-out p99" in out
    assert "0 errors" in out and "reports sustained (every one answered): met" in out
