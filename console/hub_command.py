"""One command against a hub, from a script: read the settings and the operator's token,
connect, run, and turn what went wrong into the exit statuses every such command shares
(``console.ctl_args``: 1 refused by the hub, 2 bad usage, 3 hub unreachable). Used by
``griddesk handover`` and ``griddesk report``; the client library is imported only here, when
the command runs, so ``griddesk --help`` stays fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from console.ctl_args import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE

if TYPE_CHECKING:
    from backend_client import HubClient
    from dispatch.config import Settings

Body = Callable[["HubClient", "Settings"], Awaitable[int]]


async def run_on_hub(args: argparse.Namespace, name: str, body: Body) -> int:
    """``body(client, settings)`` on a client connected as ``args`` say (``--hub``,
    ``--token-file``, ``--config``, ``--timeout``: ``ctl_args.add_hub_args``); its exit code,
    or the shared one for what failed, said on stderr as ``griddesk NAME: …``."""
    from backend_client import AuthFailed, ClientError, CommandRefused, HubClient, NotConnected
    from console.ctl import operator_token
    from console.settings_loader import ConfigError, load_settings

    try:
        settings = load_settings(getattr(args, "config", None), os.environ, {})
        token = operator_token(args, settings)
    except ConfigError as exc:
        _say(f"griddesk {name}: {exc}")
        return EXIT_USAGE
    url = args.hub or settings.console.hub_url
    try:
        async with HubClient.connected(
            url, token, timeout=args.timeout, client_name=f"griddesk-{name}",
            command_timeout=args.timeout,
        ) as client:  # fmt: skip
            return await body(client, settings)
    except CommandRefused as exc:
        _say(f"griddesk {name}: refused by the hub: {exc.code}: {exc.message}")
        return EXIT_REFUSED
    except (AuthFailed, NotConnected, ClientError) as exc:
        _say(f"griddesk {name}: {exc}")
        return EXIT_UNREACHABLE


def _say(message: str) -> None:
    print(message, file=sys.stderr)
