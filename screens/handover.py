"""The hand-over screen (交接班): the current shift's report, section by section, and the keys to
write the outgoing commander's note and to acknowledge the hand-over as the incoming one.

The report is read from the hub when the screen opens (``Commands.fetch_handover``: the case
lists from the mirror, the shift's events from the hub's ``events_window``) and again on
``r``; it shows the same sections and rows as ``griddesk handover`` (console/handover_text.py).
Acknowledging sends ``handover_ack`` with the report's window and digest; the hub's answer
comes back as the session's command feedback, and the screen then says who took the shift.
"""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from console.desk import Desk, Outcome
from console.handover_text import INCOMPLETE, ReportWords, section_table, section_title
from console.messages import DeskChanged
from dispatch.commands import HandoverAck, HandoverNote
from dispatch.handover import HandoverReport, Section
from dispatch.roles import allowed
from screens.guard import guarded
from screens.reason import ReasonScreen
from widgets.key_bar import KeyBar


class HandoverLoaded(Message):
    """The hand-over report arrived, or (``report`` None) why it could not be read."""

    def __init__(self, report: HandoverReport | None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class HandoverScreen(Screen[None]):
    """The shift's hand-over report; ``a`` acknowledges it, ``n`` writes a note."""

    CSS_PATH = "handover.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("a", "acknowledge", "Acknowledge"),
        Binding("n", "note", "Hand-over note"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.report: HandoverReport | None = None
        self.error: str | None = None
        self._ack_what: str | None = None
        """The feedback text of the ack sent from here, until the hub answers it."""
        self._note_what: str | None = None
        """The same for a note: once applied, the report is read again to show it."""
        self.acknowledged: str | None = None
        """Who took the shift over from here, and when (a line), once the hub applied it."""

    def compose(self) -> ComposeResult:
        yield Static(id="handover-head")
        with VerticalScroll(id="handover-body"):
            yield Static(id="handover-report")
        yield KeyBar(self.desk.language.tr)

    def on_mount(self) -> None:
        self.query_one("#handover-body").focus()
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what the operator's role may never send; grey out acknowledging before the
        report has arrived (or once it is done)."""
        role = self.desk.session.role
        if action in ("acknowledge", "note"):
            op = "handover_ack" if action == "acknowledge" else "handover_note"
            if role is None or not allowed(role, op):
                return False
        if action == "acknowledge" and (self.report is None or self.acknowledged is not None):
            return None
        return True

    # --- the report ------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.report, self.error = None, None
        self._draw()
        self.desk.commands.fetch_handover(self)

    @guarded
    def on_handover_loaded(self, message: HandoverLoaded) -> None:
        self.report, self.error = message.report, message.error
        self._draw()
        self.refresh_bindings()

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        if message.language:
            self.query_one(KeyBar).set_translator(self.desk.language.tr)
            self._draw()
        feedback = self.desk.session.feedback
        if not message.session or feedback is None or feedback.outcome is Outcome.SENT:
            return
        if feedback.what == self._note_what:
            self._note_what = None
            if feedback.outcome is Outcome.APPLIED:
                self.action_refresh()
        elif feedback.what == self._ack_what:
            if feedback.outcome is Outcome.APPLIED:
                tr, now = self.desk.language.tr, self.desk.commands.hub_now()
                at = now.astimezone(ZoneInfo(self.desk.settings.clock.timezone))
                name = self.desk.session.operator
                self.acknowledged = tr("Acknowledged by {name} at {time}").format(
                    name=name, time=at.strftime("%H:%M")
                )
            self._ack_what = None
            self._draw()
            self.refresh_bindings()

    def _draw(self) -> None:
        tr = self.desk.language.tr
        head = self.query_one("#handover-head", Static)
        body = self.query_one("#handover-report", Static)
        report = self.report
        if report is None:
            head.update(Text(tr("Hand-over"), style="bold"))
            body.update(self.error or tr("Loading the hand-over report…"))
            return
        rw = self._words()
        title = tr("Shift hand-over {since} – {until}").format(
            since=rw.day_time(report.since), until=rw.time(report.until)
        )
        status = self.acknowledged or tr("Not acknowledged yet")
        line = f"{title}   {tr('Handed over by')}: {report.outgoing or '—'}   {status}"
        head.update(Text(line, style="bold"))
        head.set_class(self.acknowledged is not None, "-acknowledged")
        body.update(Group(*self._sections(report, rw)))

    def _words(self) -> ReportWords:
        tz = ZoneInfo(self.desk.settings.clock.timezone)
        return ReportWords(self.desk.words, tz, self.desk.model.cases)

    def _sections(self, report: HandoverReport, rw: ReportWords) -> list[RenderableType]:
        tr = self.desk.language.tr
        out: list[RenderableType] = []
        if not report.complete:
            out.append(Text(tr(INCOMPLETE), style="bold"))
        for section in Section:
            out.append(Text(section_title(section, report, tr), style="bold underline"))
            if section not in report.wired:
                out.append(Text(tr("None (not recorded by this hub yet)."), style="dim"))
                continue
            heads, rows = section_table(section, report, rw)
            if not rows:
                out.append(Text(tr("None."), style="dim"))
                continue
            table = Table(*heads, box=None, pad_edge=False, expand=True, show_edge=False)
            for row in rows:
                table.add_row(*row)
            out.append(table)
        return out

    # --- the keys ----------------------------------------------------------------------------

    def action_acknowledge(self) -> None:
        report = self.report
        if report is None or self.acknowledged is not None:
            return
        tr = self.desk.language.tr
        command = HandoverAck(
            id=self.desk.commands.new_id(), since=report.since, until=report.until,
            outgoing=report.outgoing or "—", digest=report.digest,
        )  # fmt: skip
        self._ack_what = tr("acknowledge the hand-over")
        self.desk.commands.send(command, what=self._ack_what)

    @work(group="prompt", exit_on_error=False)
    async def action_note(self) -> None:
        tr = self.desk.language.tr
        prompt = ReasonScreen(tr("Write the outgoing commander's note"))
        text = await self.app.push_screen_wait(prompt)
        if text:
            note = HandoverNote(id=self.desk.commands.new_id(), text=text)
            self._note_what = tr("write the hand-over note")
            self.desk.commands.send(note, what=self._note_what)
