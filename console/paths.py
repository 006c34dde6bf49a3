"""Where griddesk keeps its files by default on this OS (via ``platformdirs``).

Nothing is created here: the functions only name paths. The hub creates the database
directory when it opens the default SQLite file.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "griddesk"


def user_data_dir() -> Path:
    """The per-user data directory (the default SQLite database lives here)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    """The per-user config directory (a ``config.toml`` here is read when ./ has none)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    """The embedded default: one SQLite file in the user data directory, async driver."""
    return f"sqlite+aiosqlite:///{user_data_dir() / 'griddesk.db'}"


def default_config_paths() -> tuple[Path, ...]:
    """Config files tried in order when ``--config`` is not given; the first that exists wins."""
    return (Path("config.toml"), user_config_dir() / "config.toml")
