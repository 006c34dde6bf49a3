"""The ``griddesk`` command: run the hub, manage operators, print the version.

Only stdlib and the small settings modules are imported at the top, so ``griddesk --help``
stays fast; the hub, the store and SQLAlchemy are imported inside the subcommand that needs
them. Exit codes: 0 done, 1 the action failed (e.g. no such operator), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from console.settings_loader import ConfigError, load_settings

if TYPE_CHECKING:
    from hub.store import Store

ROLES = ("commander", "dispatcher", "standby", "unit", "observer")
"""``dispatch.models.Role`` values, spelled out so ``--help`` needs no import (a test checks)."""

LOG_LEVELS = ("debug", "info", "warning", "error")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``griddesk`` command line; return the process exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return run(args)
    except ConfigError as exc:
        _say(f"griddesk: {exc}")
        return 2


# --- the parser ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="griddesk",
        description="Dispatch console of a city grid-management command hall (网格化管理指挥中心).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    hub = commands.add_parser("hub", help="run the hub (the server and the only writer)")
    _add_config(hub)
    _add_db(hub)
    hub.add_argument(
        "--listen", metavar="HOST:PORT", help="address to bind (default 127.0.0.1:8765)"
    )
    hub.add_argument(
        "--demo-city", action="store_true", help="load the demo city if the hall is empty"
    )
    hub.add_argument(
        "--speed",
        type=_speed,
        metavar="N",
        help="run hub time N times as fast (a training hub to replay scenarios into)",
    )
    hub.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve wss://")
    hub.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    hub.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: info")
    hub.set_defaults(run=_run_hub)

    operator = commands.add_parser(
        "operator", help="add, list, change, disable or enable operators"
    )
    ops = operator.add_subparsers(title="operator commands", metavar="ACTION", required=True)

    add = ops.add_parser("add", help="add an operator and print their token (shown once)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES, help="what the operator may do")
    add.add_argument("--unit", metavar="UNIT", help="own unit id (standby and unit roles)")
    _add_config(add)
    _add_db(add)
    add.set_defaults(run=_run_operator_add)

    change = ops.add_parser(
        "set", help="give an operator another role or unit (its open sessions are ended)"
    )
    change.add_argument("name", metavar="NAME")
    change.add_argument("--role", required=True, choices=ROLES, help="what the operator may do")
    change.add_argument("--unit", metavar="UNIT", help="own unit id (standby and unit roles)")
    _add_config(change)
    _add_db(change)
    change.set_defaults(run=_run_operator_set)

    listing = ops.add_parser("list", help="list operators")
    _add_config(listing)
    _add_db(listing)
    listing.set_defaults(run=_run_operator_list)

    for action, enabled in (("disable", False), ("enable", True)):
        ends = " (its open sessions are ended within a second)" if not enabled else ""
        sub = ops.add_parser(action, help=f"{action} an operator's token{ends}")
        sub.add_argument("name", metavar="NAME")
        _add_config(sub)
        _add_db(sub)
        sub.set_defaults(run=_run_operator_enabled, enabled=enabled)

    ssh = commands.add_parser(
        "ssh-setup",
        help="give an operator the console over SSH: a fresh token file, an authorized_keys "
        "line forcing the console, and the sshd settings",
    )
    ssh.add_argument("name", metavar="NAME", help="the operator (griddesk operator add)")
    ssh.add_argument("--key", required=True, type=Path, metavar="FILE.pub",
                     help="the officer's OpenSSH public key")  # fmt: skip
    ssh.add_argument("--hub", metavar="URL", help="hub address (default: console.hub_url)")
    ssh.add_argument(
        "--token-file", type=Path, metavar="FILE",
        help="where the new token is written, readable by the hall's SSH account only "
        "(default: <data dir>/ssh/NAME.token)",
    )  # fmt: skip
    ssh.add_argument("--lang", choices=("zh_CN", "en"), help="interface language")
    ssh.add_argument("--user", default="griddesk", help="the hall's SSH account (sshd snippet)")
    _add_config(ssh)
    _add_db(ssh)
    ssh.set_defaults(run=_run_ssh_setup)

    console = commands.add_parser("console", help="open the operator console on a hub")
    _add_config(console)
    console.add_argument(
        "--hub", metavar="URL",
        help="hub address, or several comma-separated: the next is tried when one is lost "
        "(default: console.hub_url)",
    )  # fmt: skip
    console.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="file holding the operator token (default: $GRIDDESK_TOKEN, then "
        "console.token_file; else asked for)",
    )
    console.add_argument("--lang", choices=("zh_CN", "en"), help="interface language")
    console.set_defaults(run=_run_console)

    demo = commands.add_parser(
        "demo",
        help="replay a scripted day on an embedded hub and open the console on it",
        description="Start a hub on a fresh SQLite file with the demo city, replay a scenario "
        "on its clock at --speed, and open the console as the demo commander. The hall opens "
        "at the scenario's busy moment (normal-day: 09:30): what comes before is played at "
        "once. q or Ctrl+C quits and removes everything the demo wrote.",
    )
    _add_config(demo)
    demo.add_argument(
        "--scenario",
        metavar="FILE",
        help="a scenario file, or a shipped one: normal-day (default), storm-night, short",
    )
    demo.add_argument(
        "--speed",
        type=_speed,
        metavar="N",
        help="hub time runs N times as fast as the wall clock (default 30)",
    )
    demo.add_argument(
        "--from",
        dest="opening",
        metavar="HH:MM",
        help="open the hall at this time of the scenario, everything before it played at "
        "once; 'start' plays it all at --speed (default: the scenario's demo_from)",
    )
    demo.add_argument("--lang", choices=("zh_CN", "en"), help="interface language")
    demo.add_argument(
        "--wall",
        action="store_true",
        help="open the wallboard beside the console on the same demo hub (needs a display)",
    )
    demo.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE",
        help="do not open the console: write its first screen to FILE as SVG and quit",
    )
    demo.add_argument(
        "--size",
        type=_size,
        default=(200, 50),
        metavar="COLSxROWS",
        help="the --screenshot's terminal size (default 200x50)",
    )
    demo.set_defaults(run=_run_demo)

    from console.ctl_args import add_ctl_parser
    from console.handover_cli import add_handover_parser
    from console.report_cli import add_report_parser
    from console.scenario_cli import add_scenario_parsers
    from console.wallboard_cli import add_wallboard_parser

    add_ctl_parser(commands)
    add_handover_parser(commands)
    add_report_parser(commands)
    add_scenario_parsers(commands)
    add_wallboard_parser(commands)

    version = commands.add_parser("version", help="print the version and the protocol version")
    version.set_defaults(run=_run_version)
    return parser


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: ./config.toml, then the user config dir's config.toml)",
    )


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL, e.g. sqlite:///griddesk.db or postgresql://user@host/db",
    )


# --- hub -----------------------------------------------------------------------------------


def _run_console(args: argparse.Namespace) -> int:
    overrides = _overrides(args, {"hub": "console.hub_url", "lang": "console.locale"})
    settings = load_settings(args.config, os.environ, overrides)
    from console.app import run_console
    from console.token_file import find_token

    token = find_token(args.token_file, settings)
    return run_console(settings, settings.console.hub_url, token)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 10_000:
        raise argparse.ArgumentTypeError("the speed must be above 0 and at most 10000")
    return value


def _size(text: str) -> tuple[int, int]:
    cols, _, rows = text.lower().partition("x")
    if not (cols.isdigit() and rows.isdigit() and int(cols) >= 20 and int(rows) >= 10):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 200x50 (20x10 at least)")
    return int(cols), int(rows)


def _run_demo(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, os.environ, _overrides(args, {"lang": "console.locale"}))
    from console.demo import DEFAULT_SPEED, opening, read_scenario, run_demo, screenshot_demo
    from dispatch.scenario import ScenarioError

    try:
        scenario = read_scenario(args.scenario)
        speed = args.speed or DEFAULT_SPEED
        at = opening(scenario, args.opening)
        # A scenario the demo city cannot play (another city, an unknown unit) is found as
        # the hub starts: the same one-line refusal, not a traceback.
        if args.screenshot is not None:
            return screenshot_demo(
                settings,
                scenario=scenario,
                speed=speed,
                opening=at,
                path=args.screenshot,
                size=args.size,
            )
        return run_demo(settings, scenario=scenario, speed=speed, opening=at, wall=args.wall)
    except ScenarioError as exc:
        _say(f"griddesk demo: {exc}")
        return 2


def _run_hub(args: argparse.Namespace) -> int:
    overrides = _overrides(
        args,
        {
            "db": "hub.database",
            "listen": "hub.listen",
            "tls_cert": "hub.tls_cert",
            "tls_key": "hub.tls_key",
            "speed": "clock.speed",
        },
    )
    settings = load_settings(args.config, os.environ, overrides)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.log_level != "debug":  # alembic narrates every start-up at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)

    from hub.hub_lock import HubAlreadyRunning
    from hub.runner import parse_listen, run_hub

    try:
        host, _port = parse_listen(settings.hub.listen)
    except ValueError as exc:
        raise ConfigError(f"config: hub.listen: {exc}") from None
    for key, file in (
        ("hub.tls_cert", settings.hub.tls_cert),
        ("hub.tls_key", settings.hub.tls_key),
    ):
        if file and not Path(file).is_file():
            raise ConfigError(f"config: {key}: no such file {file!r}")
    if not settings.hub.tls_cert and not _is_loopback(host):
        _say(
            f"griddesk: warning: listening on {settings.hub.listen} without TLS; tokens and case "
            "data cross the network in clear text (use --tls-cert/--tls-key)"
        )
    try:
        asyncio.run(run_hub(settings, demo_city=args.demo_city))
    except KeyboardInterrupt:  # Ctrl-C before the hub's own handler was in place: still a stop
        return 0
    except HubAlreadyRunning as exc:
        _say(f"griddesk hub: {exc}")
        return 1
    except OSError as exc:  # typically: the address is already in use
        _say(f"griddesk: cannot serve on {settings.hub.listen}: {exc.strerror or exc}")
        return 1
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: assume it may be reachable from outside
        return False


# --- operators -----------------------------------------------------------------------------


def _run_operator_add(args: argparse.Namespace) -> int:
    async def add(store: Store) -> int:
        from dispatch.models import Role
        from hub.store import OperatorExists, OperatorUnitError

        try:
            token = await store.add_operator(args.name, Role(args.role), args.unit)
        except OperatorExists:
            _say(f"griddesk: an operator named {args.name!r} already exists")
            return 1
        except OperatorUnitError as exc:
            _say(f"griddesk: {exc}")
            return 2
        _say(f"operator {args.name!r} added as {args.role}; the token below is shown only once")
        print(token)
        return 0

    return _with_store(args, add)


def _run_operator_set(args: argparse.Namespace) -> int:
    async def change(store: Store) -> int:
        from dispatch.models import Role
        from hub.store import OperatorUnitError

        try:
            found = await store.set_operator_role(args.name, Role(args.role), args.unit)
        except OperatorUnitError as exc:
            _say(f"griddesk: {exc}")
            return 2
        if not found:
            _say(f"griddesk: no operator named {args.name!r}")
            return 1
        unit = f" of {args.unit}" if args.unit else ""
        _say(f"operator {args.name!r} is now {args.role}{unit}; open sessions are ended")
        return 0

    return _with_store(args, change)


def _run_ssh_setup(args: argparse.Namespace) -> int:
    from console.paths import user_data_dir
    from console.ssh_setup import (
        NotAPublicKey,
        authorized_keys_line,
        console_command,
        public_key,
        sshd_snippet,
    )

    try:
        key = public_key(args.key.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, NotAPublicKey) as exc:
        _say(f"griddesk ssh-setup: {args.key}: {exc}")
        return 2
    overrides = _overrides(args, {"hub": "console.hub_url", "lang": "console.locale"})
    settings = load_settings(args.config, os.environ, overrides)
    token_file: Path = args.token_file or user_data_dir() / "ssh" / f"{args.name}.token"
    token_file = token_file.expanduser().resolve()

    async def issue(store: Store) -> int:
        operators = {op.name: op for op in await store.list_operators()}
        operator = operators.get(args.name)
        if operator is None or not operator.enabled:
            why = "no operator named" if operator is None else "disabled:"
            _say(f"griddesk ssh-setup: {why} {args.name!r} (griddesk operator add/enable)")
            return 1
        token = await store.reset_token(args.name)
        assert token is not None  # the operator exists: checked above
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.touch(mode=0o600, exist_ok=True)
        token_file.chmod(0o600)
        token_file.write_text(token + "\n", encoding="utf-8")
        return 0

    code = _with_store(args, issue)
    if code:
        return code
    griddesk = Path(sys.executable).with_name("griddesk")
    command = console_command(
        griddesk, settings.console.hub_url, token_file, settings.console.locale
    )
    _say(
        f"operator {args.name!r} has a new token in {token_file} (mode 600; its old token "
        "and open sessions ended). Add this line to the hall account's ~/.ssh/authorized_keys:"
    )
    print(authorized_keys_line(key, command))
    _say("and these settings to sshd (then reload it):")
    _say(sshd_snippet(args.user))
    return 0


def _run_operator_list(args: argparse.Namespace) -> int:
    async def listing(store: Store) -> int:
        from rich.cells import cell_len  # CJK names take two cells each

        operators = await store.list_operators()
        rows = [("NAME", "ROLE", "UNIT", "ENABLED", "CREATED")]
        rows += [
            (
                op.name,
                str(op.role),
                op.unit or "-",
                "yes" if op.enabled else "no",
                op.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for op in operators
        ]
        widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [
                text + " " * (width - cell_len(text))
                for text, width in zip(row, widths, strict=True)
            ]
            print("  ".join(cells).rstrip())
        if not operators:
            _say("no operators yet: add one with `griddesk operator add NAME --role ROLE`")
        return 0

    return _with_store(args, listing)


def _run_operator_enabled(args: argparse.Namespace) -> int:
    async def toggle(store: Store) -> int:
        if not await store.set_operator_enabled(args.name, args.enabled):
            _say(f"griddesk: no operator named {args.name!r}")
            return 1
        _say(f"operator {args.name!r} {'enabled' if args.enabled else 'disabled'}")
        return 0

    return _with_store(args, toggle)


def _with_store(args: argparse.Namespace, action: Callable[[Store], Awaitable[int]]) -> int:
    """Open the store named by the settings, run ``action`` on it, close it."""
    settings = load_settings(args.config, os.environ, _overrides(args, {"db": "hub.database"}))

    async def run() -> int:
        from hub.store import Store

        store = await Store.open(settings.hub.database, migrate=True)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())


# --- version -------------------------------------------------------------------------------


def _run_version(args: argparse.Namespace) -> int:
    from importlib.metadata import PackageNotFoundError, version

    from dispatch.protocol import PROTOCOL_VERSION

    try:
        ours = version("griddesk")
    except PackageNotFoundError:
        ours = "(not installed)"
    print(f"griddesk {ours}, protocol {PROTOCOL_VERSION}")
    return 0


# --- helpers -------------------------------------------------------------------------------


def _overrides(args: argparse.Namespace, keys: dict[str, str]) -> dict[str, object]:
    """Flags that were given, as dotted settings keys."""
    return {
        key: getattr(args, flag) for flag, key in keys.items() if getattr(args, flag) is not None
    }


def _say(message: str) -> None:
    """Messages for the person go to stderr, so stdout carries only results (a token, a table)."""
    print(message, file=sys.stderr)
