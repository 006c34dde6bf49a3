"""One hub per SQLite store: a second ``griddesk hub`` on the same file refuses to start.

A SQLite store is the embedded, single-hub engine: its hub numbers events from memory and runs
the SLA ticker alone, with no extra round trip per commit. A second hub on the same file
would number the same seqs and breach every deadline twice, so it refuses, with one line.

An exclusive ``flock`` on ``<file>.hub-lock`` beside the database is held for the hub's life;
the kernel drops it when the process ends, however it ends (kill -9 included), so a stale lock
never blocks a restart. The file holds the holder's pid, for the message.

PostgreSQL takes any number of hubs (hub/peers.py, hub/ticker_lock.py, the log lock in
hub/store.py): nothing to hold there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from hub.engines import sqlite_file
from hub.store import Store


class HubAlreadyRunning(RuntimeError):
    """Another hub serves this store; the message says which and what to do."""


@contextlib.asynccontextmanager
async def sole_hub(store: Store) -> AsyncIterator[None]:
    """Hold a SQLite store's hub lock while the block runs, or raise :class:`HubAlreadyRunning`;
    a PostgreSQL store is shared, and never refuses."""
    path = sqlite_file(store.engine.url)
    if path is not None:
        with _file_lock(path):
            yield
    else:  # PostgreSQL (shared), or an in-memory SQLite database nobody else can open
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
