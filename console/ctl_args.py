"""The ``griddesk ctl`` command line: its arguments only, so ``griddesk --help`` stays fast.

Running a verb imports the client library and the hub protocol (``console.ctl``) only when
``ctl`` is actually used.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from console.token_file import TOKEN_ENV
from console.verbs import usage

# Exit statuses of the commands that talk to a hub (ctl, replay, record) and of bad usage.
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def add_ctl_parser(subparsers: Any) -> None:
    """Add ``ctl`` to the ``griddesk`` subcommands (``subparsers`` from ``add_subparsers``)."""
    ctl: argparse.ArgumentParser = subparsers.add_parser(
        "ctl",
        help="send one command to a hub (the console's : verbs), print the result",
        description=(
            "Send one command to a hub and print the result. Options go before VERB.\n"
            "Units and staff by id or name (exact, else a unique prefix); cases by id or a\n"
            "unique ending (0042). Exit: 0 done, 1 refused by the hub, 2 bad usage,\n"
            "3 hub unreachable, token refused or no answer in time."
        ),
        epilog="verbs:\n" + usage(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_hub_args(ctl, timeout_help="seconds to connect, and to wait for the hub's answer")
    ctl.add_argument("--json", action="store_true", help="print JSON instead of text")
    ctl.add_argument("words", nargs=argparse.REMAINDER, metavar="VERB ARGS")
    ctl.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from console.ctl import run_ctl

    return run_ctl(args)


def add_hub_args(parser: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """``--hub``, ``--token-file``, ``--config``, ``--timeout``: how a command reaches a hub
    (``ctl``, ``replay``, ``record``); read with ``console.ctl.operator_token``."""
    parser.add_argument(
        "--hub",
        metavar="URL",
        help="hub URL, or several comma-separated: the next is tried when one is lost "
        "(default: console.hub_url)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help=f"file holding the token (default: ${TOKEN_ENV}, then console.token_file)",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help=f"{timeout_help} (default 10)",
    )
