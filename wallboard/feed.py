"""The hub connection of the wall: a :class:`~backend_client.HubClient` on a thread of its own.

Qt wants the main thread and the client wants an asyncio loop, so the client runs its loop on
a background thread and hands what it receives to the Qt thread through a queue: a whole
snapshot (copied out of the mirror on the client's thread, so the Qt thread never reads a
mirror being written), each batch of changed values, and each connection state. The Qt side
drains the queue once per frame, which also coalesces a burst into one redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from backend_client import Change, ConnectionState, HubClient, Mirror
from dispatch.models import Area, Case, Role, Staff, Unit


@dataclass(frozen=True)
class Whole:
    """A full snapshot arrived (first connect, or a resync after a gap)."""

    cases: tuple[Case, ...]
    staff: tuple[Staff, ...]
    units: tuple[Unit, ...]
    areas: tuple[Area, ...]
    now: datetime


@dataclass(frozen=True)
class Batch:
    """One events frame's new values."""

    cases: tuple[Case, ...]
    staff: tuple[Staff, ...]
    removed: tuple[str, ...]
    now: datetime


@dataclass(frozen=True)
class Link:
    """The connection changed state."""

    state: ConnectionState
    detail: str


Item = Whole | Batch | Link


class Feed(Protocol):
    """What the wall reads the hall from: :class:`HubFeed`, or a bench's scripted stream."""

    def start(self) -> None: ...
    def take(self) -> list[Item]: ...
    def hub_now(self) -> datetime: ...
    @property
    def role(self) -> Role | None: ...
    def stop(self, timeout: float = 5.0) -> None: ...


class HubFeed:
    """Runs the client until :meth:`stop`; :meth:`take` hands over what arrived since."""

    def __init__(self, url: str, token: str, *, backoff_max: float = 2.0) -> None:
        self._url = url
        self._token = token
        self._backoff_max = backoff_max
        self._items: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: HubClient | None = None
        self._thread = threading.Thread(target=self._main, name="griddesk-wall-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def take(self) -> list[Item]:
        """Everything that arrived since the last call, in order."""
        out: list[Item] = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self._items.get_nowait())
        return out

    def hub_now(self) -> datetime:
        """Hub time now (the client's clock, corrected for its offset and the demo's speed)."""
        assert self._client is not None, "start() the feed first"
        return self._client.hub_now()

    @property
    def role(self) -> Role | None:
        """The role the hub took the token for (None until welcomed)."""
        return self._client.role if self._client is not None else None

    def stop(self, timeout: float = 5.0) -> None:
        loop, client = self._loop, self._client
        if loop is not None and client is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout)
        self._thread.join(timeout)

    # --- the client's thread -------------------------------------------------------------

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        client = HubClient(
            self._url, self._token, client_name="griddesk-wallboard", backoff_max=self._backoff_max
        )
        client.on_state(lambda state, detail: self._items.put(Link(state, detail)))
        client.on_snapshot(lambda mirror: self._items.put(_whole(mirror, client.hub_now())))
        client.on_change(lambda change: self._items.put(_batch(change, client.hub_now())))
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        await client.run()


def _whole(mirror: Mirror, now: datetime) -> Whole:
    return Whole(
        cases=tuple(mirror.cases.values()),
        staff=tuple(mirror.staff.values()),
        units=tuple(mirror.units.values()),
        areas=tuple(mirror.areas.values()),
        now=now,
    )


def _batch(change: Change, now: datetime) -> Batch:
    return Batch(cases=change.cases, staff=change.staff, removed=change.removed, now=now)
