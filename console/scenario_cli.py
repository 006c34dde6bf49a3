"""``griddesk replay``, ``griddesk record`` and ``griddesk scenario generate``: scenarios from
the command line.

``replay`` feeds a scenario into a running hub as the token's operator, one step at its time on
the hub's clock; ``record`` writes what a running hub does as a scenario that can be replayed;
``scenario generate`` writes a plausible day from a seed. Parsers are added by
:func:`add_scenario_parsers`; the work is in ``backend_client.scenario_feed`` /
``scenario_record`` and ``dispatch.scenario_gen``, imported when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from console.ctl_args import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, add_hub_args
from console.settings_loader import ConfigError, load_settings

if TYPE_CHECKING:
    from dispatch.scenario import Scenario


def add_scenario_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay",
        help="feed a scenario into a running hub, each step at its time on the hub's clock",
        description="Send a scenario's steps to a running hub as the token's operator (use a "
        "commander's token), pinned to the hub's clock: a hub run with --speed N gets them "
        "N times sooner. Refused steps are reported and the replay goes on. Exit 0 when every "
        "step applied, 1 when some were refused, 2 bad usage or scenario, 3 hub unreachable.",
    )
    replay.add_argument("file", metavar="FILE", help="scenario file, or a shipped name (short …)")
    add_hub_args(replay, timeout_help="give up if the hub is not reached in this time")
    replay.add_argument("--quiet", action="store_true", help="print only the summary")
    replay.set_defaults(run=_run_replay)

    record = commands.add_parser(
        "record",
        help="write what a running hub does as a scenario, until Ctrl+C",
        description="Record every command the hub applies from now on as scenario steps, "
        "written and flushed as they happen, until Ctrl+C or SIGTERM. Any role's token will "
        "do (an observer's is enough).",
    )
    add_hub_args(record, timeout_help="give up if the hub is not reached in this time")
    record.add_argument("-o", "--output", required=True, metavar="FILE", help="'-': stdout")
    record.add_argument("--name", default="recorded", help="the scenario's name")
    record.add_argument("--title", default="", help="a one-line title for the header")
    record.set_defaults(run=_run_record)

    scenario = commands.add_parser("scenario", help="generate or check scenario files")
    actions = scenario.add_subparsers(title="scenario commands", metavar="ACTION", required=True)
    generate = actions.add_parser(
        "generate",
        help="write a plausible day of the demo city from a seed",
        description="Write a day of cases calibrated on a district hall (about 300 a day, "
        "97 %% closed, patrol-found first), with the [expect] figures it implies. The same "
        "seed and options give the same file.",
    )
    generate.add_argument("-o", "--output", required=True, metavar="FILE", help="'-': stdout")
    generate.add_argument("--seed", type=int, default=1, help="default 1")
    generate.add_argument("--date", type=_date, help="YYYY-MM-DD (default 2026-11-23, a Monday)")
    generate.add_argument("--start", default=None, metavar="HH:MM", help="default 00:00")
    generate.add_argument(
        "--end", default=None, metavar="HH:MM", help="default 24:00; past 24 is the next day"
    )
    generate.add_argument(
        "--demo-from",
        metavar="HH:MM",
        help="where griddesk demo opens the day (what comes before is played at once); "
        "default: its start",
    )
    generate.add_argument("--cases", type=int, metavar="N", help="cases per full day (300)")
    generate.add_argument("--urgent-share", type=float, metavar="F", help="default 0.07")
    generate.add_argument(
        "--slow-share", type=float, metavar="F", help="cases a unit is late on (0.08)"
    )
    generate.add_argument(
        "--found-first", type=float, metavar="F",
        help="patrol and video's share of the day (0.85, 盈浦's target)",
    )  # fmt: skip
    generate.add_argument(
        "--after-hours", action="store_true", help="standby staff only, the whole window"
    )
    generate.add_argument("--name", help="the scenario's name")
    generate.set_defaults(run=_run_generate)

    check = actions.add_parser(
        "check", help="check a scenario against the demo city and print what it implies"
    )
    check.add_argument("file", metavar="FILE", help="scenario file, or a shipped name")
    check.set_defaults(run=_run_check)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _connect(args: argparse.Namespace) -> tuple[str, str, str]:
    """(hub url, token, hall time zone) from the flags and config; ConfigError if no token."""
    from console.ctl import operator_token

    settings = load_settings(args.config, os.environ, {})
    url = args.hub or settings.console.hub_url
    return url, operator_token(args, settings), settings.clock.timezone


# --- replay ------------------------------------------------------------------------------------


def _run_replay(args: argparse.Namespace) -> int:
    from console.demo import read_scenario
    from dispatch.scenario import ScenarioError

    try:
        scenario = read_scenario(args.file)
        url, token, _tz = _connect(args)
    except (ScenarioError, ConfigError) as exc:
        _say(f"griddesk replay: {exc}")
        return EXIT_USAGE
    return asyncio.run(_replay(scenario, url, token, quiet=args.quiet, within=args.timeout))


async def _replay(scenario: Scenario, url: str, token: str, *, quiet: bool, within: float) -> int:
    from backend_client.client import HubClient
    from backend_client.errors import AuthFailed, NotConnected
    from backend_client.scenario_feed import FeedAborted, StepResult, feed
    from dispatch.scenario import ScenarioError

    def show(result: StepResult) -> None:
        if not quiet:
            print(result.line(), flush=True)

    try:
        async with HubClient.connected(
            url, token, timeout=within, client_name="griddesk-replay"
        ) as client:
            report = await feed(client, scenario, on_step=show)
    except ScenarioError as exc:
        _say(f"griddesk replay: {exc}")
        return EXIT_USAGE
    except (AuthFailed, NotConnected) as exc:
        _say(f"griddesk replay: {exc}")
        return EXIT_UNREACHABLE
    except FeedAborted as exc:
        _say(f"griddesk replay: {exc}\n{exc.report.summary()}")
        return EXIT_REFUSED
    print(report.summary())
    return EXIT_REFUSED if report.refused or report.skipped else 0


# --- record ------------------------------------------------------------------------------------


def _run_record(args: argparse.Namespace) -> int:
    try:
        url, token, tz = _connect(args)
    except ConfigError as exc:
        _say(f"griddesk record: {exc}")
        return EXIT_USAGE
    return asyncio.run(_record(args, url, token, tz))


async def _record(args: argparse.Namespace, url: str, token: str, timezone: str) -> int:
    from backend_client.client import HubClient
    from backend_client.errors import AuthFailed, NotConnected
    from backend_client.scenario_record import NeedsWholeView, record

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    out = sys.stdout if args.output == "-" else args.output
    try:
        async with HubClient.connected(
            url, token, timeout=args.timeout, client_name="griddesk-record"
        ) as client:
            _say(f"recording {url} to {args.output}; Ctrl+C stops")
            report = await record(
                client, out, name=args.name, title=args.title, stop=stop, timezone=timezone
            )
    except (AuthFailed, NotConnected) as exc:
        _say(f"griddesk record: {exc}")
        return EXIT_UNREACHABLE
    except NeedsWholeView as exc:
        _say(f"griddesk record: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _say(f"griddesk record: cannot write {args.output}: {exc.strerror or exc}")
        return EXIT_REFUSED
    _say(report.summary())
    return 0


# --- scenario generate / check -------------------------------------------------------------------


def _run_generate(args: argparse.Namespace) -> int:
    from dispatch.catalog import Catalog
    from dispatch.config import Settings
    from dispatch.scenario import dumps
    from dispatch.scenario_gen import DayParams, GeneratorError, generate
    from hub.demo_city import demo_city

    given = {
        "date": args.date,
        "start": args.start,
        "end": args.end,
        "demo_from": args.demo_from,
        "cases": args.cases,
        "urgent_share": args.urgent_share,
        "slow_share": args.slow_share,
        "found_first": args.found_first,
        "name": args.name,
    }
    params = DayParams(
        seed=args.seed,
        after_hours=args.after_hours,
        **{k: v for k, v in given.items() if v is not None},
    )
    try:
        scenario = generate(
            params, city=demo_city(), catalog=Catalog.default(), settings=Settings()
        )
    except GeneratorError as exc:
        _say(f"griddesk scenario generate: {exc}")
        return EXIT_USAGE
    text = dumps(scenario)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _say(f"griddesk scenario generate: cannot write {args.output}: {exc.strerror}")
            return EXIT_REFUSED
    _say(_describe(scenario))
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from console.demo import read_scenario
    from dispatch.scenario import ScenarioError, check_city
    from hub.replay import demo_city_hall

    try:
        scenario = read_scenario(args.file)
        check_city(scenario, demo_city_hall(scenario))
    except ScenarioError as exc:
        _say(f"griddesk scenario check: {exc}")
        return EXIT_USAGE
    print(_describe(scenario))
    print(_beside_the_seeds(scenario))
    return 0


def _beside_the_seeds(scenario: Scenario) -> str:
    """The scenario's day next to what the seeds' halls report or target, so a scenario that
    drifts from practice shows it (``dispatch.scenario_gen.SEED_FIGURES``)."""
    from dispatch.catalog import Catalog
    from dispatch.config import Settings
    from dispatch.scenario_gen import SEED_FIGURES, scenario_figures

    ours = scenario_figures(scenario, Catalog.default(), Settings())
    rows = [("figure", "this scenario", "the seeds")]
    for key, label, seeds in SEED_FIGURES:
        value = ours.get(key)
        if value is None:
            shown = "—"
        elif key == "cases_per_day":
            shown = f"{value:,.0f}"
        else:
            shown = f"{value:.1%}"
        rows.append((label, shown, seeds))
    from rich.cells import cell_len

    width = [max(cell_len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(
        r[0] + " " * (width[0] - cell_len(r[0]) + 2) + r[1].rjust(width[1]) + "  " + r[2]
        for r in rows
    )


def _describe(scenario: Scenario) -> str:
    from dispatch.scenario import format_time

    header = scenario.header
    lines = [
        f"{header.name}: {header.date} {format_time(scenario.start)}–"
        f"{format_time(scenario.end)}, {scenario.cases} cases, {len(scenario.steps)} steps; "
        f"griddesk demo opens it at {format_time(scenario.opening)}"
    ]
    if scenario.expect is not None:
        figures = ", ".join(f"{k} {v}" for k, v in scenario.expect.figures().items())
        expect = scenario.expect
        chain = [
            (len(expect.standby_call), "standby calls"),
            (len(expect.roll_call), "roll-call lines"),
            (len(expect.instruction), "instructions"),
            (len(expect.shift), "shift changes"),
        ]
        more = "".join(f", {n} {what}" for n, what in chain if n)
        lines.append(f"expect: {figures}; {len(expect.escalation)} escalations{more}")
    if header.rota:
        lines.append("played on the city's rota: shifts change by it, standby answer or next")
    return "\n".join(lines)
