"""Shared by the server tests: a real hub (store, engine, server on 127.0.0.1 port 0) and a
small websockets test client that says hello and collects typed frames.

Time limits are multiples of :data:`UNIT`, scaled by ``GRIDDESK_TEST_TIMEOUT_SCALE`` so a slow
machine does not flake.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from dispatch.catalog import Catalog
from dispatch.commands import Command, Intake
from dispatch.config import HubSettings, Settings
from dispatch.models import Kind, Role, Source
from dispatch.protocol import (
    PROTOCOL_VERSION,
    Ack,
    CommandFrame,
    Error,
    Events,
    Hello,
    HubMessage,
    Snapshot,
    Welcome,
    decode_hub,
    encode,
)
from hub.clock import Clock, WallClock
from hub.demo_city import demo_city
from hub.engine import Engine
from hub.engines import async_url
from hub.server import HubServer
from hub.store import Store

UNIT = 2.0 * float(os.environ.get("GRIDDESK_TEST_TIMEOUT_SCALE", "1"))
"""Seconds: the unit every time limit in these tests is a multiple of."""

M = TypeVar("M", bound=HubMessage)


PG_ENV = "GRIDDESK_TEST_PG"
"""Names the PostgreSQL server the ``pg`` tests use (``.ci/run`` sets it)."""


@asynccontextmanager
async def fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the server of ``base_url``, dropped on exit."""
    base = async_url(base_url)
    name = f"griddesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


def sqlite_url_in(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'hub.db'}"


@dataclass
class RunningHub:
    store: Store
    engine: Engine
    server: HubServer
    tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    def intake(self, n: int | str, **fields: Any) -> Intake:
        """A valid intake of an event case in the first grid of the demo city."""
        category = next(c for c in self.engine.hall.catalog if c.kind == Kind.EVENT)
        grid = next(a.code for a in self.engine.hall.areas.values() if a.kind == "grid")
        values: dict[str, Any] = {
            "id": f"intake-{n}",
            "kind": category.kind,
            "category": category.code,
            "source": Source.PATROL,
            "title": f"case {n}",
            "grid": grid,
        }
        return Intake(**(values | fields))

    def first_locality(self) -> str:
        return next(u.id for u in self.engine.hall.units.values() if u.kind == "locality")


async def seed_store(url: str, *, city: bool = True) -> dict[Role, str]:
    """Create the schema, load the demo city (unless ``city`` is false), add one operator per
    hall role; their tokens."""
    store = await Store.open(url, migrate=True)
    try:
        if city and await store.is_empty():
            city = demo_city()
            await store.seed(city.areas, city.units, city.staff)
        return {
            role: await store.add_operator(f"op-{role}", role)
            for role in (Role.COMMANDER, Role.DISPATCHER, Role.OBSERVER)
        }
    finally:
        await store.close()


@asynccontextmanager
async def running_hub(
    url: str,
    hub: HubSettings | None = None,
    *,
    seed: bool = True,
    clock: Clock | None = None,
    engine_options: dict[str, Any] | None = None,
    settings: Settings | None = None,
    **server_options: Any,
) -> AsyncIterator[RunningHub]:
    """A hub on 127.0.0.1 port 0 over the store at ``url``, closed in the runner's order
    (``engine_options`` go to the :class:`Engine`, ``server_options`` to the server;
    ``settings``: the hall's, else the defaults with ``hub``)."""
    tokens = await seed_store(url) if seed else {}
    settings = settings or Settings(hub=hub or HubSettings())
    store = await Store.open(url, migrate=True)
    engine = Engine(store, settings, Catalog.default(), clock or WallClock(),
                    **(engine_options or {}))  # fmt: skip
    await engine.start()
    server = HubServer(engine, store, settings.hub, **server_options)
    await server.start("127.0.0.1", 0)
    try:
        yield RunningHub(store=store, engine=engine, server=server, tokens=tokens)
    finally:
        await server.close()
        await engine.stop()
        await store.close()


class TestClient:
    """A websockets client speaking the protocol, collecting every frame it reads."""

    __test__ = False  # not a pytest class

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[HubMessage] = []

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, **options: Any) -> AsyncIterator[TestClient]:
        async with connect(url, compression=None, open_timeout=UNIT * 5, **options) as ws:
            yield cls(ws)

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def hello(self, token: str, last_seq: int | None = None) -> Welcome:
        """Say hello; return the welcome (anything else fails the test)."""
        hello = Hello(protocol=PROTOCOL_VERSION, token=token, last_seq=last_seq, client="test")
        await self.ws.send(encode(hello).decode())
        return await self.expect(Welcome)

    async def recv(self, within: float = UNIT) -> HubMessage:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        message = decode_hub(raw)
        self.seen.append(message)
        return message

    async def expect(self, kind: type[M], within: float = UNIT) -> M:
        message = await self.recv(within)
        assert isinstance(message, kind), f"expected {kind.__name__}, got {message!r}"
        return message

    async def until(self, kind: type[M], within: float = UNIT * 5) -> tuple[list[HubMessage], M]:
        """Read until a frame of ``kind``; return the frames before it and it."""
        before: list[HubMessage] = []
        async with asyncio.timeout(within):
            while True:
                message = await self.recv(within)
                if isinstance(message, kind):
                    return before, message
                before.append(message)

    async def snapshot(self) -> list[Snapshot]:
        """Read a whole chunked snapshot."""
        first = await self.expect(Snapshot)
        chunks = [first]
        while len(chunks) < first.chunks:
            chunks.append(await self.expect(Snapshot))
        return chunks

    async def command(self, command: Command) -> None:
        await self.ws.send(encode(CommandFrame(command=command)).decode())

    async def execute(self, command: Command) -> tuple[list[HubMessage], Ack | Error]:
        """Send a command; read until its ack or error. Returns (frames before, the reply)."""
        await self.command(command)
        before: list[HubMessage] = []
        async with asyncio.timeout(UNIT * 5):
            while True:
                message = await self.recv(UNIT * 5)
                if isinstance(message, Ack | Error) and message.command == command.id:
                    return before, message
                before.append(message)

    async def closed(self, within: float = UNIT * 5) -> tuple[int | None, list[HubMessage]]:
        """Read until the hub closes; the close code and what came before."""
        frames: list[HubMessage] = []
        async with asyncio.timeout(within):
            try:
                while True:
                    frames.append(decode_hub(await self.ws.recv()))
            except ConnectionClosed:
                pass
        return self.ws.close_code, frames


def events_in(frames: list[HubMessage]) -> list[Any]:
    return [e for f in frames if isinstance(f, Events) for e in f.events]


def to_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()
