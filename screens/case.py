"""The case screen: every field, each deadline with its light and numbers, and the case's full
audit history, drawn by the ``CaseDetail`` widget from a :class:`CaseView` built here.

The mirror keeps cases, not their past events, so on opening the screen asks the hub for the
history (through the app's ``fetch_history`` worker); until it arrives, or if it cannot, the
screen shows the events this console saw itself and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from console.labels import LEVEL, SOURCE, STATUS, STEP, URGENCY, label
from dispatch.events import Event
from dispatch.models import Case
from dispatch.sla import light
from widgets.case_detail import CaseDetail, CaseView, HistoryLine

if TYPE_CHECKING:
    from console.app import GriddeskApp


class HistoryLoaded(Message):
    """The hub answered a history request: the case's events, or (``events`` None) why not."""

    def __init__(
        self, case_id: str, events: tuple[Event, ...] | None, error: str | None = None
    ) -> None:
        super().__init__()
        self.case_id = case_id
        self.events = events
        self.error = error


@dataclass(frozen=True)
class HubHistory:
    """Where the case screen's history request stands: ``events`` once it arrived."""

    events: tuple[Event, ...] | None = None
    error: str | None = None


def case_view(
    app: GriddeskApp, case: Case | None, *, full: bool, hub: HubHistory | None = None
) -> CaseView | None:
    """What the detail shows of ``case``, in the operator's language (``full``: every field
    and the history, for the case screen; ``hub``: the history request's state, None when
    nothing was asked)."""
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
        seen = app.view.history.of(case.id)
        notes: list[str] = []
        if hub is not None and hub.events is not None:
            # Live events that arrived after the hub read the log follow the fetched ones.
            last = max((e.seq for e in hub.events), default=0)
            events = (*hub.events, *(e for e in seen if e.seq > last))
        else:
            events = seen
            if hub is not None and hub.error is None:
                notes.append(tr("Loading the full history…"))
            elif hub is not None:
                notes.append(tr("Full history unavailable: {error}").format(error=hub.error))
            notes.append(tr("Events since this console connected; older history is on the hub."))
        history = (
            *(
                HistoryLine(
                    e.at.astimezone(tz).strftime("%m-%d %H:%M:%S"),
                    e.actor,
                    f"{tr(str(e.type))} {e.reason}".strip(),
                )
                for e in events
            ),
            *(HistoryLine("", "", note) for note in notes),
        )
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
        self._hub = HubHistory()

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
        self.console.fetch_history(self.case_id, self)
        self._draw()

    def connection_changed(self) -> None:
        # A request that failed while disconnected is asked again once the link is back.
        if self._hub.error is not None and self.console.live:
            self._hub = HubHistory()
            self.console.fetch_history(self.case_id, self)
            self._draw()

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if message.case_id == self.case_id:
            self._hub = HubHistory(message.events, message.error)
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
        view = case_view(self.console, case, full=True, hub=self._hub)
        self.query_one(CaseDetail).show(view)
