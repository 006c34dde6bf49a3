"""The case state machine of DESIGN.md §1, as one pure function from a command to events.

:func:`decide` checks a command against the operator's role and scope, the case version,
the legal steps (:data:`TRANSITIONS`), the op's own conditions on the case (:data:`CONDITIONS`)
and its arguments, in that order, and either raises a :class:`~dispatch.errors.Refusal` or
returns the events that record the change. It never touches the case itself: the hub stores
the events and everyone applies them with :func:`dispatch.events.apply_case_event`. Every
accepted command bumps the case version by exactly one (a merge also bumps the absorbing
case's version by one).

:func:`precheck` runs the same checks that need no command — role, scope, status, conditions —
so a client greys a key by the very rule the hub will refuse it with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from dispatch import command_chain, escalation, sla, whistle
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    BlowWhistle,
    Callback,
    CaseCommand,
    Check,
    Close,
    Command,
    Dispatch,
    Escalate,
    Instruct,
    Intake,
    Joint,
    Merge,
    Note,
    Reassign,
    Refuse,
    Reject,
    ReportBack,
    ReportIn,
    RequestExtension,
    RequestPark,
    RequestReturn,
    RequestVoid,
    Resume,
    Rework,
    SendDown,
    ShiftChange,
    StaffStatus,
    Urge,
    Verify,
    op_of,
)
from dispatch.errors import refuse
from dispatch.events import Event, EventType, case_fields, changed_fields
from dispatch.hall import Hall
from dispatch.intake_rules import default_urgency
from dispatch.models import (
    IN_HAND_STATUSES,
    PUBLIC_SOURCES,
    SATISFIED,
    TERMINAL_STATUSES,
    UNSATISFIED,
    Actor,
    Case,
    Deadline,
    Duty,
    Field,
    Level,
    Request,
    RequestKind,
    Shift,
    Staff,
    Status,
    Step,
)
from dispatch.roles import check_scope, check_staff_scope, require
from dispatch.routing import find_duplicate, suggest

S = Status
_OPEN = frozenset(Status) - TERMINAL_STATUSES
_IN_HAND = IN_HAND_STATUSES

TRANSITIONS: Mapping[str, frozenset[Status]] = {
    "verify": frozenset({S.REPORTED}),
    "accept": frozenset({S.REPORTED, S.VERIFIED}),
    "reject": frozenset({S.REPORTED, S.VERIFIED}),
    "dispatch": frozenset({S.ACCEPTED}),
    "reassign": _IN_HAND,
    "acknowledge": frozenset({S.DISPATCHED}),
    "arrive": frozenset({S.DISPATCHED, S.ACKNOWLEDGED}),
    "report_back": _IN_HAND,
    "check": frozenset({S.REPORTED_BACK}),
    "rework": frozenset({S.REPORTED_BACK, S.CHECKED}),
    "close": frozenset({S.CHECKED}),
    "callback": frozenset({S.CLOSED}),
    "escalate": _OPEN,
    "urge": _IN_HAND | {S.ACCEPTED},
    "joint": _IN_HAND | {S.ACCEPTED},
    "note": frozenset(Status),
    "request_return": _IN_HAND,
    "request_extension": _IN_HAND,
    "request_park": _IN_HAND,
    "request_void": _IN_HAND,
    "approve": _IN_HAND,
    "refuse": _IN_HAND,
    "resume": frozenset({S.PARKED}),
    "merge": _OPEN,
    # The chain of command and 吹哨报到: on any open case the hall has taken on.
    "instruct": _OPEN,
    "send_down": _OPEN,
    "whistle": _OPEN - {S.REPORTED, S.VERIFIED},
    "report_in": _OPEN,
}
"""op → the statuses it may start from (anything else is ``illegal_step``)."""

RESULTS: Mapping[str, frozenset[Status]] = {
    "intake": frozenset({S.REPORTED}),
    "verify": frozenset({S.VERIFIED, S.VOIDED}),
    "accept": frozenset({S.ACCEPTED}),
    "reject": frozenset({S.REJECTED}),
    "dispatch": frozenset({S.DISPATCHED}),
    "reassign": frozenset({S.DISPATCHED}),
    "acknowledge": frozenset({S.ACKNOWLEDGED}),
    "arrive": frozenset({S.ON_SCENE}),
    "report_back": frozenset({S.REPORTED_BACK}),
    "check": frozenset({S.CHECKED, S.DISPATCHED}),  # failed check: rework, same unit
    "rework": frozenset({S.DISPATCHED}),
    "callback": frozenset({S.CLOSED, S.DISPATCHED}),  # 不满意 with reopen: rework, same unit
    "close": frozenset({S.CLOSED}),
    "joint": _IN_HAND,  # from ACCEPTED it dispatches; in hand it keeps the status
    "approve": _IN_HAND | {S.ACCEPTED, S.PARKED, S.VOIDED},  # extension keeps the status
    "resume": _IN_HAND,  # back to where it was parked from
    "merge": frozenset({S.MERGED}),
}
"""op → the statuses it may lead to; an op not listed here never changes the status."""

_HANDLING = (Step.ON_SCENE, Step.RESULT)


# --- the entry points ----------------------------------------------------------------------


def decide(
    case: Case | None,
    command: Command,
    actor: Actor,
    now: datetime,
    hall: Hall,
    *,
    new_id: str | None = None,
    others: Mapping[str, Case] = {},  # read only, never mutated
) -> list[Event]:
    """The events ``command`` by ``actor`` produces on ``case`` at ``now``, or a Refusal.

    ``case`` is None for an intake, which needs ``new_id`` (the id the hub chose).
    ``others`` holds the open cases an intake checks for duplicates and a merge targets.
    """
    op = op_of(command)
    require(actor.role, op)
    if isinstance(command, Intake):
        if new_id is None:
            raise refuse("intake_needs_id")
        return _intake(command, actor, now, hall, new_id, others)
    if not isinstance(command, CaseCommand):
        raise refuse("not_a_case_command", op=op)
    if case is None:
        raise refuse("unknown_case", case=command.case)
    if command.case != case.id:
        raise refuse("wrong_target", target=command.case, given=case.id)
    target = command.unit if isinstance(command, Dispatch | ReportIn) else None
    check_scope(actor, case, op, hall, target)
    if command.version != case.version:
        raise refuse(
            "version_conflict",
            case=case.id,
            version=case.version,
            status=case.status,
            expected=command.version,
        )
    _check_step(op, case, now, hall)
    ctx = _Ctx(actor=actor, now=now, hall=hall, command=command, others=others)
    outcome = _HANDLERS[type(command)](case, command, ctx)
    return _events(case, outcome, ctx)


def precheck(op: str, case: Case, actor: Actor, now: datetime, hall: Hall) -> None:
    """Raise the Refusal :func:`decide` would raise for ``op`` by ``actor`` on ``case`` at
    ``now`` whatever the command's arguments: the role, the operator's unit scope, the status
    and the op's own conditions on the case. Returning means the hub would take the command
    with valid arguments at the case's current version (for a scoped ``dispatch``: to one of
    :func:`~dispatch.roles.own_units`).
    """
    if op not in TRANSITIONS:
        raise ValueError(f"{op!r} is not an op on a case")
    require(actor.role, op)
    check_scope(actor, case, op, hall)
    _check_step(op, case, now, hall)


def _check_step(op: str, case: Case, now: datetime, hall: Hall) -> None:
    """Refuse ``op`` on ``case`` if its status does not allow it (``illegal_step``) or one of
    the op's own conditions on the case fails (:data:`CONDITIONS`)."""
    if case.status not in TRANSITIONS[op]:
        raise refuse("illegal_step", op=op, status=case.status)
    condition = CONDITIONS.get(op)
    if condition is not None:
        condition(case, now, hall)


def decide_staff(
    staff: Staff, command: StaffStatus, actor: Actor, now: datetime, hall: Hall
) -> list[Event]:
    """A person's duty, field status or position changed (also a heartbeat: ``seen_at``)."""
    require(actor.role, "staff_status")
    if command.staff != staff.id:
        raise refuse("wrong_target", target=command.staff, given=staff.id)
    check_staff_scope(actor, staff, hall)
    after = msgspec.structs.replace(
        staff,
        duty=command.duty if command.duty is not None else staff.duty,
        field=command.field if command.field is not None else staff.field,
        position=command.position if command.position is not None else staff.position,
        seen_at=now,
        version=staff.version + 1,
    )
    return [
        Event(
            at=now,
            actor=actor.name,
            type=EventType.STAFF_CHANGED,
            staff=staff.id,
            command=command.id,
            changes=_staff_changes(staff, after),
        )
    ]


def decide_shift(command: ShiftChange, actor: Actor, now: datetime, hall: Hall) -> list[Event]:
    """Hand over: the named shift goes on duty, the other off (day staff) or to standby."""
    require(actor.role, "shift_change")
    events = []
    for person in sorted(hall.staff.values(), key=lambda s: s.id):
        if command.to is Shift.STANDBY:
            duty = Duty.OFF if person.shift is Shift.DAY else Duty.STANDBY
        else:
            duty = Duty.ON_DUTY if person.shift is Shift.DAY else Duty.OFF
        if duty == person.duty:
            continue
        # Nobody off duty is "available": the roster must not offer them for dispatch; whoever
        # comes on duty from off starts the shift available.
        if duty is Duty.OFF:
            field_ = Field.OFFLINE
        elif duty is Duty.ON_DUTY and person.duty is Duty.OFF and person.field is Field.OFFLINE:
            field_ = Field.AVAILABLE
        else:
            field_ = person.field
        after = msgspec.structs.replace(person, duty=duty, field=field_, version=person.version + 1)
        events.append(
            Event(
                at=now,
                actor=actor.name,
                type=EventType.STAFF_CHANGED,
                staff=person.id,
                command=command.id,
                reason=f"shift change to {command.to}",
                changes=_staff_changes(person, after),
            )
        )
    events.append(
        Event(
            at=now,
            actor=actor.name,
            type=EventType.SHIFT_CHANGED,
            command=command.id,
            data={"to": str(command.to)},
        )
    )
    return events


# --- plumbing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    actor: Actor
    now: datetime
    hall: Hall
    command: CaseCommand
    others: Mapping[str, Case]


@dataclass(frozen=True)
class _Step:
    """One event on the case: its type, the case after it, and what it says beyond state."""

    type: EventType
    after: Case
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    steps: list[_Step]
    extra: list[Event] = field(default_factory=list)  # events on other cases (merge)


def _one(type_: EventType, after: Case, **data: Any) -> _Outcome:
    return _Outcome([_Step(type_, after, data)])


def _events(case: Case, outcome: _Outcome, ctx: _Ctx) -> list[Event]:
    """Events for the steps, the version bumped once for the group (on the first event)."""
    events = []
    before = case
    for step in outcome.steps:
        after = msgspec.structs.replace(step.after, version=case.version + 1)
        events.append(
            Event(
                at=ctx.now,
                actor=ctx.actor.name,
                type=step.type,
                case=case.id,
                command=ctx.command.id,
                reason=ctx.command.reason,
                changes=changed_fields(before, after),
                data=step.data,
            )
        )
        before = after
    return events + outcome.extra


def _replace(case: Case, **changes: Any) -> Case:
    return msgspec.structs.replace(case, **changes)


def _need_reason(command: CaseCommand, detail: str = "reason_required") -> None:
    """Refuse a blank reason; ``detail`` tells what the reason carries for this op."""
    if not command.reason.strip():
        raise refuse(detail, op=op_of(command))


def _without(deadlines: Iterable[Deadline], *steps: Step) -> tuple[Deadline, ...]:
    return tuple(d for d in deadlines if d.step not in steps)


def _clock(case: Case, steps: Iterable[Step], start: datetime, hall: Hall) -> Case:
    """``case`` with fresh deadlines for ``steps`` (the ones its urgency clocks)."""
    steps = [s for s in steps if sla.has_deadline(s, case.urgency)]
    fresh = tuple(sla.deadline_for(s, case, start, hall) for s in steps)
    return _replace(case, deadlines=_without(case.deadlines, *steps) + fresh)


def _handling(case: Case, ctx: _Ctx, **changes: Any) -> Case:
    """Back in the unit's hands: DISPATCHED with the on-scene and result clocks restarted."""
    return _handed(case, ctx.now, ctx.hall, **changes)


def _handed(case: Case, now: datetime, hall: Hall, **changes: Any) -> Case:
    case = _replace(
        case,
        status=S.DISPATCHED,
        dispatched_at=now,
        deadlines=_without(case.deadlines, Step.ACCEPT, Step.DISPATCH, Step.CHECK, *_HANDLING),
        **changes,
    )
    return _clock(case, _HANDLING, now, hall)


def _unit_and_staff(unit: str, staff: str | None, hall: Hall) -> None:
    hall.unit(unit)
    if staff is not None and hall.person(staff).unit != unit:
        raise refuse("staff_not_in_unit", staff=staff, unit=unit)


def _staff_changes(before: Staff, after: Staff) -> dict[str, Any]:
    old: dict[str, Any] = msgspec.to_builtins(before)
    new: dict[str, Any] = msgspec.to_builtins(after)
    return {k: v for k, v in new.items() if old.get(k) != v}


# --- intake --------------------------------------------------------------------------------


def _intake(
    cmd: Intake, actor: Actor, now: datetime, hall: Hall, new_id: str, others: Mapping[str, Case]
) -> list[Event]:
    category = hall.catalog.get(cmd.category)
    if category.kind != cmd.kind:
        raise refuse("kind_mismatch", category=category.code, kind=cmd.kind)
    if cmd.grid is not None:
        hall.area(cmd.grid)
    if cmd.found_by is not None:
        hall.person(cmd.found_by)
    default = default_urgency(category, cmd.source, hall.settings.intake)
    case = Case(
        id=new_id,
        kind=cmd.kind,
        category=cmd.category,
        source=cmd.source,
        urgency=cmd.urgency or default,
        status=S.REPORTED,
        title=cmd.title,
        description=cmd.description,
        grid=cmd.grid,
        address=cmd.address,
        position=cmd.position,
        reporter=cmd.reporter,
        found_by=cmd.found_by,
        reported_at=now,
    )
    case = _clock(case, [Step.ACCEPT], now, hall)
    duplicate = find_duplicate(case, others.values(), hall)
    if duplicate is not None:
        case = _replace(case, duplicate_of=duplicate.id)

    def event(type_: EventType, changes: dict[str, Any], data: dict[str, Any]) -> Event:
        return Event(
            at=now,
            actor=actor.name,
            type=type_,
            case=case.id,
            command=cmd.id,
            changes=changes,
            data=data,
        )

    events = [event(EventType.CASE_CREATED, case_fields(case), {})]
    if duplicate is not None:
        events.append(event(EventType.DUPLICATE_FLAGGED, {}, {"of": duplicate.id}))
    if auto_dispatches(case, hall):
        events += _auto_dispatch(case, duplicate, cmd.id, now, hall)
    return events


AUTO = "hub"
"""The actor of what the hub does on its own: auto-dispatch (as the SLA ticker's events)."""


def auto_dispatches(case: Case, hall: Hall) -> bool:
    """Whether the hall dispatches ``case`` without a person deciding: its source or category
    is configured so (``intake.auto_dispatch_sources`` / ``auto_dispatch_categories``) and it
    needs no verification on site first."""
    rules = hall.settings.intake
    return case.source not in rules.verify_sources and (
        case.source in rules.auto_dispatch_sources
        or case.category in rules.auto_dispatch_categories
    )


def _auto_dispatch(
    case: Case, duplicate: Case | None, command: str, now: datetime, hall: Hall
) -> list[Event]:
    """The hub accepts ``case`` and sends it where routing suggests — to the lead unit with
    the supporting ones for a joint category — as actor ``hub``, in the intake's own command
    (the version stays 1: one command, one version). It holds back, saying why in a note, when
    the case may be a duplicate (merging is a person's call) or nobody of the suggested unit
    is on duty or on standby (the case waits in the to-accept queue for the hall)."""

    def event(type_: EventType, before: Case, after: Case, reason: str, **data: Any) -> Event:
        return Event(
            at=now,
            actor=AUTO,
            type=type_,
            case=case.id,
            command=command,
            reason=reason,
            changes=changed_fields(before, after),
            data=data,
        )

    suggestion = suggest(case, hall)
    held = None
    if duplicate is not None:
        held = f"auto-dispatch held: may repeat {duplicate.id}; the hall decides"
    elif suggestion is None:
        held = "auto-dispatch held: no unit fits this category here; the hall decides"
    elif not any(
        s.unit == suggestion.unit.id and s.duty in (Duty.ON_DUTY, Duty.STANDBY)
        for s in hall.staff.values()
    ):
        held = f"auto-dispatch held: nobody of {suggestion.unit.name} is on duty; the hall decides"
    if held is not None or suggestion is None:
        return [event(EventType.NOTED, case, case, held or "", auto="held")]
    accepted = _clock(
        _replace(
            case,
            status=S.ACCEPTED,
            accepted_at=now,
            deadlines=_without(case.deadlines, Step.ACCEPT),
        ),
        [Step.DISPATCH],
        now,
        hall,
    )
    lead = suggestion.unit.id
    supporting = tuple(u.id for u in suggestion.supporting)
    dispatched = _handed(accepted, now, hall, owner_unit=lead, supporting_units=supporting)
    reason = f"auto-dispatch: {suggestion.why} {suggestion.unit.name}"
    events = [event(EventType.ACCEPTED, case, accepted, reason, auto=True)]
    if supporting:
        joint = event(EventType.JOINT, accepted, dispatched, reason, lead=lead,
                      supporting=list(supporting), auto=True)  # fmt: skip
        return [*events, joint]
    return [*events, event(EventType.DISPATCHED, accepted, dispatched, reason, unit=lead,
                           staff=None, auto=True)]  # fmt: skip


# --- conditions on the case that no argument changes (decide and precheck both run them) ---


def _verifiable(case: Case, now: datetime, hall: Hall) -> None:
    if case.source not in hall.settings.intake.verify_sources:
        raise refuse("not_verified_source", source=case.source)


def _verified_if_needed(case: Case, now: datetime, hall: Hall) -> None:
    if case.status is S.REPORTED and case.source in hall.settings.intake.verify_sources:
        raise refuse("verify_first", source=case.source)


def _callback_due(case: Case, now: datetime, hall: Hall) -> None:
    # A public report is owed one; so is a case that absorbed duplicates (their reporters).
    if case.source not in PUBLIC_SOURCES and not case.also_reported_by:
        raise refuse("no_callback", source=case.source)
    if case.callback is not None:
        raise refuse("callback_done", case=case.id)


def _next_level(case: Case, now: datetime, hall: Hall) -> Level:
    """The level an escalation raises the case to; refused at the top of the ladder."""
    level = escalation.raise_level(case.level, hall.settings.escalation.top)
    if level is None:
        raise refuse("top_level", case=case.id, level=case.level)
    return level


def _no_request_pending(case: Case, now: datetime, hall: Hall) -> None:
    """The unit's requests wait one at a time."""
    if case.request is not None:
        raise refuse("request_pending", request=case.request.kind)


def _extension_in_time(case: Case, now: datetime, hall: Hall) -> None:
    """An extension is asked while the result deadline still runs, before it is due."""
    _no_request_pending(case, now, hall)
    result = case.deadline(Step.RESULT)
    if result is None or result.breached or now >= result.due:
        raise refuse("extension_too_late", step=Step.RESULT)


def _some_request_pending(case: Case, now: datetime, hall: Hall) -> None:
    """Something to approve or refuse (which kind is the command's argument)."""
    if case.request is None:
        raise refuse("no_pending_request", case=case.id)


CONDITIONS: Mapping[str, Callable[[Case, datetime, Hall], object]] = {
    "verify": _verifiable,
    "accept": _verified_if_needed,
    "callback": _callback_due,
    "escalate": _next_level,
    "request_return": _no_request_pending,
    "request_extension": _extension_in_time,
    "request_park": _no_request_pending,
    "request_void": _no_request_pending,
    "approve": _some_request_pending,
    "refuse": _some_request_pending,
    "send_down": command_chain.check_can_send_down,
    "whistle": whistle.check_can_whistle,
    "report_in": whistle.check_can_report_in,
}
"""op → its own conditions on the case beyond the status (each raises its Refusal), checked
after :data:`TRANSITIONS` and before any of the command's arguments."""


# --- the hall's decisions ------------------------------------------------------------------


def _verify(case: Case, cmd: Verify, ctx: _Ctx) -> _Outcome:
    if cmd.confirmed:
        return _one(EventType.VERIFIED, _replace(case, status=S.VERIFIED), confirmed=True)
    return _one(EventType.VOIDED, _replace(case, status=S.VOIDED, deadlines=()), confirmed=False)


def _accept(case: Case, cmd: Accept, ctx: _Ctx) -> _Outcome:
    changes: dict[str, Any] = {}
    if cmd.category is not None:
        category = ctx.hall.catalog.get(cmd.category)
        changes.update(category=category.code, kind=category.kind)
    if cmd.urgency is not None:
        changes["urgency"] = cmd.urgency
    after = _replace(
        case,
        status=S.ACCEPTED,
        accepted_at=ctx.now,
        deadlines=_without(case.deadlines, Step.ACCEPT),
        **changes,
    )
    return _one(EventType.ACCEPTED, _clock(after, [Step.DISPATCH], ctx.now, ctx.hall))


def _reject(case: Case, cmd: Reject, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd)
    return _one(EventType.REJECTED, _replace(case, status=S.REJECTED, deadlines=()))


def _dispatch(case: Case, cmd: Dispatch, ctx: _Ctx) -> _Outcome:
    _unit_and_staff(cmd.unit, cmd.staff, ctx.hall)
    command_chain.check_assign(ctx.actor, [cmd.unit], ctx.hall)
    after = _handling(case, ctx, owner_unit=cmd.unit, owner_staff=cmd.staff)
    return _one(EventType.DISPATCHED, after, unit=cmd.unit, staff=cmd.staff)


def _reassign(case: Case, cmd: Reassign, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd)
    _unit_and_staff(cmd.unit, cmd.staff, ctx.hall)
    command_chain.check_assign(ctx.actor, [cmd.unit], ctx.hall)
    if (cmd.unit, cmd.staff) == (case.owner_unit, case.owner_staff):
        raise refuse("already_with_unit", case=case.id, unit=cmd.unit)
    after = _handling(case, ctx, owner_unit=cmd.unit, owner_staff=cmd.staff, request=None)
    return _one(
        EventType.REASSIGNED,
        after,
        unit=cmd.unit,
        staff=cmd.staff,
        from_unit=case.owner_unit,
        from_staff=case.owner_staff,
    )


def _acknowledge(case: Case, cmd: Acknowledge, ctx: _Ctx) -> _Outcome:
    return _one(EventType.ACKNOWLEDGED, _replace(case, status=S.ACKNOWLEDGED))


def _arrive(case: Case, cmd: Arrive, ctx: _Ctx) -> _Outcome:
    after = _replace(case, status=S.ON_SCENE, deadlines=_without(case.deadlines, Step.ON_SCENE))
    return _one(EventType.ARRIVED, after)


def _report_back(case: Case, cmd: ReportBack, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd, "result_required")
    # The result meets a leadership instruction's deadline too (批办 asks for the result).
    after = _replace(
        case,
        status=S.REPORTED_BACK,
        request=None,
        deadlines=_without(case.deadlines, *_HANDLING, Step.INSTRUCTION),
    )
    return _one(EventType.REPORTED_BACK, _clock(after, [Step.CHECK], ctx.now, ctx.hall))


def _check(case: Case, cmd: Check, ctx: _Ctx) -> _Outcome:
    if cmd.passed:
        after = _replace(case, status=S.CHECKED, deadlines=_without(case.deadlines, Step.CHECK))
        return _one(EventType.CHECKED, after, passed=True)
    _need_reason(cmd, "failed_check_reason")
    return _one(EventType.REWORK, _handling(case, ctx, reworks=case.reworks + 1), passed=False)


def _rework(case: Case, cmd: Rework, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd)
    return _one(EventType.REWORK, _handling(case, ctx, reworks=case.reworks + 1))


def _close(case: Case, cmd: Close, ctx: _Ctx) -> _Outcome:
    on_time = case.breaches == 0 and not any(d.breached for d in case.deadlines)
    after = _replace(case, status=S.CLOSED, closed_at=ctx.now, on_time=on_time, deadlines=())
    return _one(EventType.CLOSED, after)


def _callback(case: Case, cmd: Callback, ctx: _Ctx) -> _Outcome:
    answer = SATISFIED if cmd.satisfied else UNSATISFIED
    called = _replace(case, callback=answer)
    if not cmd.reopen:
        return _one(EventType.CALLBACK, called)
    if cmd.satisfied:
        raise refuse("reopen_satisfied")
    _need_reason(cmd)
    # 不满意 → 返工: back to the same unit with fresh clocks; the answer stays recorded.
    reopened = _handling(called, ctx, reworks=case.reworks + 1, closed_at=None, on_time=None)
    return _Outcome(
        [
            _Step(EventType.CALLBACK, called),
            _Step(EventType.REWORK, reopened, {"callback": True}),
        ]
    )


def _escalate(case: Case, cmd: Escalate, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd)
    level = _next_level(case, ctx.now, ctx.hall)
    after = _replace(case, level=level)
    # The desk escalated to hears of it at once, as on a missed deadline.
    alert = command_chain.alert_data(after, level, ctx.hall)
    return _Outcome(
        [
            _Step(EventType.ESCALATED, after, {"manual": True}),
            _Step(EventType.ALERT, after, {**alert, "manual": True}),
        ]
    )


def _urge(case: Case, cmd: Urge, ctx: _Ctx) -> _Outcome:
    return _one(EventType.URGED, _replace(case, urges=case.urges + 1), unit=case.owner_unit)


def _joint(case: Case, cmd: Joint, ctx: _Ctx) -> _Outcome:
    ctx.hall.unit(cmd.lead)
    supporting = tuple(dict.fromkeys(cmd.supporting))
    for unit in supporting:
        ctx.hall.unit(unit)
    if cmd.lead in supporting:
        raise refuse("lead_supports", unit=cmd.lead)
    command_chain.check_assign(ctx.actor, [cmd.lead, *supporting], ctx.hall)
    staff = case.owner_staff if cmd.lead == case.owner_unit else None
    changes: dict[str, Any] = {
        "owner_unit": cmd.lead,
        "owner_staff": staff,
        "supporting_units": supporting,
    }
    if case.status is S.ACCEPTED:
        after = _handling(case, ctx, **changes)
    else:
        after = _replace(case, **changes)
    return _one(EventType.JOINT, after, lead=cmd.lead, supporting=list(supporting))


def _note(case: Case, cmd: Note, ctx: _Ctx) -> _Outcome:
    _need_reason(cmd, "note_text")
    return _one(EventType.NOTED, case)


# --- requests by the unit and the hall's answers -------------------------------------------


def _request(case: Case, cmd: CaseCommand, ctx: _Ctx, kind: RequestKind) -> _Outcome:
    _need_reason(cmd)
    minutes = cmd.minutes if isinstance(cmd, RequestExtension) else None
    request = Request(
        kind=str(kind), by=ctx.actor.name, at=ctx.now, reason=cmd.reason, minutes=minutes
    )
    data: dict[str, Any] = {"request": str(kind)}
    if minutes is not None:
        data["minutes"] = minutes
    return _one(EventType.REQUESTED, _replace(case, request=request), **data)


def _request_return(case: Case, cmd: RequestReturn, ctx: _Ctx) -> _Outcome:
    return _request(case, cmd, ctx, RequestKind.RETURN)


def _request_extension(case: Case, cmd: RequestExtension, ctx: _Ctx) -> _Outcome:
    return _request(case, cmd, ctx, RequestKind.EXTENSION)


def _request_park(case: Case, cmd: RequestPark, ctx: _Ctx) -> _Outcome:
    return _request(case, cmd, ctx, RequestKind.PARK)


def _request_void(case: Case, cmd: RequestVoid, ctx: _Ctx) -> _Outcome:
    return _request(case, cmd, ctx, RequestKind.VOID)


def _pending(case: Case, kind: str) -> Request:
    """The pending request (:func:`_some_request_pending` made sure of one), if it is of the
    ``kind`` the hall answers."""
    if case.request is None or case.request.kind != kind:
        raise refuse("no_request", case=case.id, request=kind)
    return case.request


def _approve(case: Case, cmd: Approve, ctx: _Ctx) -> _Outcome:
    request = _pending(case, cmd.request)
    data = {"request": request.kind, "by": request.by}
    base = _replace(case, request=None)
    if request.kind == RequestKind.RETURN:
        returned = _replace(
            base,
            status=S.ACCEPTED,
            owner_unit=None,
            owner_staff=None,
            supporting_units=(),
            returns=case.returns + 1,
            deadlines=_without(case.deadlines, *_HANDLING),
        )
        returned = _clock(returned, [Step.DISPATCH], ctx.now, ctx.hall)
        steps = [_Step(EventType.RETURNED, returned, {**data, "unit": case.owner_unit})]
        level = escalation.after_return(returned, ctx.hall)
        if level is not None:
            steps.append(
                _Step(
                    EventType.ESCALATED,
                    _replace(returned, level=level),
                    {"returns": returned.returns},
                )
            )
        return _Outcome(steps)
    if request.kind == RequestKind.EXTENSION:
        minutes = request.minutes or 0
        deadlines = tuple(
            msgspec.structs.replace(sla.extend(d, minutes, ctx.hall.calendar), breached=False)
            if d.step is Step.RESULT
            else d
            for d in case.deadlines
        )
        after = _replace(base, deadlines=deadlines, extensions=case.extensions + 1)
        return _one(EventType.EXTENDED, after, **data, minutes=minutes)
    if request.kind == RequestKind.PARK:
        after = _replace(base, status=S.PARKED, parked_from=case.status, parked_at=ctx.now)
        return _one(EventType.PARKED, after, **data)
    return _one(EventType.VOIDED, _replace(base, status=S.VOIDED, deadlines=()), **data)


def _refuse(case: Case, cmd: Refuse, ctx: _Ctx) -> _Outcome:
    request = _pending(case, cmd.request)
    _need_reason(cmd)
    after = _replace(case, request=None)
    return _one(EventType.REFUSED, after, request=request.kind, by=request.by)


def _resume(case: Case, cmd: Resume, ctx: _Ctx) -> _Outcome:
    deadlines = case.deadlines
    if case.parked_at is not None:
        deadlines = sla.shift_deadlines(deadlines, case.parked_at, ctx.now, ctx.hall.calendar)
    after = _replace(
        case,
        status=case.parked_from or S.DISPATCHED,
        parked_from=None,
        parked_at=None,
        deadlines=deadlines,
    )
    return _one(EventType.RESUMED, after)


def _merge(case: Case, cmd: Merge, ctx: _Ctx) -> _Outcome:
    if cmd.into == case.id:
        raise refuse("merge_into_itself")
    target = ctx.others.get(cmd.into)
    if target is None:
        raise refuse("unknown_case", case=cmd.into)
    if not target.is_open:
        raise refuse("merge_into_finished", into=target.id, status=target.status)
    if target.category != case.category:
        raise refuse("merge_other_category", into=cmd.into)
    after = _replace(case, status=S.MERGED, merged_into=target.id, deadlines=(), request=None)
    # Whoever reported the duplicate is owed the same callback as the original's reporter.
    reporters = [r for r in (case.reporter, *case.also_reported_by) if r]
    kept = tuple(dict.fromkeys((*target.also_reported_by, *reporters)))
    kept = tuple(r for r in kept if r != target.reporter)
    target_changes: dict[str, Any] = {"version": target.version + 1}
    if kept != target.also_reported_by:
        target_changes["also_reported_by"] = list(kept)
    absorbed = Event(
        at=ctx.now,
        actor=ctx.actor.name,
        type=EventType.DUPLICATE_MERGED,
        case=target.id,
        command=cmd.id,
        reason=cmd.reason,
        changes=target_changes,
        data={"duplicate": case.id},
    )
    return _Outcome([_Step(EventType.MERGED, after, {"into": target.id})], [absorbed])


def _chain(
    rule: Callable[
        [Case, Any, Actor, datetime, Hall], list[tuple[EventType, Case, dict[str, Any]]]
    ],
) -> Callable[[Case, Any, _Ctx], _Outcome]:
    """A handler from a chain-of-command rule (dispatch/command_chain.py, dispatch/whistle.py),
    which keeps its logic in its own module."""

    def handle(case: Case, cmd: Any, ctx: _Ctx) -> _Outcome:
        changes = rule(case, cmd, ctx.actor, ctx.now, ctx.hall)
        return _Outcome([_Step(type_, after, data) for type_, after, data in changes])

    return handle


_HANDLERS: Mapping[type[CaseCommand], Callable[[Case, Any, _Ctx], _Outcome]] = {
    Verify: _verify,
    Accept: _accept,
    Reject: _reject,
    Dispatch: _dispatch,
    Reassign: _reassign,
    Acknowledge: _acknowledge,
    Arrive: _arrive,
    ReportBack: _report_back,
    Check: _check,
    Rework: _rework,
    Close: _close,
    Callback: _callback,
    Escalate: _escalate,
    Urge: _urge,
    Joint: _joint,
    Note: _note,
    RequestReturn: _request_return,
    RequestExtension: _request_extension,
    RequestPark: _request_park,
    RequestVoid: _request_void,
    Approve: _approve,
    Refuse: _refuse,
    Resume: _resume,
    Merge: _merge,
    Instruct: _chain(command_chain.instruct),
    SendDown: _chain(command_chain.send_down),
    BlowWhistle: _chain(whistle.blow),
    ReportIn: _chain(whistle.report_in),
}
