"""What people call a case's status and level: the gettext ids (English) shared by every
screen that names them — the console (console/labels.py) and the wall (wallboard/words.py) —
so one catalog entry serves both. Data only, like ``dispatch.queues.QUEUE_TITLES``."""

from __future__ import annotations

from collections.abc import Mapping

from dispatch.models import Level, Status

STATUS_TITLES: Mapping[Status, str] = {
    Status.REPORTED: "reported",
    Status.VERIFIED: "verified",
    Status.ACCEPTED: "accepted",
    Status.DISPATCHED: "dispatched",
    Status.ACKNOWLEDGED: "signed for",
    Status.ON_SCENE: "on scene",
    Status.REPORTED_BACK: "reported back",
    Status.CHECKED: "checked",
    Status.CLOSED: "closed",
    Status.REJECTED: "rejected",
    Status.VOIDED: "voided",
    Status.PARKED: "parked",
    Status.MERGED: "merged",
}
LEVEL_TITLES: Mapping[Level, str] = {
    Level.COMMUNITY: "community",
    Level.STREET: "street",
    Level.DISTRICT: "district",
    Level.LEADERSHIP: "leadership",
}
