"""Alembic environment: migrates on the connection ``Store.open`` hands in through
``config.attributes["connection"]``, or standalone on an async engine made from
``sqlalchemy.url`` (or ``GRIDDESK_DATABASE``); offline mode prints the SQL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from hub.engines import async_url, ensure_sqlite_dir
from hub.schema import Base

target_metadata = Base.metadata


def _url() -> URL:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("GRIDDESK_DATABASE")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url or GRIDDESK_DATABASE")
    return async_url(url)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: URL) -> None:
    ensure_sqlite_dir(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure_and_run(connection)
    else:
        asyncio.run(_run_standalone(_url()))


run()
