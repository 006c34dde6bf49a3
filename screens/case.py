"""The case screen: every field, each deadline with its light and numbers, and the case's full
audit history, drawn by the ``CaseDetail`` widget from a :class:`CaseView` built here.

The mirror keeps cases, not their past events, so on opening the screen asks the hub for the
history (``Commands.fetch_history``); until it arrives, or if it cannot, the screen shows the
events this console saw itself and says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from console.chain_lines import instruction_lines, roll_call_lines
from console.desk import Desk
from console.messages import DeskChanged
from dispatch.events import Event
from dispatch.models import Case
from dispatch.sla import shown_deadline
from screens.guard import guarded
from widgets.case_detail import CaseDetail, CaseView, HistoryLine
from widgets.key_bar import KeyBar


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
    desk: Desk, case: Case | None, *, full: bool, hub: HubHistory | None = None
) -> CaseView | None:
    """What the detail shows of ``case``, in the operator's language (``full``: every field
    and the history, for the case screen; ``hub``: the history request's state, None when
    nothing was asked)."""
    if case is None:
        return None
    words, tr = desk.words, desk.language.tr
    fields: list[tuple[str, str]] = [
        (tr("Status"), f"{words.status(case.status)}  {words.urgency(case.urgency)}"),
        (tr("Category"), words.category(case.category)),
        (tr("Place"), " ".join(p for p in (words.grid(case.grid), case.address) if p)),
        (tr("Unit"), words.owner(case) or "—"),
        (tr("Level"), words.level(case.level)),
        (tr("Source"), words.source(case.source)),
    ]
    if case.request is not None:
        request = f"{words.request(case.request.kind)}: {case.request.reason}"
        fields.append((tr("Pending request"), request))
    # 批办 and the roll call are for everyone handling the case: on the board's detail too.
    tz = desk.calendar.tz
    for n, line in enumerate(instruction_lines(case, words, tz)):
        fields.append((tr("Instruction") if n == 0 else "", line))
    for n, line in enumerate(roll_call_lines(case, words, desk.commands.hub_now(), tz)):
        fields.append((tr("Roll call") if n == 0 else "", line))
    history: tuple[HistoryLine, ...] = ()
    if full:
        fields += [
            (tr("Description"), case.description),
            (tr("Reporter"), case.reporter or ""),
            (tr("Reported at"), case.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
            (tr("Joint"), ", ".join(words.unit(u) for u in case.supporting_units)),
            (
                tr("Returns / urges / reworks"),
                f"{case.returns} / {case.urges} / {case.reworks}",
            ),
            (tr("Version"), str(case.version)),
        ]
        history = _history(desk, case, hub)
    shown = shown_deadline(case)
    return CaseView(
        key=case.id,
        title=f"{case.id}  {case.title}",
        fields=tuple((k, val) for k, val in fields if val),
        # The deadline the board's countdown shows first, then the others.
        deadlines=tuple(
            (words.step(d.step), d)
            for d in sorted(case.deadlines, key=lambda d: (d != shown, d.due))
        ),
        history=history,
        empty_text=tr("No case selected."),
    )


def _history(desk: Desk, case: Case, hub: HubHistory | None) -> tuple[HistoryLine, ...]:
    words, tr, tz = desk.words, desk.language.tr, desk.calendar.tz
    seen = desk.seen.of(case.id)
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
    return (
        *(
            HistoryLine(
                e.at.astimezone(tz).strftime("%m-%d %H:%M:%S"),
                e.actor,
                words.history(e),
            )
            for e in events
        ),
        *(HistoryLine("", "", note) for note in notes),
    )


class CaseScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(self, desk: Desk, case_id: str) -> None:
        super().__init__()
        self.desk = desk
        self.case_id = case_id
        self._hub = HubHistory()

    def compose(self) -> ComposeResult:
        yield CaseDetail()
        yield KeyBar(self.desk.language.tr)

    def on_mount(self) -> None:
        detail = self.query_one(CaseDetail)
        detail.set_light(self.desk.light)
        detail.now = self.desk.commands.hub_now()
        self.desk.commands.fetch_history(self.case_id, self)
        self._draw()

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        if message.now is not None:
            self.query_one(CaseDetail).now = message.now
        if message.language:
            self.query_one(KeyBar).set_translator(self.desk.language.tr)
        if message.session and self._hub.error is not None and self.desk.session.live:
            # A request that failed while disconnected is asked again once the link is back.
            self._hub = HubHistory()
            self.desk.commands.fetch_history(self.case_id, self)
        hall = message.hall
        if (
            message.language
            or message.session
            or (
                hall is not None
                and (hall.replaced or self.case_id in hall.cases or self.case_id in hall.removed)
            )
        ):
            self._draw()

    @guarded
    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if message.case_id == self.case_id:
            self._hub = HubHistory(message.events, message.error)
            self._draw()

    def _draw(self) -> None:
        case = self.desk.model.cases.get(self.case_id)
        view = case_view(self.desk, case, full=True, hub=self._hub)
        self.query_one(CaseDetail).show(view)
