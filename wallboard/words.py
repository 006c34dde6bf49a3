"""The wall's words: gettext ids (English) of the enumerations it names, and the translator type.

The ids are the console's own (console/labels.py) so one catalog entry serves both; the CLI
passes the operator's translator in (the wallboard never imports the console).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dispatch.models import Level, Status

Translate = Callable[[str], str]

LEVEL: Mapping[Level, str] = {
    Level.COMMUNITY: "community",
    Level.STREET: "street",
    Level.DISTRICT: "district",
    Level.LEADERSHIP: "leadership",
}
STATUS: Mapping[Status, str] = {
    Status.REPORTED: "reported",
    Status.VERIFIED: "verified",
    Status.ACCEPTED: "accepted",
    Status.DISPATCHED: "dispatched",
    Status.ACKNOWLEDGED: "signed for",
    Status.ON_SCENE: "on scene",
    Status.REPORTED_BACK: "reported back",
    Status.CHECKED: "checked",
    Status.PARKED: "parked",
}


def identity(text: str) -> str:
    """The untranslated (English) text: a translator for tests and scripts."""
    return text
