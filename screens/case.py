"""The case screen: every field, each deadline with its light and numbers, and the history
of the case as this console saw it (the mirror keeps cases, not their past events), drawn by
the ``CaseDetail`` widget from a :class:`CaseView` built here."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from console.labels import LEVEL, SOURCE, STATUS, STEP, URGENCY, label
from dispatch.models import Case
from dispatch.sla import light
from widgets.case_detail import CaseDetail, CaseView, HistoryLine

if TYPE_CHECKING:
    from console.app import GriddeskApp


def case_view(app: GriddeskApp, case: Case | None, *, full: bool) -> CaseView | None:
    """What the detail shows of ``case``, in the operator's language (``full``: every field
    and the history, for the case screen)."""
    tr = app.tr
    if case is None:
        return None
    v = app.view
    cat = app.catalog.by_code.get(case.category)
    cat_name = (cat.name_en if app.locale == "en" else cat.name) if cat else case.category
    unit = v.units[case.owner_unit].name if case.owner_unit in v.units else (case.owner_unit or "—")
    person = v.staff[case.owner_staff].name if case.owner_staff in v.staff else ""
    fields: list[tuple[str, str]] = [
        (tr("Status"), f"{label(case.status, tr, STATUS)}  {label(case.urgency, tr, URGENCY)}"),  # type: ignore[arg-type]
        (tr("Category"), cat_name),
        (tr("Place"), f"{case.grid or ''} {case.address}".strip()),
        (tr("Unit"), f"{unit} {person}".strip()),
        (tr("Level"), label(case.level, tr, LEVEL)),  # type: ignore[arg-type]
        (tr("Source"), label(case.source, tr, SOURCE)),  # type: ignore[arg-type]
    ]
    if case.request is not None:
        fields.append((tr("Pending request"), f"{tr(case.request.kind)}: {case.request.reason}"))
    if full:
        tz = app.calendar.tz
        fields += [
            (tr("Description"), case.description),
            (tr("Reporter"), case.reporter or ""),
            (tr("Reported at"), case.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
            (
                tr("Joint"),
                ", ".join(v.units[u].name if u in v.units else u for u in case.supporting_units),
            ),
            (tr("Returns / urges / reworks"), f"{case.returns} / {case.urges} / {case.reworks}"),
            (tr("Version"), str(case.version)),
        ]
    history: tuple[HistoryLine, ...] = ()
    if full:
        tz = app.calendar.tz
        seen = [
            HistoryLine(
                e.at.astimezone(tz).strftime("%m-%d %H:%M:%S"),
                e.actor,
                f"{tr(str(e.type))} {e.reason}".strip(),
            )
            for e in app.view.history.of(case.id)
        ]
        note = tr("Events since this console connected; older history is on the hub.")
        history = (*seen, HistoryLine("", "", note))
    return CaseView(
        key=case.id,
        title=f"{case.id}  {case.title}",
        fields=tuple((k, val) for k, val in fields if val),
        deadlines=tuple((label(d.step, tr, STEP), d) for d in case.deadlines),  # type: ignore[arg-type]
        history=history,
        empty_text=tr("No case selected."),
    )


def bind_light(app: GriddeskApp, widget: CaseDetail) -> None:
    widget.set_light(partial(light, calendar=app.calendar, amber_at=app.settings.sla.amber_at))


class CaseScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id

    @property
    def console(self) -> GriddeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield CaseDetail()
        yield Footer()

    def on_mount(self) -> None:
        bind_light(self.console, self.query_one(CaseDetail))
        if self.console.client is not None:
            self.query_one(CaseDetail).now = self.console.hub_now()
        self._draw()

    def tick(self, now: datetime) -> None:
        self.query_one(CaseDetail).now = now

    def cases_changed(self, message: object) -> None:
        self._draw()

    def hall_replaced(self) -> None:
        self._draw()

    def relabel(self) -> None:
        self._draw()

    def _draw(self) -> None:
        case = self.console.view.cases.get(self.case_id)
        self.query_one(CaseDetail).show(case_view(self.console, case, full=True))
