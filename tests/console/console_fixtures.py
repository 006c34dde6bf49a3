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
from dispatch.commands import Command
from dispatch.config import ConsoleSettings, Settings
from dispatch.models import Role
from dispatch.protocol import Ack
from screens.board import BoardScreen
from widgets.status_bar import StatusBar

__all__ = [
    "UNIT",
    "RunningHub",
    "TestClient",
    "board_live",
    "console_for",
    "running_hub",
    "sent_by_dispatcher",
    "sqlite_url_in",
    "until",
]


def console_for(
    hub_url: str,
    token: str,
    prefs_dir: Path,
    locale: str = "en",
    *,
    sixteen_colours: bool | None = False,
) -> GriddeskApp:
    """A console on ``hub_url``; in true colour unless ``sixteen_colours`` (tests must not
    depend on the TERM they happen to run under)."""
    settings = Settings(console=ConsoleSettings(locale=locale))
    factory = partial(HubClient, backoff_min=0.05, backoff_max=0.3)
    return make_console(
        settings,
        hub_url=hub_url,
        token=token,
        client_factory=factory,
        prefs_dir=prefs_dir,
        sixteen_colours=sixteen_colours,
    )


async def until(pilot: Pilot[int], check: Callable[[], object], within: float = UNIT * 5) -> None:
    """Let the app run until ``check()`` is true; fail after ``within`` seconds."""
    steps = int(within / 0.05)
    for _ in range(steps):
        if check():
            return
        await pilot.pause(0.05)
    assert check(), f"condition not met within {within} s"


async def sent_by_dispatcher(hub: RunningHub, *commands: Command) -> list[Ack]:
    """Apply ``commands`` on ``hub`` as another operator (the seeded dispatcher) would, over
    the wire; their acks."""
    async with TestClient.connect(hub.url) as other:
        await other.hello(hub.tokens[Role.DISPATCHER])
        return [(await other.execute(command))[1] for command in commands]


def board_live(app: GriddeskApp) -> bool:
    """The board says it is live, as the operator reads it (the status bar's connection), so it
    has taken the session and the operator's saved preferences."""
    boards = [s for s in app.screen_stack if isinstance(s, BoardScreen)]
    return bool(boards) and boards[0].query_one(StatusBar).connected and app.live


def role_token(hub: RunningHub, role: Role) -> str:
    return hub.tokens[role]
