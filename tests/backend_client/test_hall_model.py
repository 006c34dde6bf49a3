"""The hall model against a full recount: after thousands of random batches, time steps, sorts
and quick filters its counts, listings, strip, load and overdue set are exactly what counting
every case from scratch gives — and each delta, applied to a screen's own copy of a listing,
turns it into the model's listing (what the board does with it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from backend_client.hall_model import HallDelta, HallModel
from dispatch.command_chain import desk_of
from dispatch.models import (
    Area,
    AreaKind,
    Basis,
    Case,
    Deadline,
    Kind,
    Level,
    Shift,
    Source,
    Staff,
    Status,
    Step,
    Unit,
    UnitKind,
    Urgency,
)
from dispatch.queues import QUEUES, Entry, Queue, QuickFilter, Sort, entry, in_queue, splice
from dispatch.sla import is_overdue, shown_deadline

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
IDS = [f"26112300{n:02d}" for n in range(24)]
PEOPLE = ["s1", "s2", "s3", "s4"]
UNITS = ["u1", "u2", None]


def deadlines() -> st.SearchStrategy[tuple[Deadline, ...]]:
    one = st.builds(
        lambda step, due, breached: Deadline(
            step=step,
            start=T0 - timedelta(minutes=30),
            due=T0 + timedelta(minutes=due),
            limit_minutes=60,
            basis=Basis.WALL,
            breached=breached,
        ),
        st.sampled_from(list(Step)),
        st.integers(-60, 120),
        st.booleans(),
    )
    return st.lists(one, max_size=3, unique_by=lambda d: d.step).map(tuple)


cases = st.builds(
    lambda key, status, urgency, level, source, staff, unit, due, reported, version: Case(
        id=key,
        kind=Kind.EVENT,
        category="E0101",
        source=source,
        urgency=urgency,
        status=status,
        title=f"case {key}",
        grid="g1" if version % 2 else "g2",
        reported_at=T0 - timedelta(minutes=reported),
        level=level,
        owner_unit=unit,
        owner_staff=staff,
        deadlines=due,
        version=version,
    ),
    st.sampled_from(IDS),
    st.sampled_from(list(Status)),
    st.sampled_from(list(Urgency)),
    st.sampled_from(list(Level)),
    st.sampled_from(list(Source)),
    st.sampled_from([*PEOPLE, None]),
    st.sampled_from(UNITS),
    deadlines(),
    st.integers(0, 600),
    st.integers(1, 50),
)
quick_filters = st.builds(
    QuickFilter,
    level=st.sampled_from([None, *Level]),
    unit=st.sampled_from(UNITS),
    source=st.sampled_from([None, *Source]),
    grid=st.sampled_from([None, "g1", "g2"]),
)
PERSON = Staff(id="s1", name="张伟", unit="u1", role="城管队员", shift=Shift.DAY)
# The chain of command: two streets (g1 in the first, g2 in the second) and a desk per level.
AREAS = [
    Area(code="d", name="区", kind=AreaKind.DISTRICT),
    Area(code="st1", name="东街道", kind=AreaKind.STREET, parent="d"),
    Area(code="st2", name="西街道", kind=AreaKind.STREET, parent="d"),
    Area(code="g1", name="一网格", kind=AreaKind.GRID, parent="st1"),
    Area(code="g2", name="二网格", kind=AreaKind.GRID, parent="st2"),
]
DESKS = [
    Unit(id="sh1", name="东街道城运中心", kind=UnitKind.LOCALITY, area="st1", desk=Level.STREET),
    Unit(id="dh", name="区城运中心", kind=UnitKind.LOCALITY, area="d", desk=Level.DISTRICT),
    Unit(id="lead", name="区领导", kind=UnitKind.LOCALITY, area="d", desk=Level.LEADERSHIP),
    Unit(id="u1", name="城管", kind=UnitKind.DEPARTMENT),
]


class ModelVersusRecount(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = HallModel()
        self.now = T0
        self.model.replace([], [], [], [], self.now)
        # What a screen keeps: its own copy of each queue's listing, changed only by deltas.
        self.screens = {q: self.model.listing(q) for q in QUEUES}

    def _follow(self, delta: HallDelta) -> None:
        for queue in QUEUES:
            if delta.replaced:
                self.screens[queue] = self.model.listing(queue)
            else:
                change = delta.queue(queue)
                self.screens[queue] = splice(self.screens[queue], change.removed, change.added)

    @rule(batch=st.lists(cases, max_size=8))
    def a_batch_arrives(self, batch: list[Case]) -> None:
        self._follow(self.model.apply(batch, [], self.now))

    @rule(keys=st.lists(st.sampled_from(IDS), max_size=4), batch=st.lists(cases, max_size=3))
    def cases_leave_the_view(self, keys: list[str], batch: list[Case]) -> None:
        """A unit terminal's out_of_scope (with, maybe, other cases changing alongside)."""
        held = {k for k in keys if k in self.model.cases and k not in {c.id for c in batch}}
        delta = self.model.apply(batch, [], self.now, removed=keys)
        assert set(delta.removed) == held
        assert held.isdisjoint(self.model.cases)
        self._follow(delta)

    @rule(seconds=st.integers(0, 3600))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self._follow(self.model.advance(self.now))

    @rule(seconds=st.integers(1, 600))
    def the_hub_clock_is_set_back(self, seconds: int) -> None:
        self.now -= timedelta(seconds=seconds)
        self._follow(self.model.advance(self.now))

    @rule(sort=st.sampled_from(list(Sort)))
    def the_commander_sorts(self, sort: Sort) -> None:
        self._follow(self.model.set_sort(sort))

    @rule(quick=quick_filters)
    def the_commander_filters(self, quick: QuickFilter) -> None:
        self._follow(self.model.set_quick(quick))

    @rule(
        batch=st.lists(cases, max_size=8), desk=st.sampled_from([None, "sh1", "dh", "lead", "u1"])
    )
    def a_snapshot_replaces_everything(self, batch: list[Case], desk: str | None) -> None:
        """A snapshot, for an operator at the street, district or leadership desk, or none."""
        delta = self.model.replace(batch, [PERSON], DESKS, AREAS, self.now, desk_unit=desk)
        assert self.model.desk == desk_of(desk, {u.id: u for u in DESKS},
                                          {a.code: a for a in AREAS})  # fmt: skip
        self._follow(delta)

    @invariant()
    def everything_equals_a_full_recount(self) -> None:
        model, now = self.model, self.now
        every = list(model.cases.values())
        shown = [c for c in every if model.quick.admits(c)]
        for queue in QUEUES:
            members = {c.id for c in shown if in_queue(c, queue, now, model.desk)}
            assert set(model.members(queue)) == members, queue
            assert model.count(queue) == len(members)
            recount: list[Entry] = sorted(entry(c, model.sort) for c in shown if c.id in members)
            assert model.listing(queue) == recount, queue
            assert self.screens[queue] == recount, f"{queue} followed by deltas"
        assert set(model.overdue) == {c.id for c in every if is_overdue(c, now)}
        urgent = [
            (d.due.timestamp(), c.id)
            for c in every
            if c.urgency is Urgency.URGENT and (d := shown_deadline(c)) is not None
        ]
        assert [c.id for c in model.strip(100)] == [k for _, k in sorted(urgent)]
        for person in PEOPLE:
            owned = {c.id for c in every if c.is_open and c.owner_staff == person}
            assert model.owned(person) == owned
            assert model.load(person) == len(owned)


def test_the_model_equals_a_full_recount_after_random_batches() -> None:
    run_state_machine_as_test(
        ModelVersusRecount,
        settings=settings(
            max_examples=150,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _case(key: str, status: Status, *, due_in: int, urgent: bool = False) -> Case:
    deadline = Deadline(
        step=Step.RESULT,
        start=T0 - timedelta(minutes=10),
        due=T0 + timedelta(seconds=due_in),
        limit_minutes=60,
        basis=Basis.WALL,
    )
    return Case(
        id=key,
        kind=Kind.EVENT,
        category="E0101",
        source=Source.PATROL,
        urgency=Urgency.URGENT if urgent else Urgency.GENERAL,
        status=status,
        title=key,
        reported_at=T0,
        deadlines=(deadline,),
    )


def test_a_deadline_due_this_instant_is_overdue_on_the_board_and_in_the_figures() -> None:
    from dispatch.metrics import figures

    model = HallModel()
    model.replace([_case("a", Status.DISPATCHED, due_in=10)], [], [], [], T0)
    assert model.count(Queue.OVERDUE) == 0
    delta = model.advance(T0 + timedelta(seconds=10))
    assert model.count(Queue.OVERDUE) == 1 and delta.counts_changed
    assert delta.queue(Queue.OVERDUE).added == (entry(model.cases["a"], Sort.DEADLINE),)
    assert figures(model.cases.values(), T0 + timedelta(seconds=10)).overdue == 1


def test_a_batch_reports_only_what_moved() -> None:
    model = HallModel()
    quiet = [_case(f"q{n}", Status.DISPATCHED, due_in=3600) for n in range(50)]
    model.replace(quiet, [], [], [], T0)
    new = _case("n1", Status.REPORTED, due_in=600, urgent=True)
    delta = model.apply([new], [], T0)
    assert delta.new == ("n1",) and delta.urgent_new == ("n1",)
    assert set(delta.queues) == {Queue.ALL, Queue.URGENT, Queue.TO_ACCEPT}
    assert delta.strip_changed and delta.counts_changed
    # The same case, a field changed but not its place: redrawn in place, nothing moves.
    retitled = _case("n1", Status.REPORTED, due_in=600, urgent=True)
    delta = model.apply([retitled], [], T0)
    assert delta.queue(Queue.TO_ACCEPT).changed == ("n1",)
    assert not delta.queue(Queue.TO_ACCEPT).added and not delta.counts_changed
    # Accepted: it leaves "to accept" and joins "to dispatch".
    delta = model.apply([_case("n1", Status.ACCEPTED, due_in=600, urgent=True)], [], T0)
    assert delta.queue(Queue.TO_ACCEPT).removed and delta.queue(Queue.TO_DISPATCH).added
