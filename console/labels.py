"""Localised names of the domain's enumerations (statuses, sources, urgency, levels …).

The English names are the gettext message ids; the screens pass them through the operator's
translator, so the domain values themselves never carry display text.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from console.i18n import Translate
from dispatch.models import Duty, Field, Level, Role, Shift, Source, Status, Step, Urgency

STATUS: Mapping[Status, str] = {
    Status.REPORTED: "reported",
    Status.VERIFIED: "verified",
    Status.ACCEPTED: "accepted",
    Status.DISPATCHED: "dispatched",
    Status.ACKNOWLEDGED: "acknowledged",
    Status.ON_SCENE: "on scene",
    Status.REPORTED_BACK: "reported back",
    Status.CHECKED: "checked",
    Status.CLOSED: "closed",
    Status.REJECTED: "rejected",
    Status.VOIDED: "voided",
    Status.PARKED: "parked",
    Status.MERGED: "merged",
}
SOURCE: Mapping[Source, str] = {
    Source.PATROL: "patrol",
    Source.PHOTO: "photo",
    Source.HOTLINE: "hotline",
    Source.VIDEO: "video",
    Source.POLICE: "police",
}
URGENCY: Mapping[Urgency, str] = {Urgency.URGENT: "urgent", Urgency.GENERAL: "general"}
LEVEL: Mapping[Level, str] = {
    Level.COMMUNITY: "community",
    Level.STREET: "street",
    Level.DISTRICT: "district",
    Level.LEADERSHIP: "leadership",
}
SHIFT: Mapping[Shift, str] = {Shift.DAY: "day shift", Shift.STANDBY: "standby"}
DUTY: Mapping[Duty, str] = {Duty.ON_DUTY: "on duty", Duty.STANDBY: "standby", Duty.OFF: "off"}
FIELD: Mapping[Field, str] = {
    Field.AVAILABLE: "available",
    Field.EN_ROUTE: "en route",
    Field.ON_SCENE: "on scene",
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
    Step.ACCEPT: "accept",
    Step.DISPATCH: "dispatch",
    Step.ON_SCENE: "on scene",
    Step.RESULT: "result",
    Step.CHECK: "check",
}

_TABLES: tuple[Mapping[StrEnum, str], ...] = (
    STATUS,
    SOURCE,
    URGENCY,
    LEVEL,
    SHIFT,
    DUTY,
    FIELD,
    ROLE,
    STEP,  # type: ignore[assignment]
)


def label(value: StrEnum, tr: Translate, table: Mapping[StrEnum, str] | None = None) -> str:
    """The localised name of an enumeration value (its raw value when no table knows it)."""
    tables = (table,) if table is not None else _TABLES
    for t in tables:
        if value in t and type(value) is type(next(iter(t))):
            return tr(t[value])
    return str(value)
