"""Planned lives played through the real workflow, in time order, as the hub would have.

Pure (no I/O). :class:`Play` takes every case's plan (:mod:`bench.hall_plan`) and sends each
planned command, at its time and in time order across the whole hall, through
``dispatch.workflow.decide`` — with the case version, the operator and the hall the hub would
have used — and folds the events with ``dispatch.events.apply_case_event``. A deadline that
falls due before ``now`` is breached at its due time with ``dispatch.escalation.on_breach``,
as the hub's SLA ticker does; an intake is checked for duplicates against the cases open at
that instant, as the engine does, and the hall merges most flagged duplicates. A planned
command the workflow refuses (an extension asked after its due, a merge into a case closed
meanwhile) is left out, as the hub would have refused it: nothing comes out of here that the
hub could not have written.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from bench.hall_plan import Move, Plan, Who, work_clock
from dispatch import escalation, sla, workflow
from dispatch.calendar import WorkingCalendar
from dispatch.commands import Acknowledge, Arrive, CaseCommand, Command, Intake, Merge, ReportBack
from dispatch.errors import Refusal
from dispatch.events import Event, EventType, apply_case_event
from dispatch.hall import Hall
from dispatch.models import HUB_ACTOR, Actor, Case, Role, Source, Status

MERGE_SHARE = 0.8
"""Of the flagged duplicates that were going to be closed: the hall merges them."""

_SEC = timedelta(seconds=1)


class Cast:
    """The hall's operators, and which of them sends a planned command at a given moment."""

    def __init__(self, hall: Hall, now: datetime) -> None:
        self._clock = work_clock(hall.calendar, now)
        self.commander = Actor(name="commander", role=Role.COMMANDER)
        self.dispatchers = tuple(
            Actor(name=f"dispatcher-{n}", role=Role.DISPATCHER) for n in (1, 2, 3)
        )
        units = sorted(hall.units)
        self.units = {u: Actor(name=f"unit-{u}", role=Role.UNIT, unit=u) for u in units}
        self.standby = {u: Actor(name=f"standby-{u}", role=Role.STANDBY, unit=u) for u in units}
        self.observer = Actor(name="wallboard", role=Role.OBSERVER)
        self._locality = {a.code: a.locality for a in hall.areas.values()}

    @property
    def everyone(self) -> list[Actor]:
        """Every operator of the seeded hall (the wallboard sends nothing, but logs in)."""
        return [self.commander, *self.dispatchers, *self.units.values(),
                *self.standby.values(), self.observer]  # fmt: skip

    def actor(self, move: Move, case: Case | None, serial: int) -> Actor:
        """Who sends ``move`` on ``case`` (None: an intake); ``serial`` spreads the hall's
        work over its dispatchers."""
        working = self._clock.is_working(move.at)
        if move.who is Who.REPORTER:
            locality = self._locality.get(move.fields.get("grid") or "")
            if move.fields["source"] == Source.PATROL and locality in self.units:
                return self.units[locality]  # a grid worker's patrol, from the grid's terminal
            return self._hall(working, serial)
        if move.who is Who.HALL or case is None or case.owner_unit not in self.units:
            return self._hall(working, serial)
        unit = case.owner_unit
        if not working and move.op in (Acknowledge, Arrive, ReportBack):
            return self.standby[unit]  # after hours the unit's standby officer answers
        return self.units[unit]

    def _hall(self, working: bool, serial: int) -> Actor:
        return self.dispatchers[serial % len(self.dispatchers)] if working else self.commander


@dataclass(frozen=True)
class Act:
    """What one command (or one breach: ``command`` None, by the hub) wrote, as the engine
    acknowledges it: its events (numbered), and the case and version of its ack."""

    command: Command | None
    actor: Actor
    events: list[Event]
    case: str | None
    version: int | None


_BREACH, _MOVE = 0, 1  # at one instant, a breach is handled before a command
_Entry = tuple[float, int, int, int]  # epoch seconds, _BREACH or _MOVE, plan, move


class Play:
    """Iterate to play every plan up to ``now``: each :class:`Act` in seq order."""

    def __init__(self, plans: Sequence[Plan], hall: Hall, now: datetime, seed: int) -> None:
        self.plans, self.hall, self.now = plans, hall, now
        self.cast = Cast(hall, now)
        self.rng = random.Random(seed ^ 0x5EED)  # command ids, merges: not the plans' stream
        self.index = {plan.case_id: i for i, plan in enumerate(plans)}
        self.states: list[Case | None] = [None] * len(plans)
        self.seq = 0
        self.refused: Counter[str] = Counter()
        """Planned commands the workflow refused (left out), by op."""
        self.flagged = 0
        """Intakes flagged as duplicates."""
        self.merged = 0
        self.finished: list[int] = []
        """Cases whose life is over (closed, rejected, voided, merged; nothing more planned),
        in the order they finished: their state is final. The caller may take them out."""
        # Time order as the writer would have met it: floats compare fast, and datetimes go
        # with the move (or are the deadline's own) when an entry is taken.
        self._heap: list[_Entry] = [
            (p.moves[0].at.timestamp(), _MOVE, i, 0) for i, p in enumerate(plans)
        ]
        heapq.heapify(self._heap)
        self._breach_at: dict[int, float] = {}  # the one breach entry live for each case
        self._clock = datetime.min.replace(tzinfo=UTC)
        self._window = timedelta(minutes=hall.settings.intake.duplicate_window_minutes)
        # Intakes per (category, grid), oldest first: the engine's duplicate candidates.
        self._recent: dict[tuple[str, str | None], deque[int]] = {}

    def __iter__(self) -> Iterator[Act]:
        while self._heap:
            at, kind, i, k = heapq.heappop(self._heap)
            if kind == _BREACH:
                act = self._breach(i, at)
            else:
                moves = self.plans[i].moves
                self._clock = max(self._clock, moves[k].at)
                act = self._move(i, k)
                if k + 1 < len(moves):
                    heapq.heappush(self._heap, (moves[k + 1].at.timestamp(), _MOVE, i, k + 1))
                elif not self.case(i).is_open:
                    self.finished.append(i)
            if act is not None:
                yield act

    def case(self, i: int) -> Case:
        """Plan ``i``'s case as it stands now."""
        case = self.states[i]
        assert case is not None, "a case is created by its plan's first move"
        return case

    @property
    def cases(self) -> list[Case]:
        return [self.case(i) for i in range(len(self.plans))]

    def _breach(self, i: int, at: float) -> Act | None:
        """The SLA ticker at a deadline: breach it if it is still the case's next one."""
        if self._breach_at.get(i) != at:  # the case moved on: its next deadline changed
            return None
        del self._breach_at[i]
        case = self.case(i)
        deadline = sla.next_deadline(case)
        assert deadline is not None and deadline.due.timestamp() == at
        self._clock = max(self._clock, deadline.due)
        events = escalation.on_breach(case, deadline, self._clock, self.hall)
        return self._record(None, HUB_ACTOR, events, None)

    def _move(self, i: int, k: int) -> Act | None:
        plan = self.plans[i]
        move = plan.moves[k]
        actor = self.cast.actor(move, self.states[i], i + k)
        command_id = f"{self.rng.getrandbits(128):032x}"  # as HubClient.new_id() makes them
        if move.op is Intake:
            return self._intake(plan, i, k, Intake(id=command_id, **move.fields), actor)
        case, op = self.case(i), move.op
        assert issubclass(op, CaseCommand), "every move after the intake acts on the case"
        command = op(id=command_id, case=case.id, version=case.version, **move.fields)
        others: dict[str, Case] = {}
        if isinstance(command, Merge):
            target = self.case(self.index[command.into])
            others[target.id] = target
        try:
            events = workflow.decide(case, command, actor, self._clock, self.hall, others=others)
        except Refusal:
            self.refused[op.__name__] += 1
            return None
        if isinstance(command, Merge):
            self.merged += 1
            del plan.moves[k + 1 :]  # merged away: nothing more happens to it
        return self._record(command, actor, events, case.id)

    def _intake(self, plan: Plan, i: int, k: int, intake: Intake, actor: Actor) -> Act:
        at = self._clock
        queue = self._recent.setdefault((intake.category, intake.grid), deque())
        while queue and self.case(queue[0]).reported_at < at - self._window:
            queue.popleft()
        others = {c.id: c for j in queue if (c := self.case(j)).is_open}
        events = workflow.decide(None, intake, actor, at, self.hall, new_id=plan.case_id,
                                 others=others)  # fmt: skip
        queue.append(i)
        act = self._record(intake, actor, events, plan.case_id)
        duplicate = self.case(i).duplicate_of
        if duplicate is not None:
            self.flagged += 1
            if not plan.keep_open and self.rng.random() < MERGE_SHARE:
                self._plan_merge(plan, k, duplicate)
        return act

    def _plan_merge(self, plan: Plan, k: int, into: str) -> None:
        """The hall merges a flagged duplicate before its next planned step."""
        at = plan.moves[k].at
        following = plan.moves[k + 1].at if k + 1 < len(plan.moves) else at + 2 * self._window
        gap = max(1, min(600, int((following - at).total_seconds()) // 2))
        merge = Move(at + gap * _SEC, Merge, Who.HALL,
                     {"into": into, "reason": "与已受理案件重复，合并处理"})  # fmt: skip
        plan.moves.insert(k + 1, merge)

    def _record(self, command: Command | None, actor: Actor, events: list[Event],
                case_id: str | None) -> Act:  # fmt: skip
        """Number the events, fold them in, and queue each touched case's next deadline."""
        stored: list[Event] = []
        touched: dict[int, None] = {}
        for event in events:
            self.seq += 1
            event = msgspec.structs.replace(event, seq=self.seq)
            stored.append(event)
            if event.case is not None and event.type is not EventType.ALERT:
                j = self.index[event.case]
                self.states[j] = apply_case_event(self.states[j], event)
                touched[j] = None
        version = self.case(self.index[case_id]).version if case_id is not None else None
        for j in touched:  # the hub's deadline queue: each touched case's next live deadline
            deadline = sla.next_deadline(self.case(j))
            if deadline is None or deadline.due > self.now:
                self._breach_at.pop(j, None)
                continue
            at = deadline.due.timestamp()
            if self._breach_at.get(j) != at:
                self._breach_at[j] = at
                heapq.heappush(self._heap, (at, _BREACH, j, 0))
        return Act(command, actor, stored, case_id, version)


def lights(cases: Sequence[Case], now: datetime, calendar: WorkingCalendar) -> Counter[str]:
    """Open cases by the light of their earliest running deadline at ``now``: green, amber,
    red, or ``none`` where no clock runs (checked, parked)."""
    out: Counter[str] = Counter()
    for case in cases:
        if not case.is_open:
            continue
        if case.status is Status.PARKED or not case.deadlines:
            out["none"] += 1
            continue
        deadline = min(case.deadlines, key=lambda d: d.due)
        out[sla.light(deadline, now, calendar).colour] += 1
    return out
