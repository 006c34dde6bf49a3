"""The case workflow: every op's happy path and its refusals, versions, roles and scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest
from conftest import ACTORS

from dispatch import escalation, sla
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    Callback,
    Check,
    Close,
    Dispatch,
    Escalate,
    Intake,
    Joint,
    Merge,
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
    Rework,
    ShiftChange,
    StaffStatus,
    Urge,
    Verify,
)
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import EventType, apply_staff_event
from dispatch.models import (
    Actor,
    Duty,
    Field,
    Kind,
    Level,
    Point,
    Role,
    Shift,
    Source,
    Status,
    Step,
    Urgency,
)
from dispatch.roles import ALLOWED, allowed, own_units
from dispatch.workflow import TRANSITIONS, decide, decide_shift, decide_staff, precheck


def refused(code: ErrorCode, fn, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args, **kwargs)
    assert info.value.code is code, info.value.message
    return info.value


def in_hand(flow, **intake):
    case = flow.intake(**intake)
    return flow.do(flow.do(case, Accept), Dispatch, unit="ENF", staff="p1")


# --- intake --------------------------------------------------------------------------------


def test_intake_builds_a_reported_case_with_an_accept_clock(flow) -> None:
    case = flow.intake(reporter="13800000000", address="东大街 1 号")
    assert case.status is Status.REPORTED and case.version == 1
    assert case.urgency is Urgency.GENERAL and case.level is Level.COMMUNITY
    assert case.reported_at == flow.now
    assert [d.step for d in case.deadlines] == [Step.ACCEPT]
    (event,) = flow.events
    assert event.type is EventType.CASE_CREATED and event.actor == "值班员"
    assert event.command is not None and event.case == case.id


def test_intake_refusals(flow) -> None:
    refused(ErrorCode.NOT_FOUND, flow.intake, category="9999")
    refused(ErrorCode.INVALID, flow.intake, kind=Kind.COMPONENT)  # E0101 is an event
    refused(ErrorCode.NOT_FOUND, flow.intake, grid="G99")
    refused(ErrorCode.FORBIDDEN, flow.intake, actor="observer")
    cmd = Intake(id="x", kind=Kind.EVENT, category="E0101", source=Source.PATROL, title="t")
    refused(
        ErrorCode.INVALID,
        decide,
        None,
        cmd,
        Actor(name="值班员", role=Role.DISPATCHER),
        flow.now,
        flow.hall,
    )


def test_urgency_given_overrides_the_catalog(flow) -> None:
    case = flow.intake(urgency=Urgency.URGENT)
    assert case.urgency is Urgency.URGENT


def test_duplicate_is_flagged_near_in_time_and_place(flow) -> None:
    first = flow.intake(position=Point(lon=121.0, lat=31.0))
    flow.later(minutes=30)
    near = flow.intake(position=Point(lon=121.0005, lat=31.0))  # ~48 m east
    assert near.duplicate_of == first.id
    assert flow.events[-1].type is EventType.DUPLICATE_FLAGGED
    assert flow.events[-1].data == {"of": first.id}
    far = flow.intake(position=Point(lon=121.01, lat=31.0))  # ~950 m
    assert far.duplicate_of is None
    other_grid = flow.intake(grid="G2")
    assert other_grid.duplicate_of is None
    flow.later(hours=3)
    late = flow.intake()
    assert late.duplicate_of is None or late.duplicate_of != first.id


# --- the happy path ------------------------------------------------------------------------


def test_a_hotline_case_from_intake_to_callback(flow) -> None:
    case = flow.intake(source=Source.HOTLINE, reporter="12345-0001")
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, Accept)  # must be verified first
    case = flow.do(case, Verify, confirmed=True)
    assert case.status is Status.VERIFIED
    case = flow.do(case, Accept, category="E0501", urgency=Urgency.URGENT)
    assert (case.status, case.category, case.urgency) == (
        Status.ACCEPTED,
        "E0501",
        Urgency.URGENT,
    )
    assert [d.step for d in case.deadlines] == [Step.DISPATCH]
    assert case.accepted_at == flow.now
    case = flow.do(case, Dispatch, actor="dispatcher", unit="ENF", staff="p1")
    assert (case.status, case.owner_unit, case.owner_staff) == (Status.DISPATCHED, "ENF", "p1")
    assert {d.step for d in case.deadlines} == {Step.ON_SCENE, Step.RESULT}
    case = flow.do(case, Acknowledge, actor="unit")
    assert case.status is Status.ACKNOWLEDGED
    case = flow.do(case, Arrive, actor="unit")
    assert case.status is Status.ON_SCENE and case.deadline(Step.ON_SCENE) is None
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, ReportBack, actor="unit")
    case = flow.do(case, ReportBack, actor="unit", reason="已清理")
    assert case.status is Status.REPORTED_BACK
    assert [d.step for d in case.deadlines] == [Step.CHECK]
    case = flow.do(case, Check, passed=True)
    assert case.status is Status.CHECKED and case.deadlines == ()
    case = flow.do(case, Close)
    assert case.status is Status.CLOSED and case.on_time is True and case.closed_at == flow.now
    case = flow.do(case, Callback, satisfied=True)
    assert case.callback == "satisfied" and case.status is Status.CLOSED
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, Callback, satisfied=False)  # once
    assert case.version == 10  # one per command, intake included


def test_verify_not_confirmed_voids_and_verify_is_only_for_public_sources(flow) -> None:
    case = flow.intake(source=Source.PHOTO)
    assert flow.do(case, Verify, confirmed=False).status is Status.VOIDED
    patrol = flow.intake()
    refused(ErrorCode.ILLEGAL_STEP, flow.do, patrol, Verify, confirmed=True)


def test_reject_needs_a_reason(flow) -> None:
    case = flow.intake()
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Reject)
    case = flow.do(case, Reject, reason="不属于受理范围")
    assert case.status is Status.REJECTED and not case.is_open
    assert flow.events[-1].reason == "不属于受理范围"


def test_dispatch_argument_refusals(flow) -> None:
    case = flow.do(flow.intake(), Accept)
    refused(ErrorCode.NOT_FOUND, flow.do, case, Dispatch, unit="NOPE")
    refused(ErrorCode.NOT_FOUND, flow.do, case, Dispatch, unit="ENF", staff="nobody")
    refused(ErrorCode.INVALID, flow.do, case, Dispatch, unit="SAN", staff="p1")


def test_callback_only_for_public_sources(flow) -> None:
    case = in_hand(flow)
    case = flow.do(case, ReportBack, reason="done")
    case = flow.do(flow.do(case, Check, passed=True), Close)
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, Callback, satisfied=True)


# --- side ways -----------------------------------------------------------------------------


def test_reassign_restarts_the_clocks_and_needs_a_reason(flow) -> None:
    case = in_hand(flow)
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Reassign, unit="SAN")
    refused(ErrorCode.INVALID, flow.do, case, Reassign, unit="ENF", staff="p1", reason="x")
    flow.later(minutes=30)
    case = flow.do(case, Reassign, unit="SAN", staff="p2", reason="环卫职责")
    assert (case.status, case.owner_unit, case.owner_staff) == (Status.DISPATCHED, "SAN", "p2")
    assert case.deadline(Step.RESULT).start == flow.now
    assert flow.events[-1].data["from_unit"] == "ENF"


def test_failed_check_and_rework_go_back_to_the_same_unit(flow) -> None:
    case = flow.do(in_hand(flow), ReportBack, reason="done")
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Check, passed=False)
    case = flow.do(case, Check, passed=False, reason="未清理干净")
    assert (case.status, case.owner_unit, case.reworks) == (Status.DISPATCHED, "ENF", 1)
    assert flow.events[-1].type is EventType.REWORK
    case = flow.do(flow.do(case, ReportBack, reason="again"), Check, passed=True)
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Rework)
    case = flow.do(case, Rework, reason="复查发现反弹")
    assert (case.status, case.reworks) == (Status.DISPATCHED, 2)
    assert case.deadline(Step.RESULT) is not None and case.deadline(Step.CHECK) is None


def test_close_after_a_breach_is_not_on_time(flow) -> None:
    case = in_hand(flow)
    events = escalation.on_breach(case, case.deadline(Step.RESULT), flow.now, flow.hall)
    flow._apply(events)
    case = flow.cases[case.id]
    case = flow.do(case, ReportBack, reason="done")  # the breached RESULT clock leaves
    assert all(not d.breached for d in case.deadlines)
    case = flow.do(flow.do(case, Check, passed=True), Close)
    assert case.on_time is False


def test_escalate_one_level_at_a_time_up_to_the_top(flow) -> None:
    case = flow.intake()
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Escalate)
    for level in (Level.STREET, Level.DISTRICT, Level.LEADERSHIP):
        case = flow.do(case, Escalate, reason="需协调")
        assert case.level is level
        alert = flow.events[-1]
        assert (alert.type, alert.reason) == (EventType.ALERT, "需协调")
        assert alert.data["level"] == str(level)  # the desk that now holds the case
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, Escalate, reason="again")


def test_urge_counts(flow) -> None:
    case = flow.do(flow.intake(), Accept)
    case = flow.do(case, Urge)
    case = flow.do(flow.do(case, Dispatch, unit="ENF"), Urge, reason="尽快处理")
    assert case.urges == 2
    refused(ErrorCode.ILLEGAL_STEP, flow.do, flow.intake(), Urge)


def test_joint_from_accepted_dispatches_to_the_lead(flow) -> None:
    case = flow.do(flow.intake(category="E0501"), Accept)
    refused(ErrorCode.NOT_FOUND, flow.do, case, Joint, lead="ENF", supporting=("NOPE",))
    refused(ErrorCode.INVALID, flow.do, case, Joint, lead="ENF", supporting=("ENF",))
    case = flow.do(case, Joint, lead="ENF", supporting=("POL", "SAN", "POL"))
    assert (case.status, case.owner_unit, case.supporting_units) == (
        Status.DISPATCHED,
        "ENF",
        ("POL", "SAN"),
    )
    assert case.deadline(Step.RESULT) is not None
    case = flow.do(case, Joint, lead="POL", supporting=("ENF",))
    assert (case.status, case.owner_unit) == (Status.DISPATCHED, "POL")


def test_note_works_in_any_status_and_changes_only_the_version(flow) -> None:
    case = flow.do(flow.intake(), Reject, reason="重复")
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Note)
    after = flow.do(case, Note, reason="已电话告知")
    assert after == msgspec.structs.replace(case, version=case.version + 1)
    assert flow.events[-1].changes == {"version": case.version + 1}


# --- requests ------------------------------------------------------------------------------


def test_return_twice_goes_to_the_grid_head(flow) -> None:
    case = in_hand(flow)
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, RequestReturn, actor="unit")
    case = flow.do(case, RequestReturn, actor="unit", reason="非本单位职责")
    assert case.request is not None and case.request.kind == "return"
    refused(ErrorCode.ILLEGAL_STEP, flow.do, case, RequestPark, actor="unit", reason="x")
    refused(ErrorCode.NO_REQUEST, flow.do, case, Approve, request="park")
    case = flow.do(case, Approve, request="return")
    assert (case.status, case.owner_unit, case.returns, case.request) == (
        Status.ACCEPTED,
        None,
        1,
        None,
    )
    assert [d.step for d in case.deadlines] == [Step.DISPATCH]
    assert case.level is Level.COMMUNITY
    case = flow.do(case, Dispatch, unit="ENF")
    case = flow.do(case, RequestReturn, actor="unit", reason="仍非本单位")
    version = case.version
    case = flow.do(case, Approve, request="return")
    assert case.returns == 2 and case.level is Level.STREET
    assert case.version == version + 1
    assert [e.type for e in flow.events[-2:]] == [EventType.RETURNED, EventType.ESCALATED]


def test_extension_only_before_the_deadline(flow) -> None:
    case = in_hand(flow)
    due = case.deadline(Step.RESULT).due
    case = flow.do(case, RequestExtension, actor="unit", minutes=60, reason="需要材料")
    case = flow.do(case, Approve, request="extension")
    result = case.deadline(Step.RESULT)
    assert result.due == flow.hall.calendar.add_work_minutes(due, 60)
    assert case.extensions == 1 and case.request is None
    flow.now = result.due
    refused(
        ErrorCode.DEADLINE_PASSED,
        flow.do,
        case,
        RequestExtension,
        actor="unit",
        minutes=60,
        reason="again",
    )


def test_refuse_clears_the_request_with_a_reason(flow) -> None:
    case = flow.do(in_hand(flow), RequestVoid, actor="unit", reason="重复上报")
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Refuse, request="void")
    refused(ErrorCode.NO_REQUEST, flow.do, case, Refuse, request="park", reason="x")
    case = flow.do(case, Refuse, request="void", reason="并非重复")
    assert case.request is None and case.status is Status.DISPATCHED


def test_void_request_approved(flow) -> None:
    case = flow.do(in_hand(flow), RequestVoid, actor="unit", reason="重复上报")
    assert flow.do(case, Approve, request="void").status is Status.VOIDED


def test_park_stops_the_clock_and_resume_shifts_it(flow) -> None:
    case = flow.do(in_hand(flow), Acknowledge, actor="unit")
    due = case.deadline(Step.RESULT).due
    case = flow.do(case, RequestPark, actor="unit", reason="等待拆违审批")
    parked_at = flow.now
    case = flow.do(case, Approve, request="park")
    assert (case.status, case.parked_from) == (Status.PARKED, Status.ACKNOWLEDGED)
    flow.now = parked_at + timedelta(days=2)  # Monday 09:00 → Wednesday 09:00
    assert sla.due_breaches(case, flow.now) == []
    case = flow.do(case, Resume)
    assert case.status is Status.ACKNOWLEDGED and case.parked_at is None
    # Two whole working days (900 working minutes) later on the working clock.
    assert case.deadline(Step.RESULT).due == flow.hall.calendar.add_work_minutes(due, 900)


# --- merge ---------------------------------------------------------------------------------


def test_merge_into_an_open_case_bumps_both(flow) -> None:
    target = flow.intake()
    dup = flow.intake()
    assert dup.duplicate_of == target.id
    refused(ErrorCode.INVALID, flow.do, dup, Merge, into=dup.id)
    refused(ErrorCode.NOT_FOUND, flow.do, dup, Merge, into="C9999")
    other = flow.intake(category="E0501", title="游商")
    refused(ErrorCode.INVALID, flow.do, dup, Merge, into=other.id)
    dup = flow.do(dup, Merge, into=target.id, reason="同一堆垃圾")
    assert (dup.status, dup.merged_into) == (Status.MERGED, target.id)
    assert flow.cases[target.id].version == target.version + 1
    last = flow.events[-1]
    assert (last.type, last.case, last.data) == (
        EventType.DUPLICATE_MERGED,
        target.id,
        {"duplicate": dup.id},
    )
    closed = flow.do(flow.intake(), Reject, reason="x")
    refused(ErrorCode.ILLEGAL_STEP, flow.do, flow.intake(), Merge, into=closed.id)


def test_a_merge_keeps_every_reporter_for_the_callback(flow) -> None:
    target = flow.intake(source=Source.HOTLINE, reporter="12345-0001", address="梧桐路12号")
    first = flow.intake(source=Source.HOTLINE, reporter="12345-0002", address="梧桐路12号")
    second = flow.intake(source=Source.PHOTO, reporter="王女士", address="梧桐路12号门口")
    again = flow.intake(source=Source.HOTLINE, reporter="12345-0001", address="梧桐路12号")
    for dup in (first, second, again):
        assert dup.duplicate_of == target.id
        flow.do(dup, Merge, into=target.id, reason="同一处")
    kept = flow.cases[target.id]
    assert kept.reporter == "12345-0001"
    assert kept.also_reported_by == ("12345-0002", "王女士")  # the original's not twice


def test_a_patrol_case_records_the_grid_worker_who_found_it(flow) -> None:
    case = flow.intake(found_by="p1")
    assert case.found_by == "p1"
    refused(ErrorCode.NOT_FOUND, flow.intake, found_by="nobody")


# --- checks before the op ------------------------------------------------------------------


def test_stale_version_is_a_conflict(flow) -> None:
    case = flow.intake()
    flow.do(case, Note, reason="first")
    err = refused(ErrorCode.CONFLICT, flow.do, case, Accept)  # still at version 1
    assert "version 2" in err.message


def test_illegal_step_names_op_and_status(flow) -> None:
    err = refused(ErrorCode.ILLEGAL_STEP, flow.do, flow.intake(), Close)
    assert "close" in err.message and "reported" in err.message


def test_role_is_checked_before_version_and_status(flow) -> None:
    case = flow.intake()
    refused(ErrorCode.FORBIDDEN, flow.do, case, Close, actor="observer", version=99)
    refused(ErrorCode.FORBIDDEN, flow.do, case, Accept, actor="unit")
    refused(ErrorCode.FORBIDDEN, flow.do, case, RequestPark, actor="dispatcher", reason="x")


def test_unit_operators_act_only_on_their_units_cases(flow) -> None:
    case = in_hand(flow)  # owned by ENF
    refused(ErrorCode.FORBIDDEN, flow.do, case, Acknowledge, actor="other_unit")
    assert flow.do(case, Acknowledge, actor="unit").status is Status.ACKNOWLEDGED


def test_standby_dispatches_unowned_cases_only_to_its_own_unit(flow) -> None:
    case = flow.do(flow.intake(), Accept)
    refused(ErrorCode.FORBIDDEN, flow.do, case, Dispatch, actor="standby", unit="SAN")
    case = flow.do(case, Dispatch, actor="standby", unit="ENF2")  # a unit under its own
    assert case.owner_unit == "ENF2"
    san = flow.do(flow.do(flow.intake(), Accept), Dispatch, unit="SAN")
    refused(ErrorCode.FORBIDDEN, flow.do, san, Urge, actor="standby")


def test_refusals_name_their_rule_and_its_values(flow) -> None:
    case = flow.intake()
    flow.do(case, Note, reason="first")
    err = refused(ErrorCode.CONFLICT, flow.do, case, Accept)
    assert err.detail == "version_conflict"
    assert err.params == {"case": case.id, "version": 2, "status": "reported", "expected": 1}
    err = refused(ErrorCode.ILLEGAL_STEP, flow.do, flow.intake(source=Source.HOTLINE), Accept)
    assert (err.detail, err.params) == ("verify_first", {"source": "hotline"})
    assert err.message == "cannot accept a hotline case before it is verified"
    err = refused(ErrorCode.FORBIDDEN, flow.do, flow.intake(), Accept, actor="unit")
    assert (err.detail, err.params) == ("role_may_not", {"role": "unit", "op": "accept"})


def test_precheck_greys_what_decide_refuses(flow, hall) -> None:
    hotline = flow.intake(source=Source.HOTLINE)
    desk = ACTORS["dispatcher"]
    err = refused(ErrorCode.ILLEGAL_STEP, precheck, "accept", hotline, desk, flow.now, hall)
    assert err == refused(ErrorCode.ILLEGAL_STEP, flow.do, hotline, Accept, actor="dispatcher")
    precheck("verify", hotline, desk, flow.now, hall)
    verified = flow.do(hotline, Verify, confirmed=True)
    precheck("accept", verified, desk, flow.now, hall)
    err = refused(ErrorCode.FORBIDDEN, precheck, "accept", verified, ACTORS["standby"],
                  flow.now, hall)  # fmt: skip
    assert err.detail == "role_may_not"
    case = in_hand(flow)
    err = refused(ErrorCode.NO_REQUEST, precheck, "approve", case, desk, flow.now, hall)
    assert err.detail == "no_pending_request"
    asked = flow.do(case, RequestPark, actor="unit", reason="施工中")
    precheck("approve", asked, desk, flow.now, hall)
    err = refused(ErrorCode.NO_REQUEST, flow.do, asked, Approve, request="void")
    assert (err.detail, err.params) == ("no_request", {"case": case.id, "request": "void"})
    err = refused(ErrorCode.ILLEGAL_STEP, precheck, "request_void", asked, ACTORS["unit"],
                  flow.now, hall)  # fmt: skip
    assert (err.detail, err.params) == ("request_pending", {"request": "park"})


def test_standby_may_take_an_unowned_case_to_its_own_units_only(flow, hall) -> None:
    standby = ACTORS["standby"]
    assert own_units(standby, hall) == {"ENF", "ENF2"}
    assert own_units(ACTORS["dispatcher"], hall) == frozenset()
    case = flow.do(flow.intake(), Accept)
    precheck("dispatch", case, standby, flow.now, hall)  # the key is offered …
    err = refused(ErrorCode.FORBIDDEN, flow.do, case, Dispatch, actor="standby", unit="SAN")
    assert err.detail == "dispatch_outside_unit"  # … with a picker of its own units
    assert err.params == {"operator": standby.name, "unit": "SAN"}
    err = refused(ErrorCode.FORBIDDEN, precheck, "reject", case, standby, flow.now, hall)
    assert err.detail == "role_may_not"
    san = flow.do(case, Dispatch, unit="SAN")
    err = refused(ErrorCode.FORBIDDEN, precheck, "urge", san, standby, flow.now, hall)
    assert (err.detail, err.params) == ("not_own_unit", {"case": san.id, "operator": "备勤"})


def test_role_table_matches_the_design() -> None:
    assert ALLOWED[Role.OBSERVER] == frozenset()
    assert all(allowed(Role.COMMANDER, op) for op in (*TRANSITIONS, "intake", "shift_change"))
    assert allowed(Role.DISPATCHER, "reassign") and not allowed(Role.DISPATCHER, "report_back")
    assert allowed(Role.STANDBY, "dispatch") and not allowed(Role.STANDBY, "accept")
    assert allowed(Role.UNIT, "request_void") and not allowed(Role.UNIT, "dispatch")


# --- people --------------------------------------------------------------------------------


def test_staff_status_changes_one_person_and_marks_seen(flow, hall) -> None:
    person = hall.staff["p1"]
    cmd = StaffStatus(id="s1", staff="p1", field=Field.EN_ROUTE, position=Point(lon=1, lat=2))
    unit = Actor(name="城管终端", role=Role.UNIT, unit="ENF")
    (event,) = decide_staff(person, cmd, unit, flow.now, hall)
    after = apply_staff_event(person, event)
    assert (after.field, after.seen_at, after.version) == (Field.EN_ROUTE, flow.now, 2)
    assert after.duty is person.duty
    other = Actor(name="环卫终端", role=Role.UNIT, unit="SAN")
    refused(ErrorCode.FORBIDDEN, decide_staff, person, cmd, other, flow.now, hall)
    watcher = Actor(name="大屏", role=Role.OBSERVER)
    refused(ErrorCode.FORBIDDEN, decide_staff, person, cmd, watcher, flow.now, hall)


def test_shift_change_to_standby_and_back(flow, hall) -> None:
    boss = Actor(name="指挥长", role=Role.COMMANDER)
    staff = {s.id: msgspec.structs.replace(s, duty=Duty.ON_DUTY) for s in hall.staff.values()}
    staff = {**staff, "p2": msgspec.structs.replace(staff["p2"], duty=Duty.OFF)}
    staff = {**staff, "p3": msgspec.structs.replace(staff["p3"], duty=Duty.OFF)}
    hall = replace(hall, staff=staff)
    events = decide_shift(ShiftChange(id="h1", to=Shift.STANDBY), boss, flow.now, hall)
    assert events[-1].type is EventType.SHIFT_CHANGED and events[-1].data == {"to": "standby"}
    after = {e.staff: apply_staff_event(staff[e.staff], e) for e in events[:-1]}
    assert after["p1"].duty is Duty.OFF and after["p1"].field is Field.OFFLINE
    assert after["p2"].duty is Duty.STANDBY and after["p3"].duty is Duty.STANDBY
    back = decide_shift(
        ShiftChange(id="h2", to=Shift.DAY), boss, flow.now, replace(hall, staff=after)
    )
    duties = {e.staff: e.changes["duty"] for e in back[:-1]}
    assert duties == {"p1": "on_duty", "p2": "off", "p3": "off"}
    # Back on duty in the morning, p1 is offered for dispatch again, not left "offline".
    assert apply_staff_event(after["p1"], back[0]).field is Field.AVAILABLE
    unit = Actor(name="城管终端", role=Role.UNIT, unit="ENF")
    refused(
        ErrorCode.FORBIDDEN, decide_shift, ShiftChange(id="h3", to=Shift.DAY), unit, flow.now, hall
    )


# --- callbacks (回访) as a process ------------------------------------------------------------


def _closed_hotline_case(flow):  # type: ignore[no-untyped-def]
    case = flow.intake(source=Source.HOTLINE, reporter="12345-0002")
    case = flow.do(flow.do(case, Verify, confirmed=True), Accept)
    case = flow.do(case, Dispatch, unit="ENF", staff="p1")
    case = flow.do(flow.do(case, Acknowledge, actor="unit"), Arrive, actor="unit")
    case = flow.do(case, ReportBack, actor="unit", reason="已清理")
    return flow.do(flow.do(case, Check, passed=True), Close)


def test_an_unsatisfied_callback_may_reopen_the_case_as_rework(flow) -> None:
    case = _closed_hotline_case(flow)
    refused(ErrorCode.INVALID, flow.do, case, Callback, satisfied=True, reopen=True, reason="x")
    refused(ErrorCode.REASON_REQUIRED, flow.do, case, Callback, satisfied=False, reopen=True)
    flow.later(hours=2)
    case = flow.do(case, Callback, satisfied=False, reopen=True, reason="垃圾又堆起来了")
    assert (case.status, case.callback, case.reworks) == (Status.DISPATCHED, "unsatisfied", 1)
    assert case.closed_at is None and case.on_time is None and case.owner_unit == "ENF"
    assert Step.RESULT in {d.step for d in case.deadlines}  # the clock runs again
    assert [e.type for e in flow.events[-2:]] == [EventType.CALLBACK, EventType.REWORK]


def test_an_unsatisfied_callback_without_reopen_leaves_the_case_closed(flow) -> None:
    case = flow.do(_closed_hotline_case(flow), Callback, satisfied=False, reason="态度不好")
    assert (case.status, case.callback, case.reworks) == (Status.CLOSED, "unsatisfied", 0)
