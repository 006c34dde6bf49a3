"""吹哨报到: the whistle summons units with a report-in deadline; each reports in (its own
terminal, or the hall on its behalf); the roll call says in time / late / never; a unit that
never came is escalated by rule; the figures per unit go to the assessment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from chain_hall import with_chain

from dispatch import escalation, sla, visibility
from dispatch.commands import Accept, BlowWhistle, Dispatch, Note, ReportIn
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import EventType, apply_case_event
from dispatch.hall import Hall
from dispatch.metrics import report_in_by_unit
from dispatch.models import Actor, Level, Role, Step
from dispatch.whistle import Attendance, roll_call
from dispatch.workflow import precheck


@pytest.fixture
def hall(make_hall: Callable[..., Hall]) -> Hall:
    return with_chain(make_hall())


def refused(code: ErrorCode, fn, *args, **kwargs) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as info:
        fn(*args, **kwargs)
    assert info.value.code is code, info.value.message
    return info.value


def whistled(flow):  # type: ignore[no-untyped-def]
    case = flow.do(flow.do(flow.intake(grid="G1"), Accept), Dispatch, unit="LOC1")
    return flow.do(case, BlowWhistle, units=("ENF", "SAN", "POL", "ENF"), minutes=30,
                   reason="占道经营反复回潮，各部门报到")  # fmt: skip


def test_a_whistle_summons_units_with_a_report_in_deadline(flow) -> None:
    refused(ErrorCode.ILLEGAL_STEP, flow.do, flow.intake(), BlowWhistle, units=("ENF",), minutes=5)
    accepted = flow.do(flow.intake(), Accept)
    refused(ErrorCode.NOT_FOUND, flow.do, accepted, BlowWhistle, units=("NOPE",), minutes=5)
    case = whistled(flow)
    (whistle,) = case.whistles
    assert [s.unit for s in whistle.units] == ["ENF", "SAN", "POL"]  # once each
    assert whistle.due == flow.now + timedelta(minutes=30) and whistle.by == "指挥长"
    assert case.deadline(Step.REPORT_IN).due == whistle.due
    assert flow.events[-1].type is EventType.WHISTLED
    assert [line.attendance for line in roll_call(whistle, flow.now)] == [Attendance.WAITING] * 3
    # One at a time: a second whistle waits for the roll call.
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, BlowWhistle, units=("POL",), minutes=5)


def test_summoned_units_see_the_case_and_report_in_only_for_themselves(flow) -> None:
    case = whistled(flow)
    scope = visibility.Scope(visibility.ViewKind.UNIT, frozenset({"POL"}))
    assert visibility.level(scope, visibility.placement(case)) is visibility.Level.SUPPORTS
    assert visibility.redact_case(case, visibility.Level.SUPPORTS).reporter is None
    police = Actor(name="派出所终端", role=Role.UNIT, unit="POL")
    precheck("report_in", case, police, flow.now, flow.hall)  # the key is offered
    refused(ErrorCode.FORBIDDEN, flow.do, case, ReportIn, "police_terminal", unit="SAN")
    case = flow.do(case, Note, "police_terminal", reason="民警已出发")
    flow.later(minutes=10)
    case = flow.do(case, ReportIn, "police_terminal", unit="POL")
    assert flow.events[-1].data == {"unit": "POL", "late": False}
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, ReportIn, "police_terminal", unit="POL")
    refused(ErrorCode.INVALID, flow.do, case, ReportIn, unit="LOC2")
    # A unit never summoned sees nothing and may not report in.
    other = Actor(name="西街道终端", role=Role.UNIT, unit="LOC2")
    refused(ErrorCode.FORBIDDEN, precheck, "report_in", case, other, flow.now, flow.hall)


def test_roll_call_in_time_late_never_and_the_never_escalated_by_rule(flow) -> None:
    case = whistled(flow)
    start = flow.now
    flow.later(minutes=12)
    case = flow.do(case, ReportIn, "unit", unit="ENF")  # its own terminal, in time
    flow.later(minutes=18)  # exactly at the deadline: still in time
    case = flow.do(case, ReportIn, "commander", unit="SAN")  # the hall on its behalf
    due = start + timedelta(minutes=30)
    deadline = case.deadline(Step.REPORT_IN)
    assert deadline is not None and deadline in sla.due_breaches(case, due)
    # The ticker at the deadline: POL never came; by rule the case goes up one level and the
    # desk it reaches is told who is absent.
    events = escalation.on_breach(case, deadline, due, flow.hall)
    assert [e.type for e in events] == [
        EventType.DEADLINE_BREACHED, EventType.ESCALATED, EventType.ALERT,
    ]  # fmt: skip
    assert events[0].data["absent"] == ["POL"] and events[-1].data["absent"] == ["POL"]
    assert events[-1].data["units"] == ["SH1"]
    for e in events:
        case = apply_case_event(case, e)
    flow.cases[case.id] = case
    assert case.level is Level.STREET
    lines = {line.unit: line.attendance for line in roll_call(case.whistles[-1], due)}
    assert lines == {"ENF": Attendance.IN_TIME, "SAN": Attendance.IN_TIME, "POL": Attendance.ABSENT}
    # POL turns up 20 minutes late: the roll call says late, and the report-in clock stops.
    flow.later(minutes=20)
    case = flow.do(case, ReportIn, "police_terminal", unit="POL")
    assert flow.events[-1].data == {"unit": "POL", "late": True}
    assert case.deadline(Step.REPORT_IN) is None
    lines = {line.unit: line.attendance for line in roll_call(case.whistles[-1], flow.now)}
    assert lines["POL"] is Attendance.LATE
    # Now a new whistle may be blown; the figures count both.
    flow.later(minutes=5)
    case = flow.do(case, BlowWhistle, units=("POL",), minutes=10)
    flow.later(minutes=11)
    figures = report_in_by_unit([case], flow.now)
    assert figures["ENF"].on_time_rate == 1.0
    assert (figures["POL"].summoned, figures["POL"].late, figures["POL"].absent) == (2, 1, 1)
    assert figures["POL"].on_time_rate == 0.0
    assert report_in_by_unit([], flow.now) == {}
