"""The month-eight benchmarks run: on a small seeded hall (``--quick``) each prints its figures
and its bar, end to end — a crash must not hide behind "benchmarks exit 0". Nothing here
looks at the figures themselves (no timing in tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import console_board, hall_seed, intake_wire, restart


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed the small hall into this test's own cache, not the repository's."""
    monkeypatch.setattr(hall_seed, "CACHE", tmp_path / "cache")


async def test_intake_over_the_wire_runs_on_both_halls(capsys: pytest.CaptureFixture[str]) -> None:
    assert await intake_wire.main(intake_wire.parse_args(["--quick"])) == 0
    out = capsys.readouterr().out
    assert "round 1: fresh" in out and "round 1: month eight" in out
    assert "refused: none" in out and "bars: month eight ≥ 80 % of fresh:" in out


async def test_restart_runs_against_the_bare_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert await restart.main(restart.parse_args(["--quick", "--repeats", "1"])) == 0
    out = capsys.readouterr().out
    assert "hub restart" in out and "bar: restart ≤ 2× bare read:" in out


async def test_the_whole_board_runs_against_a_bare_datatable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await console_board.main(console_board.parse_args(["--quick"])) == 0
    out = capsys.readouterr().out
    assert "first board (snapshot → drawn)" in out and "1,000-event batch, median" in out
    assert "arrow down, p99" in out and "tab switch, p99" in out and "RSS at the end" in out
