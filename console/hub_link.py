"""The one long-lived link between the hub client and the UI.

:func:`run_link` runs inside the app's ``hub`` worker: it owns the
:class:`~backend_client.client.HubClient`, turns its callbacks into the messages of
:mod:`console.messages`, and coalesces bursts of changes so the UI applies at most one batch
per ``interval`` (a flood of events never floods the message queue).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.message import Message

from backend_client.client import HubClient
from backend_client.mirror import Change, Mirror
from backend_client.state import ConnectionState
from console.messages import ConnectionChanged, HallBatch, Synced
from dispatch.events import Event
from dispatch.models import Case, Staff

Post = Callable[[Message], Any]


class _Pending:
    """Changes not yet posted; the latest value of each case and person wins."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.cases: dict[str, Case] = {}
        self.events: list[Event] = []
        self.staff: dict[str, Staff] = {}
        self.removed: dict[str, None] = {}

    def add(self, change: Change) -> None:
        for key in change.removed:  # left the view: whatever was waiting for it goes too
            self.cases.pop(key, None)
            self.removed[key] = None
        for case in change.cases:
            self.removed.pop(case.id, None)
            self.cases[case.id] = case
        self.events.extend(change.events)
        self.staff.update((s.id, s) for s in change.staff)

    def take(self) -> list[Message]:
        out: list[Message] = []
        if self.cases or self.events or self.staff or self.removed:
            cases, staff = tuple(self.cases.values()), tuple(self.staff.values())
            out.append(HallBatch(cases, staff, tuple(self.events), tuple(self.removed)))
        self._clear()
        return out


async def run_link(client: HubClient, post: Post, interval: float = 0.1) -> None:
    """Run ``client`` until it stops, posting what happens; returns when the client does."""
    pending = _Pending()
    wake = asyncio.Event()

    def on_state(state: ConnectionState, detail: str = "") -> None:
        post(ConnectionChanged(state, detail))

    def on_snapshot(mirror: Mirror) -> None:
        pending.take()  # the snapshot supersedes whatever was waiting
        post(
            Synced(
                tuple(mirror.cases.values()),
                tuple(mirror.staff.values()),
                tuple(mirror.units.values()),
                tuple(mirror.areas.values()),
                mirror.seq,
            )
        )

    def on_change(change: Change) -> None:
        pending.add(change)
        wake.set()

    async def flush() -> None:
        while True:
            await wake.wait()
            wake.clear()
            for message in pending.take():
                post(message)
            await asyncio.sleep(interval)

    client.on_state(on_state)
    client.on_snapshot(on_snapshot)
    client.on_change(on_change)
    flusher = asyncio.create_task(flush())
    try:
        await client.run()
    finally:
        flusher.cancel()
        for message in pending.take():
            post(message)
