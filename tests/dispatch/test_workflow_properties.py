"""Random command sequences from random roles: only Refusals, only legal steps, one version each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dispatch import escalation, sla, whistle
from dispatch.commands import (
    CASE_COMMANDS,
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    Callback,
    CaseCommand,
    Check,
    Close,
    Dispatch,
    Intake,
    Joint,
    Reassign,
    Refuse,
    ReportBack,
    RequestExtension,
    RequestPark,
    RequestReturn,
    RequestVoid,
    Resume,
    Rework,
    Verify,
    op_of,
)
from dispatch.errors import Refusal
from dispatch.events import apply_case_event
from dispatch.hall import Hall
from dispatch.models import (
    IN_HAND_STATUSES,
    TERMINAL_STATUSES,
    Actor,
    Case,
    Kind,
    Level,
    Point,
    Role,
    Source,
    Status,
    Step,
    Urgency,
)
from dispatch.roles import allowed
from dispatch.workflow import RESULTS, TRANSITIONS, decide

ACTORS = [
    Actor(name="boss", role=Role.COMMANDER),
    Actor(name="desk", role=Role.DISPATCHER),
    Actor(name="night", role=Role.STANDBY, unit="ENF"),
    Actor(name="enf", role=Role.UNIT, unit="ENF"),
    Actor(name="san", role=Role.UNIT, unit="SAN"),
    Actor(name="wall", role=Role.OBSERVER),
    Actor(name="nobody", role=Role.UNIT),  # a unit terminal with no unit set
]
UNITS = ["ENF", "ENF", "ENF2", "SAN", "SAN", "POL", "LOC1", "NOPE"]
STAFF = [None, None, None, "p1", "p2", "p3", "ghost"]
REASONS = ["", "理由", "理由"]
REQUESTS = ["return", "extension", "park", "void"]
CATEGORIES = [("E0101", Kind.EVENT), ("E0501", Kind.EVENT), ("0101", Kind.COMPONENT)]

ARGS: dict[str, st.SearchStrategy[Any]] = {
    "confirmed": st.booleans(),
    "category": st.sampled_from([None, "E0101", "E0501", "0102", "9999"]),
    "urgency": st.sampled_from([None, Urgency.URGENT, Urgency.GENERAL]),
    "unit": st.sampled_from(UNITS),
    "staff": st.sampled_from(STAFF),
    "passed": st.booleans(),
    "satisfied": st.booleans(),
    "lead": st.sampled_from(UNITS),
    "supporting": st.lists(st.sampled_from(UNITS), min_size=1, max_size=3).map(tuple),
    "minutes": st.integers(min_value=1, max_value=600),
    "request": st.sampled_from(REQUESTS),
    "units": st.lists(st.sampled_from(UNITS), min_size=1, max_size=3).map(tuple),
    "level": st.sampled_from([None, *Level]),
}


def _requested(case: Case) -> list[tuple[type[CaseCommand], dict[str, Any]]]:
    if case.request is not None:
        return [(Approve, {"request": case.request.kind}), (Refuse, {"request": case.request.kind})]
    return [
        (RequestPark, {}),
        (RequestReturn, {}),
        (RequestVoid, {}),
        (RequestExtension, {"minutes": 30}),
        (Reassign, {"unit": "SAN"}),
    ]


_NEXT: dict[Status, Callable[[Case], list[tuple[type[CaseCommand], dict[str, Any]]]]] = {
    Status.REPORTED: lambda c: [(Verify, {"confirmed": True}), (Accept, {})],
    Status.VERIFIED: lambda c: [(Accept, {})],
    Status.ACCEPTED: lambda c: [
        (Dispatch, {"unit": "ENF"}),
        (Joint, {"lead": "ENF", "supporting": ("POL",)}),
    ],
    Status.DISPATCHED: lambda c: [(Acknowledge, {}), (ReportBack, {}), *_requested(c)],
    Status.ACKNOWLEDGED: lambda c: [(Arrive, {}), *_requested(c)],
    Status.ON_SCENE: lambda c: [(ReportBack, {}), *_requested(c)],
    Status.REPORTED_BACK: lambda c: [(Check, {"passed": True}), (Check, {"passed": False})],
    Status.CHECKED: lambda c: [(Close, {}), (Rework, {})],
    Status.CLOSED: lambda c: [(Callback, {"satisfied": True})],
    Status.PARKED: lambda c: [(Resume, {})],
    Status.REJECTED: lambda c: [],
    Status.VOIDED: lambda c: [],
    Status.MERGED: lambda c: [],
}


_DONE = frozenset({Status.REJECTED, Status.VOIDED, Status.MERGED})


def _tag(cls: type[CaseCommand]) -> str:
    return str(cls.__struct_config__.tag)


def run(hall: Hall) -> None:
    class Hallway(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.now = datetime(2026, 11, 23, 1, tzinfo=UTC)
            self.cases: dict[str, Case] = {}
            self.n = 0

        def _apply(self, events: list[Any]) -> None:
            for e in events:
                e = msgspec.json.decode(msgspec.json.encode(e), type=type(e))
                self.cases[e.case] = apply_case_event(self.cases.get(e.case), e)

        @precondition(lambda self: len(self.cases) < 4)
        @rule(
            category=st.sampled_from(CATEGORIES),
            source=st.sampled_from(list(Source)),
            urgency=st.sampled_from([None, *Urgency]),
            grid=st.sampled_from(["G1", "G2", None]),
            actor=st.sampled_from(ACTORS),
            near=st.booleans(),
        )
        def intake(
            self,
            category: tuple[str, Kind],
            source: Source,
            urgency: Urgency | None,
            grid: str | None,
            actor: Actor,
            near: bool,
        ) -> None:
            self.n += 1
            cmd = Intake(
                id=f"i{self.n}",
                kind=category[1],
                category=category[0],
                source=source,
                title="t",
                urgency=urgency,
                grid=grid,
                position=Point(lon=121.0 + (0 if near else 0.01), lat=31.0),
            )
            try:
                events = decide(
                    None, cmd, actor, self.now, hall, new_id=f"C{self.n}", others=self.cases
                )
            except Refusal:
                return
            self._apply(events)
            assert self.cases[f"C{self.n}"].status is Status.REPORTED
            assert self.cases[f"C{self.n}"].version == 1

        @rule(
            data=st.data(), actor=st.sampled_from(ACTORS + ACTORS[:2] * 3), stale=st.integers(0, 9)
        )
        def act(self, data: st.DataObject, actor: Actor, stale: int) -> None:
            if not self.cases:
                return
            case = self.cases[data.draw(st.sampled_from(sorted(self.cases)))]
            # Mostly ops that may start from this status, so sequences get deep into the
            # workflow; sometimes any op, to exercise the illegal ones.
            legal = [c for c in CASE_COMMANDS if case.status in TRANSITIONS[_tag(c)]]
            pool = legal if legal and data.draw(st.integers(0, 4)) else list(CASE_COMMANDS)
            cls: type[CaseCommand] = data.draw(st.sampled_from(pool))
            fields = {
                name: data.draw(ARGS[name])
                for name in cls.__struct_fields__
                if name in ARGS and name != "id"
            }
            if cls.__name__ == "Merge":
                fields["into"] = data.draw(st.sampled_from([*sorted(self.cases), "nope"]))
            fields = {k: v for k, v in fields.items() if v is not None or k in ("staff",)}
            version = case.version if stale else max(1, case.version - 1)
            self.n += 1
            cmd = cls(
                id=f"c{self.n}",
                case=case.id,
                version=version,
                reason=data.draw(st.sampled_from(REASONS)),
                **fields,
            )
            self._run(case, cmd, actor)

        @rule(data=st.data())
        def advance(self, data: st.DataObject) -> None:
            """A commander moves a case one step along a happy or side path (to get deep)."""
            open_ = sorted(c.id for c in self.cases.values() if c.status not in _DONE)
            if not open_:
                return
            case = self.cases[data.draw(st.sampled_from(open_))]
            choices = _NEXT[case.status](case)
            if not choices:
                return
            cls, fields = data.draw(st.sampled_from(choices))
            self.n += 1
            cmd = cls(id=f"a{self.n}", case=case.id, version=case.version, reason="r", **fields)
            self._run(case, cmd, ACTORS[0])

        def _run(self, case: Case, cmd: CaseCommand, actor: Actor) -> None:
            version = cmd.version
            op = op_of(cmd)
            before = dict(self.cases)
            try:
                events = decide(case, cmd, actor, self.now, hall, others=self.cases)
            except Refusal:
                return
            assert allowed(actor.role, op)
            assert version == case.version
            assert case.status in TRANSITIONS[op]
            self._apply(events)
            after = self.cases[case.id]
            assert after.version == case.version + 1
            if op in RESULTS:
                assert after.status in RESULTS[op], (op, case.status, after.status)
            else:
                assert after.status == case.status, (op, case.status, after.status)
            for cid, other in self.cases.items():
                if cid != case.id:
                    bump = 1 if op == "merge" and cid == getattr(cmd, "into", None) else 0
                    assert other.version == before[cid].version + bump

        @rule(minutes=st.integers(1, 600))
        def tick(self, minutes: int) -> None:
            """Time passes; the hub marks what is due (as the SLA ticker does)."""
            self.now += timedelta(minutes=minutes)
            for case in list(self.cases.values()):
                for deadline in sla.due_breaches(case, self.now):
                    current = self.cases[case.id]
                    events = escalation.on_breach(current, deadline, self.now, hall)
                    self._apply(events)
                    assert self.cases[case.id].version == current.version + 1

        @invariant()
        def cases_are_consistent(self) -> None:
            for case in self.cases.values():
                steps = [d.step for d in case.deadlines]
                assert len(steps) == len(set(steps))
                if case.status in TERMINAL_STATUSES:  # no clock runs, nothing pending
                    assert case.deadlines == () and case.request is None
                if case.status in IN_HAND_STATUSES:
                    assert case.owner_unit is not None
                if case.status is Status.PARKED:
                    assert case.parked_from is not None
                if case.status is Status.MERGED:
                    assert case.merged_into in self.cases
                if case.owner_unit is not None:
                    assert case.owner_unit in hall.units
                # The report-in clock runs only while a summoned unit is still out.
                if case.deadline(Step.REPORT_IN) is not None:
                    assert whistle.waiting(case)

    run_state_machine_as_test(
        Hallway,
        settings=settings(
            max_examples=150,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_random_command_sequences_stay_legal(hall: Hall) -> None:
    run(hall)
