"""Scenario files: a scripted stretch of a hall's day as timed steps (``docs/SCENARIOS.md``).

A scenario is TOML: a ``[scenario]`` header (name, date, time zone, start and end), an optional
``[expect]`` table of the figures the day must end with, and ``[[step]]`` tables. Steps play in
time order, steps of the same second in file order, so a hand-written file may group them by
case.
Each step is one command of the wire protocol (``do`` is its ``op``) plus when it happens
(``at``), who sends it (``by``) and which case it is about (``case``, the scenario's own name
for a case; the hub gives the real id when the intake step runs). The command fields are
checked here with the protocol's own types, so a step that loads is a command the hub can
decode; whether the hall accepts it is the hub's business at replay time.

Step times are clock times on the scenario's date, ``HH:MM`` or ``HH:MM:SS``; like transit
timetables, hours go past 24 for the small hours of the next day (``25:30`` is 01:30).
Pure: text in, scenario out; reading the file is the caller's job.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from dispatch.commands import ALL_COMMANDS, OPS, CaseCommand, Command, Intake, Merge, op_of
from dispatch.hall import Hall
from dispatch.models import Actor, Level, Role, Shift, Source

FORMAT = 1
"""The scenario format version this module reads and writes."""

HALL = "hall"
"""``by = "hall"``: the hall's duty desk (a dispatcher), working beside the demo commander."""

HALL_ACTOR = Actor(name="值班台", role=Role.DISPATCHER)

COMMANDER = "commander"
"""``by = "commander"``: the hall's duty commander (值班指挥长), who alone changes the rota."""

COMMANDER_ACTOR = Actor(name="值班指挥长", role=Role.COMMANDER)

UPPER_DESKS = frozenset({Level.DISTRICT, Level.LEADERSHIP})
"""Desks above the street: ``by`` their unit or one of their people is a dispatcher at that
desk (who may instruct, 批办, and send down), not a department's terminal."""

FEEDS: Mapping[Source, str] = {
    Source.PATROL: "网格巡查",
    Source.PHOTO: "随手拍平台",
    Source.HOTLINE: "12345热线",
    Source.VIDEO: "视频智能分析",
    Source.POLICE: "110非警务警情",
}
"""Who an intake comes from when its step names nobody: the system that forwards it."""

_PLACEHOLDER_ID = "scenario"
_COMMAND_TYPES: Mapping[str, type[Command]] = {
    str(cls.__struct_config__.tag): cls for cls in ALL_COMMANDS
}
_TIME = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")
_STEP_KEYS = frozenset({"at", "do", "by", "case"})
_DAY = timedelta(hours=24)
_T = TypeVar("_T")


class ScenarioError(ValueError):
    """A scenario that cannot be played; the message says which step and what is wrong."""


Day = date
"""A calendar day (``Header.date`` shadows the name ``date`` inside the class)."""


class Header(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[scenario]`` table."""

    name: str
    date: date  # the day the hub clock is set to
    start: str  # the demo clock starts here (HH:MM[:SS])
    end: str | None = None  # replay runs deadlines on to here; default: the last step
    demo_from: str | None = None  # where ``griddesk demo`` opens; default: the start
    title: str = ""
    description: str = ""
    timezone: str = "Asia/Shanghai"
    city: str = "demo"  # the hall it is written for: unit, staff and grid ids refer to it
    # The calendar the day is played on, beside config.toml's: public holidays (法定节假日)
    # and weekend days worked instead (调休), so a holiday-eve night is a file, not Python.
    holidays: tuple[Day, ...] = ()
    workdays: tuple[Day, ...] = ()
    # Played with the city's rota (the demo city's ``hub/data/rota.json``): shifts change at
    # their times on the hub clock and after-hours dispatches go down the standby order.
    rota: bool = False
    format: int = FORMAT
    seed: int | None = None  # generated scenarios: the seed that made them
    generator: dict[str, Any] = {}  # generated scenarios: the other parameters


class ExpectedEscalation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A case the scenario makes late: the hub must raise it to ``level`` at ``at``."""

    case: str
    at: str
    level: Level


class ExpectedCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A standby call the hub must make (``standby_called``): at ``at`` on ``case``, to the
    standby officer ``to`` (a staff id), or ``"commander"`` once the order ran out."""

    case: str
    at: str
    to: str


class ExpectedRollCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line of a case's roll call (点名) at the end: ``unit`` was ``attendance``
    (``in_time``, ``late``, ``absent`` or ``waiting``) for the case's latest whistle."""

    case: str
    unit: str
    attendance: str


class ExpectedShift(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A shift change the rota makes on the hub clock (a scenario with ``rota = true``): at
    ``at`` the hall goes ``to`` the ``day`` shift or ``standby``."""

    at: str
    to: Shift


class ExpectedInstruction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A leadership instruction (批办) with a deadline on ``case``: ``breached`` or met."""

    case: str
    breached: bool


FIGURES = ("reported", "accepted", "closed", "closed_on_time", "returned", "reworked", "overdue")
"""The day's figures an ``[expect]`` table may give, by ``dispatch.metrics.Figures`` field name."""


class Expect(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the day implies, at its end, if nobody but the script acts (``metrics.Figures``)."""

    reported: int | None = None
    accepted: int | None = None
    closed: int | None = None
    closed_on_time: int | None = None
    returned: int | None = None
    reworked: int | None = None
    overdue: int | None = None
    escalation: tuple[ExpectedEscalation, ...] = ()
    standby_call: tuple[ExpectedCall, ...] = ()
    roll_call: tuple[ExpectedRollCall, ...] = ()
    instruction: tuple[ExpectedInstruction, ...] = ()
    shift: tuple[ExpectedShift, ...] = ()

    def figures(self) -> dict[str, int]:
        """The expected figures that are given, by ``Figures`` field name."""
        return {n: v for n in FIGURES if (v := getattr(self, n)) is not None}


@dataclass(frozen=True)
class Step:
    """One timed command. ``template`` holds placeholder ids until the replay fills them."""

    number: int  # 1-based position among the file's steps
    at: timedelta  # since midnight of the scenario's date
    template: Command
    by: str | None = None
    case: str | None = None  # the scenario's name of the case (set by the intake step)

    @property
    def do(self) -> str:
        """The command's op (``dispatch``, ``merge`` …)."""
        return op_of(self.template)

    @property
    def into(self) -> str | None:
        """A merge's case merged into, by its scenario name (the template holds the name)."""
        return self.template.into if isinstance(self.template, Merge) else None

    def command(
        self,
        command_id: str,
        *,
        case_id: str | None = None,
        version: int | None = None,
        into_id: str | None = None,
    ) -> Command:
        """The wire command, with the hub's ids for the scenario's case names."""
        changes: dict[str, Any] = {"id": command_id}
        if isinstance(self.template, CaseCommand):
            if case_id is None or version is None:
                raise ScenarioError(f"{self.where}: needs the case's hub id and version")
            changes.update(case=case_id, version=version)
        if isinstance(self.template, Merge):
            if into_id is None:
                raise ScenarioError(f"{self.where}: needs the hub id of the case merged into")
            changes["into"] = into_id
        return msgspec.structs.replace(self.template, **changes)

    @property
    def where(self) -> str:
        return f"step {self.number} ({format_time(self.at)} {self.do})"

    def fields(self) -> dict[str, Any]:
        """The command's own fields as TOML-ready builtins, defaults and placeholders left out."""
        return _builtins(self.template, skip={"id", "case", "version"})


@dataclass(frozen=True)
class Scenario:
    header: Header
    steps: tuple[Step, ...]
    expect: Expect | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.header.timezone)

    @property
    def start(self) -> timedelta:
        return parse_time(self.header.start)

    @property
    def end(self) -> timedelta:
        """Where replay stops: the header's ``end``, else the last step (else the start)."""
        if self.header.end is not None:
            return parse_time(self.header.end)
        return self.steps[-1].at if self.steps else self.start

    @property
    def opening(self) -> timedelta:
        """Where ``griddesk demo`` opens by default: the header's ``demo_from``, else the start.
        Everything before it is played at once, so the first screen shows the hall at work."""
        if self.header.demo_from is not None:
            return parse_time(self.header.demo_from)
        return self.start

    def instant(self, offset: timedelta) -> datetime:
        """The aware moment ``offset`` after midnight of the scenario's date."""
        midnight = datetime.combine(self.header.date, datetime.min.time(), self.tz)
        return midnight + offset

    def offset(self, moment: datetime) -> timedelta:
        """The inverse of :meth:`instant`."""
        midnight = datetime.combine(self.header.date, datetime.min.time(), self.tz)
        return moment.astimezone(self.tz) - midnight

    @property
    def cases(self) -> int:
        return sum(1 for s in self.steps if isinstance(s.template, Intake))


# --- times -------------------------------------------------------------------------------------


def parse_time(text: str) -> timedelta:
    """``"08:05"``, ``"08:05:30"`` or ``"25:30"`` (01:30 the next day) → time since midnight."""
    match = _TIME.match(text.strip()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) >= 48:
        raise ScenarioError(f"time {text!r}: expected HH:MM or HH:MM:SS, hours 0-47")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_time(offset: timedelta) -> str:
    """Time since midnight as ``HH:MM:SS`` (hours past 24 for the next day)."""
    total = int(offset.total_seconds())
    if total < 0 or offset >= 2 * _DAY:
        raise ScenarioError(f"time {offset} is outside the scenario's two days")
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"


# --- reading -----------------------------------------------------------------------------------


def loads(text: str) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}") from None
    unknown = set(raw) - {"scenario", "expect", "step"}
    if unknown:
        raise ScenarioError(f"unknown table(s): {', '.join(sorted(unknown))}")
    if "scenario" not in raw:
        raise ScenarioError("the [scenario] table is missing")
    header = _convert(raw["scenario"], Header, "[scenario]")
    if header.format != FORMAT:
        raise ScenarioError(
            f"format {header.format} is not supported (this griddesk reads {FORMAT})"
        )
    try:
        ZoneInfo(header.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"[scenario]: unknown time zone {header.timezone!r}") from None
    expect = _convert(raw["expect"], Expect, "[expect]") if "expect" in raw else None
    items = raw.get("step", [])
    if not isinstance(items, list):
        raise ScenarioError("`step` must be an array of tables: write [[step]]")
    steps = [_step(i, item) for i, item in enumerate(items, start=1)]
    # Played in time order, ties in file order: a hand-written file may group steps by case.
    steps.sort(key=lambda s: (s.at, s.number))
    scenario = Scenario(header=header, steps=tuple(steps), expect=expect)
    check_timeline(scenario)
    return scenario


def _convert(raw: object, type_: type[_T], where: str) -> _T:
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _step(number: int, raw: object) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(f"step {number}: expected a table")
    if "at" not in raw or "do" not in raw:
        raise ScenarioError(f"step {number}: needs `at` and `do`")
    try:
        at = parse_time(raw["at"])
    except ScenarioError as exc:
        raise ScenarioError(f"step {number}: {exc}") from None
    fields = {k: v for k, v in raw.items() if k not in _STEP_KEYS}
    return make_step(number, at, raw["do"], by=raw.get("by"), case=raw.get("case"), **fields)


def make_step(
    number: int,
    at: timedelta,
    do: str,
    *,
    by: str | None = None,
    case: str | None = None,
    **fields: Any,
) -> Step:
    """A checked step: ``fields`` are the command's own (``unit``, ``reason`` …), as builtins."""
    where = f"step {number} ({format_time(at)} {do})"
    if do not in OPS:
        raise ScenarioError(f"{where}: unknown `do` {do!r}; one of {', '.join(sorted(OPS))}")
    for name, value in (("by", by), ("case", case)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ScenarioError(f"{where}: `{name}` must be a non-empty string")
    body: dict[str, Any] = {"op": do, "id": _PLACEHOLDER_ID, **fields}
    template_type = _COMMAND_TYPES[do]
    if issubclass(template_type, CaseCommand):
        if case is None:
            raise ScenarioError(f"{where}: needs `case`, the scenario's name of the case")
        body.update(case=_PLACEHOLDER_ID, version=1)
        if template_type is Merge:
            into = fields.get("into")
            if not isinstance(into, str) or not into:
                raise ScenarioError(f"{where}: needs `into`, the case merged into")
    elif template_type is Intake:
        if case is None:
            raise ScenarioError(f"{where}: needs `case`, a name for the new case")
    elif case is not None:
        raise ScenarioError(f"{where}: `case` makes no sense here")
    for reserved in ("id", "version", "op"):
        if reserved in fields:
            raise ScenarioError(f"{where}: `{reserved}` is set by the replay, leave it out")
    template: Command = _convert(body, template_type, where)
    return Step(number=number, at=at, template=template, by=by, case=case)


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """A struct type's fields, read once (msgspec re-reads the annotations on every call)."""
    return msgspec.structs.fields(cls)


def check_timeline(scenario: Scenario) -> None:
    """Steps (in play order) within start..end; each case named by an intake before its use."""
    start, end = scenario.start, scenario.end
    named: set[str] = set()
    previous = start
    for step in scenario.steps:
        if step.at < previous:
            what = "the scenario's start" if previous == start else format_time(previous)
            raise ScenarioError(f"{step.where}: earlier than {what}; steps go in time order")
        previous = step.at
        if isinstance(step.template, Intake):
            assert step.case is not None
            if step.case in named:
                raise ScenarioError(f"{step.where}: case {step.case!r} is already named")
            named.add(step.case)
            continue
        for ref in (step.case, step.into):
            if ref is not None and ref not in named:
                raise ScenarioError(f"{step.where}: case {ref!r} has no intake step before it")
    if end < previous:
        raise ScenarioError(f"[scenario]: end {scenario.header.end} is before the last step")
    try:
        opening = scenario.opening
    except ScenarioError as exc:
        raise ScenarioError(f"[scenario]: demo_from: {exc}") from None
    if not start <= opening <= end:
        raise ScenarioError(
            f"[scenario]: demo_from {scenario.header.demo_from} is outside the scenario's "
            f"{format_time(start)}–{format_time(end)}"
        )
    if scenario.expect is not None:
        expected_cases: tuple[
            ExpectedEscalation | ExpectedCall | ExpectedRollCall | ExpectedInstruction, ...
        ] = (
            *scenario.expect.escalation,
            *scenario.expect.standby_call,
            *scenario.expect.roll_call,
            *scenario.expect.instruction,
        )
        for expected in expected_cases:
            if expected.case not in named:
                raise ScenarioError(f"[expect]: unknown case {expected.case!r}")
            if isinstance(expected, ExpectedEscalation | ExpectedCall):
                parse_time(expected.at)
        for shift in scenario.expect.shift:
            parse_time(shift.at)


# --- who acts ----------------------------------------------------------------------------------


def actor_for(step: Step, hall: Hall) -> Actor:
    """The operator a step is sent as, from ``by`` and the hall's units and roster.

    ``hall`` → the duty desk; ``commander`` → the duty commander; the district hall or
    leadership (their unit id or one of their people) → a dispatcher at that desk; any other
    unit id → that unit's terminal; a staff id → that person (a standby-rota person acts as
    standby, anyone else as their unit's terminal); nothing on an intake → the system that
    forwards its source (12345, video analytics …).
    """
    by = step.by
    if by is None:
        if isinstance(step.template, Intake):
            return Actor(name=FEEDS[step.template.source], role=Role.UNIT)
        return HALL_ACTOR
    if by == HALL:
        return HALL_ACTOR
    if by == COMMANDER:
        return COMMANDER_ACTOR
    unit = hall.units.get(by)
    if unit is not None:
        if unit.desk in UPPER_DESKS:  # the district hall, leadership: a dispatcher at the desk
            return Actor(name=unit.name, role=Role.DISPATCHER, unit=unit.id)
        return Actor(name=unit.name, role=Role.UNIT, unit=unit.id)
    person = hall.staff.get(by)
    if person is not None:
        desk = hall.units[person.unit].desk if person.unit in hall.units else None
        if desk in UPPER_DESKS:
            return Actor(name=person.name, role=Role.DISPATCHER, unit=person.unit)
        role = Role.STANDBY if person.shift is Shift.STANDBY else Role.UNIT
        return Actor(name=person.name, role=role, unit=person.unit)
    raise ScenarioError(f"{step.where}: `by` {by!r} is neither 'hall' nor a unit or staff id")


def check_city(scenario: Scenario, hall: Hall) -> None:
    """Every ``by`` names someone in ``hall``; every grid, unit, staff and category exists."""
    for step in scenario.steps:
        actor_for(step, hall)
        template = step.template
        for name in ("unit", "lead"):
            ref = getattr(template, name, None)
            if ref is not None and ref not in hall.units:
                raise ScenarioError(f"{step.where}: unknown unit {ref!r}")
        for ref in getattr(template, "supporting", ()):
            if ref not in hall.units:
                raise ScenarioError(f"{step.where}: unknown unit {ref!r}")
        staff = getattr(template, "staff", None)
        if staff is not None and staff not in hall.staff:
            raise ScenarioError(f"{step.where}: unknown staff {staff!r}")
        grid = getattr(template, "grid", None)
        if grid is not None and grid not in hall.areas:
            raise ScenarioError(f"{step.where}: unknown grid {grid!r}")
        category = getattr(template, "category", None)
        if category is not None and category not in hall.catalog:
            raise ScenarioError(f"{step.where}: unknown category {category!r}")


# --- writing -----------------------------------------------------------------------------------


def dumps(scenario: Scenario) -> str:
    """The scenario as TOML that :func:`loads` reads back to an equal scenario."""
    parts = ["[scenario]\n" + _table(_builtins(scenario.header, keep={"format"}))]
    if scenario.expect is not None:
        expect = _builtins(scenario.expect)
        lists = {k: expect.pop(k, []) for k in ("escalation", "standby_call", "roll_call",
                                                "instruction", "shift")}  # fmt: skip
        parts.append("[expect]\n" + _table(expect))
        for key, rows in lists.items():
            parts.extend(f"[[expect.{key}]]\n" + _table(e) for e in rows)
    parts.extend(dump_step(step) for step in scenario.steps)
    return "\n".join(parts)


def dump_step(step: Step) -> str:
    """One ``[[step]]`` table: appendable to a file that already ends with steps."""
    head: dict[str, Any] = {"at": format_time(step.at), "do": step.do}
    if step.case is not None:
        head["case"] = step.case
    if step.by is not None:
        head["by"] = step.by
    return "[[step]]\n" + _table({**head, **step.fields()})


def _builtins(
    struct: msgspec.Struct, *, skip: Collection[str] = (), keep: Collection[str] = ()
) -> dict[str, Any]:
    """A struct's fields as builtins, leaving out ``skip``, what is unset, and defaults (except
    the fields in ``keep``)."""
    out: dict[str, Any] = {}
    for info in _fields(type(struct)):
        value = getattr(struct, info.name)
        if info.name in skip or value is None or value == () or value == {}:
            continue
        default = info.default is not msgspec.NODEFAULT and value == info.default
        if default and info.name not in keep:
            continue
        out[info.encode_name] = msgspec.to_builtins(value, builtin_types=(date,))
    return out


def _table(values: Mapping[str, Any]) -> str:
    return "".join(f"{key} = {_value(value)}\n" for key, value in values.items())


def _value(value: Any) -> str:
    # JSON's string escapes are a subset of TOML basic strings', so json.dumps quotes safely.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, Sequence | Iterable):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to a scenario")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)
