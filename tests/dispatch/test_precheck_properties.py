"""``precheck`` is ``decide`` without the command: for any case, operator and op it refuses
exactly when ``decide`` with valid arguments at the case's version refuses, with the same
refusal — so a key the console greys is a command the hub would refuse, and the other way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import MONDAY_9
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import whistle
from dispatch.commands import CASE_COMMANDS, CaseCommand
from dispatch.errors import Refusal
from dispatch.hall import Hall
from dispatch.models import (
    LEVELS,
    Actor,
    Basis,
    Case,
    Deadline,
    Kind,
    Level,
    Request,
    RequestKind,
    Role,
    Source,
    Status,
    Step,
    Summons,
    Urgency,
    Whistle,
)
from dispatch.roles import own_units
from dispatch.workflow import TRANSITIONS, decide, precheck

NOW = MONDAY_9
UNITS = ["ENF", "ENF2", "SAN", "POL", "LOC1"]
ACTORS = [
    Actor(name="boss", role=Role.COMMANDER),
    Actor(name="desk", role=Role.DISPATCHER),
    Actor(name="night", role=Role.STANDBY, unit="ENF"),
    Actor(name="night-san", role=Role.STANDBY, unit="SAN"),
    Actor(name="night-none", role=Role.STANDBY),
    Actor(name="enf", role=Role.UNIT, unit="ENF"),
    Actor(name="enf2", role=Role.UNIT, unit="ENF2"),
    Actor(name="san", role=Role.UNIT, unit="SAN"),
    Actor(name="unit-none", role=Role.UNIT),
    Actor(name="wall", role=Role.OBSERVER),
]
CATEGORIES = [("E0101", Kind.EVENT), ("E0501", Kind.EVENT), ("0101", Kind.COMPONENT)]
COMMANDS: dict[str, type[CaseCommand]] = {str(c.__struct_config__.tag): c for c in CASE_COMMANDS}


def _case(**fields: Any) -> Case:
    """A case reported two hours ago; ``fields`` say the rest."""
    base: dict[str, Any] = {
        "id": "C1",
        "kind": Kind.EVENT,
        "category": "E0101",
        "source": Source.PATROL,
        "urgency": Urgency.GENERAL,
        "status": Status.REPORTED,
        "title": "t",
        "reported_at": NOW - timedelta(hours=2),
    }
    return Case(**(base | fields))


def _deadline(step: Step, due_in: int, breached: bool) -> Deadline:
    return Deadline(
        step=step,
        start=NOW - timedelta(minutes=60),
        due=NOW + timedelta(minutes=due_in),
        limit_minutes=60 + due_in,
        basis=Basis.WALL,
        breached=breached,
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    category, kind = draw(st.sampled_from(CATEGORIES))
    status = draw(st.sampled_from(list(Status)))
    request = draw(
        st.one_of(
            st.none(),
            st.builds(
                Request,
                kind=st.sampled_from([k.value for k in RequestKind]),
                by=st.just("enf"),
                at=st.just(NOW),
                reason=st.just("r"),
                minutes=st.sampled_from([None, 30]),
            ),
        )
    )
    result = draw(st.sampled_from(["none", "running", "due", "breached"]))
    deadlines = {
        "none": (),
        "running": (_deadline(Step.RESULT, 30, False),),
        "due": (_deadline(Step.RESULT, 0, False),),
        "breached": (_deadline(Step.RESULT, -10, True),),
    }[result]
    return _case(
        kind=kind,
        category=category,
        source=draw(st.sampled_from(list(Source))),
        urgency=draw(st.sampled_from(list(Urgency))),
        status=status,
        grid="G1",
        level=draw(st.sampled_from(list(Level))),
        owner_unit=draw(st.sampled_from([None, *UNITS])),
        owner_staff=draw(st.sampled_from([None, "p1"])),
        supporting_units=tuple(draw(st.lists(st.sampled_from(UNITS), max_size=2, unique=True))),
        deadlines=deadlines,
        request=request,
        parked_from=Status.DISPATCHED if status is Status.PARKED else None,
        parked_at=NOW - timedelta(hours=1) if status is Status.PARKED else None,
        callback=draw(st.sampled_from([None, "satisfied"])),
        whistles=draw(whistles()),
        version=draw(st.integers(1, 20)),
    )


def whistles() -> st.SearchStrategy[tuple[Whistle, ...]]:
    """None, or one whose units are in, out, or a mix; its deadline to come or past."""
    summons = st.builds(
        Summons,
        unit=st.sampled_from(UNITS),
        reported_at=st.sampled_from([None, NOW - timedelta(minutes=5)]),
    )
    one = st.builds(
        Whistle,
        by=st.just("boss"),
        at=st.just(NOW - timedelta(minutes=40)),
        due=st.sampled_from([NOW + timedelta(minutes=10), NOW - timedelta(minutes=10)]),
        units=st.lists(summons, min_size=1, max_size=3, unique_by=lambda s: s.unit).map(tuple),
    )
    return st.one_of(st.just(()), one.map(lambda w: (w,)))


def valid_arguments(
    op: str, case: Case, actor: Actor, hall: Hall, data: st.DataObject
) -> tuple[dict[str, Any], dict[str, Case]]:
    """Arguments the op would be taken with (and the cases it names), whatever the case is."""
    units = sorted(own_units(actor, hall)) if actor.role in (Role.STANDBY, Role.UNIT) else []
    units = units or sorted(hall.units)
    args: dict[str, Any] = {"reason": "理由"}
    others: dict[str, Case] = {}
    if op == "verify":
        args["confirmed"] = data.draw(st.booleans())
    elif op == "accept":
        args["category"] = data.draw(st.sampled_from([None, "E0101", "0102"]))
        args["urgency"] = data.draw(st.sampled_from([None, *Urgency]))
    elif op == "dispatch":
        args["unit"] = data.draw(st.sampled_from(units))
        args["staff"] = "p1" if args["unit"] == "ENF" and data.draw(st.booleans()) else None
    elif op == "reassign":
        args["unit"] = data.draw(st.sampled_from([u for u in UNITS if u != case.owner_unit]))
    elif op == "check":
        args["passed"] = data.draw(st.booleans())
    elif op == "callback":
        args["satisfied"] = data.draw(st.booleans())
    elif op == "joint":
        lead = data.draw(st.sampled_from(UNITS))
        args["lead"] = lead
        args["supporting"] = (data.draw(st.sampled_from([u for u in UNITS if u != lead])),)
    elif op == "request_extension":
        args["minutes"] = data.draw(st.integers(1, 600))
    elif op in ("approve", "refuse"):
        pending = case.request.kind if case.request is not None else None
        args["request"] = pending or data.draw(st.sampled_from([k.value for k in RequestKind]))
    elif op == "whistle":
        args["units"] = tuple(data.draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3)))
        args["minutes"] = data.draw(st.integers(1, 120))
    elif op == "report_in":
        # The one a terminal's key sends: its own unit still out (the first, as precheck
        # names it); the hall's: any unit still out.
        waiting = list(whistle.waiting(case))
        summoned = sorted(whistle.summoned(case))
        if actor.role in (Role.STANDBY, Role.UNIT):
            own = own_units(actor, hall)
            mine = [u for u in waiting if u in own] or sorted(own & set(summoned))
            args["unit"] = min(mine) if mine else (actor.unit or "ENF")
        else:
            args["unit"] = data.draw(st.sampled_from(waiting or summoned or UNITS))
    elif op == "send_down":
        below = LEVELS[: LEVELS.index(case.level)]
        args["level"] = data.draw(st.sampled_from(below)) if below else None
    elif op == "instruct":
        args["minutes"] = data.draw(st.sampled_from([None, 60]))
    elif op == "merge":
        target = _case(id="C2", kind=case.kind, category=case.category, status=Status.ACCEPTED)
        args["into"] = target.id
        others[target.id] = target
    return args, others


def _refusal(call: Any) -> Refusal | None:
    try:
        call()
    except Refusal as refusal:
        return refusal
    return None


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=cases(),
    actor=st.sampled_from(ACTORS),
    op=st.sampled_from(sorted(TRANSITIONS)),
    data=st.data(),
)
def test_precheck_refuses_exactly_what_decide_refuses_whatever_the_arguments(
    hall: Hall, case: Case, actor: Actor, op: str, data: st.DataObject
) -> None:
    args, others = valid_arguments(op, case, actor, hall, data)
    command = COMMANDS[op](id="c1", case=case.id, version=case.version, **args)
    by_decide = _refusal(lambda: decide(case, command, actor, NOW, hall, others=others))
    by_precheck = _refusal(lambda: precheck(op, case, actor, NOW, hall))
    assert by_precheck == by_decide
    if by_decide is not None:
        assert by_decide.detail is not None


def test_precheck_is_for_ops_on_a_case(hall: Hall) -> None:
    with pytest.raises(ValueError, match="intake"):
        precheck("intake", _case(), ACTORS[0], NOW, hall)
