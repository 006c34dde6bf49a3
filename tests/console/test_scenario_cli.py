"""End to end: ``griddesk replay`` feeds a running ``griddesk hub --speed N`` while
``griddesk record`` writes what it sees; the recording replays to the same day.

All three are the installed commands in their own processes, as an operator would run them.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.demo import read_scenario
from dispatch.scenario import loads
from hub.replay import play_offline
from tests.console.test_e2e_tmux import GRIDDESK, UNIT, Hub, env, griddesk, hub_process

__all__ = ["env"]  # the fixture, imported for its name


@pytest.fixture
def fast_hub(tmp_path: Path, env: dict[str, str]) -> Iterator[Hub]:
    """``griddesk hub --speed 3000``: short.toml's 110 minutes pass in about 2 s."""
    with hub_process(tmp_path, env, "--speed", "3000") as running:
        yield running


def test_replay_into_a_fast_hub_and_record_it_round_trip(
    fast_hub: Hub, tmp_path: Path, env: dict[str, str]
) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    token = griddesk(tmp_path, env, "operator", "add", "教练", "--role", "commander", "--db", db)
    (tmp_path / "token").write_text(token)
    hub_args = ["--hub", fast_hub.url, "--token-file", str(tmp_path / "token")]
    recording = tmp_path / "recorded.toml"
    recorder = subprocess.Popen(
        [str(GRIDDESK), "record", *hub_args, "-o", str(recording), "--name", "again"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # The recorder says so once it is live; only then can it see the whole replay.
        assert recorder.stderr is not None
        assert "recording" in recorder.stderr.readline()
        replay = subprocess.run(
            [str(GRIDDESK), "replay", "short", *hub_args, "--quiet"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30 * UNIT,
        )  # fmt: skip
        assert replay.returncode == 0, replay.stderr
        assert "76 steps, 76 applied, 0 refused" in replay.stdout
    finally:
        recorder.send_signal(signal.SIGINT)
        _out, err = recorder.communicate(timeout=5 * UNIT)
    assert recorder.returncode == 0, err
    assert "76 steps (9 cases)" in err

    again = loads(recording.read_text(encoding="utf-8"))
    assert len(again.steps) == 76
    short = read_scenario("short")
    outcome = asyncio.run(play_offline(again, f"sqlite+aiosqlite:///{tmp_path / 'again.db'}"))
    assert outcome.refused == []
    assert short.expect is not None
    for name in ("reported", "accepted", "closed", "returned", "reworked"):
        assert getattr(outcome.figures, name) == short.expect.figures()[name], name


def test_replay_without_a_hub_says_it_cannot_reach_it(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "token").write_text("x" * 43)
    done = subprocess.run(
        [str(GRIDDESK), "replay", "short", "--hub", "ws://127.0.0.1:9", "--token-file",
         str(tmp_path / "token"), "--timeout", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30 * UNIT,
    )  # fmt: skip
    assert done.returncode == 3
    assert "griddesk replay:" in done.stderr
