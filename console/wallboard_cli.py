"""``griddesk wallboard``: the argument parser and the run function of the wall display.

The wall itself lives in ``wallboard/`` (PySide6 + pyqtgraph, imported only when the command
runs, so ``griddesk --help`` stays fast and needs no Qt). This module passes it the settings,
the token and the operator's translator, which the wallboard may not import itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from console.settings_loader import ConfigError, load_settings

DEFAULT_SIZE = (1920, 1080)


def add_wallboard_parser(subparsers: Any) -> None:
    """Add ``wallboard`` to the ``griddesk`` subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "wallboard",
        help="show the hall's wall display (observer) on a hub, or export PNGs of it",
        description="A window for the hall's big screen: intake and closure per hour, backlog "
        "by level and status, this month's figures against the targets, the most overdue "
        "units, the urgent countdown and the grid map. Log in with an observer token. "
        "--export DIR writes the wall as PNG files (every --every seconds, or --once and exit).",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: ./config.toml, then the user config dir's config.toml)",
    )
    parser.add_argument("--hub", metavar="URL", help="hub address (default: console.hub_url)")
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="file holding the (observer) token (default: $GRIDDESK_TOKEN, then "
        "console.token_file)",
    )
    parser.add_argument("--lang", choices=("zh_CN", "en"), help="language of the wall")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write PNGs of the wall here")
    parser.add_argument(
        "--every",
        type=_seconds,
        metavar="N",
        help="with --export: a PNG every N seconds (default: one, when the hall arrives)",
    )
    parser.add_argument("--once", action="store_true", help="with --export: write one PNG and exit")
    parser.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="the window's (and the PNG's) size in pixels (default 1920x1080)",
    )
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=60.0,
        metavar="N",
        help="with --once: give up (exit 1) when the hub sent no hall within N seconds",
    )
    parser.set_defaults(run=run_wallboard_command)


def run_wallboard_command(args: argparse.Namespace) -> int:
    overrides = {
        key: getattr(args, flag)
        for flag, key in (("hub", "console.hub_url"), ("lang", "console.locale"))
        if getattr(args, flag) is not None
    }
    settings = load_settings(args.config, os.environ, overrides)
    from console.i18n import translator
    from console.token_file import find_token

    if args.once and args.export is None:
        raise ConfigError("--once needs --export DIR (the wall's picture goes there)")
    if args.every is not None and args.export is None:
        raise ConfigError("--every needs --export DIR")
    token = find_token(args.token_file, settings)
    if token is None:
        raise ConfigError("the wallboard needs a token: --token-file, $GRIDDESK_TOKEN or config")
    try:
        from wallboard.app import run_wallboard
    except ImportError as exc:  # the desktop extra is not installed
        print(
            f"griddesk wallboard: {exc}; "
            "install the desktop extra: pip install 'griddesk[desktop]'",
            file=sys.stderr,
        )
        return 1
    return run_wallboard(
        settings,
        settings.console.hub_url,
        token,
        translator(settings.console.locale),
        fullscreen=args.fullscreen,
        export=args.export,
        every=args.every,
        once=args.once,
        size=args.size,
        wait=args.wait,
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError("seconds must be above 0 and at most 86400")
    return value


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) >= 320 and int(height) >= 200):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size like 1920x1080 (320x200 at least)"
        )
    return int(width), int(height)
