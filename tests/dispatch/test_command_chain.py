"""The chain of command (三级指挥): desks and their queues, alerts to the desk an escalation
reaches, 批办 with its own deadline, sending back down, assigning across streets."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import msgspec
import pytest
from chain_hall import with_chain

from dispatch import escalation, sla
from dispatch.command_chain import addressed_to, desk_of
from dispatch.commands import (
    Accept,
    Acknowledge,
    Dispatch,
    Escalate,
    Instruct,
    Joint,
    Reassign,
    ReportBack,
    SendDown,
)
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import EventType, apply_case_event
from dispatch.hall import Hall
from dispatch.models import Actor, Duty, Level, Role, Step
from dispatch.workflow import precheck


@pytest.fixture
def hall(make_hall: Callable[..., Hall]) -> Hall:
    return with_chain(make_hall())


def refused(code: ErrorCode, fn, *args, **kwargs) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as info:
        fn(*args, **kwargs)
    assert info.value.code is code, info.value.message
    return info.value


def test_an_escalation_alerts_the_desk_it_reaches_and_who_is_on_duty_there(flow) -> None:
    case = flow.do(flow.intake(grid="G1"), Escalate, reason="社区解决不了")
    alert = flow.events[-1]
    assert alert.type is EventType.ALERT and case.level is Level.STREET
    # The street hall of the case's own street, not the other street's; its day officer is on
    # duty, its standby officer is not.
    assert alert.data["level"] == "street"
    assert alert.data["units"] == ["SH1"] and alert.data["on_duty"] == ["h1"]
    assert addressed_to(alert.data, "SH1", Level.STREET)
    assert not addressed_to(alert.data, "SH2", Level.STREET)
    assert not addressed_to(alert.data, "DH", Level.DISTRICT)
    case = flow.do(case, Escalate, reason="街道协调不了")
    assert flow.events[-1].data["units"] == ["DH"] and flow.events[-1].data["on_duty"] == ["d1"]
    flow.do(case, Escalate, reason="需区领导批办")
    assert flow.events[-1].data == {
        "level": "leadership", "units": ["LEAD"], "on_duty": ["l1"], "manual": True
    }  # fmt: skip


def test_a_missed_deadline_alerts_the_desk_it_escalates_to(flow) -> None:
    case = flow.intake(grid="G3")
    deadline = case.deadline(Step.ACCEPT)
    events = escalation.on_breach(case, deadline, deadline.due, flow.hall)
    assert events[-1].type is EventType.ALERT
    assert events[-1].data["units"] == ["SH2"] and events[-1].data["on_duty"] == ["h3"]


def test_each_desk_holds_the_cases_at_its_level_the_street_desk_only_its_own_street(
    flow, hall: Hall
) -> None:
    east = flow.do(flow.intake(grid="G1"), Escalate, reason="上报")
    west = flow.do(flow.intake(grid="G3"), Escalate, reason="上报")
    street_east = desk_of("SH1", hall.units, hall.areas)
    district = desk_of("DH", hall.units, hall.areas)
    assert street_east is not None and district is not None
    assert street_east.holds(east) and not street_east.holds(west)
    assert not district.holds(east)
    east = flow.do(east, Escalate, reason="上报区")
    west = flow.do(west, Escalate, reason="上报区")
    assert district.holds(east) and district.holds(west) and not street_east.holds(east)
    assert desk_of("ENF", hall.units, hall.areas) is None  # a handling unit is no desk


def test_instruct_from_the_district_or_leadership_desk_with_its_own_deadline(flow) -> None:
    case = flow.do(flow.intake(), Escalate, reason="上报")
    # A dispatcher at no desk, or at the street desk, may not instruct: the key is greyed by
    # the same rule.
    refused(ErrorCode.FORBIDDEN, flow.do, case, Instruct, "dispatcher", reason="速办")
    street_desk = Actor(name="街道值班员", role=Role.DISPATCHER, unit="SH1")
    refused(ErrorCode.FORBIDDEN, precheck, "instruct", case, street_desk, flow.now, flow.hall)
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Instruct, "leader", reason=" ")
    case = flow.do(case, Instruct, "leader", reason="两小时内处置到位并反馈", minutes=120)
    (note,) = case.instructions
    assert (note.by, note.desk, note.text) == ("区领导", Level.LEADERSHIP, "两小时内处置到位并反馈")
    assert note.due == flow.now + timedelta(minutes=120)
    clock = case.deadline(Step.INSTRUCTION)
    assert clock is not None and clock.due == note.due and clock.limit_minutes == 120
    assert flow.events[-1].type is EventType.INSTRUCTED
    # A newer instruction's deadline replaces the old one; one without minutes keeps it.
    flow.later(minutes=10)
    case = flow.do(case, Instruct, "district_desk", reason="一小时内", minutes=60)
    assert case.deadline(Step.INSTRUCTION).due == flow.now + timedelta(minutes=60)
    case = flow.do(case, Instruct, "commander", reason="注意安全")
    assert len(case.instructions) == 3 and case.instructions[-1].desk is None
    assert [d.step for d in case.deadlines].count(Step.INSTRUCTION) == 1


def test_an_instruction_deadline_is_breached_on_time_and_met_by_the_result(flow) -> None:
    case = flow.intake()
    for _ in range(3):
        case = flow.do(case, Escalate, reason="上报")
    assert case.level is Level.LEADERSHIP
    case = flow.do(case, Instruct, "leader", reason="30分钟内反馈", minutes=30)
    clock = case.deadline(Step.INSTRUCTION)
    assert clock not in sla.due_breaches(case, clock.due - timedelta(seconds=1))
    assert clock in sla.due_breaches(case, clock.due)
    events = escalation.on_breach(case, clock, clock.due, flow.hall)
    # At the top there is nowhere to escalate to, but the leadership desk hears of it.
    assert [e.type for e in events] == [EventType.DEADLINE_BREACHED, EventType.ALERT]
    assert events[-1].data["level"] == "leadership" and events[-1].data["step"] == "instruction"
    for e in events:
        case = apply_case_event(case, e)
    flow.cases[case.id] = case
    assert case.deadline(Step.INSTRUCTION).breached and sla.is_overdue(case, clock.due)
    # The result reported back meets the instruction: its clock leaves.
    case = flow.do(flow.do(case, Accept), Dispatch, unit="ENF")
    case = flow.do(flow.do(case, Acknowledge), ReportBack, reason="已处置")
    assert case.deadline(Step.INSTRUCTION) is None and len(case.instructions) == 1


def test_send_down_one_level_or_to_a_named_lower_level_alerting_that_desk(flow) -> None:
    case = flow.intake(grid="G1")
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, SendDown, reason="退回")
    for _ in range(2):
        case = flow.do(case, Escalate, reason="上报")
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, SendDown, "district_desk")
    refused(ErrorCode.INVALID, flow.do, case, SendDown, "district_desk", reason="x",
            level=Level.LEADERSHIP)  # fmt: skip
    case = flow.do(case, SendDown, "district_desk", reason="属街道职责，退回街道")
    assert case.level is Level.STREET
    sent, alert = flow.events[-2:]
    assert sent.type is EventType.SENT_DOWN and sent.data == {"from": "district", "to": "street"}
    assert alert.type is EventType.ALERT and alert.data["units"] == ["SH1"]
    case = flow.do(case, SendDown, "street_desk", reason="社区处理", level=Level.COMMUNITY)
    assert case.level is Level.COMMUNITY


def test_the_district_desk_assigns_across_streets_a_street_desk_within_its_own(flow) -> None:
    case = flow.do(flow.intake(grid="G1"), Accept)
    # The east street's desk: its own street's units and district-wide departments only.
    refused(ErrorCode.FORBIDDEN, flow.do, case, Dispatch, "street_desk", unit="LOC2")
    refused(ErrorCode.FORBIDDEN, flow.do, case, Joint, "street_desk", lead="ENF",
            supporting=("LOC2",))  # fmt: skip
    case = flow.do(case, Dispatch, "street_desk", unit="ENF")
    assert case.owner_unit == "ENF"
    case = flow.do(case, Reassign, "district_desk", unit="LOC2", reason="属西街道")
    assert case.owner_unit == "LOC2"
    refused(ErrorCode.FORBIDDEN, flow.do, case, Reassign, "street_desk", unit="SH2", reason="x")
    case = flow.do(case, Reassign, "street_desk", unit="LOC1", reason="回东街道")
    assert case.owner_unit == "LOC1"


def test_after_hours_an_escalation_alerts_the_desk_s_standby(flow) -> None:
    """Nobody on duty at the street hall (the day officer gone home): its standby officer is
    the one the alert rings for, not nobody."""
    off = {"h1": msgspec.structs.replace(flow.hall.staff["h1"], duty=Duty.OFF)}
    flow.hall = dataclasses.replace(flow.hall, staff={**flow.hall.staff, **off})
    flow.do(flow.intake(grid="G1"), Escalate, reason="夜间社区解决不了")
    assert flow.events[-1].data["units"] == ["SH1"] and flow.events[-1].data["on_duty"] == ["h2"]
