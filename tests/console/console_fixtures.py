"""Shared by the console's Pilot tests: a real hub on loopback (tests/hub/server_fixtures.py),
the console built by the same factory the CLI uses, and waiting on screen conditions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).parents[1] / "hub"))

from server_fixtures import UNIT, RunningHub, TestClient, running_hub, sqlite_url_in

from backend_client.client import HubClient
from console.app import GriddeskApp, make_console
from dispatch.config import ConsoleSettings, Settings
from dispatch.models import Role

__all__ = [
    "UNIT",
    "RunningHub",
    "TestClient",
    "console_for",
    "running_hub",
    "sqlite_url_in",
    "until",
]


def console_for(hub_url: str, token: str, prefs_dir: Path, locale: str = "en") -> GriddeskApp:
    settings = Settings(console=ConsoleSettings(locale=locale))
    factory = partial(HubClient, backoff_min=0.05, backoff_max=0.3)
    return make_console(
        settings, hub_url=hub_url, token=token, client_factory=factory, prefs_dir=prefs_dir
    )


async def until(pilot: Pilot[int], check: Callable[[], object], within: float = UNIT * 5) -> None:
    """Let the app run until ``check()`` is true; fail after ``within`` seconds."""
    steps = int(within / 0.05)
    for _ in range(steps):
        if check():
            return
        await pilot.pause(0.05)
    assert check(), f"condition not met within {within} s"


def role_token(hub: RunningHub, role: Role) -> str:
    return hub.tokens[role]
