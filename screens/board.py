"""The board (DESIGN.md §3): urgent strip, queue tabs with counts, the case list, the selected
case's detail, the on-duty roster, the status bar and the key bar. Owns the keys
(:mod:`console.actions`); those that act on cases come from :class:`CaseSteps`.

It draws from the desk's hall model and redraws only what a :class:`DeskChanged` says moved:
a batch touches the rows, counts and strip it changed, the tick only the countdowns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from backend_client.hall_model import HallDelta
from backend_client.state import ConnectionState
from console import prefs as prefs_store
from console import rows
from console.actions import (
    ROLE_KEYS,
    bindings,
)
from console.chain_lines import roll_call_lines
from console.completion import complete
from console.desk import Desk, Outcome
from console.messages import DeskChanged, SwitchLanguage
from console.names import Lookup, VerbError
from console.standby_lines import standby_lines
from console.suggestions import suggestion_lines
from console.verbs import ReadVerb, parse
from dispatch.commands import (
    CaseCommand,
    Command,
    op_of,
)
from dispatch.models import Urgency
from dispatch.queues import QUEUES, QUICK_KINDS, Queue, QuickFilter, Sort, parse_queue
from dispatch.sla import shown_deadline
from screens.case import case_view
from screens.case_steps import CaseSteps
from screens.dialogues import NONE
from screens.guard import guarded
from widgets.case_detail import CaseDetail
from widgets.command_line import CommandLine
from widgets.countdown_strip import CountdownStrip, StripItem
from widgets.key_bar import KeyBar
from widgets.queue_list import Column, QueueList, QueueRow
from widgets.roster_table import RosterRow, RosterTable
from widgets.status_bar import StatusBar

NARROW = 120
"""Below this many columns the side panel (detail, roster) gives way to the list."""

STRIP_SIZE = 12
"""Urgent cases the strip considers (it draws as many as fit)."""

CONNECTION = {
    ConnectionState.CONNECTING: "connecting",
    ConnectionState.SYNCING: "syncing",
    ConnectionState.LIVE: "live",
    ConnectionState.DISCONNECTED: "DISCONNECTED: read only",
    ConnectionState.AUTH_FAILED: "login refused",
    ConnectionState.REVOKED: "SESSION REVOKED: read only",
    ConnectionState.CLOSED: "closed",
}

CLEAR = "*clear"
"""The pick key that clears every quick filter."""

FEEDBACK_MARK = {Outcome.SENT: "…", Outcome.APPLIED: "✓", Outcome.REFUSED: "✗", Outcome.FAILED: "✗"}


class BoardScreen(CaseSteps):
    CSS_PATH = "board.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings()]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"board--new"}

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self._prefs = prefs_store.Prefs()
        self._prefs_loaded = False
        self._new = 0
        self._roster_minute = -1
        self._roster_stale = False
        self._tick_second = -1

    def _marks_used(self) -> None:
        self.query_one(QueueList).clear_marks()

    def compose(self) -> ComposeResult:
        tr = self.desk.language.tr
        yield CountdownStrip(id="strip")
        yield Static(id="tabs")
        with Horizontal(id="main"):
            yield QueueList(id="cases", outer_keys=frozenset({"select", "toggle_mark"}))
            with Vertical(id="side"):
                yield CaseDetail(id="detail", placeholder=tr("No case selected."))
                yield RosterTable(id="roster")
        yield Input(id="filter", classes="prompt")
        yield CommandLine(id="command", classes="prompt")
        yield StatusBar(tr, id="status")
        yield KeyBar(tr, id="keys")

    def on_mount(self) -> None:
        light = self.desk.light
        minutes = self.desk.settings.console.low_bandwidth
        for widget in (
            self.query_one(QueueList),
            self.query_one(CountdownStrip),
            self.query_one(CaseDetail),
        ):
            widget.set_light(light)
            widget.set_minutes(minutes)
        self._relabel()
        self._session_changed()
        self.query_one(QueueList).focus()

    # --- what changed on the desk ----------------------------------------------------------

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        with self.app.batch_update():
            if message.language:
                self._relabel()
            if message.session:
                self._session_changed()
            if message.hall is not None:
                self._hall_changed(message.hall)
            if message.now is not None:
                self._tick(message.now)

    def on_screen_resume(self) -> None:
        # Back from the case screen: the board saw every hall change, but not the clock.
        self._tick(self.desk.commands.hub_now(), force=True)

    def _relabel(self) -> None:
        """Titles and texts in the operator's (possibly new) language."""
        tr = self.desk.language.tr
        cols = [Column(c.key, tr(c.title), c.width, c.min_width, c.priority) for c in rows.COLUMNS]
        countdown = rows.COUNTDOWN
        self.query_one(QueueList).set_columns(cols, tr(countdown.title), countdown.width, 0)
        self.query_one(QueueList).set_render(self._row)
        self.query_one(RosterTable).set_columns([tr(t) for t in rows.ROSTER_COLUMNS])
        self.query_one("#filter", Input).placeholder = tr("Filter: any text, Enter to apply")
        self.query_one("#command", Input).placeholder = tr(":verb case … (Enter to send)")
        self.query_one(CaseDetail).set_placeholder(tr("No case selected."))
        self.query_one(StatusBar).set_translator(tr)
        self.query_one(KeyBar).set_translator(tr)
        self._draw_tabs()
        self._draw_strip()
        self._draw_detail()
        self._draw_roster()
        self._draw_status()

    def _session_changed(self) -> None:
        session = self.desk.session
        if session.live and session.operator and not self._prefs_loaded:
            self._take_prefs()
        self.set_class(not session.live, "-readonly")
        self.query_one(KeyBar).set_order(ROLE_KEYS[session.role])
        self._draw_status()
        self.refresh_bindings()

    def _take_prefs(self) -> None:
        """The operator is known: take up their saved queue, filters and sort, once (a
        reconnect keeps what the operator chose since)."""
        self._prefs_loaded = True
        self._prefs = self.desk.load_prefs()
        self.query_one(QueueList).set_filter(self._prefs.filter)
        model = self.desk.model
        if model.now is not None:
            model.set_sort(self._prefs.sort)
            model.set_quick(self._prefs.quick)
            self._hall_changed(HallDelta(replaced=True, counts_changed=True, strip_changed=True))
        else:  # no snapshot yet: the model takes them before it holds anything
            model.set_sort(self._prefs.sort)

    def _hall_changed(self, delta: HallDelta) -> None:
        if delta.replaced:
            self._show_queue()
            self._draw_tabs()
            self._draw_strip()
            self._draw_detail()
            self._draw_roster()
            self.refresh_bindings()
            return
        change = delta.queue(self._prefs.queue)
        if change:
            self.query_one(QueueList).apply(change.removed, change.added, change.changed)
        if delta.counts_changed:
            self._draw_tabs()
        if delta.strip_changed:
            self._draw_strip()
        if delta.urgent_new:
            self.query_one(CountdownStrip).flash()
        touched = {*delta.cases, *delta.removed}
        if self._selected in touched:
            self._draw_detail()
        if delta.staff:
            # Loads and field statuses move with nearly every batch (up to ten a second), and
            # each change re-renders the roster's whole DataTable: it is redrawn with the next
            # tick, at most once a second.
            self._roster_stale = True
        if self._selected in touched or self._marked & touched:
            self.refresh_bindings()

    def _tick(self, now: datetime, *, force: bool = False) -> None:
        self._now = now
        # Every batch carries the hub time too (up to ten a second): countdowns, the detail's
        # deadlines and the clock show whole seconds, so they are redrawn once a second.
        second = int(now.timestamp())
        if second == self._tick_second and not force:
            return
        self._tick_second = second
        for widget in (
            self.query_one(QueueList),
            self.query_one(CountdownStrip),
            self.query_one(CaseDetail),
        ):
            widget.now = now
        minute = int(now.timestamp() // 60)
        # "Last seen 3 min ago" moves once a minute; loads as batches arrive (see above).
        if minute != self._roster_minute or self._roster_stale:
            self._roster_minute = minute
            self._draw_roster()
        self._draw_status()

    # --- drawing -----------------------------------------------------------------------------

    def _row(self, key: str) -> QueueRow:
        case = self.desk.model.cases[key]
        cells = rows.case_cells(case, self.desk.words)
        return QueueRow(key, cells, shown_deadline(case), case.urgency is Urgency.URGENT)

    def _show_queue(self) -> None:
        model = self.desk.model
        self.query_one(QueueList).show(model.listing(self._prefs.queue), self._row, model.entry_of)

    def _draw_tabs(self) -> None:
        words, model = self.desk.words, self.desk.model
        width = self.size.width or self.app.size.width
        # Full names where they fit; else abbreviated ("2 受理 10"), the current tab's name
        # last — never a bare number, so every tab still says what it holds.
        # At the narrowest, the padding around each tab goes too.
        text = Text()
        for short, pad in (((), " "), ((False,), " "), ((False, True), " "), ((False, True), "")):
            text = Text()
            for n, queue in enumerate(QUEUES, 1):
                current = queue is self._prefs.queue
                abbreviated = (not current and short) or (current and len(short) == 2)
                name = words.queue_short(queue) if abbreviated else words.queue(queue)
                label = f"{pad}{n} {name} {model.count(queue)}{pad}"
                text.append(label, "reverse bold" if current else "")
                text.append("│", "dim")
            if self._new:
                new = self.get_component_rich_style("board--new")
                text.append(" " + words.tr("{n} new").format(n=self._new), new)
            if text.cell_len <= width:
                break
        # One line high (board.tcss) whatever it says: no layout of the screen for it.
        self.query_one("#tabs", Static).update(text, layout=False)

    def _draw_strip(self) -> None:
        items = []
        for case in self.desk.model.strip(STRIP_SIZE):
            deadline = shown_deadline(case)
            if deadline is not None:
                items.append(StripItem(case.id, case.title, deadline))
        self.query_one(CountdownStrip).set_items(items)

    def _draw_detail(self) -> None:
        self.query_one(CaseDetail).show(case_view(self.desk, self._case(), full=False))

    def _draw_roster(self) -> None:
        self._roster_stale = False
        desk = self.desk
        if desk.model.now is None:
            return
        lines = rows.roster_rows(
            desk.model, desk.words, self._now or desk.model.now, rows.RosterFilter(True)
        )
        self.query_one(RosterTable).set_rows([RosterRow(k, cells) for k, cells in lines])

    def _draw_status(self) -> None:
        desk, tr = self.desk, self.desk.language.tr
        session = desk.session
        bar = self.query_one(StatusBar)
        bar.connected = session.live
        bar.connection = tr(CONNECTION[session.connection]) + (
            "" if session.live or not session.detail else f" ({session.detail})"
        )
        now = self._now
        clock = "%H:%M" if desk.settings.console.low_bandwidth else "%H:%M:%S"
        bar.hub_time = now.astimezone(desk.calendar.tz).strftime(clock) if now else ""
        role = desk.words.role(session.role) if session.role else ""
        bar.operator = f"{session.operator} {role}".strip()
        bar.filter_text = " ".join(
            t for t in (self._prefs.filter, rows.quick_text(desk.model.quick, desk.words)) if t
        )
        bar.speed = session.speed if session.live else 1.0
        bar.demo = session.demo or bar.speed != 1.0
        feedback = session.feedback
        if feedback is None:
            bar.command, bar.command_state = "", ""
        else:
            detail = f": {feedback.detail}" if feedback.detail else ""
            bar.command = f"{FEEDBACK_MARK[feedback.outcome]} {feedback.what}{detail}"
            bar.command_state = {
                Outcome.SENT: "sent",
                Outcome.APPLIED: "applied",
            }.get(feedback.outcome, "refused")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self.query_one(CaseDetail).set_compact(event.size.width < NARROW)
        self._draw_strip()
        self._draw_tabs()

    # --- messages from the widgets (messages up) -----------------------------------------------

    @on(QueueList.Highlighted)
    @guarded
    def _highlighted(self, event: QueueList.Highlighted) -> None:
        self._selected = event.key
        self._draw_detail()
        self.refresh_bindings()

    @on(CountdownStrip.Selected)
    @guarded
    def _strip_selected(self, event: CountdownStrip.Selected) -> None:
        self._open(event.key)

    @on(QueueList.Selected)
    @guarded
    def _selected_case(self, event: QueueList.Selected) -> None:
        self._open(event.key)

    @on(QueueList.MarksChanged)
    @guarded
    def _marks(self, event: QueueList.MarksChanged) -> None:
        self._marked = event.keys
        self.refresh_bindings()

    @on(QueueList.NewRowsChanged)
    @guarded
    def _new_rows(self, event: QueueList.NewRowsChanged) -> None:
        self._new = event.count
        self._draw_tabs()

    # --- the board's own keys ------------------------------------------------------------------

    def action_mark(self) -> None:
        self.query_one(QueueList).action_toggle_mark()

    def action_open_case(self) -> None:
        if self._selected is not None:
            self._open(self._selected)

    def _open(self, key: str) -> None:
        from screens.case import CaseScreen

        if key in self.desk.model.cases:
            self._selected = key
            self.app.push_screen(CaseScreen(self.desk, key))

    def action_queue(self, queue: str) -> None:
        self._set_prefs(queue=Queue(queue))
        self._show_queue()
        self._draw_tabs()

    def action_sort(self) -> None:
        order = list(Sort)
        sort = order[(order.index(self._prefs.sort) + 1) % len(order)]
        self._set_prefs(sort=sort)
        self.desk.model.set_sort(sort)
        self._show_queue()
        words = self.desk.words
        self.notify(words.tr("Sorted by {sort}").format(sort=words.sort(sort)))

    @work(group="prompt", exit_on_error=False)
    async def action_quick_filter(self) -> None:
        tr, words = self.desk.language.tr, self.desk.words
        kinds = [(k, tr(title)) for k, title in QUICK_KINDS.items()]
        kind = await self._dialogues.pick(
            "Quick filter by?", [*kinds, (CLEAR, tr("Clear quick filters"))]
        )
        if kind is None:
            return
        quick = QuickFilter()
        if kind != CLEAR:
            values = rows.quick_values(kind, words, self.desk.model.cases.values())
            value = await self._dialogues.pick(QUICK_KINDS[kind], [(NONE, tr("(any)")), *values])
            if value is None:
                return
            quick = self.desk.model.quick.with_value(kind, None if value == NONE else value)
        self._set_prefs(level=quick.level, unit=quick.unit, source=quick.source, grid=quick.grid)
        self.desk.model.set_quick(quick)
        self._hall_changed(HallDelta(replaced=True, counts_changed=True))
        self._draw_status()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self._prefs.filter
        box.add_class("-open")
        box.focus()

    def _lookup(self) -> Lookup:
        """The verbs' view of the hall: the console's own copy, as it is now."""
        m = self.desk.model
        return Lookup(m.cases, m.units, m.staff, m.areas, self.desk.catalog)

    def action_command_line(self) -> None:
        box = self.query_one(CommandLine)
        box.set_completer(lambda line: complete(line, self._lookup(), role=self.desk.session.role))
        box.value = ""
        box.add_class("-open")
        box.focus()

    @on(Input.Submitted, "#filter")
    @guarded
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._set_prefs(filter=event.value.strip())
        self.query_one(QueueList).set_filter(self._prefs.filter)
        self._close_prompt(event.input)

    @on(Input.Submitted, "#command")
    @guarded
    def _command_submitted(self, event: Input.Submitted) -> None:
        self._close_prompt(event.input)
        tr = self.desk.language.tr
        try:
            result = parse(event.value, self._lookup(), self.desk.commands.new_id)
        except VerbError as exc:
            self.desk.commands.not_sent(tr("Cannot do that"), exc.text(tr))
            return
        if isinstance(result, ReadVerb):
            self._read_verb(result)
        else:
            self._send_typed(result)

    def _send_typed(self, command: Command) -> None:
        op = op_of(command)
        case = self.desk.model.cases.get(command.case) if isinstance(command, CaseCommand) else None
        what = self._what(op, [case]) if case is not None else self.desk.words.op(op)
        self.desk.commands.send(command, what=what)

    def _read_verb(self, verb: ReadVerb) -> None:
        if verb.name == "show" and verb.args:
            self._open(verb.args[0])
        elif verb.name == "list":
            self.action_queue(parse_queue(verb.args[0] if verb.args else "all").value)
        elif verb.name == "roster":
            self._roster(verb.args[0] if verb.args else None)
        elif verb.name == "suggest" and verb.args:
            self._suggest(verb.args[0])
        elif verb.name == "rota":
            desk = self.desk
            lines = standby_lines(desk.model.staff.values(), desk.words)
            self.notify("\n".join(lines), title=desk.words.tr("On standby now"), timeout=20)
        elif verb.name == "rollcall" and verb.args:
            self._roll_call(verb.args[0])

    def _roll_call(self, key: str) -> None:
        desk = self.desk
        case = desk.model.cases.get(key)
        if case is None:
            return
        lines = roll_call_lines(case, desk.words, desk.commands.hub_now(), desk.calendar.tz)
        text = "\n".join(lines) or desk.words.tr("No whistle was blown on this case.")
        self.notify(text, title=desk.words.tr("Roll call"), timeout=30)

    def _suggest(self, key: str) -> None:
        desk = self.desk
        case = desk.model.cases.get(key)
        if case is None:
            return
        what = desk.words.category(case.category)
        lines = suggestion_lines(
            case, what, desk.hall(), desk.commands.hub_now(), desk.model.load, desk.words.tr
        )
        self.notify("\n".join(lines), title=desk.words.tr("Suggested"), timeout=20)

    @on(CommandLine.Cancelled)
    @guarded
    def _command_cancelled(self, event: CommandLine.Cancelled) -> None:
        self._close_prompt(event.command_line)

    def _close_prompt(self, box: Input) -> None:
        box.remove_class("-open")
        self.query_one(QueueList).focus()
        self._draw_status()

    def key_escape(self) -> None:
        for box in self.query(".prompt.-open").results(Input):
            self._close_prompt(box)

    def action_roster(self) -> None:
        self._roster(None)

    def _roster(self, unit: str | None) -> None:
        from screens.roster import RosterScreen

        self.app.push_screen(RosterScreen(self.desk, unit=unit))

    def action_handover(self) -> None:
        from screens.handover import HandoverScreen

        self.app.push_screen(HandoverScreen(self.desk))

    def action_assessment(self) -> None:
        from screens.assessment import AssessmentScreen

        self.app.push_screen(AssessmentScreen(self.desk))

    def action_intake(self) -> None:
        from screens.intake import IntakeScreen

        self.app.push_screen(IntakeScreen(self.desk))

    def action_language(self) -> None:
        self.post_message(SwitchLanguage())

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.desk))

    async def action_quit(self) -> None:
        await self.app.action_quit()

    def _set_prefs(self, **changes: Any) -> None:
        self._prefs = msgspec.structs.replace(self._prefs, **changes)
        self.desk.save_prefs(self._prefs)
