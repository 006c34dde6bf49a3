"""Alembic migrations of the hub's database, configured in code (no ``alembic.ini``).

``Store.open`` runs :func:`upgrade` on a connection of its own async engine; operators can run
the same migrations standalone::

    from alembic import command
    from hub.migrations import alembic_config
    command.upgrade(alembic_config("sqlite+aiosqlite:///hall.db"), "head")
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic config for our scripts: against ``connection`` when given (the caller owns
    its transaction), else ``env.py`` opens its own async engine on ``url``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        # "%" is ConfigParser's interpolation character; URL-escaped passwords contain it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the database behind ``connection`` up to ``revision`` (called via ``run_sync``)."""
    command.upgrade(alembic_config(connection=connection), revision)
