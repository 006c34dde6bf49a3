"""The cases of a hall in its eighth month: what befalls each one, and when.

Pure (no I/O, no clock of its own). :func:`plan_hall` draws every case as the scenario
generator draws a district hall's day (source, category, urgency, place, and the side way it
takes, in the mix of DESIGN.md's seeds) and plans its life as timed commands:
intake, verification, acceptance, dispatch, signing, arrival, the result, the check, closing
and the callback, with the side ways (returns, reworks, reassignments, urges, escalations,
extensions, parking, joint enforcement, rejections) in realistic shares, and slow units.
Planning chooses only *when* things happen and *what* is asked: :mod:`bench.hall_play` runs
the plans through the real workflow, which decides every state, deadline and event.

Closed cases are spread over eight months; a case still open at ``now`` has its running clock
placed so that a drawn share of the open cases is green, amber or red at ``now`` (those cases
were reported over the months, most lately: the hall's backlog). Times are planned on a
working-time table of the hall's calendar (:class:`WorkClock`) so that lives keep their
clocks, or miss them, as intended.
"""

from __future__ import annotations

import bisect
import contextlib
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Category
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    Callback,
    Check,
    Close,
    Command,
    Dispatch,
    Escalate,
    Intake,
    Joint,
    Note,
    Reassign,
    Refuse,
    Reject,
    ReportBack,
    RequestExtension,
    RequestPark,
    RequestReturn,
    RequestVoid,
    Resume,
    Urge,
    Verify,
)
from dispatch.hall import Hall
from dispatch.intake_rules import default_urgency
from dispatch.models import (
    PUBLIC_SOURCES,
    Basis,
    Case,
    Kind,
    Shift,
    Source,
    Staff,
    Status,
    Step,
    Unit,
    Urgency,
)
from dispatch.routing import suggest_unit
from dispatch.scenario_gen import HOURLY, DayParams
from dispatch.scenario_gen import _Draw as DayDraw  # private there: see Planner.__init__
from dispatch.scenario_plan import CaseSpec, Variant

HISTORY = timedelta(days=243)
"""Eight months: how far back the oldest case was reported."""

DEFAULT_NOW = datetime(2026, 7, 15, 2, 30, tzinfo=UTC)
"""10:30 on a Wednesday in Asia/Shanghai: a working morning, so working-hour clocks run."""

SLOW_UNITS: Mapping[str, float] = {"housing": 2.6, "greening": 2.0, "water": 1.8, "municipal": 1.5}
"""Units that take longer than the rest to handle a case (a factor on their handling time):
the ones a hall's supervision report names for missed deadlines."""

# Open cases by status (percent): most are in the units' hands, a tenth parked (挂账).
OPEN_MIX: tuple[tuple[Status, float], ...] = (
    (Status.REPORTED, 5), (Status.VERIFIED, 3), (Status.ACCEPTED, 7), (Status.DISPATCHED, 14),
    (Status.ACKNOWLEDGED, 20), (Status.ON_SCENE, 26), (Status.REPORTED_BACK, 12),
    (Status.CHECKED, 5), (Status.PARKED, 8),
)  # fmt: skip

# Where an open case's running clock stands at ``now`` (shares green and amber; the rest is
# red), by the clock that runs. A backlog of 100,000 builds up in the hall's own short clocks
# (30 working minutes to accept or dispatch, two hours to check): what waits there is mostly
# overdue. The units' handling limits are hours to days: most of what they hold is on time.
# An urgent case still open is more likely a late one.
LIGHTS: Mapping[str, tuple[float, float]] = {
    "accept": (0.15, 0.05),
    "dispatch": (0.15, 0.05),
    "check": (0.30, 0.10),
    "result": (0.80, 0.08),
    "urgent": (0.30, 0.10),
}

DAY = DayParams()
"""What a case is and what befalls it, as the scenario generator draws a district hall's day:
sources, categories, urgency (7 %), rejections, returns, reassignments, reworks, joint
enforcement, late units and hall, the reporters' answers. One definition of the mix."""
# Side ways the day's generator leaves out, taken by a case that gets none of its own.
OTHER_WAYS: Mapping[str, float] = {"void": 0.005, "park": 0.01, "extension": 0.03}
ESCALATE_SHARE = 0.01  # escalated by hand
NOTE_SHARE = 0.05
BACKLOG_SKEW = 1.5
"""Open cases were reported ``HISTORY × U**BACKLOG_SKEW`` before ``now``: half of them in the
last 86 days, a few percent in the last day."""

_MIN = timedelta(minutes=1)
_SEC = timedelta(seconds=1)
_PARTNERS = ("police", "market", "traffic", "housing")  # who joins the enforcement squad

_REJECT = ("不属于城市管理范畴", "重复上报", "信息不全无法核实")
_RESULTS = ("已处置完毕，现场已恢复", "已整改到位，附处置后照片", "已联系责任人当场整改",
            "已清理完毕", "已维修复原", "已劝离并教育当事人")  # fmt: skip
_NOTES = ("已电话联系报告人", "责任单位已到场查看", "需协调物业配合", "已拍照留档")
_DESCRIPTIONS = ("", "", "现场情况见附图", "多次反映未解决，群众意见较大",
                 "影响行人通行，请尽快处置", "夜间尤为严重")  # fmt: skip


class Who(Enum):
    """Who sends a planned command; the operator is chosen when it is sent."""

    HALL = "hall"  # a dispatcher in working hours, the duty commander otherwise
    UNIT = "unit"  # the owning unit's terminal (its standby officer after hours)
    REPORTER = "reporter"  # patrols report from the grid's terminal, the rest via the hall


@dataclass(frozen=True, kw_only=True)
class HallParams:
    """What to seed. The same parameters always give the same hall (tokens aside)."""

    open_cases: int = 100_000
    events: int = 1_000_000
    command_ids: int = 200_000
    now: datetime = DEFAULT_NOW
    seed: int = 8

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if min(self.open_cases, self.events, self.command_ids) < 0:
            raise ValueError("counts must be 0 or more")


@dataclass(slots=True)
class Move:
    """One planned command: its op, who sends it, when, and its fields beyond id/case/version."""

    at: datetime
    op: type[Command]
    who: Who
    fields: dict[str, Any]


@dataclass(slots=True)
class Plan:
    """One case's planned life. ``case_id`` is given once every intake time is known."""

    moves: list[Move]
    keep_open: bool  # planned to stay open at ``now``: never merged away as a duplicate
    case_id: str = ""
    estimate: int = 0  # events it should make (for sizing the hall)


# --- working time ---------------------------------------------------------------------------


class WorkClock:
    """Working minutes on the hall's calendar between two dates, forwards and backwards.

    A table of the work periods as epoch seconds, searched by bisection: planning a hall asks
    this hundreds of thousands of times. It only decides when planned steps happen; every
    deadline comes from the real calendar in ``dispatch.sla``.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        starts: list[float] = []
        ends: list[float] = []
        periods = [(_hhmm(a), _hhmm(b)) for a, b in calendar.settings.periods]
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                for a, b in sorted(periods):
                    starts.append(datetime.combine(day, a, calendar.tz).timestamp())
                    ends.append(datetime.combine(day, b, calendar.tz).timestamp())
            day += timedelta(days=1)
        if not starts:
            raise ValueError("the calendar has no working time in the seeded months")
        self._starts, self._ends = starts, ends
        self._before: list[float] = [0.0]  # working seconds before each period
        for s, e in zip(starts, ends, strict=True):
            self._before.append(self._before[-1] + e - s)

    def _work(self, ts: float) -> float:
        i = bisect.bisect_right(self._starts, ts) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(ts, self._ends[i]) - self._starts[i]

    def _instant(self, work: float) -> float:
        work = min(max(work, 0.0), self._before[-1])
        i = max(0, min(bisect.bisect_right(self._before, work) - 1, len(self._starts) - 1))
        return self._starts[i] + work - self._before[i]

    def shift(self, at: datetime, minutes: float) -> datetime:
        """``minutes`` working minutes after ``at`` (before it when negative)."""
        ts = self._instant(self._work(at.timestamp()) + minutes * 60)
        if minutes < 0 and ts > at.timestamp():  # ``at`` was out of hours: count from it
            ts = at.timestamp()
        return datetime.fromtimestamp(round(ts), UTC)

    def is_working(self, at: datetime) -> bool:
        ts = at.timestamp()
        i = bisect.bisect_right(self._starts, ts) - 1
        return i >= 0 and ts < self._ends[i]


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Limit:
    """A clock's length as the plan reckons it: wall minutes, or working minutes."""

    minutes: float
    wall: bool


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Draft:
    """What a case is, and the side way it takes (``way``: reject, return, reassign, rework,
    joint, void, park, extension, or None) and the clock it misses (``late``), if any."""

    intake: dict[str, Any]  # the Intake's fields but its id, typed
    source: Source
    category: Category
    urgent: bool
    grid: str
    way: str | None
    late: str | None
    satisfied: bool


class _Path:
    """The moves of one case, each at or after the one before."""

    def __init__(self) -> None:
        self.moves: list[Move] = []
        self.anchor = 0  # the move that started the clock running at the end
        self.handled: datetime | None = None  # when the handling clocks last restarted

    @property
    def t(self) -> datetime:
        return self.moves[-1].at

    def add(self, at: datetime, op: type[Command], who: Who, **fields: Any) -> datetime:
        if self.moves:
            at = max(at, self.t + _SEC)
        self.moves.append(Move(at, op, who, fields))
        return at

    def mark(self) -> None:
        self.anchor = len(self.moves) - 1


class _Stop(Exception):
    """The case has reached the status it is planned to end in."""


class Planner:
    """Draws the hall's cases and their lives; deterministic for a given ``rng`` seed."""

    def __init__(self, hall: Hall, params: HallParams, rng: random.Random) -> None:
        self.hall, self.params, self.rng = hall, params, rng
        self.now = params.now.astimezone(UTC).replace(microsecond=0)
        self.start = self.now - HISTORY
        self.clock = work_clock(hall.calendar, self.now)
        # The scenario generator's draw of a case, reused rather than copied (its class is
        # private to dispatch.scenario_gen; a public draw there would serve both).
        self.draw = DayDraw(rng, DAY, hall)
        self.staff: dict[tuple[str, Shift | None], list[Staff]] = {}  # None: either shift
        for person in sorted(hall.staff.values(), key=lambda s: s.id):
            self.staff.setdefault((person.unit, person.shift), []).append(person)
            self.staff.setdefault((person.unit, None), []).append(person)
        self.units = sorted(hall.units.values(), key=lambda u: u.id)
        self.minutes_per_day = hall.calendar.minutes_per_day()
        self._routes: dict[tuple[Kind, str, str], Unit] = {}
        self._moving = False

    # --- the whole hall ---------------------------------------------------------------------

    def plans(self) -> list[Plan]:
        """Open cases first, then closed ones until the events reach the target; with ids."""
        statuses, weights = zip(*OPEN_MIX, strict=True)
        targets = self.rng.choices(statuses, weights, k=self.params.open_cases)
        plans = [self.open_plan(target) for target in targets]
        total = sum(p.estimate for p in plans)
        while total < self.params.events:
            plan = self.terminal_plan()
            plans.append(plan)
            total += plan.estimate
        _name(plans, self.hall.calendar)
        return plans

    # --- what a case is ---------------------------------------------------------------------

    def draft(self, shift: Shift, *, open_: bool) -> _Draft:
        """A case as the day's generator draws it on ``shift`` (fewer patrols at night); a
        case that is to stay open takes no way that would end it."""
        spec: CaseSpec = self.draw.case(timedelta(0), shift)
        rng = self.rng
        fields = {**spec.intake, "id": "-", "description": rng.choice(_DESCRIPTIONS)}
        intake = msgspec.convert(fields, Intake)
        category = self.hall.catalog.get(intake.category)
        way = _WAYS.get(spec.variant) if spec.variant is not None else None
        if spec.reject:
            way = "reject"
        if way is None:
            way = _pick(rng, OTHER_WAYS)
        if open_ and way not in ("joint", "reassign"):
            way = None
        return _Draft(
            intake={f: getattr(intake, f) for f in intake.__struct_fields__ if f != "id"},
            source=intake.source,
            category=category,
            urgent=(
                intake.urgency
                or default_urgency(category, intake.source, self.hall.settings.intake)
            )
            is Urgency.URGENT,
            grid=intake.grid or "",
            way=way,
            late=_LATE.get(spec.late) if spec.late is not None and not open_ else None,
            satisfied=spec.satisfied,
        )

    # --- clocks -----------------------------------------------------------------------------

    def limits(self, d: _Draft) -> dict[str, Limit]:
        """The case's clocks as ``dispatch.sla`` sets them (working days as whole days)."""
        s = self.hall.settings.sla
        if d.urgent:
            return {
                "accept": Limit(s.urgent_accept_minutes, True),
                "dispatch": Limit(s.urgent_dispatch_minutes, True),
                "on_scene": Limit(s.urgent_on_scene_minutes, True),
                "result": Limit(s.urgent_result_minutes, True),
                "check": Limit(s.urgent_check_minutes, True),
            }
        c = d.category
        if c.basis is Basis.WORK_DAYS:
            result = Limit(c.limit * self.minutes_per_day, False)
        else:
            result = Limit(c.limit, c.basis is Basis.WALL)
        return {
            "accept": Limit(s.accept_work_minutes, False),
            "dispatch": Limit(s.dispatch_work_minutes, False),
            "result": result,
            "check": Limit(s.check_work_minutes, False),
        }

    def after(self, at: datetime, limit: Limit, share: float) -> datetime:
        """``share`` of the clock after ``at`` (before it when negative), in whole seconds.

        While a life is planned to be moved in time (:meth:`open_plan`), working minutes are
        taken as wall minutes: moved to other hours, a gap of working time could span a night
        and miss a clock it was meant to keep, while wall minutes never count more working
        time than they are long.
        """
        if limit.wall or self._moving:
            return at + timedelta(seconds=round(limit.minutes * share * 60))
        return self.clock.shift(at, limit.minutes * share)

    def minutes(self, lo: float, hi: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(lo, hi) * 60))

    # --- units and people -------------------------------------------------------------------

    def route(self, d: _Draft, *, department: bool = False) -> Unit:
        """The unit the routing rules suggest: the locality for an event, else (or with
        ``department``) the category's department."""
        kind = Kind.COMPONENT if department else d.category.kind
        key = (kind, d.category.code, d.grid)
        if key not in self._routes:
            probe = Case(
                id="probe", kind=kind, category=d.category.code, source=d.source,
                urgency=Urgency.GENERAL, status=Status.ACCEPTED, title="", grid=d.grid,
                reported_at=self.now,
            )  # fmt: skip
            self._routes[key] = suggest_unit(probe, self.hall) or self.units[0]
        return self._routes[key]

    def person(self, unit: str, at: datetime, *, other_than: str | None = None) -> str | None:
        """Someone of the unit on shift at ``at`` (now and then nobody: the unit picks)."""
        shift: Shift | None = Shift.DAY if self.clock.is_working(at) else Shift.STANDBY
        if self._moving:  # ``at`` is not when it will happen: anyone of the unit
            shift = None
        people = [p for p in self.staff.get((unit, shift), []) if p.id != other_than]
        if not people or self.rng.random() < 0.15:
            return None
        return self.rng.choice(people).id

    # --- a closed (or rejected, voided, merged) case ----------------------------------------

    def terminal_plan(self) -> Plan:
        rng = self.rng
        day = (self.start + timedelta(days=rng.randrange(HISTORY.days))).astimezone(self.tz)
        hour = rng.choices(range(24), HOURLY)[0]
        t0 = (day.replace(hour=hour, minute=0, second=0) + self.minutes(0, 59)).astimezone(UTC)
        shift = Shift.DAY if self.clock.is_working(t0) else Shift.STANDBY
        path = _Path()
        with contextlib.suppress(_Stop):
            self.life(path, self.draft(shift, open_=False), t0, None)
        if path.t >= self.now:  # a life that would run past ``now`` happened a little earlier
            _shift(path.moves, self.now - path.t - self.minutes(1, 600))
        return Plan(path.moves, keep_open=False, estimate=_estimate(path.moves, open_=False))

    @property
    def tz(self) -> ZoneInfo:
        return self.hall.calendar.tz

    # --- a case still open at ``now`` -------------------------------------------------------

    def open_plan(self, target: Status) -> Plan:
        d = self.draft(Shift.DAY, open_=True)
        if target is Status.VERIFIED and d.source not in PUBLIC_SOURCES:
            target = Status.REPORTED
        path = _Path()
        self._moving = True
        try:
            with contextlib.suppress(_Stop):
                self.life(path, d, self.now - timedelta(days=3), target)
        finally:
            self._moving = False
        self._place(path, d, target)
        self._tail(path, target)
        return Plan(path.moves, keep_open=True, estimate=_estimate(path.moves, open_=True))

    def _place(self, path: _Path, d: _Draft, target: Status) -> None:
        """Move the life so that its running clock stands where a drawn light says at ``now``.

        The clock's start (the anchor move) goes back from ``now``; the moves after it are
        squeezed in before ``now``. Those before it keep their pace, and the case was reported
        when a backlog's cases were, most of them lately, some months ago: a case reported
        before its life needs waited before the anchor, and the step that waited missed its
        deadline (breached and escalated, as the hub would have done).
        """
        moves, a = path.moves, path.anchor
        anchor = min(self._anchor_time(d, target), self.now - 2 * _MIN)
        _shift(moves, anchor - moves[a].at)
        limit = self.now - 30 * _SEC
        if moves[-1].at > limit:
            span = (limit - anchor) / (moves[-1].at - anchor)
            for k in range(a + 1, len(moves)):
                squeezed = anchor + (moves[k].at - anchor) * span
                moves[k].at = max(squeezed.replace(microsecond=0), moves[k - 1].at + _SEC)
        reported = self.now - HISTORY * self.rng.random() ** BACKLOG_SKEW
        if a > 0 and reported < moves[0].at:
            _shift(moves[:a], max(reported, self.start) - moves[0].at)

    def _anchor_time(self, d: _Draft, target: Status) -> datetime:
        """When the running clock of an open case started, for a light drawn at ``now``."""
        rng = self.rng
        if target is Status.PARKED:  # the clocks stand still: parked any time these months
            return self.now - HISTORY * rng.random() ** 2 - self.minutes(10, 120)
        if target is Status.CHECKED:  # no clock runs: checked lately, not yet closed
            return self.now - timedelta(hours=round(rng.expovariate(1 / 24), 3))
        clock = _RUNNING.get(target, "result")
        if d.urgent and target in (Status.DISPATCHED, Status.ACKNOWLEDGED):
            clock = "on_scene"
        green, amber = LIGHTS["urgent" if d.urgent else clock if clock in LIGHTS else "result"]
        r = rng.random()
        if r < green:
            used = rng.uniform(0.02, 0.78)
        elif r < green + amber:
            used = rng.uniform(0.82, 0.98)
        else:  # overdue by a minute to months: log-uniform, a long tail as in a real backlog
            used = 1 + 10 ** rng.uniform(-1.5, 2.5)
        start = self.after(self.now, self.limits(d)[clock], -used)
        return max(start, self.start + timedelta(days=2))

    def _tail(self, path: _Path, target: Status) -> None:
        """The last hours before ``now`` of a case in a unit's hands: a request of the unit
        still waiting for the hall, or the hall urging the unit."""
        if target not in (Status.DISPATCHED, Status.ACKNOWLEDGED, Status.ON_SCENE):
            return
        rng = self.rng
        at = min(path.t + self.minutes(5, 240), self.now - self.minutes(0.1, 0.4))
        if at <= path.t:
            return
        r = rng.random()
        if r < 0.03:
            path.add(at, RequestReturn, Who.UNIT, reason="非本单位职责，请改派")
        elif r < 0.06:
            path.add(at, RequestExtension, Who.UNIT, minutes=rng.choice((240, 480, 1440)),
                     reason="需协调产权单位，申请延期")  # fmt: skip
        elif r < 0.20:
            path.add(at, Urge, Who.HALL, reason="请加快处置并及时反馈")

    # --- one life, closed or cut short at ``target`` ----------------------------------------

    def life(self, p: _Path, d: _Draft, t0: datetime, target: Status | None) -> None:
        """The case's moves from intake on; raises _Stop once it reaches ``target`` (None: to
        its end). The last move that started a running clock is marked as the anchor."""
        rng, lim = self.rng, self.limits(d)
        late = d.late
        p.add(t0, Intake, Who.REPORTER, **d.intake)
        _stop_at(target, Status.REPORTED)
        public = d.source in PUBLIC_SOURCES
        if d.way == "reject":
            at = self.after(t0, lim["accept"], rng.uniform(0.2, 0.7))
            if public:
                p.add(at, Verify, Who.HALL, confirmed=False, reason="现场核实不属实")
            else:
                p.add(at, Reject, Who.HALL, reason=rng.choice(_REJECT))
            return
        if public:
            at = self.after(t0, lim["accept"], rng.uniform(0.1, 0.4))
            p.add(at, Verify, Who.HALL, confirmed=True)
            _stop_at(target, Status.VERIFIED)
        share = rng.uniform(1.2, 4) if late == "accept" else rng.uniform(0.45, 0.75)
        p.add(self.after(t0, lim["accept"], share), Accept, Who.HALL)
        p.mark()
        if d.way == "return" or (target is Status.ACCEPTED and rng.random() < 0.1):
            first = self.route(d)
            self._dispatch(p, d, first, lim, late)
            self._sign(p, d)
            self._return(p)
            _stop_at(target, Status.ACCEPTED)
            second = self.route(d, department=True)
            self._dispatch(p, d, second if second.id != first.id else self.units[0], lim, None)
        else:
            _stop_at(target, Status.ACCEPTED)
            self._dispatch(p, d, self.route(d), lim, late)
        if d.way == "reassign":
            self._reassign(p)
        if d.way == "rework" or (target in _REWORKABLE and rng.random() < 0.05):
            self._sign(p, d)
            self._handle(p, d, lim, None, None)
            at = self.after(p.t, lim["check"], rng.uniform(0.2, 0.7))
            p.handled = p.add(at, Check, Who.HALL, passed=False, reason="核查未整改到位，返工")
            p.mark()
        _stop_at(target, Status.DISPATCHED)
        self._sign(p, d)
        self._aside(p)
        _stop_at(target, Status.ACKNOWLEDGED)
        if d.way == "void":
            reason = "当事人已自行整改，申请作废"
            p.add(p.t + self.minutes(5, 60), RequestVoid, Who.UNIT, reason=reason)
            p.add(p.t + self.minutes(5, 30), Approve, Who.HALL, request="void")
            return
        if target is Status.PARKED or d.way == "park":
            p.add(p.t + self.minutes(10, 120), RequestPark, Who.UNIT,
                  reason="涉及历史遗留问题，暂无法解决，申请挂账")  # fmt: skip
            p.add(p.t + self.minutes(5, 60), Approve, Who.HALL, request="park")
            p.mark()
            _stop_at(target, Status.PARKED)
            parked = timedelta(days=round(rng.uniform(1, 30), 4))
            p.add(p.t + parked, Resume, Who.HALL, reason="条件具备，恢复处置")
            if p.handled is not None:
                p.handled += parked  # resuming moves the clocks on by the time parked
        self._handle(p, d, lim, late, target)
        share = rng.uniform(1.2, 3) if late == "check" else rng.uniform(0.2, 0.7)
        p.add(self.after(p.t, lim["check"], share), Check, Who.HALL, passed=True)
        p.mark()
        _stop_at(target, Status.CHECKED)
        p.add(p.t + self.minutes(2, 20), Close, Who.HALL)
        if public:
            p.add(p.t + self.minutes(15, 240), Callback, Who.HALL,
                  satisfied=d.satisfied)  # fmt: skip

    def _aside(self, p: _Path) -> None:
        """Now and then, once the unit has the case: a note, or an escalation by hand."""
        r = self.rng.random()
        if r < NOTE_SHARE:
            p.add(p.t + self.minutes(1, 30), Note, Who.HALL, reason=self.rng.choice(_NOTES))
        elif r < NOTE_SHARE + ESCALATE_SHARE:
            reason = "跨部门协调困难，提请上级协调"
            p.add(p.t + self.minutes(2, 60), Escalate, Who.HALL, reason=reason)

    def _dispatch(
        self, p: _Path, d: _Draft, unit: Unit, lim: Mapping[str, Limit], late: str | None
    ) -> None:
        """派遣 to the unit and maybe a person; an enforcement event now and then goes to
        joint enforcement (联合执法) instead, the squad leading."""
        rng = self.rng
        share = rng.uniform(1.2, 4) if late == "dispatch" else rng.uniform(0.2, 0.7)
        at = self.after(p.t, lim["dispatch"], share)
        enforcement = d.category.kind is Kind.EVENT and d.category.dept == "enforcement"
        partners = [u.id for u in self.units if u.dept in _PARTNERS and u.id != unit.id]
        if d.way == "joint" and enforcement and partners:
            lead = self.route(d, department=True)
            supporting = rng.sample([u for u in partners if u != lead.id], rng.randint(1, 2))
            p.handled = p.add(at, Joint, Who.HALL, lead=lead.id, supporting=tuple(supporting),
                              reason="多部门联合执法")  # fmt: skip
        else:
            staff = self.person(unit.id, at)
            p.handled = p.add(at, Dispatch, Who.HALL, unit=unit.id, staff=staff)
        p.mark()

    def _sign(self, p: _Path, d: _Draft) -> None:
        """签收: within minutes, faster for an urgent case."""
        p.add(p.t + (self.minutes(0.5, 3) if d.urgent else self.minutes(2, 25)), Acknowledge,
              Who.UNIT)  # fmt: skip

    def _return(self, p: _Path) -> None:
        """退单 asked by the unit and approved: back to ACCEPTED, the dispatch clock restarted."""
        p.add(p.t + self.minutes(5, 40), RequestReturn, Who.UNIT, reason="非本单位职责，请改派")
        p.add(p.t + self.minutes(5, 30), Approve, Who.HALL, request="return")
        p.mark()

    def _reassign(self, p: _Path) -> None:
        """Nobody signs: the hall urges, then gives the case to a colleague (改派)."""
        dispatch = p.moves[-1]
        unit, staff = dispatch.fields.get("unit"), dispatch.fields.get("staff")
        if dispatch.op is not Dispatch or not isinstance(unit, str):
            return
        other = self.person(unit, p.t, other_than=staff) if staff else None
        other = other or next((s.id for s in self.hall.staff.values()
                               if s.unit == unit and s.id != staff), None)  # fmt: skip
        if other is None:
            return
        p.add(p.t + self.minutes(15, 40), Urge, Who.HALL, reason="派遣后长时间未签收")
        p.handled = p.add(p.t + self.minutes(5, 20), Reassign, Who.HALL, unit=unit, staff=other,
                          reason="原处置人未响应，改派")  # fmt: skip
        p.mark()

    def _handle(
        self,
        p: _Path,
        d: _Draft,
        lim: Mapping[str, Limit],
        late: str | None,
        target: Status | None,
    ) -> None:
        """The unit's part after signing: on scene, maybe more time asked, the result
        reported back — late in a slow unit or a slow case, and then the hall chases it."""
        rng = self.rng
        slow = SLOW_UNITS.get(_owner_dept(p, self.hall), 1.0)
        if late == "on_scene" and "on_scene" in lim:  # the 15 minutes of an urgent case missed
            arrive = self.after(p.handled or p.t, lim["on_scene"], rng.uniform(1.1, 2.5))
        elif d.urgent:
            arrive = p.t + self.minutes(2, 9)
        else:
            arrive = p.t + self.minutes(10, 60) * slow
        p.add(arrive, Arrive, Who.UNIT)
        _stop_at(target, Status.ON_SCENE)
        extra = 0
        if d.way == "extension":
            extra = rng.choice((240, 480, 1440))
            p.add(p.t + self.minutes(5, 60), RequestExtension, Who.UNIT, minutes=extra,
                  reason="需协调产权单位，申请延期")  # fmt: skip
            if rng.random() < 0.9:
                p.add(p.t + self.minutes(5, 30), Approve, Who.HALL, request="extension")
            else:
                extra = 0
                p.add(p.t + self.minutes(5, 30), Refuse, Who.HALL, request="extension",
                      reason="期限内可以完成，不予延期")  # fmt: skip
        started = p.handled or p.t
        if late == "result":
            share = rng.uniform(1.1, 2.5)
        else:
            share = min(rng.uniform(0.3, 0.85) * slow, rng.uniform(1.05, 2.5))
        limit = Limit(lim["result"].minutes + extra, lim["result"].wall)
        due = self.after(started, limit, 1.0)
        at = max(self.after(started, limit, share), p.t + self.minutes(5, 30))
        if at > due + 5 * _MIN and rng.random() < 0.6:  # the hall chases a late unit
            late_by = (at - due) / _MIN
            p.add(due + self.minutes(1, min(120, late_by - 2)), Urge, Who.HALL,
                  reason="已超时，请立即处置并反馈")  # fmt: skip
        p.add(at, ReportBack, Who.UNIT, reason=rng.choice(_RESULTS))
        p.mark()
        _stop_at(target, Status.REPORTED_BACK)


_RUNNING: Mapping[Status, str] = {
    Status.REPORTED: "accept",
    Status.VERIFIED: "accept",
    Status.ACCEPTED: "dispatch",
    Status.REPORTED_BACK: "check",
}
"""The clock that runs in an open status (in the units' hands: the result)."""


_WAYS: Mapping[Variant, str] = {
    Variant.RETURN: "return", Variant.REASSIGN: "reassign", Variant.REWORK: "rework",
    Variant.JOINT: "joint",
}  # fmt: skip
_LATE: Mapping[Step, str] = {
    Step.ACCEPT: "accept", Step.DISPATCH: "dispatch", Step.ON_SCENE: "on_scene",
    Step.RESULT: "result", Step.CHECK: "check",
}  # fmt: skip
"""The generator's late clock, by the name of the limit it is planned against."""

_REWORKABLE = frozenset(
    {Status.DISPATCHED, Status.ACKNOWLEDGED, Status.ON_SCENE, Status.REPORTED_BACK,
     Status.CHECKED}
)  # fmt: skip
"""Open statuses a case may have reached a second time, after a failed check (返工)."""


def _stop_at(target: Status | None, reached: Status) -> None:
    if target is reached:
        raise _Stop


def _owner_dept(p: _Path, hall: Hall) -> str:
    """The department type of the unit the case was last sent to."""
    for move in reversed(p.moves):
        if move.op in (Dispatch, Joint, Reassign):
            unit = move.fields.get("unit") or move.fields.get("lead")
            return (hall.units[unit].dept or "") if isinstance(unit, str) else ""
    return ""


def _pick(rng: random.Random, shares: Mapping[str, float]) -> str | None:
    """One of the keys by its share, or None for the rest (shares summing to at most 1)."""
    r = rng.random()
    for key, share in shares.items():
        if r < share:
            return key
        r -= share
    return None


def _shift(moves: Sequence[Move], by: timedelta) -> None:
    for move in moves:
        move.at += by


_EXTRA_EVENTS: Mapping[type[Command], int] = {Escalate: 1}
"""Events a move writes besides its own (a manual escalation alerts the level above)."""
_UNPLANNED = {True: 1.70, False: 1.05}
"""Events per planned one for an open case and a finished one: the events nobody plans
(breaches with their escalations and alerts, duplicate flags), as measured on seeded halls.
Nearly every open case breached a clock once (escalated, alerted): the backlog's wait."""


def _estimate(moves: Sequence[Move], *, open_: bool) -> int:
    return round(sum(1 + _EXTRA_EVENTS.get(m.op, 0) for m in moves) * _UNPLANNED[open_])


def _name(plans: list[Plan], calendar: WorkingCalendar) -> None:
    """Case ids as the engine makes them: ``YYMMDD`` of the intake in the hall's time zone,
    then the day's serial in intake order (``2607150042``)."""
    order = sorted(range(len(plans)), key=lambda i: (plans[i].moves[0].at, i))
    serials: Counter[str] = Counter()
    for i in order:
        day = plans[i].moves[0].at.astimezone(calendar.tz).strftime("%y%m%d")
        serials[day] += 1
        plans[i].case_id = f"{day}{serials[day]:04d}"


def plan_hall(hall: Hall, params: HallParams) -> list[Plan]:
    """Every case's planned life: the open ones, then the closed ones, named in intake order."""
    return Planner(hall, params, random.Random(params.seed)).plans()


def work_clock(calendar: WorkingCalendar, now: datetime) -> WorkClock:
    """A working-time table covering the seeded months around ``now``, and a margin."""
    start = now - HISTORY
    return WorkClock(
        calendar,
        (start - timedelta(days=400)).astimezone(calendar.tz).date(),
        (now + timedelta(days=60)).astimezone(calendar.tz).date(),
    )
