"""Restarts: a hub stopped cleanly or killed with SIGKILL comes back with every acknowledged
command in place, and retried commands still apply once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from server_fixtures import UNIT, TestClient, seed_store, sqlite_url_in

from dispatch.catalog import Catalog
from dispatch.commands import Intake
from dispatch.config import HubSettings, Settings
from dispatch.models import Kind, Role, Source
from dispatch.protocol import Ack, Error
from hub.demo_city import demo_city
from hub.runner import run_hub
from hub.server import HubServer

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"griddesk hub listening on ws://127\.0\.0\.1:(\d+) \(seq (\d+)\)")


def _intakes(count: int, prefix: str) -> list[Intake]:
    city = demo_city()
    grid = next(a.code for a in city.areas if a.kind == "grid")
    category = next(c for c in Catalog.default() if c.kind == Kind.EVENT)
    return [
        Intake(
            id=f"{prefix}-{n}",
            kind=category.kind,
            category=category.code,
            source=Source.PATROL,
            title=f"{prefix} {n}",
            grid=grid,
        )
        for n in range(count)
    ]


@contextlib.asynccontextmanager
async def in_process_hub(url: str, *, demo: bool = False) -> AsyncIterator[HubServer]:
    """``run_hub`` as the CLI runs it, stopped through its ``stop`` event."""
    settings = Settings(hub=HubSettings(database=url, listen="127.0.0.1:0"))
    stop = asyncio.Event()
    started: asyncio.Future[HubServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_hub(settings, demo_city=demo, stop=stop, ready=started.set_result)
    )
    try:
        done, _ = await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # it failed to start: raise why
        yield started.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, UNIT * 5)


async def _snapshot_titles(url: str, token: str) -> dict[str, str]:
    async with TestClient.connect(url) as client:
        await client.hello(token)
        chunks = await client.snapshot()
    return {case.id: case.title for chunk in chunks for case in chunk.cases}


async def test_a_clean_restart_keeps_every_acknowledged_command(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url, city=False)  # operators only: the runner loads the city
    commands = _intakes(20, "clean")
    async with in_process_hub(url, demo=True) as server:
        hub_url = f"ws://127.0.0.1:{server.port}"
        async with TestClient.connect(hub_url) as client:
            await client.hello(tokens[Role.COMMANDER])
            chunks = await client.snapshot()
            assert chunks[0].units, "the demo city was loaded into the empty store"
            acks = []
            for command in commands:
                _, ack = await client.execute(command)
                assert isinstance(ack, Ack)
                acks.append(ack)
    async with in_process_hub(url, demo=True) as server:
        hub_url = f"ws://127.0.0.1:{server.port}"
        titles = await _snapshot_titles(hub_url, tokens[Role.OBSERVER])
        async with TestClient.connect(hub_url) as client:
            welcome = await client.hello(tokens[Role.COMMANDER], last_seq=acks[-1].seq)
            _, again = await client.execute(commands[0])
    assert {a.case: c.title for a, c in zip(acks, commands, strict=True)} == titles
    assert welcome.seq == acks[-1].seq and welcome.resync == "events"
    assert isinstance(again, Ack) and again.replayed and again.case == acks[0].case


class HubProcess:
    """``python -m hub.runner`` in a child process; its log read as it goes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.log: list[str] = []
        self.listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, db_url: str) -> HubProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub.runner", "--db", db_url, "--listen", "127.0.0.1:0",
            cwd=REPO,
            env=os.environ | {"PYTHONPATH": str(REPO)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        hub = cls(proc)
        await asyncio.wait_for(asyncio.shield(hub.listening), UNIT * 10)
        return hub

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            match = LISTENING.search(line)
            if match and not self.listening.done():
                self.listening.set_result(int(match.group(1)))
        if not self.listening.done():
            self.listening.set_exception(RuntimeError("hub exited:\n" + "".join(self.log)))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.listening.result()}"

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        await self._reader

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), UNIT * 5)
        await self._reader
        return code


async def test_kill_9_mid_stream_loses_no_acknowledged_command(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url)
    # Fewer than the default burst (200): one connection sends them all unthrottled.
    commands = _intakes(150, "kill")
    acked: dict[str, Ack] = {}

    hub = await HubProcess.start(url)
    try:
        async with TestClient.connect(hub.url) as client:
            await client.hello(tokens[Role.COMMANDER])
            await client.snapshot()
            for command in commands:  # pipelined: the hub groups them into transactions
                await client.command(command)
            with contextlib.suppress(Exception):  # the kill cuts the stream anywhere
                while len(acked) < len(commands):
                    message = await client.recv(UNIT * 5)
                    if isinstance(message, Ack):
                        acked[message.command] = message
                        if len(acked) == 40:
                            await hub.kill()
                    assert not isinstance(message, Error), message
    finally:
        if hub.proc.returncode is None:
            await hub.kill()
    assert hub.proc.returncode == -signal.SIGKILL
    assert 40 <= len(acked) < len(commands)  # killed with commands still in flight

    hub = await HubProcess.start(url)
    try:
        titles = await _snapshot_titles(hub.url, tokens[Role.OBSERVER])
        by_id = {c.id: c for c in commands}
        for command_id, ack in acked.items():
            assert titles.get(ack.case or "") == by_id[command_id].title, command_id
        # every command again: the acknowledged ones are recognised, none applies twice
        async with TestClient.connect(hub.url) as client:
            await client.hello(tokens[Role.COMMANDER])
            await client.snapshot()
            for command in commands:
                _, reply = await client.execute(command)
                assert isinstance(reply, Ack), reply
                if command.id in acked:
                    assert reply.replayed and reply.case == acked[command.id].case
        after = await _snapshot_titles(hub.url, tokens[Role.OBSERVER])
        assert sorted(after.values()) == sorted(c.title for c in commands)
        assert await hub.terminate() == 0
    finally:
        if hub.proc.returncode is None:
            await hub.kill()
    assert any("griddesk hub stopping" in line for line in hub.log)
