"""Helpers for the client tests: a hub on a chosen port and clock, a client run in a task, and
a recorder of everything the client tells its owner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from server_fixtures import UNIT, RunningHub, seed_store

from backend_client import Change, ConnectionState, HubClient, Mirror
from dispatch.catalog import Catalog
from dispatch.config import HubSettings, Settings
from dispatch.models import Actor, Role
from hub.clock import Clock, WallClock
from hub.engine import Engine
from hub.server import HubServer
from hub.store import Store

COMMANDER = Actor(name="op-commander", role=Role.COMMANDER)
"""The seeded commander, for commands applied straight through the engine."""


@asynccontextmanager
async def hub_at(
    url: str,
    *,
    port: int = 0,
    clock: Clock | None = None,
    seed: bool = True,
    hub: HubSettings | None = None,
) -> AsyncIterator[RunningHub]:
    """A hub over the store at ``url`` on 127.0.0.1:``port`` (0: any), on ``clock``."""
    tokens = await seed_store(url) if seed else {}
    settings = Settings(hub=hub or HubSettings())
    store = await Store.open(url, migrate=True)
    engine = Engine(store, settings, Catalog.default(), clock or WallClock())
    await engine.start()
    server = HubServer(engine, store, settings.hub)
    await server.start("127.0.0.1", port)
    try:
        yield RunningHub(store=store, engine=engine, server=server, tokens=tokens)
    finally:
        await server.close()
        await engine.stop()
        await store.close()


@dataclass
class Recorder:
    """Everything a client reported, and a way to wait for a condition on it."""

    states: list[tuple[ConnectionState, str]] = field(default_factory=list)
    snapshots: int = 0
    changes: list[Change] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def attach(self, client: HubClient) -> None:
        client.on_state(self._state)
        client.on_snapshot(self._snapshot)
        client.on_change(self._change)

    def _state(self, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))
        self._wake.set()

    def _snapshot(self, mirror: Mirror) -> None:
        self.snapshots += 1
        self._wake.set()

    def _change(self, change: Change) -> None:
        self.changes.append(change)
        self._wake.set()

    @property
    def state_names(self) -> list[ConnectionState]:
        return [s for s, _ in self.states]

    async def until(self, condition: Callable[[], bool], within: float = UNIT * 5) -> None:
        """Wait until ``condition()`` holds, re-checking at each report."""
        async with asyncio.timeout(within):
            while not condition():
                self._wake.clear()
                await self._wake.wait()


@asynccontextmanager
async def running_client(
    url: str, token: str, **options: Any
) -> AsyncIterator[tuple[HubClient, Recorder, asyncio.Task[None]]]:
    """A client whose ``run()`` goes on in a task, with a recorder attached; closed at exit."""
    options = {"backoff_min": 0.05, "backoff_max": 0.2, "command_timeout": UNIT * 2} | options
    client = HubClient(url, token, **options)
    recorder = Recorder()
    recorder.attach(client)
    task = asyncio.create_task(client.run())
    try:
        yield client, recorder, task
    finally:
        await client.close()
        await asyncio.wait_for(task, UNIT * 5)


def hub_cases(hub: RunningHub) -> dict[str, Any]:
    return dict(hub.engine.cases)


def hub_staff(hub: RunningHub) -> dict[str, Any]:
    return {s.id: s for s in hub.engine.snapshot().staff}
