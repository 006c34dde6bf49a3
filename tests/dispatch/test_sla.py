"""Deadlines per step, the traffic light, what is due, and the escalation policy on a breach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from dispatch import escalation, sla
from dispatch.commands import Accept, Dispatch
from dispatch.config import EscalationSettings, Settings
from dispatch.events import EventType, apply_case_event
from dispatch.models import Basis, Case, Deadline, Kind, Level, Source, Status, Step, Urgency


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


def test_urgent_case_runs_on_the_wall_clock(flow) -> None:
    flow.now = local(2026, 11, 23, 20)  # evening: working hours don't matter
    case = flow.intake(kind=Kind.COMPONENT, category="0101", title="井盖缺失")
    assert case.urgency is Urgency.URGENT  # the catalog's default for the category
    accept = case.deadline(Step.ACCEPT)
    assert accept is not None and accept.basis is Basis.WALL
    assert accept.due == flow.now + timedelta(minutes=5)
    case = flow.do(case, Accept)
    case = flow.do(case, Dispatch, unit="ENF")
    on_scene, result = case.deadline(Step.ON_SCENE), case.deadline(Step.RESULT)
    assert on_scene is not None and on_scene.due == flow.now + timedelta(minutes=15)
    assert result is not None and result.due == flow.now + timedelta(minutes=60)
    assert case.deadline(Step.DISPATCH) is None  # done


def test_general_case_clock_stops_overnight(flow) -> None:
    flow.now = local(2026, 11, 23, 17)
    case = flow.intake()
    # 30 working minutes from 17:00: 30 minutes to the close, so the close itself.
    assert case.deadline(Step.ACCEPT).due == local(2026, 11, 23, 17, 30)
    flow.now = local(2026, 11, 23, 17, 20)
    case = flow.do(case, Accept)
    assert case.deadline(Step.DISPATCH).due == local(2026, 11, 24, 8, 50)
    flow.now = local(2026, 11, 23, 16)
    case = flow.do(case, Dispatch, unit="SAN")
    # 240 working minutes from 16:00: 90 on Monday, 150 on Tuesday → 11:00.
    result = case.deadline(Step.RESULT)
    assert result.due == local(2026, 11, 24, 11) and result.basis is Basis.WORK_HOURS
    assert case.deadline(Step.ON_SCENE) is None  # general cases have no on-scene clock


def test_work_days_limit_ends_at_the_close_and_measures_in_minutes(flow) -> None:
    case = flow.intake(category="E0501", title="游商")
    flow.now = local(2026, 11, 23, 10)
    case = flow.do(flow.do(case, Accept), Dispatch, unit="ENF")
    result = case.deadline(Step.RESULT)
    assert result.due == local(2026, 11, 25, 17, 30)
    assert result.limit_minutes == 360 + 2 * 450  # rest of Monday plus two whole days


def test_general_case_has_no_on_scene_deadline_to_ask_for(flow) -> None:
    case = flow.intake()
    with pytest.raises(ValueError):
        sla.deadline_for(Step.ON_SCENE, case, flow.now, flow.hall)


def _wall(start: datetime, minutes: int) -> Deadline:
    return Deadline(
        step=Step.RESULT,
        start=start,
        due=start + timedelta(minutes=minutes),
        limit_minutes=minutes,
        basis=Basis.WALL,
    )


@pytest.mark.parametrize(
    ("after", "colour"),
    [
        (timedelta(minutes=0), "green"),
        (timedelta(minutes=79), "green"),
        (timedelta(minutes=80), "amber"),
        (timedelta(minutes=99, seconds=59), "amber"),
        # Due this instant is overdue: the hub marks the breach at due <= now, and the
        # board, the light and the figures must all say the same (issue 8).
        (timedelta(minutes=100), "red"),
        (timedelta(minutes=100, seconds=1), "red"),
        (timedelta(hours=5), "red"),
    ],
)
def test_traffic_light_boundaries(hall, after: timedelta, colour: str) -> None:
    start = local(2026, 11, 23, 9)
    d = _wall(start, 100)
    light = sla.light(d, start + after, hall.calendar)
    assert light.colour == colour
    assert light.seconds_left == pytest.approx((d.due - start - after).total_seconds())
    assert light.used == pytest.approx(after / timedelta(minutes=100))


def test_working_light_counts_working_minutes_but_shows_wall_seconds(hall) -> None:
    start = local(2026, 11, 23, 11)
    due = hall.calendar.add_work_minutes(start, 100)
    assert due == local(2026, 11, 23, 14, 10)
    d = Deadline(step=Step.RESULT, start=start, due=due, limit_minutes=100, basis=Basis.WORK_HOURS)
    at_lunch = sla.light(d, local(2026, 11, 23, 13), hall.calendar)
    assert at_lunch.used == pytest.approx(0.6) and at_lunch.colour == "green"
    assert at_lunch.seconds_left == 70 * 60
    amber = sla.light(d, local(2026, 11, 23, 13, 50), hall.calendar)
    assert amber.colour == "amber" and amber.used == pytest.approx(0.8)
    overdue = sla.light(d, local(2026, 11, 23, 14, 20), hall.calendar)
    assert overdue.colour == "red" and overdue.seconds_left == -600


def test_amber_threshold_is_a_parameter(hall) -> None:
    start = local(2026, 11, 23, 9)
    light = sla.light(_wall(start, 100), start + timedelta(minutes=60), hall.calendar, 0.5)
    assert light.colour == "amber"


def test_next_deadline_and_due_breaches(flow) -> None:
    case = flow.intake(kind=Kind.COMPONENT, category="0101")
    case = flow.do(flow.do(case, Accept), Dispatch, unit="ENF")
    on_scene = case.deadline(Step.ON_SCENE)
    assert sla.next_deadline(case) == on_scene
    assert sla.due_breaches(case, flow.now + timedelta(minutes=14)) == []
    assert sla.due_breaches(case, flow.now + timedelta(minutes=60)) == [
        on_scene,
        case.deadline(Step.RESULT),
    ]
    marked = msgspec.structs.replace(
        case, deadlines=tuple(msgspec.structs.replace(d, breached=True) for d in case.deadlines)
    )
    assert sla.next_deadline(marked) is None
    assert sla.due_breaches(marked, flow.now + timedelta(days=1)) == []
    parked = msgspec.structs.replace(case, status=Status.PARKED, parked_from=case.status)
    assert sla.due_breaches(parked, flow.now + timedelta(days=1)) == []
    assert sla.next_deadline(parked) is None
    closed = msgspec.structs.replace(case, status=Status.CLOSED)
    assert sla.next_deadline(closed) is None


def test_breach_marks_escalates_and_alerts_the_desk_it_reaches(flow) -> None:
    case = flow.intake(kind=Kind.COMPONENT, category="0101")
    deadline = case.deadline(Step.ACCEPT)
    now = deadline.due
    events = escalation.on_breach(case, deadline, now, flow.hall)
    assert [e.type for e in events] == [
        EventType.DEADLINE_BREACHED,
        EventType.ESCALATED,
        EventType.ALERT,
    ]
    assert all(e.actor == "hub" and e.case == case.id and e.at == now for e in events)
    assert events[2].data == {
        "level": "street", "units": [], "on_duty": [], "step": "accept", "case": case.id
    }
    after = case
    for e in events:
        after = apply_case_event(after, e)
    assert after.version == case.version + 1
    assert after.level is Level.STREET
    assert after.deadline(Step.ACCEPT).breached and after.breaches == 1
    # Marked once: the ticker asking again gets nothing.
    assert escalation.on_breach(after, deadline, now, flow.hall) == []
    assert sla.due_breaches(after, now) == []


def test_breach_at_the_top_only_marks(make_hall) -> None:
    hall = make_hall(Settings(escalation=EscalationSettings(top=Level.STREET)))
    case = Case(
        id="C1",
        kind=Kind.EVENT,
        category="E0101",
        source=Source.PATROL,
        urgency=Urgency.GENERAL,
        status=Status.ACCEPTED,
        title="t",
        reported_at=local(2026, 11, 23, 9),
        level=Level.STREET,
    )
    case = msgspec.structs.replace(
        case, deadlines=(sla.deadline_for(Step.DISPATCH, case, case.reported_at, hall),)
    )
    events = escalation.on_breach(case, case.deadlines[0], case.deadlines[0].due, hall)
    assert [e.type for e in events] == [EventType.DEADLINE_BREACHED]


def test_breach_without_escalation_when_switched_off(flow, make_hall) -> None:
    hall = make_hall(Settings(escalation=EscalationSettings(on_breach=False)))
    case = flow.intake()
    events = escalation.on_breach(case, case.deadlines[0], case.deadlines[0].due, hall)
    assert [e.type for e in events] == [EventType.DEADLINE_BREACHED]


def test_raise_level() -> None:
    assert escalation.raise_level(Level.COMMUNITY, Level.LEADERSHIP) is Level.STREET
    assert escalation.raise_level(Level.DISTRICT, Level.LEADERSHIP) is Level.LEADERSHIP
    assert escalation.raise_level(Level.LEADERSHIP, Level.LEADERSHIP) is None
    assert escalation.raise_level(Level.DISTRICT, Level.DISTRICT) is None


def test_second_return_goes_to_the_grid_head(flow) -> None:
    case = flow.intake()
    once = msgspec.structs.replace(case, returns=1)
    twice = msgspec.structs.replace(case, returns=2)
    assert escalation.after_return(once, flow.hall) is None
    assert escalation.after_return(twice, flow.hall) is Level.STREET
    higher = msgspec.structs.replace(twice, level=Level.DISTRICT)
    assert escalation.after_return(higher, flow.hall) is None
