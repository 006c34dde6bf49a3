"""``griddesk handover``: print the shift's hand-over report (交接班) and, with ``--ack``,
acknowledge it on the hub as the incoming commander; ``--note`` writes the outgoing
commander's note first.

Markdown by default (``#`` heading, a ``##`` section per list with its count, a table each),
or ``--format json`` (the report's data). In the operator's language (``console.locale``),
times in the hall's time zone. ``--since`` takes ``HH:MM`` (today, hall time) or an ISO time;
the default is the start of the current shift. Exit codes as ``griddesk ctl``: 0 done, 1 the
hub refused (e.g. the role may not read the hall's events), 2 bad usage, 3 no hub.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from console.ctl_args import EXIT_OK, EXIT_USAGE, add_hub_args

if TYPE_CHECKING:  # the client and the domain are imported when the command runs
    from backend_client import HubClient
    from dispatch.config import Settings
    from dispatch.handover import HandoverReport

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def add_handover_parser(subparsers: Any) -> None:
    """Add ``handover`` to the ``griddesk`` subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "handover",
        help="print the shift hand-over report (交接班); --ack acknowledges it on the hub",
        description=(
            "Print the shift's hand-over report: open urgent and overdue cases, pending\n"
            "approvals, what was escalated, urged, called for joint enforcement during the\n"
            "shift, staff and shift changes, and the outgoing commander's notes.\n"
            "Exit: 0 done, 1 refused by the hub, 2 bad usage, 3 hub unreachable."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_hub_args(parser, timeout_help="seconds to connect, and to wait for each answer")
    parser.add_argument(
        "--since",
        metavar="TIME",
        help="start of the window: HH:MM (today, hall time) or an ISO time "
        "(default: the last shift change or hand-over, else 8 hours ago)",
    )
    parser.add_argument(
        "--format", choices=("md", "json"), default="md", help="md (default) or json"
    )
    parser.add_argument("--note", metavar="TEXT", help="first write this hand-over note")
    parser.add_argument(
        "--ack", action="store_true", help="acknowledge the report as the incoming commander"
    )
    parser.add_argument(
        "--outgoing",
        metavar="NAME",
        help="who hands over (default: the author of the last note, else who took the shift)",
    )
    parser.set_defaults(run=_run)


def parse_since(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """``HH:MM`` today in the hall's zone (yesterday if that is still ahead of ``now``), or an
    ISO time (a naive one is hall time); ``ValueError`` for anything else."""
    clock = _CLOCK.match(text.strip())
    if clock:
        local = now.astimezone(tz)
        at = datetime.combine(local.date(), time(int(clock[1]), int(clock[2])), tz)
        return at - timedelta(days=1) if at > now else at
    at = datetime.fromisoformat(text.strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(handover_async(args))


async def handover_async(args: argparse.Namespace) -> int:
    """The command, for a caller already in an event loop (tests)."""
    from console.hub_command import run_on_hub

    return await run_on_hub(args, "handover", lambda c, s: _report(c, args, s))


async def _report(client: HubClient, args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from backend_client.hall_model import HallModel
    from backend_client.handover import shift_report
    from console.handover_text import ReportWords, markdown
    from console.i18n import Language
    from console.wording import Wording
    from dispatch.catalog import Catalog
    from dispatch.commands import HandoverAck, HandoverNote

    tz = ZoneInfo(settings.clock.timezone)
    since = None
    if args.since:
        try:
            since = parse_since(args.since, client.hub_now(), tz)
        except ValueError:
            _say(f"griddesk handover: --since {args.since!r}: give HH:MM or an ISO time")
            return EXIT_USAGE
    if args.note:
        await client.send(HandoverNote(id=client.new_id(), text=args.note))
    report = await shift_report(client, since)
    incoming = ""
    if args.ack:
        outgoing = args.outgoing or report.outgoing or "—"
        ack = HandoverAck(
            id=client.new_id(), since=report.since, until=report.until,
            outgoing=outgoing, digest=report.digest,
        )  # fmt: skip
        await client.send(ack)
        incoming = client.operator or ""
        _say(f"griddesk handover: acknowledged by {incoming} (report {report.digest})")
    if args.format == "json":
        print(msgspec.json.encode(_as_data(report, incoming)).decode())
        return EXIT_OK
    mirror = client.mirror
    model = HallModel()
    model.replace(mirror.cases.values(), mirror.staff.values(), mirror.units.values(),
                  mirror.areas.values(), report.until)  # fmt: skip
    words = Wording(Language(settings.console.locale), Catalog.default(), model)
    sys.stdout.write(markdown(report, ReportWords(words, tz, mirror.cases), incoming=incoming))
    return EXIT_OK


def _as_data(report: HandoverReport, incoming: str) -> dict[str, Any]:
    """The report as JSON builtins: the window, who, and each section's cases or events."""
    from dispatch.handover import Section

    return {
        "since": report.since,
        "until": report.until,
        "outgoing": report.outgoing,
        "incoming": incoming,
        "digest": report.digest,
        "complete": report.complete,
        "sections": {
            str(s): {
                "wired": s in report.wired,
                "cases": list(report.cases.get(s, ())),
                "events": list(report.events.get(s, ())),
            }
            for s in Section
        },
    }


def _say(message: str) -> None:
    print(message, file=sys.stderr)
