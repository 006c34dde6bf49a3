"""One generated case's life as timed steps, each run through the real workflow as it is planned.

The generator (:mod:`dispatch.scenario_gen`) decides what a case is and what should befall it
(a :class:`CaseSpec`); this module times its steps. Every step goes through the pure workflow
(``workflow.decide``) as it is planned, and deadlines are breached at their due times as the
hub's SLA ticker breaches them, so the planner times each step against the case's live
deadlines and the generator learns exactly how the case ends and when the hub escalates it.
A step planned within :data:`MARGIN` of a live deadline of its case makes the plan void
(:class:`TooClose`): the generator plans that case again, so every expectation holds whichever
side of a tick the hub happens to look.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from dispatch import escalation, sla, workflow
from dispatch.events import Event, EventType, apply_case_event
from dispatch.hall import Hall
from dispatch.models import (
    PUBLIC_SOURCES,
    Case,
    Field,
    Level,
    Shift,
    Staff,
    Step,
    Unit,
    Urgency,
)
from dispatch.routing import area_chain, department, suggest_unit
from dispatch.scenario import HALL, Scenario, actor_for, make_step
from dispatch.scenario import Step as ScriptStep

MARGIN = timedelta(minutes=2)
"""No step of a case lies closer than this to one of its live deadlines, nor the end."""

_MIN = timedelta(minutes=1)


class Variant(StrEnum):
    """A side way a case takes once (DESIGN.md §1, Workflow)."""

    RETURN = "return"  # 退单: the unit says it is not theirs; the hall approves and re-dispatches
    REASSIGN = "reassign"  # nobody moves: the hall urges, then 改派 to a colleague
    REWORK = "rework"  # the on-site check fails: 返工, the same unit again
    JOINT = "joint"  # 联合执法: the enforcement squad leads, other departments join


class TooClose(Exception):
    """A planned step (or the end) lies within MARGIN of a live deadline: plan again."""


@dataclass(frozen=True)
class CaseSpec:
    """What the generator decided about a case; the planner decides when things happen."""

    at: timedelta  # arrival
    intake: Mapping[str, Any]  # the intake command's fields, as builtins
    reject: bool = False  # rejected at intake (voided at verification for verified sources)
    late: Step | None = None  # the clock this case's unit (or the hall) misses, if it can
    variant: Variant | None = None
    satisfied: bool = True  # the reporter's answer at the callback


@dataclass(frozen=True)
class Life:
    steps: tuple[ScriptStep, ...]  # numbered 0, the case named "case": the generator renames
    case: Case  # as it stands at the scenario's end
    escalations: tuple[tuple[timedelta, Level], ...]  # what the hub does, when
    busy: Mapping[str, timedelta]  # staff id → the last moment this case keeps them busy


class Crew:
    """Who works when: the hall's shift at each moment, and who is busy until when."""

    def __init__(self, hall: Hall, initial: Shift, changes: Sequence[tuple[timedelta, Shift]]):
        self.hall = hall
        self._initial = initial
        self._changes = tuple(changes)
        self._busy: dict[str, timedelta] = {}
        self._load: dict[str, int] = {}
        self._by_unit: dict[str, list[Staff]] = {}
        for person in sorted(hall.staff.values(), key=lambda s: s.id):
            self._by_unit.setdefault(person.unit, []).append(person)

    def shift(self, at: timedelta) -> Shift:
        return next((s for when, s in reversed(self._changes) if when <= at), self._initial)

    def working(self, person: Staff, at: timedelta) -> bool:
        return person.shift is self.shift(at)

    def pick(
        self, unit: str, at: timedelta, grid: str | None, busy: Mapping[str, timedelta]
    ) -> Staff | None:
        """A person of ``unit`` on shift and free (here and in ``busy``), who knows the grid."""
        chain = set(area_chain(grid, self.hall))

        def free(p: Staff) -> bool:
            return max(self._busy.get(p.id, -_MIN), busy.get(p.id, -_MIN)) < at

        people = [p for p in self._by_unit.get(unit, []) if self.working(p, at) and free(p)]
        return min(
            people,
            key=lambda p: (not chain & set(p.grids), self._load.get(p.id, 0), p.id),
            default=None,
        )

    def commit(self, life: Life) -> None:
        for staff_id, until in life.busy.items():
            self._busy[staff_id] = max(until, self._busy.get(staff_id, until))
            self._load[staff_id] = self._load.get(staff_id, 0) + 1


@dataclass(frozen=True)
class Day:
    """What every case's planning shares."""

    hall: Hall
    frame: Scenario  # the scenario's header: instants and offsets as the replay reckons them
    end: timedelta
    crew: Crew


class Sim:
    """One case run through the workflow, with its deadlines breached on time, as the hub does."""

    def __init__(self, day: Day) -> None:
        self.day = day
        self.case: Case | None = None
        self.escalations: list[tuple[timedelta, Level]] = []

    def feed(self, step: ScriptStep) -> None:
        if step.case is None:  # a person's status: nothing to do with the case
            return
        hall, now = self.day.hall, self.day.frame.instant(step.at)
        actor = actor_for(step, hall)
        if self.case is None:
            events = workflow.decide(None, step.command("x"), actor, now, hall, new_id="case")
        else:
            self._advance(now)
            command = step.command("x", case_id=self.case.id, version=self.case.version)
            events = workflow.decide(self.case, command, actor, now, hall)
        self._apply(events)

    def life(self, steps: Sequence[ScriptStep], busy: Mapping[str, timedelta]) -> Life:
        """The case's life: ``steps``, and the case as it stands at the day's end."""
        assert self.case is not None
        self._advance(self.day.frame.instant(self.day.end))
        return Life(tuple(steps), self.case, tuple(self.escalations), dict(busy))

    def due(self, step: Step) -> timedelta | None:
        """When the step's live, unbreached deadline falls due, if it has one."""
        deadline = self.case.deadline(step) if self.case is not None else None
        if deadline is None or deadline.breached:
            return None
        return self.day.frame.offset(deadline.due)

    def _advance(self, now: datetime) -> None:
        assert self.case is not None
        for d in self.case.deadlines:
            if self.case.is_open and not d.breached and abs(d.due - now) < MARGIN:
                raise TooClose(d.step)
        while breaches := sla.due_breaches(self.case, now):
            deadline = breaches[0]
            self._apply(escalation.on_breach(self.case, deadline, deadline.due, self.day.hall))

    def _apply(self, events: list[Event]) -> None:
        for event in events:
            if event.type is EventType.ALERT:
                continue
            self.case = apply_case_event(self.case, event)
            if event.type is EventType.ESCALATED and not event.data.get("manual"):
                level = Level(event.changes["level"])
                self.escalations.append((self.day.frame.offset(event.at), level))


def replay(day: Day, steps: Sequence[ScriptStep], busy: Mapping[str, timedelta]) -> Life:
    """The life of a case that takes only ``steps`` (a plan cut short), up to the end."""
    sim = Sim(day)
    for step in steps:
        sim.feed(step)
    return sim.life(steps, busy)


class _Stop(Exception):
    """The next step would come after the scenario's end: the case stays open."""


_PARTNERS = ("police", "market", "traffic", "housing")  # who joins the enforcement squad
_RESULTS = ("已处置完毕，现场已恢复", "已整改到位，附处置后照片", "已联系责任人当场整改",
            "已清理完毕", "已维修复原", "已劝离并教育当事人")  # fmt: skip

# Minutes after the step before, drawn evenly: (day shift, after-hours standby, urgent case).
# Standby works fewer, shorter jobs; urgent ones must fit 5 + 5 + 15 / 60 minutes.
_PACE: Mapping[str, tuple[tuple[int, int], ...]] = {
    "verify": ((5, 30), (5, 20), (1, 2)),
    "reject": ((3, 20), (3, 15), (1, 2)),
    "accept": ((2, 15), (2, 10), (1, 2)),
    "dispatch": ((2, 15), (2, 10), (1, 2)),
    "urge": ((15, 30), (15, 30), (5, 8)),  # nobody signs: the hall urges …
    "reassign": ((5, 15), (5, 15), (1, 3)),  # … then gives the case to a colleague
    "acknowledge": ((2, 15), (3, 12), (1, 3)),
    "request_return": ((5, 30), (5, 20), (2, 5)),
    "approve": ((5, 20), (5, 15), (1, 3)),
    "arrive": ((10, 45), (15, 35), (3, 9)),
    "report_back": ((20, 150), (15, 50), (15, 40)),
    "check": ((15, 90), (10, 40), (15, 60)),
    "close": ((2, 15), (2, 10), (2, 10)),
    "callback": ((15, 120), (15, 60), (15, 60)),
}


class Planner:
    """Times one case's steps; :meth:`plan` raises TooClose when the plan must be redone."""

    def __init__(self, day: Day, spec: CaseSpec, rng: random.Random) -> None:
        self.day, self.spec, self.rng, self.hall = day, spec, rng, day.hall
        self.sim = Sim(day)
        self.steps: list[ScriptStep] = []
        self.now = spec.at
        self.busy: dict[str, timedelta] = {}
        self.late_done = False

    @property
    def case(self) -> Case:
        assert self.sim.case is not None
        return self.sim.case

    def plan(self) -> Life:
        try:
            self._step(self.spec.at, "intake", None, **self.spec.intake)
            if self._triage():
                self._first_dispatch()
        except _Stop:
            pass
        return self.sim.life(self.steps, self.busy)

    # --- the stages --------------------------------------------------------------------------

    def _triage(self) -> bool:
        """Verification (for the sources settings name), then accepted or not."""
        reject = self.spec.reject
        if self.case.source in self.hall.settings.intake.verify_sources:
            reason = "现场核实不属实" if reject else ""
            self._step(self._next("verify", Step.ACCEPT), "verify", HALL,
                       confirmed=not reject, reason=reason)  # fmt: skip
            if reject:
                return False
        elif reject:
            reason = self.rng.choice(("不属于城市管理范畴", "重复上报", "信息不全无法核实"))
            self._step(self._next("reject", Step.ACCEPT), "reject", HALL, reason=reason)
            return False
        self._step(self._timed("accept", Step.ACCEPT), "accept", HALL)
        return True

    def _first_dispatch(self) -> None:
        units = self._joint_units() if self.spec.variant is Variant.JOINT else None
        if units is not None:
            lead, supporting = units
            self._step(self._timed("dispatch", Step.DISPATCH), "joint", HALL, lead=lead,
                       supporting=supporting, reason="多部门联合执法")  # fmt: skip
            self._handle(lead, None, variants=False)
            return
        unit = suggest_unit(self.case, self.hall) or self._dept_unit()
        self._dispatch(unit or min(self.hall.units.values(), key=lambda u: u.id), variants=True)

    def _dispatch(self, unit: Unit, *, variants: bool) -> None:
        at = self._timed("dispatch", Step.DISPATCH)
        person = self.day.crew.pick(unit.id, at, self.case.grid, self.busy)
        staff = person.id if person is not None else None
        self._step(at, "dispatch", HALL, unit=unit.id, staff=staff)
        self._handle(unit.id, person, variants=variants)

    def _handle(self, unit: str, person: Staff | None, *, variants: bool) -> None:
        """The unit's part: sign, go, act, report back; then the hall checks and closes."""
        variant = self.spec.variant if variants else None
        if variant is Variant.REASSIGN:
            at = self._next("urge")
            busy = {**self.busy, **({person.id: at} if person is not None else {})}
            other = self.day.crew.pick(unit, at, self.case.grid, busy)
            if other is not None:
                self._step(at, "urge", HALL, reason="派遣后长时间未签收")
                self._step(self._next("reassign"), "reassign", HALL, unit=unit, staff=other.id,
                           reason="原处置人未响应，改派")  # fmt: skip
                person = other
        by = person.id if person is not None else unit
        self._step(self._next("acknowledge"), "acknowledge", by)
        self._status(person, Field.EN_ROUTE)
        other_unit = self._dept_unit(other_than=unit) if variant is Variant.RETURN else None
        if other_unit is not None:
            self._step(self._next("request_return"), "request_return", unit,
                       reason=f"非本单位职责，请改派{other_unit.name}")  # fmt: skip
            self._status(person, Field.AVAILABLE)
            self._step(self._next("approve"), "approve", HALL, request="return")
            self._dispatch(other_unit, variants=False)
            return
        self._step(self._timed("arrive", Step.ON_SCENE), "arrive", by)
        self._status(person, Field.ON_SCENE, self._place())
        at = self._timed("report_back", Step.RESULT)
        self._step(at, "report_back", by, reason=self.rng.choice(_RESULTS))
        self._status(person, Field.AVAILABLE)
        at = self._timed("check", Step.CHECK)
        if variant is Variant.REWORK:
            self._step(at, "check", HALL, passed=False, reason="核查未整改到位，返工")
            self._handle(unit, person, variants=False)
            return
        self._step(at, "check", HALL, passed=True)
        self._step(self._next("close"), "close", HALL)
        if self.case.source in PUBLIC_SOURCES:
            satisfied = self.spec.satisfied
            self._step(self._next("callback"), "callback", HALL, satisfied=satisfied)

    # --- timing ------------------------------------------------------------------------------

    def _next(self, op: str, step: Step | None = None) -> timedelta:
        """A whole minute at ``op``'s pace after now, and before ``step``'s due if it can."""
        day, standby, urgent = _PACE[op]
        if self.case.urgency is Urgency.URGENT:
            pace = urgent
        else:
            pace = standby if self.day.crew.shift(self.now) is Shift.STANDBY else day
        at = self.now + self.rng.randint(*pace) * _MIN
        due = self.sim.due(step) if step is not None else None
        if due is not None and at > due - MARGIN >= self.now:
            at = due - MARGIN
        return at

    def _timed(self, op: str, step: Step) -> timedelta:
        """When ``op`` is done: in time for ``step``'s deadline, or well past it when this case
        misses that clock (and the hall urges the unit in between)."""
        due = self.sim.due(step)
        if self.spec.late is not step or self.late_done or due is None:
            return self._next(op, step)
        late = max(due + MARGIN + self.rng.randint(0, 25) * _MIN, self._next(op))
        if late + 30 * _MIN > self.day.end:
            return self._next(op, step)
        self.late_done = True
        if op in ("arrive", "report_back") and late - due >= 2 * MARGIN + _MIN:
            gap = (late - due - 2 * MARGIN) // _MIN
            self._step(due + MARGIN + self.rng.randint(0, gap) * _MIN, "urge", HALL,
                       reason="已超时，请立即处置并反馈")  # fmt: skip
        return late

    # --- steps -------------------------------------------------------------------------------

    def _step(self, at: timedelta, do: str, by: str | None, **fields: Any) -> None:
        if at > self.day.end:
            raise _Stop
        given = {k: v for k, v in fields.items() if v not in (None, "")}
        step = make_step(0, at, do, by=by, case="case", **given)
        self.sim.feed(step)
        self.steps.append(step)
        self.now = at
        person = fields.get("staff") if do in ("dispatch", "reassign") else by
        if isinstance(person, str) and person in self.hall.staff:
            self.busy[person] = at

    def _status(self, person: Staff | None, field_: Field, where: Any = None) -> None:
        """The person's phone reports what they do now, while they are on shift."""
        at = self.now
        if person is None or not self.day.crew.working(person, at):
            return
        fields: dict[str, Any] = {"staff": person.id, "field": str(field_)}
        if where is not None:
            fields["position"] = where
        self.steps.append(make_step(0, at, "staff_status", by=person.id, **fields))
        self.busy[person.id] = at

    # --- places and units --------------------------------------------------------------------

    def _place(self) -> Any:
        """Where the case is: its reported position, else its grid's centre."""
        area = self.hall.areas.get(self.case.grid or "")
        point = self.case.position or (area.centre if area is not None else None)
        return msgspec.to_builtins(point) if point is not None else None

    def _dept_unit(self, other_than: str | None = None) -> Unit | None:
        """The unit of the category's department (主管部门) for the case's place."""
        unit = department(self.case, self.hall)
        return unit if unit is not None and unit.id != other_than else None

    def _joint_units(self) -> tuple[str, list[str]] | None:
        lead = self._dept_unit()
        units = sorted(self.hall.units.values(), key=lambda u: u.id)
        partners = [u.id for u in units if u.dept in _PARTNERS and u != lead]
        if lead is None or not partners:
            return None
        return lead.id, self.rng.sample(partners, min(len(partners), self.rng.randint(1, 2)))


def plan_case(day: Day, spec: CaseSpec, seed: int, tries: int = 40) -> Life | None:
    """The case's life, planned afresh (new draws) until no step sits on a due; None if never."""
    for attempt in range(tries):
        with contextlib.suppress(TooClose):
            return Planner(day, spec, random.Random(f"{seed}:{attempt}")).plan()
    return None
