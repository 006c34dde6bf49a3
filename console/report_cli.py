"""``griddesk report``: the monthly assessment report (考核) of a date window.

Reads the cases reported in the window from the hub (``cases_window``: open and finished,
also those older than the hub keeps in memory), the grid workers' patrol of each day of it
(``tracks``), and the names from the snapshot; counts them with ``dispatch.assessment``
(every rule in ``dispatch.metrics``); prints Markdown (default) or CSV, in the operator's
language. ``--from`` / ``--to`` are dates of the hall's calendar, both included (default:
this month so far). Commanders, dispatchers and observers. Exit codes as ``griddesk ctl``:
0 done, 1 the hub refused, 2 bad usage, 3 no hub.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from console.ctl_args import EXIT_OK, EXIT_USAGE, add_hub_args

if TYPE_CHECKING:  # the client and the domain are imported when the command runs
    from backend_client import HubClient
    from dispatch.config import Settings

MAX_DAYS = 366
"""A report covers at most a year (each day's patrol is one request)."""


def add_report_parser(subparsers: Any) -> None:
    """Add ``report`` to the ``griddesk`` subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="print the assessment report (考核): the figures per unit, grid or worker",
        description=(
            "Print the assessment report of the cases reported between two dates (hall\n"
            "calendar, both included): 结案率, 按期结案率, 返工率, 退单率, 主动发现率, 回访满意率\n"
            "for the whole hall and per unit, grid or worker; each grid worker's report count,\n"
            "validity and patrol; the callbacks still owed.\n"
            "Exit: 0 done, 1 refused by the hub, 2 bad usage, 3 hub unreachable."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_hub_args(parser, timeout_help="seconds to connect, and to wait for each answer")
    parser.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        type=date.fromisoformat,
        help="first day, YYYY-MM-DD (default: the 1st of this month)",
    )
    parser.add_argument("--to", dest="end", metavar="DATE", type=date.fromisoformat,
                        help="last day, YYYY-MM-DD, included (default: today)")  # fmt: skip
    parser.add_argument("--by", choices=("unit", "grid", "worker"), default="unit",
                        help="the figures per unit (default), grid or worker")  # fmt: skip
    parser.add_argument("--format", choices=("md", "csv"), default="md",
                        help="md (default) or csv")  # fmt: skip
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(report_async(args))


async def report_async(args: argparse.Namespace) -> int:
    """The command, for a caller already in an event loop (tests)."""
    from console.hub_command import run_on_hub

    return await run_on_hub(args, "report", lambda c, s: _report(c, args, s))


def window(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the hall's zone."""
    since = datetime(start.year, start.month, start.day, tzinfo=tz)
    after = end + timedelta(days=1)
    return since, datetime(after.year, after.month, after.day, tzinfo=tz)


async def _report(client: HubClient, args: argparse.Namespace, settings: Settings) -> int:
    from backend_client.hall_model import HallModel
    from console.i18n import Language
    from console.report_text import csv_text, markdown
    from console.wording import Wording
    from dispatch.assessment import GroupBy, assess
    from dispatch.catalog import Catalog
    from dispatch.tracks import grid_workers

    tz = ZoneInfo(settings.clock.timezone)
    now = client.hub_now()
    today = now.astimezone(tz).date()
    end = args.end or today
    start = args.start or end.replace(day=1)
    if end < start or (end - start).days >= MAX_DAYS:
        _say(f"griddesk report: --from {start} --to {end}: give at most {MAX_DAYS} days, "
             "the first not after the last")  # fmt: skip
        return EXIT_USAGE
    since, until = window(start, end, tz)
    cases, cut = await client.cases_window(since, until)
    if cut:
        _say("griddesk report: the window holds more cases than were read; figures are partial")
    mirror = client.mirror
    workers = grid_workers(mirror.staff.values())
    patrol_days = []
    day = start
    while day <= min(end, today):
        patrol_days += (await client.tracks(day, workers)).patrols
        day += timedelta(days=1)
    assessment = assess(
        cases, since, until, now, by=GroupBy(args.by), patrol_days=patrol_days,
        callback_due=timedelta(hours=settings.assessment.callback_due_hours),
        grid_workers=workers,
    )  # fmt: skip
    model = HallModel()
    model.replace(mirror.cases.values(), mirror.staff.values(), mirror.units.values(),
                  mirror.areas.values(), now)  # fmt: skip
    words = Wording(Language(settings.console.locale), Catalog.default(), model)
    if args.format == "csv":
        sys.stdout.write(csv_text(assessment, words))
    else:
        sys.stdout.write(markdown(assessment, words, tz))
    return EXIT_OK


def _say(message: str) -> None:
    print(message, file=sys.stderr)
