"""One hub per store: a second hub on the same database refuses to start, with one line saying
why, and the hub already serving goes on untouched. (A hub killed with SIGKILL leaves no lock
behind: tests/hub/test_restart.py restarts on the same file after a kill -9.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from server_fixtures import UNIT, TestClient, seed_store
from test_restart import in_process_hub

from dispatch.config import HubSettings, Settings
from dispatch.models import Role
from hub.hub_lock import HubAlreadyRunning
from hub.runner import run_hub

GRIDDESK = Path(sys.executable).parent / "griddesk"


async def test_a_second_hub_on_the_same_store_refuses_and_the_first_goes_on(db_url: str) -> None:
    tokens = await seed_store(db_url, city=False)
    async with in_process_hub(db_url, demo=True) as first:
        second = Settings(hub=HubSettings(database=db_url, listen="127.0.0.1:0"))
        with pytest.raises(HubAlreadyRunning, match="another griddesk hub") as refused:
            await run_hub(second)
        assert "\n" not in str(refused.value)
        if db_url.startswith("sqlite"):
            assert "a SQLite store holds one hub" in str(refused.value)
        async with TestClient.connect(f"ws://127.0.0.1:{first.port}") as client:
            await client.hello(tokens[Role.COMMANDER])
            assert await client.snapshot(), "the first hub still serves its hall"
    # Stopped, it lets the next one in.
    async with in_process_hub(db_url) as again:
        assert again.port


async def test_the_cli_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    await seed_store(db, city=False)
    async with in_process_hub(db, demo=True):
        done = await asyncio.to_thread(
            subprocess.run,
            [str(GRIDDESK), "hub", "--db", db, "--listen", "127.0.0.1:0"],
            capture_output=True, text=True, timeout=20 * UNIT, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("griddesk hub: another griddesk hub (pid ")
    assert str(tmp_path / "hall.db") in lines[0]
