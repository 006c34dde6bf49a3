"""``griddesk ctl``: one command against a hub, from a script or a shell, then exit.

It speaks the same verbs as the console's ``:`` line (``console.verbs``): it connects with
:meth:`HubClient.connected`, resolves names against the hub's snapshot, sends the command and
prints the result as plain text or, with ``--json``, as JSON. Read verbs (``list``, ``show``,
``roster``, ``suggest``) are answered from the snapshot without sending a command; ``show``
(as text) also asks the hub for the case's audit history.

Exit codes: 0 done, 1 the hub refused the command (its code and message on stderr, nothing
changed), 2 bad usage (an unknown verb, an unknown name, no token), 3 the hub could not be
reached, refused the token, or did not answer in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from rich.cells import cell_len

from backend_client import (
    AuthFailed,
    ClientError,
    CommandRefused,
    CommandTimeout,
    HubClient,
    NotConnected,
)
from backend_client.hall_model import HallModel
from console.ctl_args import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from console.ctl_args import add_ctl_parser as add_ctl_parser
from console.i18n import translator
from console.labels import label
from console.names import Lookup, VerbError, unit_name
from console.settings_loader import ConfigError, load_settings
from console.suggestions import suggestion_lines
from console.token_file import TOKEN_ENV, find_token
from console.verbs import ReadVerb, parse, usage, verb_named
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import CaseCommand, Command, op_of
from dispatch.config import Settings
from dispatch.events import Event
from dispatch.hall import Hall
from dispatch.models import Case, Staff
from dispatch.protocol import Ack, OnDutyNow
from dispatch.queues import parse_queue
from dispatch.routing import Why, rank_staff, suggest
from dispatch.sla import light, next_deadline
from dispatch.whistle import roll_call

# --- the command line ----------------------------------------------------------------------


def run_ctl(args: argparse.Namespace) -> int:
    """Run ``griddesk ctl`` with parsed arguments; the exit code."""
    return asyncio.run(ctl_async(args))


async def ctl_async(args: argparse.Namespace) -> int:
    """:func:`run_ctl` for a caller already inside an event loop (tests)."""
    words: list[str] = list(args.words)
    if not words:
        _say("griddesk ctl: say a verb, e.g. `griddesk ctl list urgent`; verbs:\n" + usage())
        return EXIT_USAGE
    try:
        verb_named(words[0])  # an unknown verb needs no hub to be told so
        settings = load_settings(getattr(args, "config", None), os.environ, {})
        token = operator_token(args, settings)
    except (VerbError, ConfigError) as exc:
        _say(f"griddesk ctl: {exc}")
        return EXIT_USAGE
    url = args.hub or settings.console.hub_url
    try:
        async with HubClient.connected(
            url,
            token,
            timeout=args.timeout,
            client_name="griddesk-ctl",
            command_timeout=args.timeout,
        ) as client:
            return await _one_verb(client, words, settings, as_json=args.json)
    except AuthFailed as exc:
        _say(f"griddesk ctl: {exc}")
        return EXIT_UNREACHABLE
    except NotConnected as exc:
        _say(f"griddesk ctl: {exc}")
        return EXIT_UNREACHABLE


def operator_token(args: argparse.Namespace, settings: Settings) -> str:
    """The token (``console.token_file.find_token``); a script without one is refused."""
    token = find_token(args.token_file, settings)
    if token is None:
        raise ConfigError(f"no token: give --token-file FILE or set ${TOKEN_ENV}")
    return token


def _lookup(client: HubClient, catalog: Catalog) -> Lookup:
    """The mirror as it is now (a resync replaces its dicts, so never keep one for long)."""
    mirror = client.mirror
    return Lookup(
        cases=mirror.cases,
        units=mirror.units,
        staff=mirror.staff,
        areas=mirror.areas,
        catalog=catalog,
    )


async def _one_verb(
    client: HubClient, words: list[str], settings: Settings, *, as_json: bool
) -> int:
    catalog = Catalog.default()
    try:
        what = parse(shlex.join(words), _lookup(client, catalog), client.new_id)
    except VerbError as exc:
        _say(f"griddesk ctl: {exc}")
        return EXIT_USAGE
    if isinstance(what, ReadVerb) and what.name == "rota":
        try:
            answer = await client.on_duty()
        except ClientError as exc:
            _say(f"griddesk ctl: {exc}")
            return EXIT_UNREACHABLE
        view = _View(_lookup(client, catalog), settings, client.hub_now())
        print(msgspec.json.encode(answer).decode() if as_json else view.rota_text(answer))
        return EXIT_OK
    if isinstance(what, ReadVerb):
        view = _View(_lookup(client, catalog), settings, client.hub_now(), client.unit)
        if what.name == "show" and not as_json:
            try:
                view.history = await client.history(what.args[0])
            except ClientError as exc:  # the fields are still worth printing
                view.history_error = str(exc)
        print(view.read_json(what) if as_json else view.read_text(what))
        return EXIT_OK
    try:
        ack = await client.send(what)
    except CommandRefused as exc:
        _say(f"griddesk ctl: refused by the hub: {exc.code}: {exc.message}")
        return EXIT_REFUSED
    except (CommandTimeout, NotConnected) as exc:
        _say(f"griddesk ctl: {exc}")
        return EXIT_UNREACHABLE
    if as_json:
        print(msgspec.json.encode(ack).decode())
    else:  # the command's events arrived before its ack: the mirror shows the result
        print(_View(_lookup(client, catalog), settings, client.hub_now()).ack_text(what, ack))
    return EXIT_OK


def _say(text: str) -> None:
    print(text, file=sys.stderr)


# --- what is printed -----------------------------------------------------------------------


class _View:
    """Plain-text and JSON renderings of the mirror, at one hub time."""

    def __init__(
        self, lookup: Lookup, settings: Settings, now: datetime, desk_unit: str | None = None
    ) -> None:
        self.lookup = lookup
        self.now = now
        # The same queues, order and load as the board: one model for every client (and the
        # same desk: ``list desk`` is the operator's own desk queue).
        self.model = HallModel()
        self.model.replace(
            lookup.cases.values(), lookup.staff.values(), lookup.units.values(),
            lookup.areas.values(), now, desk_unit=desk_unit,
        )  # fmt: skip
        self.settings = settings
        self.tz = ZoneInfo(settings.clock.timezone)
        self.calendar = WorkingCalendar.from_settings(settings)
        self.amber_at = settings.sla.amber_at
        self.history: list[Event] = []
        """``show``'s audit history, asked of the hub (the mirror keeps no events)."""
        self.history_error = ""
        self.tr = translator(settings.console.locale)

    # reads

    def read_json(self, read: ReadVerb) -> str:
        value: Any
        if read.name == "list":
            value = self.queue(read.args[0])
        elif read.name == "show":
            value = self.lookup.cases[read.args[0]]
        elif read.name == "suggest":
            value = self.suggestion(self.lookup.cases[read.args[0]])
        elif read.name == "rollcall":
            value = self.roll_call(self.lookup.cases[read.args[0]])
        else:
            value = self.roster(read.args[0] if read.args else None)
        return msgspec.json.encode(value).decode()

    def read_text(self, read: ReadVerb) -> str:
        if read.name == "list":
            return self.list_text(read.args[0])
        if read.name == "show":
            return self.show_text(self.lookup.cases[read.args[0]])
        if read.name == "suggest":
            return "\n".join(self.suggest_lines(self.lookup.cases[read.args[0]]))
        if read.name == "rollcall":
            return self.roll_call_text(self.lookup.cases[read.args[0]])
        return self.roster_text(read.args[0] if read.args else None)

    def roll_call(self, case: Case) -> dict[str, Any]:
        """``rollcall`` as JSON: the latest whistle and each summoned unit's outcome."""
        if not case.whistles:
            return {"case": case.id, "whistle": None, "units": []}
        whistle = case.whistles[-1]
        return {
            "case": case.id,
            "whistle": {"by": whistle.by, "at": whistle.at, "due": whistle.due,
                        "reason": whistle.reason},
            "units": [
                {"unit": line.unit, "attendance": line.attendance,
                 "reported_at": line.reported_at, "reported_by": line.reported_by}
                for line in roll_call(whistle, self.now)
            ],
        }  # fmt: skip

    def roll_call_text(self, case: Case) -> str:
        """点名: the latest whistle's deadline, then each summoned unit and how it came."""
        if not case.whistles:
            return f"{case.id}: no whistle was blown (未吹哨)"
        whistle = case.whistles[-1]
        head = (
            f"{case.id} 吹哨 whistle by {whistle.by} at {self.time(whistle.at)}, "
            f"报到 report in by {self.time(whistle.due)}"
        )
        header = ("单位 unit", "点名 roll call", "报到 reported", "经办 by")
        rows = [
            (self.unit(line.unit), f"{label(line.attendance, self.tr)} ({line.attendance})",
             self.time(line.reported_at), line.reported_by or "-")
            for line in roll_call(whistle, self.now)
        ]  # fmt: skip
        return head + "\n" + _table(header, rows)

    def hall(self) -> Hall:
        lookup = self.lookup
        return Hall.of(
            self.settings, lookup.catalog, areas=lookup.areas.values(),
            units=lookup.units.values(), staff=lookup.staff.values(),
        )  # fmt: skip

    def suggest_lines(self, case: Case) -> list[str]:
        what = self.category(case.category)
        return suggestion_lines(case, what, self.hall(), self.now, self.model.load, self.tr)

    def suggestion(self, case: Case) -> dict[str, Any]:
        """``suggest`` as JSON: the units with the rule behind each, and each unit's people
        best first with what ranked them."""
        hall = self.hall()
        found = suggest(case, hall)
        if found is None:
            return {"case": case.id, "unit": None, "why": None, "supporting": []}

        def people(unit: str) -> list[dict[str, Any]]:
            return [
                {"staff": r.staff.id, "duty": r.staff.duty, "field": r.staff.field,
                 "distance_m": r.distance_m, "covers_grid": r.covers_grid, "load": r.load}
                for r in rank_staff(case, unit, hall, self.now, self.model.load)
            ]  # fmt: skip

        return {
            "case": case.id,
            "unit": found.unit.id,
            "why": found.why,
            "staff": people(found.unit.id),
            "supporting": [
                {"unit": u.id, "why": Why.LOCALITY, "staff": people(u.id)} for u in found.supporting
            ],
        }

    def queue(self, queue: str) -> list[Case]:
        """The queue's cases in the board's order (nearest shown deadline first)."""
        return [self.model.cases[key] for _, key in self.model.listing(parse_queue(queue))]

    def roster(self, unit: str | None) -> list[Staff]:
        people = (s for s in self.lookup.staff.values() if unit is None or s.unit == unit)
        return sorted(people, key=lambda s: (s.unit, s.id))

    def list_text(self, queue: str) -> str:
        cases = self.queue(queue)
        header = ("案件编号", "状态", "紧急", "类别", "网格", "承办", "下一时限")
        rows = [
            (
                c.id,
                label(c.status, self.tr),
                label(c.urgency, self.tr),
                self.category(c.category),
                self.grid(c.grid),
                self.owner(c),
                self.next_due(c),
            )
            for c in cases
        ]
        return _table(header, rows) + f"\n{len(cases)} case(s) in {queue}"

    def roster_text(self, unit: str | None) -> str:
        header = ("编号", "姓名", "单位", "岗位", "班次", "在岗", "状态", "在办")
        rows = [
            (
                s.id,
                s.name,
                self.unit(s.unit),
                s.role,
                str(s.shift),
                str(s.duty),
                str(s.field),
                str(self.model.load(s.id)),
            )
            for s in self.roster(unit)
        ]
        return _table(header, rows)

    def show_text(self, case: Case) -> str:
        fields: list[tuple[str, str]] = [
            ("案件编号 id", case.id),
            ("标题 title", case.title),
            ("描述 description", case.description or "-"),
            ("状态 status", f"{label(case.status, self.tr)} ({case.status})"),
            ("紧急程度 urgency", f"{label(case.urgency, self.tr)} ({case.urgency})"),
            ("类型 kind", str(case.kind)),
            ("类别 category", self.category(case.category)),
            ("来源 source", str(case.source)),
            ("网格 grid", self.grid(case.grid)),
            ("地址 address", case.address or "-"),
            ("位置 position", _point(case)),
            ("上报人 reporter", case.reporter or "-"),
            ("层级 level", str(case.level)),
            ("承办单位 owner", self.owner(case)),
            ("协办 supporting", ", ".join(self.unit(u) for u in case.supporting_units) or "-"),
            ("待批申请 request", self.request(case)),
            ("上报 reported", self.time(case.reported_at)),
            ("立案 accepted", self.time(case.accepted_at)),
            ("派遣 dispatched", self.time(case.dispatched_at)),
            ("结案 closed", self.time(case.closed_at)),
            ("按期 on time", _yes_no(case.on_time)),
            ("回访 callback", case.callback or "-"),
            ("挂账 parked", self.parked(case)),
            ("合并 merged into", case.merged_into or "-"),
            ("疑似重复 duplicate of", case.duplicate_of or "-"),
            (
                "计数 counters",
                f"returns {case.returns}, urges {case.urges}, reworks {case.reworks}, "
                f"extensions {case.extensions}, breaches {case.breaches}",
            ),
            ("版本 version", str(case.version)),
        ]
        for n, note in enumerate(case.instructions):
            due = f" (due {self.time(note.due)})" if note.due is not None else ""
            fields.append(("批办 instructions" if n == 0 else "",
                           f"{self.time(note.at)} {note.by}: {note.text}{due}"))  # fmt: skip
        width = max(cell_len(k) for k, _ in fields)
        lines = [k + " " * (width - cell_len(k)) + "  " + v for k, v in fields]
        lines.append("")
        lines.append("时限 deadlines:")
        if not case.deadlines:
            lines.append("  -")
        deadline_rows = []
        for d in case.deadlines:
            lit = light(d, self.now, self.calendar, self.amber_at)
            state = "breached" if d.breached else lit.colour
            deadline_rows.append(
                (
                    str(d.step),
                    self.time(d.due),
                    f"{d.limit_minutes} min {d.basis}",
                    state,
                    _left(lit.seconds_left),
                )
            )
        if deadline_rows:
            header = ("步骤 step", "到期 due", "时限 limit", "灯 light", "剩余 left")
            lines += ["  " + line for line in _table(header, deadline_rows).splitlines()]
        lines.append("")
        lines.append("历史 history:")
        if self.history_error:
            lines.append(f"  (not available: {self.history_error})")
        elif not self.history:
            lines.append("  -")
        rows = [
            (
                e.at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                str(e.type),
                e.reason or "-",
            )
            for e in self.history
        ]
        if rows:
            columns = ("时间 time", "操作人 actor", "事件 event", "原因 reason")
            lines += ["  " + line for line in _table(columns, rows).splitlines()]
        return "\n".join(lines)

    def ack_text(self, command: Command, ack: Ack) -> str:
        replayed = " (replayed: applied before, nothing new)" if ack.replayed else ""
        head = f"ok {op_of(command)}{replayed}"
        case = self.lookup.cases.get(ack.case) if ack.case else None
        if case is None:
            return head
        verb_case = command.case if isinstance(command, CaseCommand) else case.id
        return (
            f"{head}: case {verb_case} version {ack.version}\n"
            f"{case.id}  {label(case.status, self.tr)}  {label(case.urgency, self.tr)}  "
            f"{self.category(case.category)}  {self.owner(case)}  {self.next_due(case)}"
        )

    # one field

    def category(self, code: str) -> str:
        category = self.lookup.catalog.by_code.get(code)
        return f"{code} {category.name}" if category else code

    def grid(self, code: str | None) -> str:
        if code is None:
            return "-"
        area = self.lookup.areas.get(code)
        return f"{area.name} {code}" if area else code

    def unit(self, unit_id: str) -> str:
        return unit_name(unit_id, self.lookup)

    def owner(self, case: Case) -> str:
        if case.owner_unit is None:
            return "-"
        owner = self.unit(case.owner_unit)
        if case.owner_staff:
            person = self.lookup.staff.get(case.owner_staff)
            owner += f" {person.name if person else case.owner_staff}"
        return owner

    def parked(self, case: Case) -> str:
        if case.parked_from is None:
            return "-"
        return f"from {case.parked_from} at {self.time(case.parked_at)}"

    def request(self, case: Case) -> str:
        r = case.request
        if r is None:
            return "-"
        minutes = f" {r.minutes} min" if r.minutes else ""
        return f"{r.kind}{minutes} by {r.by} at {self.time(r.at)}: {r.reason}"

    def next_due(self, case: Case) -> str:
        d = next_deadline(case)
        if d is None:
            return "-"
        return f"{d.step} {_left((d.due - self.now).total_seconds())}"

    def rota_text(self, on: OnDutyNow) -> str:
        """Who is on duty now: the duty day and shift, the commander, each unit's order."""
        if on.day is None:
            return "no rota: shifts change only by `shift`"
        shift = "day shift" if on.shift == "day" else "after hours (standby)"
        lines = [
            f"duty day {on.day}, {shift}; duty commander {on.commander or '-'}; "
            f"next change {self.time(on.next_change)}"
        ]
        for unit_id, order in on.standby.items():
            people = "  ".join(
                f"{n}. {self.person(p)} {p}" for n, p in enumerate(order, start=1)
            )
            lines.append(f"{self.unit(unit_id)}: {people}")
        return "\n".join(lines)

    def person(self, staff_id: str) -> str:
        person = self.lookup.staff.get(staff_id)
        return person.name if person is not None else staff_id

    def time(self, at: datetime | None) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if at else "-"


def _left(seconds: float) -> str:
    """``in 1h05m`` or ``overdue 12m``: numbers, never only a colour."""
    span = timedelta(seconds=abs(int(seconds)))
    hours, rest = divmod(int(span.total_seconds()), 3600)
    text = f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m"
    return f"in {text}" if seconds >= 0 else f"overdue {text}"


def _point(case: Case) -> str:
    p = case.position
    return f"{p.lon:.6f}, {p.lat:.6f}" if p else "-"


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded by terminal cells (a CJK character takes two)."""
    table = [tuple(header), *rows]
    widths = [max(cell_len(row[i]) for row in table) for i in range(len(table[0]))]

    def pad(text: str, width: int) -> str:
        return text + " " * (width - cell_len(text))

    return "\n".join(
        "  ".join(pad(text, width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )
