"""Localised names of the domain's enumerations (statuses, sources, levels, ops …).

The English names are the gettext message ids; the screens pass them through the operator's
translator, so the domain values themselves never carry display text. docs/GLOSSARY.md lists
every word in both languages; the rule that keeps them apart: a status reads as a state
(已立案, "accepted") and an action as a verb (立案, "Accept"), and no word is both. The ids
here are therefore distinct even where the English would coincide (a case's status "on scene"
and a person's field status "on site"), so each can carry its own Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from console.i18n import Translate
from dispatch.events import EventType
from dispatch.models import (
    Duty,
    Field,
    Kind,
    RequestKind,
    Role,
    Shift,
    Source,
    Step,
    Urgency,
)
from dispatch.queues import Queue
from dispatch.routing import Why
from dispatch.titles import LEVEL_TITLES, STATUS_TITLES
from dispatch.whistle import Attendance

STATUS = STATUS_TITLES
SOURCE: Mapping[Source, str] = {
    Source.PATROL: "patrol",
    Source.PHOTO: "photo",
    Source.HOTLINE: "hotline",
    Source.VIDEO: "video",
    Source.POLICE: "police",
}
KIND: Mapping[Kind, str] = {Kind.COMPONENT: "component", Kind.EVENT: "event"}
URGENCY: Mapping[Urgency, str] = {Urgency.URGENT: "urgent", Urgency.GENERAL: "general"}
LEVEL = LEVEL_TITLES
SHIFT: Mapping[Shift, str] = {Shift.DAY: "day shift", Shift.STANDBY: "standby"}
DUTY: Mapping[Duty, str] = {Duty.ON_DUTY: "on duty", Duty.STANDBY: "standby", Duty.OFF: "off"}
FIELD: Mapping[Field, str] = {
    Field.AVAILABLE: "available",
    Field.EN_ROUTE: "en route",
    Field.ON_SCENE: "on site",
    Field.BUSY: "busy",
    Field.OFFLINE: "offline",
}
ROLE: Mapping[Role, str] = {
    Role.COMMANDER: "commander",
    Role.DISPATCHER: "dispatcher",
    Role.STANDBY: "standby",
    Role.UNIT: "unit",
    Role.OBSERVER: "observer",
}
STEP: Mapping[Step, str] = {
    Step.ACCEPT: "accept by",
    Step.DISPATCH: "dispatch by",
    Step.ON_SCENE: "on scene by",
    Step.RESULT: "result by",
    Step.CHECK: "check by",
    Step.INSTRUCTION: "instruction by",
    Step.REPORT_IN: "report in by",
}
WHY: Mapping[Why, str] = {
    Why.DEPT: "responsible department",
    Why.LOCALITY: "the grid's locality",
}
"""Why routing suggests a unit (主管部门 / 属地)."""
ATTENDANCE: Mapping[Attendance, str] = {
    Attendance.IN_TIME: "in time",
    Attendance.LATE: "late",
    Attendance.ABSENT: "never came",
    Attendance.WAITING: "not in yet",
}
"""A summoned unit on the roll call (点名)."""
REQUEST: Mapping[RequestKind, str] = {
    RequestKind.RETURN: "return",
    RequestKind.EXTENSION: "extension",
    RequestKind.PARK: "park",
    RequestKind.VOID: "void",
}
EVENT: Mapping[EventType, str] = {
    EventType.CASE_CREATED: "registered",
    EventType.DUPLICATE_FLAGGED: "flagged as a duplicate",
    EventType.VERIFIED: "verified on site",
    EventType.ACCEPTED: "placed on file",
    EventType.REJECTED: "not placed on file",
    EventType.VOIDED: "was voided",
    EventType.DISPATCHED: "was dispatched",
    EventType.REASSIGNED: "was reassigned",
    EventType.ACKNOWLEDGED: "was signed for",
    EventType.ARRIVED: "arrived on scene",
    EventType.REPORTED_BACK: "result reported",
    EventType.CHECKED: "passed the check",
    EventType.REWORK: "sent back for rework",
    EventType.CLOSED: "was closed",
    EventType.CALLBACK: "reporter called back",
    EventType.ESCALATED: "was escalated",
    EventType.URGED: "was urged",
    EventType.JOINT: "joint enforcement called",
    EventType.NOTED: "note added",
    EventType.REQUESTED: "request made",
    EventType.APPROVED: "request approved",
    EventType.REFUSED: "request refused",
    EventType.RETURNED: "was returned",
    EventType.EXTENDED: "deadline extended",
    EventType.PARKED: "was parked",
    EventType.RESUMED: "was resumed",
    EventType.MERGED: "merged into another case",
    EventType.DUPLICATE_MERGED: "absorbed a duplicate",
    EventType.DEADLINE_BREACHED: "deadline missed",
    EventType.ALERT: "alert raised",
    EventType.STAFF_CHANGED: "person updated",
    EventType.SHIFT_CHANGED: "shift handed over",
    EventType.HANDOVER_NOTED: "hand-over note written",
    EventType.HANDOVER_ACKNOWLEDGED: "hand-over acknowledged",
    EventType.ROTA_CHANGED: "rota changed",
    EventType.STANDBY_CALLED: "standby officer called",
    EventType.IN_SCOPE: "came into your unit's view",
    EventType.OUT_OF_SCOPE: "left your unit's view",
    EventType.INSTRUCTED: "instruction given",
    EventType.SENT_DOWN: "was sent back down",
    EventType.WHISTLED: "whistle blown: units summoned",
    EventType.REPORTED_IN: "a unit reported in",
}
"""How the case history reads each event: what happened, in the past tense."""

OP: Mapping[str, str] = {
    "intake": "register",
    "verify": "verify",
    "accept": "accept",
    "reject": "reject",
    "dispatch": "dispatch",
    "reassign": "reassign",
    "acknowledge": "sign for",
    "arrive": "arrive",
    "report_back": "report back",
    "check": "check",
    "rework": "rework",
    "close": "close",
    "callback": "call back",
    "escalate": "escalate",
    "urge": "urge",
    "joint": "call joint enforcement",
    "note": "add a note",
    "request_return": "ask to return",
    "request_extension": "ask for more time",
    "request_park": "ask to park",
    "request_void": "ask to void",
    "approve": "approve",
    "refuse": "refuse",
    "resume": "resume",
    "merge": "merge",
    "staff_status": "change a person's status",
    "shift_change": "hand over the shift",
    "handover_note": "write the hand-over note",
    "handover_ack": "acknowledge the hand-over",
    "events_window": "read the shift's events",
    "rota_swap": "swap standby duty",
    "rota_standby": "set a unit's standby order",
    "rota_commander": "set the duty commander",
    "instruct": "instruct",
    "send_down": "send back down",
    "whistle": "blow the whistle",
    "report_in": "report in",
}
"""Each hub op as a verb (refusals name the op that was refused)."""

QUEUE_SHORT: Mapping[Queue, str] = {
    Queue.URGENT: "Urg.",
    Queue.TO_ACCEPT: "Acc.",
    Queue.TO_DISPATCH: "Disp.",
    Queue.IN_PROGRESS: "Prog.",
    Queue.TO_CHECK: "Chk.",
    Queue.OVERDUE: "Late",
    Queue.ALL: "All",
    Queue.DESK: "Esc.",
}
"""Each queue's tab name where the full titles do not fit (80 columns): abbreviated, never
dropped, so every tab still says what it holds."""

TABLES: tuple[Mapping[StrEnum, str], ...] = (
    STATUS,
    SOURCE,
    URGENCY,
    KIND,
    LEVEL,
    SHIFT,
    DUTY,
    FIELD,
    ROLE,
    STEP,
    REQUEST,
    WHY,
    ATTENDANCE,
    EVENT,  # type: ignore[assignment]
)
"""Every enumeration table (the i18n test checks each id has a translation)."""


def label(value: StrEnum, tr: Translate, table: Mapping[StrEnum, str] | None = None) -> str:
    """The localised name of an enumeration value (its raw value when no table knows it)."""
    tables = (table,) if table is not None else TABLES
    for t in tables:
        if value in t and type(value) is type(next(iter(t))):
            return tr(t[value])
    return str(value)
