"""A seeded, plausible day of a district hall as a scenario (``griddesk scenario generate``).

:func:`generate` draws the day's cases (when they arrive, from which source, of which
category, where, how urgent) and what befalls each one (rejected, a unit too slow for a
deadline, a return, a rework, joint enforcement, left open at the end); the planner
(:mod:`dispatch.scenario_plan`) times every step against the real workflow and SLA clocks.
The ``[expect]`` table is what that run ends with: the supervision figures and every
escalation the hub makes on a missed deadline. Same seed and parameters, same text.
Pure: the city, catalog and settings come in as arguments; nothing is read or timed here.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any, Protocol

from dispatch import metrics
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog, Category
from dispatch.commands import Intake
from dispatch.config import Settings
from dispatch.hall import Hall
from dispatch.intake_rules import default_urgency
from dispatch.models import (
    PROACTIVE_SOURCES,
    Area,
    AreaKind,
    Kind,
    Shift,
    Source,
    Staff,
    Status,
    Unit,
    Urgency,
)
from dispatch.models import Step as Clock
from dispatch.scenario import (
    FIGURES,
    HALL,
    HALL_ACTOR,
    Expect,
    ExpectedEscalation,
    Header,
    Scenario,
    ScenarioError,
    Step,
    format_time,
    make_step,
    parse_time,
)
from dispatch.scenario_plan import (
    CaseSpec,
    Crew,
    Day,
    Life,
    TooClose,
    Variant,
    plan_case,
    replay,
)

# Shares of the day's cases by source. No published breakdown was at hand: these are a
# judgement that keeps DESIGN.md's ranking — patrols find most (one street's target: 85 %
# found first by its own patrols), the 12345 hotline brings the most public reports, then
# citizens' photos, video analytics, and the police's forwarded non-police alerts.
DEFAULT_SOURCES: tuple[tuple[Source, float], ...] = (
    (Source.PATROL, 0.45), (Source.HOTLINE, 0.25), (Source.PHOTO, 0.15), (Source.VIDEO, 0.10),
    (Source.POLICE, 0.05),
)  # fmt: skip

# Weight of each big category (大类) among the day's non-urgent cases. Street order,
# city appearance and public facilities dominate the counts of grid systems' reports.
BIG_WEIGHTS: Mapping[str, float] = {
    "E05": 0.25, "E01": 0.20, "03": 0.05,  # 街面秩序; 市容环境 (events and components)
    "01": 0.15, "E02": 0.07, "E03": 0.06, "E06": 0.06,  # 公用设施, 宣传广告, 施工管理, 其他
    "02": 0.05, "04": 0.04, "E04": 0.03, "05": 0.02, "06": 0.02,
}  # fmt: skip

# What the cameras flag and what the police forward (codes of the shipped catalog; a hall
# with its own catalog falls back to the big-category weights).
VIDEO_CATEGORIES = ("E0504", "E0501", "E0502", "E0503", "E0505", "E0101", "E0108", "E0109")
POLICE_CATEGORIES = ("E0602", "E0611", "E0609", "E0506", "E0302", "E0308", "E0501")

# Relative intake per local hour: quiet nights, a morning peak as patrols go out and the
# hotline opens, a lunch dip, an afternoon peak, a long evening tail of hotline calls.
HOURLY: tuple[float, ...] = (
    0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.2, 3.0, 6.5, 9.0, 9.5, 7.5,
    4.0, 5.0, 8.0, 8.5, 7.5, 5.5, 3.5, 2.8, 2.2, 1.6, 1.1, 0.8,
)  # fmt: skip

_HEADER = ("seed", "date", "start", "end", "demo_from", "city")
_NIGHT_SOURCE = {Source.PATROL: 0.2, Source.PHOTO: 0.5}  # few patrols and photos after hours
_DAY = timedelta(hours=24)
_MINUTE = timedelta(minutes=1)


SEED_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("cases_per_day", "cases per day", "~300 (屯溪: 73,342 in eight months)"),
    ("found_first", "found first (patrol + video)", "85 % (盈浦's target, 先行发现率)"),
    ("closure_rate", "closed / accepted (结案率)", "96.57 % (屯溪: 70,830 of 73,342); 97 % (盈浦)"),
    ("on_time_rate", "closed on time / due (按期结案率)", "—"),
    ("urgent_share", "urgent", "a few per cent"),
)
"""What the seeds' halls report or target, for ``griddesk scenario check`` (key, label, value)."""


def scenario_figures(scenario: Scenario, catalog: Catalog, settings: Settings) -> dict[str, float]:
    """The figures of :data:`SEED_FIGURES` for a scenario: from its intakes (urgent as the
    hall's intake rules make them) and its ``[expect]`` table (what replaying it ends with;
    its open overdue cases stand in for the open ones due to be closed)."""
    intakes = [s.template for s in scenario.steps if isinstance(s.template, Intake)]
    out: dict[str, float] = {}
    # The window's share of a whole day's intake, by the day's shape (:data:`HOURLY`): an
    # evening is not a quarter of the day's cases.
    minutes = range(scenario.start // _MINUTE, scenario.end // _MINUTE)
    covered = sum(HOURLY[m // 60 % 24] for m in minutes) / (60 * sum(HOURLY))
    if covered > 0:
        out["cases_per_day"] = len(intakes) / covered
    if intakes:
        out["found_first"] = sum(i.source in PROACTIVE_SOURCES for i in intakes) / len(intakes)
        urgent = [
            (i.urgency or default_urgency(catalog.get(i.category), i.source, settings.intake))
            is Urgency.URGENT
            for i in intakes
            if i.category in catalog
        ]
        if urgent:
            out["urgent_share"] = sum(urgent) / len(urgent)
    expect = scenario.expect
    if expect is not None:
        if expect.accepted and expect.closed is not None:
            out["closure_rate"] = expect.closed / expect.accepted
        if expect.closed_on_time is not None and expect.closed is not None:
            due = expect.closed + (expect.overdue or 0)
            if due:
                out["on_time_rate"] = expect.closed_on_time / due
    return out


class GeneratorError(ScenarioError):
    """Parameters the generator cannot make a day from; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class DayParams:
    """What a generated day looks like; the defaults are calibrated on a district hall."""

    seed: int = 1
    date: date = date(2026, 11, 23)  # a Monday: a working day on the default calendar
    start: str = "00:00"
    end: str = "24:00"  # hours past 24 run into the next day
    demo_from: str | None = None  # where ``griddesk demo`` opens the day; None: at its start
    # Per full day (73,342 in eight months in one district); a shorter window gets its share.
    cases: int = 300
    sources: tuple[tuple[Source, float], ...] = DEFAULT_SOURCES
    # Patrol and video's share of the day (先行发现率: 盈浦's target is 85 %): the sources are
    # scaled to it, each group keeping its own mix; None: the sources as given.
    found_first: float | None = 0.85
    urgent_share: float = 0.07  # police alerts, safety-hazard components, urgent hotline tickets
    slow_share: float = 0.08  # cases whose unit misses a handling deadline (when it can)
    hall_slow_share: float = 0.02  # cases the hall itself is late to accept, dispatch or check
    reject_share: float = 0.02  # not accepted (不予立案, or voided at verification)
    open_share: float = 0.03  # accepted but not closed at the end (96.57 % closed: 70,830/73,342)
    return_share: float = 0.04  # 退单, approved, dispatched to the department
    reassign_share: float = 0.02  # nobody moves: urged, then 改派 to a colleague
    rework_share: float = 0.04  # the check fails: 返工
    joint_share: float = 0.10  # of enforcement events: 联合执法
    satisfied_share: float = 0.92  # of callbacks
    after_hours: bool = False  # the hall runs on standby the whole window
    name: str = ""  # default: generated-<date>-s<seed>
    city: str = "demo"  # the [scenario] city the ids refer to


class CityLike(Protocol):
    @property
    def areas(self) -> Sequence[Area]: ...
    @property
    def units(self) -> Sequence[Unit]: ...
    @property
    def staff(self) -> Sequence[Staff]: ...


def generate(
    params: DayParams, *, city: Hall | CityLike, catalog: Catalog, settings: Settings
) -> Scenario:
    """The day ``params`` describe, in ``city`` (a Hall, or its areas, units and staff)."""
    start, end = _check(params)
    hall = _hall(city, catalog, settings)
    if not _grids(hall) or not hall.units:
        raise GeneratorError("the city needs areas to put cases in and units to send them to")
    frame = Scenario(_header(params, settings), ())
    initial, changes = _shifts(params, hall, start, end)
    day = Day(hall=hall, frame=frame, end=end, crew=Crew(hall, initial, changes))
    rng = random.Random(params.seed)
    draw = _Draw(rng, params, hall)
    lives: list[Life] = []
    for at in _arrivals(rng, params, start, end):
        spec = draw.case(at, day.crew.shift(at))
        life = plan_case(day, spec, rng.getrandbits(32))
        if life is not None:
            day.crew.commit(life)
            lives.append(life)
    _leave_open(rng, params, day, lives)
    width = max(3, len(str(len(lives))))
    names = [f"c{i:0{width}d}" for i in range(1, len(lives) + 1)]
    shifts = _hand_overs(frame, changes)
    return Scenario(frame.header, _steps(lives, names, shifts), _expect(lives, names, day))


HAND_OVER_NOTES: Mapping[Shift, str] = {
    Shift.STANDBY: "白班交班：未结案件移交备勤，紧急、超时和待审批案件见交接班报告，请跟进。",
    Shift.DAY: "备勤交班：夜间案件见交接班报告，请白班跟进。",
}
"""The outgoing shift's note (交班记录) before each hand-over, by the shift coming on."""
NOTE_BEFORE = timedelta(minutes=5)
"""How long before the shift change the outgoing shift writes its note."""


def _hand_overs(frame: Scenario, changes: Sequence[tuple[timedelta, Shift]]) -> list[Step]:
    """Each shift change with the hand-over around it (交接班): the outgoing shift's note a few
    minutes before, the change, and the incoming shift acknowledging the report of the shift
    since the change before (the window's first change hands over a shift the script did not
    play, so it has neither)."""
    steps: list[Step] = []
    previous: timedelta | None = None
    for at, to in changes:
        if previous is not None:
            note = HAND_OVER_NOTES[to]
            steps.append(make_step(0, at - NOTE_BEFORE, "handover_note", by=HALL, text=note))
        steps.append(make_step(0, at, "shift_change", by=HALL, to=str(to)))
        if previous is not None:
            since, until = frame.instant(previous), frame.instant(at)
            steps.append(make_step(0, at, "handover_ack", by=HALL, since=since, until=until,
                                   outgoing=HALL_ACTOR.name))  # fmt: skip
        previous = at
    return steps


# --- parameters, city and header -------------------------------------------------------------


def _check(params: DayParams) -> tuple[timedelta, timedelta]:
    try:
        start, end = parse_time(params.start), parse_time(params.end)
        opening = start if params.demo_from is None else parse_time(params.demo_from)
    except ScenarioError as exc:
        raise GeneratorError(f"start/end/demo_from: {exc}") from None
    if end <= start:
        raise GeneratorError(f"end {params.end} must come after start {params.start}")
    if not start <= opening <= end:
        raise GeneratorError(f"demo_from {params.demo_from} is outside {params.start}–{params.end}")
    if params.cases < 0:
        raise GeneratorError(f"cases must be 0 or more, not {params.cases}")
    for name, value in asdict(params).items():
        if (name.endswith("_share") or name == "found_first") and not (
            value is None or 0 <= value <= 1
        ):
            raise GeneratorError(f"{name} must be between 0 and 1, not {value}")
    weights = [w for _, w in params.sources]
    if not weights or min(weights) < 0 or sum(weights) <= 0:
        raise GeneratorError("sources need positive weights (none negative)")
    for source, _ in params.sources:
        if not isinstance(source, Source):
            raise GeneratorError(f"unknown source {source!r}; one of {', '.join(Source)}")
    return start, end


def _hall(city: Hall | CityLike, catalog: Catalog, settings: Settings) -> Hall:
    if isinstance(city, Hall):
        calendar = WorkingCalendar.from_settings(settings)
        return replace(city, settings=settings, catalog=catalog, calendar=calendar)
    return Hall.of(settings, catalog, areas=city.areas, units=city.units, staff=city.staff)


def _header(params: DayParams, settings: Settings) -> Header:
    """The header, with every parameter that is not a header field under ``generator``."""
    p = asdict(params)
    generator = {k: v for k, v in p.items() if k not in (*_HEADER, "name", "sources")}
    generator["sources"] = {str(s): w for s, w in params.sources}
    title = f"生成的一天 {params.date.isoformat()} (seed {params.seed})"
    name = params.name or f"generated-{params.date.isoformat()}-s{params.seed}"
    return Header(**{k: p[k] for k in _HEADER}, name=name, title=title, generator=generator,
                  description="Generated by griddesk; [expect] is what replaying it ends with.",
                  timezone=settings.clock.timezone)  # fmt: skip


def _shifts(
    params: DayParams, hall: Hall, start: timedelta, end: timedelta
) -> tuple[Shift, list[tuple[timedelta, Shift]]]:
    """The shift at the start and the hand-overs within the window (day at the first work
    period's opening, standby at the last one's close, on working days)."""
    hours = _work_hours(hall)
    if params.after_hours or hours is None:
        return Shift.STANDBY, [(start, Shift.STANDBY)]
    opens, closes = hours
    bounds = []
    for d in range(2):
        if hall.calendar.is_working_day(params.date + timedelta(days=d)):
            bounds += [(d * _DAY + opens, Shift.DAY), (d * _DAY + closes, Shift.STANDBY)]
    initial = Shift.STANDBY
    for at, shift in bounds:
        if at <= start:
            initial = shift
    # The city's roster starts on the day shift: after hours, hand over first thing.
    changes = [] if initial is Shift.DAY else [(start, Shift.STANDBY)]
    current = initial
    for at, shift in bounds:
        if start < at < end and shift is not current:
            changes.append((at, shift))
            current = shift
    return initial, changes


def _work_hours(hall: Hall) -> tuple[timedelta, timedelta] | None:
    """When the day shift opens and closes (the first work period's start, the last's end)."""
    periods = hall.settings.calendar.periods
    if not periods:
        return None
    return min(parse_time(a) for a, _ in periods), max(parse_time(b) for _, b in periods)


# --- what arrives ----------------------------------------------------------------------------


def _arrivals(
    rng: random.Random, params: DayParams, start: timedelta, end: timedelta
) -> list[timedelta]:
    """Whole minutes of the window, drawn along the day's shape; the window's share of cases."""
    minutes = range(start // timedelta(minutes=1), end // timedelta(minutes=1))
    cumulative = list(itertools.accumulate(HOURLY[m // 60 % 24] for m in minutes))
    if not cumulative:
        return []
    count = round(params.cases * cumulative[-1] / (60 * sum(HOURLY)))
    drawn = [bisect.bisect_right(cumulative, rng.random() * cumulative[-1]) for _ in range(count)]
    return sorted(timedelta(minutes=minutes[min(i, len(minutes) - 1)]) for i in drawn)


def day_sources(params: DayParams) -> tuple[tuple[Source, float], ...]:
    """The day's source mix, summing to 1: ``sources`` scaled so patrol and video make up
    ``found_first`` of it (each group keeping its own proportions), when that is set and both
    groups have weight."""
    total = sum(w for _, w in params.sources)
    mix = [(s, w / total) for s, w in params.sources]
    if params.found_first is None:
        return tuple(mix)
    first = sum(w for s, w in mix if s in PROACTIVE_SOURCES)
    rest = 1.0 - first
    if first <= 0 or rest <= 0:
        return tuple(mix)
    return tuple(
        (s, w * (params.found_first / first if s in PROACTIVE_SOURCES else
                 (1 - params.found_first) / rest))
        for s, w in mix
    )  # fmt: skip


def _source_weights(params: DayParams, hall: Hall) -> dict[Shift, list[float]]:
    """Source weights on each shift: fewer patrols and photos after hours, and on the day shift
    enough more that a whole working day has the day's mix (:func:`day_sources`)."""
    sources = day_sources(params)
    mix = [w for _, w in sources]
    night = [m * _NIGHT_SOURCE.get(s, 1.0) for (s, _), m in zip(sources, mix, strict=True)]
    night = [n / sum(night) for n in night] if sum(night) > 0 else mix
    opens, closes = (t // timedelta(minutes=1) for t in _work_hours(hall) or (_DAY, _DAY))
    outside = sum(HOURLY[m // 60] for m in range(1440) if not opens <= m < closes)
    outside /= 60 * sum(HOURLY)
    if outside >= 1:
        return {Shift.DAY: mix, Shift.STANDBY: night}
    day = [max(0.0, (m - outside * n) / (1 - outside)) for m, n in zip(mix, night, strict=True)]
    return {Shift.DAY: day if sum(day) > 0 else mix, Shift.STANDBY: night}


def _grids(hall: Hall) -> list[Area]:
    """Where cases happen: the responsibility grids, else whatever areas have no children."""
    areas = sorted(hall.areas.values(), key=lambda a: a.code)
    grids = [a for a in areas if a.kind is AreaKind.GRID]
    parents = {a.parent for a in areas}
    return grids or [a for a in areas if a.code not in parents]


class _Draw:
    """Draws what each case is and what should befall it, from the generator's one stream."""

    def __init__(self, rng: random.Random, params: DayParams, hall: Hall) -> None:
        self.rng, self.params, self.hall = rng, params, hall
        self.grids = _grids(hall)
        areas = sorted(hall.areas.values(), key=lambda a: a.code)
        self.cells = {g.code: [a for a in areas if a.parent == g.code] for g in self.grids}
        catalog = list(hall.catalog)
        self.general = [c for c in catalog if not c.urgent]
        self.hazards = [c for c in catalog if c.urgent]
        self.video = [hall.catalog.by_code[c] for c in VIDEO_CATEGORIES if c in hall.catalog]
        self.police = [hall.catalog.by_code[c] for c in POLICE_CATEGORIES if c in hall.catalog]
        sources = day_sources(params)
        self.sources = [s for s, _ in sources]
        self.weights = _source_weights(params, hall)
        police = sum(w for s, w in sources if s is Source.POLICE)
        # Police alerts are urgent (DESIGN.md): by the hall's intake rule (police is an urgent
        # source by default), else by the intake saying so. The rest of the urgent share comes
        # from hazards and urgent hotline tickets among the other sources.
        self.police_by_rule = Source.POLICE in hall.settings.intake.urgent_sources
        self.police_urgent = min(1.0, params.urgent_share / police) if police else 0.0
        rest = max(0.0, params.urgent_share - police)
        self.other_urgent = rest / (1 - police) if police < 1 else 0.0
        self.tickets = itertools.count(1)
        # Who finds a patrol case: the grid's own grid workers (网格员), for their figures.
        self.finders = {
            g.code: sorted(s.id for s in hall.staff.values() if g.code in s.grids)
            for g in self.grids
        }

    def case(self, at: timedelta, shift: Shift) -> CaseSpec:
        rng, params = self.rng, self.params
        source = rng.choices(self.sources, self.weights[shift])[0]
        category, urgent_flag = self._category(source)
        grid = rng.choice(self.grids)
        cells = self.cells[grid.code]
        cell = rng.choice(cells) if cells else grid
        intake: dict[str, Any] = {
            "kind": str(category.kind),
            "category": category.code,
            "source": str(source),
            "title": f"{cell.name}{category.name}",
            "grid": grid.code,
            "address": f"{cell.name}附近",
        }
        if urgent_flag:
            intake["urgency"] = "urgent"
        finders = self.finders.get(grid.code, [])
        if source is Source.PATROL and finders:
            intake["found_by"] = rng.choice(finders)
        centre = cell.centre or grid.centre
        if centre is not None and source is not Source.HOTLINE:  # a phone call has no fix
            intake["position"] = {
                "lon": round(centre.lon + rng.uniform(-4e-4, 4e-4), 6),
                "lat": round(centre.lat + rng.uniform(-4e-4, 4e-4), 6),
            }
        if source is Source.HOTLINE:
            intake["reporter"] = f"12345-{params.date:%y%m%d}{next(self.tickets):04d}"
        elif source is Source.PHOTO:
            intake["reporter"] = f"随手拍用户{rng.randrange(10_000):04d}"
        by_rule = default_urgency(category, source, self.hall.settings.intake)
        urgent = urgent_flag or by_rule is Urgency.URGENT
        return CaseSpec(
            at=at,
            intake=intake,
            reject=rng.random() < params.reject_share,
            late=self._late(urgent),
            variant=self._variant(category),
            satisfied=rng.random() < params.satisfied_share,
        )

    def _category(self, source: Source) -> tuple[Category, bool]:
        """The category, and whether the intake itself says urgent."""
        rng = self.rng
        if source is Source.POLICE:
            urgent = not self.police_by_rule and rng.random() < self.police_urgent
            return rng.choice(self.police or self.general), urgent
        if rng.random() < self.other_urgent:
            if (source is Source.HOTLINE and rng.random() < 0.5) or not self.hazards:
                return self._by_big(), True  # an urgent hotline ticket
            return rng.choice(self.hazards), False
        if source is Source.VIDEO and self.video:
            return rng.choice(self.video), False
        return self._by_big(), False

    def _by_big(self) -> Category:
        bigs = sorted({c.big for c in self.general})
        big = self.rng.choices(bigs, [BIG_WEIGHTS.get(b, 0.01) for b in bigs])[0]
        return self.rng.choice([c for c in self.general if c.big == big])

    def _late(self, urgent: bool) -> Clock | None:
        r, p = self.rng.random(), self.params
        if r < p.slow_share:
            return self.rng.choice((Clock.ON_SCENE, Clock.RESULT)) if urgent else Clock.RESULT
        if r < p.slow_share + p.hall_slow_share:
            return self.rng.choice((Clock.ACCEPT, Clock.DISPATCH, Clock.CHECK))
        return None

    def _variant(self, category: Category) -> Variant | None:
        r, p = self.rng.random(), self.params
        for variant, share in ((Variant.RETURN, p.return_share),
                               (Variant.REASSIGN, p.reassign_share),
                               (Variant.REWORK, p.rework_share)):  # fmt: skip
            if r < share:
                return variant
            r -= share
        joint = category.kind is Kind.EVENT and category.dept == "enforcement"
        return Variant.JOINT if joint and self.rng.random() < p.joint_share else None


# --- the end of the day ----------------------------------------------------------------------


_STUCK = frozenset({"dispatch", "joint", "acknowledge", "arrive", "report_back", "approve"})


def _leave_open(rng: random.Random, params: DayParams, day: Day, lives: list[Life]) -> None:
    """Cut short enough closed cases that ``open_share`` of the accepted stay open at the end
    (the ones the end cut off already count)."""
    accepted = [life for life in lives if life.case.accepted_at is not None]
    still_open = sum(1 for life in accepted if life.case.status is not Status.CLOSED)
    need = round(params.open_share * len(accepted)) - still_open
    closed = [i for i, life in enumerate(lives) if life.case.status is Status.CLOSED]
    rng.shuffle(closed)
    for i in closed:
        if need <= 0:
            return
        life = lives[i]
        cuts = [k for k, step in enumerate(life.steps) if step.do in _STUCK]
        rng.shuffle(cuts)
        for k in cuts:
            try:
                lives[i] = replay(day, life.steps[: k + 1], life.busy)
            except TooClose:  # this cut leaves a deadline on the end: try another
                continue
            need -= 1
            break


def _steps(lives: Sequence[Life], names: Sequence[str], shifts: Sequence[Step]) -> tuple[Step, ...]:
    """Every case's steps and the hand-overs in time order (a hand-over first in its minute),
    numbered, each case under its name."""
    keyed = [((step.at, 0, 0, j), step) for j, step in enumerate(shifts)]
    for i, life in enumerate(lives):
        for j, step in enumerate(life.steps):
            named = replace(step, case=names[i]) if step.case is not None else step
            keyed.append(((step.at, 1, i, j), named))
    keyed.sort(key=lambda k: k[0])
    return tuple(replace(step, number=n) for n, (_, step) in enumerate(keyed, start=1))


def _expect(lives: Sequence[Life], names: Sequence[str], day: Day) -> Expect:
    now = day.frame.instant(day.end)
    figures = vars(metrics.figures((life.case for life in lives), now))
    escalations = sorted(
        (at, i, level) for i, life in enumerate(lives) for at, level in life.escalations
    )
    return Expect(
        **{name: figures[name] for name in FIGURES},
        escalation=tuple(
            ExpectedEscalation(case=names[i], at=format_time(at), level=level)
            for at, i, level in escalations
        ),
    )
