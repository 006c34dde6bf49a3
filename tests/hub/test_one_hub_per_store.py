"""One hub per SQLite store: a second hub on the same file refuses to start, with one line
saying why, and the hub already serving goes on untouched. (A hub killed with SIGKILL leaves no
lock behind: tests/hub/test_restart.py restarts on the same file after a kill -9.) A PostgreSQL
store takes several hubs: the second one starts and serves the same hall."""

from __future__ import annotations

import asyncio
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


async def test_a_second_hub_on_the_same_sqlite_store_refuses_and_the_first_goes_on(
    sqlite_url: str,
) -> None:
    tokens = await seed_store(sqlite_url, city=False)
    async with in_process_hub(sqlite_url, demo=True) as first:
        second = Settings(hub=HubSettings(database=sqlite_url, listen="127.0.0.1:0"))
        with pytest.raises(HubAlreadyRunning, match="another griddesk hub") as refused:
            await run_hub(second)
        assert "\n" not in str(refused.value)
        assert "a SQLite store holds one hub" in str(refused.value)
        async with TestClient.connect(f"ws://127.0.0.1:{first.port}") as client:
            await client.hello(tokens[Role.COMMANDER])
            assert await client.snapshot(), "the first hub still serves its hall"
    # Stopped, it lets the next one in.
    async with in_process_hub(sqlite_url) as again:
        assert again.port


@pytest.mark.pg
async def test_a_second_hub_on_postgresql_starts_and_serves_the_same_hall(pg_url: str) -> None:
    tokens = await seed_store(pg_url, city=False)
    async with in_process_hub(pg_url, demo=True) as first, in_process_hub(pg_url) as second:
        for hub in (first, second):
            async with TestClient.connect(f"ws://127.0.0.1:{hub.port}") as client:
                await client.hello(tokens[Role.COMMANDER])
                chunks = await client.snapshot()
                assert chunks[0].units, "both hubs serve the demo city the first one loaded"


async def test_the_cli_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    await seed_store(db, city=False)
    async with in_process_hub(db, demo=True):
        proc = await asyncio.create_subprocess_exec(
            str(GRIDDESK), "hub", "--db", db, "--listen", "127.0.0.1:0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        )  # fmt: skip
        _, raw = await asyncio.wait_for(proc.communicate(), 20 * UNIT)
    assert proc.returncode == 1
    stderr = raw.decode()
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("griddesk hub: another griddesk hub (pid ")
    assert str(tmp_path / "hall.db") in lines[0]
