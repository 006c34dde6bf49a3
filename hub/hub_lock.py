"""One hub per store: a second ``griddesk hub`` on the same database refuses to start.

Two hubs on one store would each number events from their own memory (two events with one
``seq``: the second hub's first intake fails on the log's primary key) and each run an SLA
ticker (every deadline breached twice). Nothing stopped an operator from starting one by
mistake — a second terminal, a service manager restarting a hub that was not dead.

- SQLite: an exclusive ``flock`` on ``<file>.hub-lock`` beside the database, held for the hub's
  life; the kernel drops it when the process ends, however it ends (kill -9 included), so a
  stale lock never blocks a restart. The file holds the holder's pid, for the message.
- PostgreSQL: a session advisory lock on a connection held for the hub's life (released by the
  server when that connection ends). Several hubs sharing one PostgreSQL is a design goal
  (DESIGN.md §2) that needs the event numbering and the ticker shared first; until then one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from sqlalchemy import text

from hub.engines import sqlite_file
from hub.store import Store

HUB_LOCK_KEY = 0x67726964687562  # "gridhub"
"""The PostgreSQL advisory lock a serving hub holds (migrations use another key)."""


class HubAlreadyRunning(RuntimeError):
    """Another hub serves this store; the message says which and what to do."""


@contextlib.asynccontextmanager
async def sole_hub(store: Store) -> AsyncIterator[None]:
    """Hold the store's hub lock while the block runs, or raise :class:`HubAlreadyRunning`."""
    path = sqlite_file(store.engine.url)
    if path is not None:
        with _file_lock(path):
            yield
    elif store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as conn:
            held = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": HUB_LOCK_KEY}
            )
            if not held:
                raise HubAlreadyRunning(
                    "another griddesk hub is serving this PostgreSQL database; "
                    "this version runs one hub per database — stop that hub first"
                )
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": HUB_LOCK_KEY})
    else:  # an in-memory or URI SQLite database: nobody else can open it by name
        yield


@contextlib.contextmanager
def _file_lock(database: Path) -> Iterator[None]:
    lock = database.with_name(database.name + ".hub-lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise HubAlreadyRunning(
                f"another griddesk hub (pid {holder}) is serving {database}; "
                "a SQLite store holds one hub — stop that hub first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a starter)
