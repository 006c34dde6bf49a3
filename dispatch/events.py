"""Events: the append-only history of the hall, and the one way state changes.

The workflow turns a command into events; the hub stores them with a gap-free ``seq``; every
client applies them with the same :func:`apply_case_event` / :func:`apply_staff_event`, so a
mirror rebuilt from the log equals the hub's rows. ``changes`` holds the new values of the
fields that changed, as JSON builtins; ``data`` holds what the event says beyond state (an
alert's target level, the command's arguments) and never feeds back into state.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from dispatch.models import Case, Staff


class EventType(StrEnum):
    CASE_CREATED = "case_created"
    DUPLICATE_FLAGGED = "duplicate_flagged"
    VERIFIED = "verified"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    VOIDED = "voided"
    DISPATCHED = "dispatched"
    REASSIGNED = "reassigned"
    ACKNOWLEDGED = "acknowledged"
    ARRIVED = "arrived"
    REPORTED_BACK = "reported_back"
    CHECKED = "checked"
    REWORK = "rework"
    CLOSED = "closed"
    CALLBACK = "callback"
    ESCALATED = "escalated"
    URGED = "urged"
    JOINT = "joint"
    NOTED = "noted"
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    RETURNED = "returned"
    EXTENDED = "extended"
    PARKED = "parked"
    RESUMED = "resumed"
    MERGED = "merged"
    DUPLICATE_MERGED = "duplicate_merged"  # on the case that absorbed a duplicate
    DEADLINE_BREACHED = "deadline_breached"
    ALERT = "alert"
    INSTRUCTED = "instructed"  # 批办
    SENT_DOWN = "sent_down"  # back down the chain of command
    WHISTLED = "whistled"  # 吹哨: units summoned
    REPORTED_IN = "reported_in"  # 报到 by one summoned unit
    STAFF_CHANGED = "staff_changed"
    SHIFT_CHANGED = "shift_changed"
    HANDOVER_NOTED = "handover_noted"  # the outgoing commander's note (``reason``: its text)
    HANDOVER_ACKNOWLEDGED = "handover_acknowledged"  # the incoming commander took the shift
    ROTA_CHANGED = "rota_changed"  # the commander changed the rota for a duty day
    STANDBY_CALLED = "standby_called"  # after hours: the next standby officer, or the hall
    # Never stored: what the hub sends a role-scoped client in place of an event that moved a
    # case into or out of its view (dispatch/visibility.py, docs/PROTOCOL.md §5.1).
    IN_SCOPE = "in_scope"  # ``changes`` holds the whole case as the client may see it
    OUT_OF_SCOPE = "out_of_scope"  # the case left the client's view: drop it


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One fact in the log. ``seq`` is 0 until the hub stores it."""

    seq: int = 0
    at: datetime
    actor: str  # operator name, or "hub" for the SLA ticker
    type: EventType
    case: str | None = None
    staff: str | None = None
    command: str | None = None  # id of the command that caused it
    reason: str = ""
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}


WHOLE_CASE_EVENTS = frozenset({EventType.CASE_CREATED, EventType.IN_SCOPE})
"""Events whose ``changes`` hold every field of the case."""


def case_fields(case: Case) -> dict[str, Any]:
    """A case as JSON builtins (the shape of ``changes`` and of snapshot rows)."""
    out: dict[str, Any] = msgspec.to_builtins(case)
    return out


def changed_fields(before: Case, after: Case) -> dict[str, Any]:
    """The fields of ``after`` that differ from ``before``, as JSON builtins."""
    old, new = case_fields(before), case_fields(after)
    return {k: v for k, v in new.items() if old.get(k) != v}


def apply_case_event(case: Case | None, event: Event) -> Case:
    """The case after ``event``: the one reducer shared by hub, clients and tests.
    (``out_of_scope`` removes the case: the mirror does that, it has no "after".)"""
    if event.type in WHOLE_CASE_EVENTS or case is None:
        return msgspec.convert(event.changes, Case)
    if not event.changes:
        return case
    return msgspec.convert(case_fields(case) | event.changes, Case)


def apply_staff_event(staff: Staff, event: Event) -> Staff:
    """The person after a ``staff_changed`` event."""
    if not event.changes:
        return staff
    fields: dict[str, Any] = msgspec.to_builtins(staff)
    return msgspec.convert(fields | event.changes, Staff)
