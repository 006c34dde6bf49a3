"""Fixtures for hub tests: a database URL per test, SQLite always and PostgreSQL when
``GRIDDESK_TEST_PG`` names a server (each test gets a fresh database there, dropped after)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from server_fixtures import PG_ENV, fresh_pg_database

from hub.store import Store


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
async def pg_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (for tests marked ``pg`` only)."""
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
