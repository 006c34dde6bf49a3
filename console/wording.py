"""Every name a person reads, in the operator's language — the one place they are made.

Statuses, sources, levels, queues and ops come from the gettext tables of
:mod:`console.labels`; categories from the catalog's Chinese or English name; units, people
and grids from the hall model's reference data, falling back to the raw id for something the
console does not know. Screens, rows, refusals and ``griddesk ctl`` all ask a
:class:`Wording`, so one thing is never called two names.
"""

from __future__ import annotations

from datetime import datetime

from backend_client.hall_model import HallModel
from console.i18n import Language, Translate
from console.labels import (
    DUTY,
    EVENT,
    FIELD,
    KIND,
    LEVEL,
    OP,
    QUEUE_SHORT,
    REQUEST,
    ROLE,
    SHIFT,
    SOURCE,
    STATUS,
    STEP,
    URGENCY,
    label,
)
from dispatch.catalog import Catalog
from dispatch.events import Event, EventType
from dispatch.models import (
    Case,
    Duty,
    Field,
    Kind,
    Level,
    RequestKind,
    Role,
    Shift,
    Source,
    Status,
    Step,
    Urgency,
)
from dispatch.patrol_alert import KIND as SHORT_PATROL
from dispatch.queues import QUEUE_TITLES, SORT_TITLES, Queue, Sort

NOBODY = "—"
"""Shown where a value is missing (no owner, never seen)."""


class Wording:
    """Names in the operator's current language (it follows :class:`Language` switches)."""

    def __init__(self, language: Language, catalog: Catalog, model: HallModel) -> None:
        self.language = language
        self.catalog = catalog
        self.model = model

    @property
    def tr(self) -> Translate:
        return self.language.tr

    # enumerations

    def status(self, value: Status) -> str:
        return label(value, self.tr, STATUS)  # type: ignore[arg-type]

    def source(self, value: Source) -> str:
        return label(value, self.tr, SOURCE)  # type: ignore[arg-type]

    def urgency(self, value: Urgency) -> str:
        return label(value, self.tr, URGENCY)  # type: ignore[arg-type]

    def level(self, value: Level) -> str:
        return label(value, self.tr, LEVEL)  # type: ignore[arg-type]

    def role(self, value: Role) -> str:
        return label(value, self.tr, ROLE)  # type: ignore[arg-type]

    def shift(self, value: Shift) -> str:
        return label(value, self.tr, SHIFT)  # type: ignore[arg-type]

    def duty(self, value: Duty) -> str:
        return label(value, self.tr, DUTY)  # type: ignore[arg-type]

    def field(self, value: Field) -> str:
        return label(value, self.tr, FIELD)  # type: ignore[arg-type]

    def step(self, value: Step) -> str:
        return label(value, self.tr, STEP)  # type: ignore[arg-type]

    def request(self, kind: str) -> str:
        try:
            return label(RequestKind(kind), self.tr, REQUEST)  # type: ignore[arg-type]
        except ValueError:
            return kind

    def kind(self, value: Kind) -> str:
        return label(value, self.tr, KIND)  # type: ignore[arg-type]

    def event(self, value: EventType) -> str:
        return label(value, self.tr, EVENT)  # type: ignore[arg-type]

    def history(self, event: Event) -> str:
        """One line of a case's history: what happened, then the event's reason; a standby
        call says whom it called (its reason is the hub's English)."""
        if event.type is EventType.STANDBY_CALLED:
            if event.data.get("to") == "commander":
                text = self.tr("Not signed for in time: duty commander {commander} alerted")
                return text.format(commander=event.data.get("commander") or NOBODY)
            person = self.person(event.data.get("staff"))
            if event.data.get("step"):
                text = self.tr("Standby officer {person} called (no. {step} on the night's order)")
                return text.format(person=person, step=event.data["step"])
            return self.tr("Standby officer {person} called").format(person=person)
        if event.type is EventType.ALERT and event.data.get("kind") == SHORT_PATROL:
            return self.short_patrol(event)
        return f"{self.event(event.type)} {event.reason}".strip()

    def short_patrol(self, event: Event) -> str:
        """The short-patrol alert (巡查有效时间短) in words: who, which day, how long."""
        data = event.data
        text = self.tr("Short patrol: {person} on {day}, {inside} of {minimum} min inside "
                       "the grid ({minutes} min tracked)")  # fmt: skip
        return text.format(person=self.person(event.staff), day=data.get("day", ""),
                           inside=f"{float(data.get('inside_minutes') or 0):.0f}",
                           minimum=data.get("minimum", ""),
                           minutes=f"{float(data.get('minutes') or 0):.0f}")  # fmt: skip

    def queue(self, value: Queue) -> str:
        return self.tr(QUEUE_TITLES[value])

    def queue_short(self, value: Queue) -> str:
        """The queue's abbreviated tab name (where the full titles do not fit)."""
        return self.tr(QUEUE_SHORT[value])

    def sort(self, value: Sort) -> str:
        return self.tr(SORT_TITLES[value])

    def op(self, op: str) -> str:
        return self.tr(OP[op]) if op in OP else op

    # the hall's things

    def category(self, code: str) -> str:
        category = self.catalog.by_code.get(code)
        if category is None:
            return code
        return category.name_en if self.language.english else category.name

    def unit(self, unit_id: str | None) -> str:
        if unit_id is None:
            return ""
        unit = self.model.units.get(unit_id)
        return unit.name if unit is not None else unit_id

    def person(self, staff_id: str | None) -> str:
        if staff_id is None:
            return ""
        person = self.model.staff.get(staff_id)
        return person.name if person is not None else staff_id

    def grid(self, code: str | None) -> str:
        if code is None:
            return ""
        area = self.model.areas.get(code)
        return area.name if area is not None else code

    def place(self, case: Case) -> str:
        """Where the case is: its grid's name, else its address."""
        return self.grid(case.grid) if case.grid else case.address

    def owner(self, case: Case) -> str:
        return " ".join(p for p in (self.unit(case.owner_unit), self.person(case.owner_staff)) if p)

    def ago(self, at: datetime | None, now: datetime) -> str:
        """How long ago, coarsely: "刚刚", "5 分钟前", "2 小时前"."""
        if at is None:
            return NOBODY
        minutes = int((now - at).total_seconds() // 60)
        if minutes < 1:
            return self.tr("now")
        if minutes < 60:
            return self.tr("{n} min ago").format(n=minutes)
        return self.tr("{n} h ago").format(n=minutes // 60)
