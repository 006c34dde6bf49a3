"""The store's SQLAlchemy engines: database URLs, SQLite's pragmas, and the SQLite writer.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged command survives a power
cut, not only a killed process). Its commits go through :class:`SqliteWriter`, a synchronous
engine on one thread of its own, so a whole transaction is one hop off the event loop.
PostgreSQL uses asyncpg as it is.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import msgspec
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 10_000

_P = ParamSpec("_P")
_T = TypeVar("_T")

_encoder = msgspec.json.Encoder()


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver: plain ``sqlite://`` and ``postgresql://`` are accepted."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and parsed.drivername != "postgresql+asyncpg":
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _json_dumps(value: Any) -> str:
    return _encoder.encode(value).decode()


def make_engine(url: URL) -> AsyncEngine:
    options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": msgspec.json.decode,
    }
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, **options)
    if sqlite_file(url) is None:
        # A memory database lives in one connection: every session must share it.
        options["poolclass"] = StaticPool
    ensure_sqlite_dir(url)
    engine = create_async_engine(url, **options)
    _listen_sqlite(engine.sync_engine)
    return engine


def _make_sync_sqlite_engine(url: URL) -> Engine:
    """A pysqlite engine on the same file as the async ``url``, set up the same way."""
    # One connection for the one writer thread; pysqlite's default pool would allow more.
    engine = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        json_serializer=_json_dumps,
        json_deserializer=msgspec.json.decode,
        pool_size=1,
        max_overflow=0,
    )
    _listen_sqlite(engine)
    return engine


def _listen_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)


def sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None  # a URI filename: the caller manages it
    return Path(database).expanduser()


def ensure_sqlite_dir(url: URL) -> None:
    """Create the directory of a SQLite file URL (SQLite creates the file, not its folder)."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling skips BEGIN before DDL and SELECT, which
    # would leave migrations and reads outside the transaction; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns, so an acknowledged command survives a
        # power cut too (NORMAL in WAL mode only survives a process crash).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


class SqliteWriter:
    """A synchronous engine on the store's SQLite file with the same pragmas, driven from
    one thread of its own: the hub's single writer, so statements keep their order and
    commits never race each other for the file's write lock."""

    def __init__(self, url: URL) -> None:
        self._engine = _make_sync_sqlite_engine(url)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="griddesk-writer")
        self._closed = False

    async def run(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``fn`` on the writer thread, after everything handed over before it.

        A caller cancelled meanwhile stops waiting, not the work: a transaction already
        handed over commits or rolls back whole, like one cut off by a kill.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(fn, *args, **kwargs))

    def connect(self) -> None:
        """Open the connection (pragmas and all) ahead of the first commit."""
        with self._engine.connect():
            pass

    def transaction(self, fn: Callable[Concatenate[Connection, _P], _T], *args: _P.args,
                    **kwargs: _P.kwargs) -> _T:  # fmt: skip
        """``fn(conn, …)`` in one transaction, and what it returns (call it through
        :meth:`run`)."""
        with self._engine.begin() as conn:
            return fn(conn, *args, **kwargs)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Queued behind any commit still running, so none is cut off by the dispose.
        try:
            await self.run(self._engine.dispose)
        finally:
            self._thread.shutdown(wait=False)
