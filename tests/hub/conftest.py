"""Fixtures for hub tests: a database URL per test, SQLite always and PostgreSQL when
``GRIDDESK_TEST_PG`` names a server (each test gets a fresh database there, dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hub.engines import async_url
from hub.store import Store

PG_ENV = "GRIDDESK_TEST_PG"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server to talk to, the ``pg`` tests are deselected (not skipped)."""
    if os.environ.get(PG_ENV):
        return
    deselected = [item for item in items if item.get_closest_marker("pg") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("pg") is None]


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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL under tmp_path (the file and its folder do not exist yet)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hall' / 'hub.db'}"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database: a SQLite file under tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hall' / 'hub.db'}"
        return
    async with fresh_pg_database(os.environ[PG_ENV]) as url:
        yield url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh database, closed after the test."""
    opened = await Store.open(db_url)
    try:
        yield opened
    finally:
        await opened.close()
