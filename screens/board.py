"""The board (DESIGN.md §3): urgent strip, queue tabs with counts, the case list, the selected
case's detail, the on-duty roster and the status bar. Owns the keys (console.actions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingsMap
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from backend_client.state import ConnectionState
from console import board_model as bm
from console import prefs as prefs_store
from console.actions import BULK, BY_METHOD, bindings, role_may, status_may
from console.completion import complete
from console.labels import ROLE, label
from console.messages import CasesChanged
from console.names import Lookup, VerbError
from console.verbs import ReadVerb, parse
from dispatch.commands import (
    Accept,
    Approve,
    CaseCommand,
    Check,
    Close,
    Dispatch,
    Escalate,
    Joint,
    Note,
    Reassign,
    Refuse,
    Reject,
    RequestExtension,
    RequestReturn,
    Rework,
    Urge,
    Verify,
)
from dispatch.models import Case, Urgency
from dispatch.routing import rank_staff, suggest_unit
from dispatch.sla import light
from screens.case import case_view
from screens.confirm import ConfirmScreen
from screens.pick import PickScreen
from screens.reason import ReasonScreen
from widgets.case_detail import CaseDetail
from widgets.command_line import CommandLine
from widgets.countdown_strip import CountdownStrip, StripItem
from widgets.queue_list import Column, QueueList, QueueRow
from widgets.roster_table import RosterRow, RosterTable
from widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from console.app import GriddeskApp

NARROW = 120
"""Below this many columns the side panel (detail, roster) gives way to the list."""

NONE = "-"
"""The pick key for "nobody" (dispatch to the unit only) or "any" (a quick filter)."""

CONNECTION = {
    ConnectionState.CONNECTING: "connecting",
    ConnectionState.SYNCING: "syncing",
    ConnectionState.LIVE: "live",
    ConnectionState.DISCONNECTED: "DISCONNECTED: read only",
    ConnectionState.AUTH_FAILED: "login refused",
    ConnectionState.CLOSED: "closed",
}

DONE = "*done"
"""The pick key that ends a multi-pick (joint enforcement's supporting units)."""
CLEAR = "*clear"
"""The pick key that clears every quick filter."""
JOINT_MAX = 10
"""The most supporting units a joint command takes (dispatch.commands.Joint)."""


class BoardScreen(Screen[None]):
    CSS_PATH = "board.tcss"

    def __init__(self) -> None:
        super().__init__()
        self._bindings = BindingsMap(bindings(self.console.tr))
        self._prefs = prefs_store.Prefs()
        self._prefs_loaded = False
        self._counts: dict[bm.Queue, int] = dict.fromkeys(bm.QUEUES, 0)
        self._selected: str | None = None
        self._marked: frozenset[str] = frozenset()
        self._new = 0
        self._now: datetime | None = None

    @property
    def console(self) -> GriddeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield CountdownStrip(id="strip")
        yield Static(id="tabs")
        with Horizontal(id="main"):
            # The board binds space and enter itself, so their footer text is translated.
            yield QueueList(id="cases", outer_keys=frozenset({"select", "toggle_mark"}))
            with Vertical(id="side"):
                yield CaseDetail(id="detail")
                yield RosterTable(id="roster")
        yield Input(id="filter", classes="prompt")
        yield CommandLine(id="command", classes="prompt")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        cases = self.query_one(QueueList)
        lit = partial(
            light, calendar=self.console.calendar, amber_at=self.console.settings.sla.amber_at
        )
        cases.set_light(lit)
        self.query_one(CountdownStrip).set_light(lit)
        self.query_one(CaseDetail).set_light(lit)
        self.relabel()
        cases.focus()

    # --- what the app calls (attributes down) -------------------------------------------------

    def relabel(self) -> None:
        """Titles and key descriptions in the operator's (possibly new) language."""
        tr = self.console.tr
        self._bindings = BindingsMap(bindings(tr))
        cols = [Column(c.key, tr(c.title), c.width) for c in bm.COLUMNS]
        self.query_one(QueueList).set_columns(cols, tr(bm.COUNTDOWN.title), bm.COUNTDOWN.width, 0)
        self.query_one(RosterTable).set_columns([tr(t) for t in bm.ROSTER_COLUMNS])
        self.query_one("#filter", Input).placeholder = tr("Filter: any text, Enter to apply")
        self.query_one("#command", Input).placeholder = tr(":verb case … (Enter to send)")
        self.hall_replaced()
        self.refresh_bindings()

    def operator_known(self) -> None:
        """The operator is known (welcome): take up their saved queue, filters and sort, once
        (a reconnect keeps what the operator chose since)."""
        if self._prefs_loaded:
            return
        self._prefs_loaded = True
        self._prefs = self.console.load_prefs()
        self.query_one(QueueList).set_filter(self._prefs.filter)
        self.hall_replaced()

    def hall_replaced(self) -> None:
        if self.console.client is not None:
            self.tick(self._now_or_hub())
        self.query_one(QueueList).replace_rows(self._rows(self._view_cases()))
        self._refresh_summary()

    def cases_changed(self, message: CasesChanged) -> None:
        now = self._now_or_hub()
        in_view, removed = [], []
        quick = self._quick()
        for case in message.cases:
            if bm.in_queue(case, self._prefs.queue, now) and quick.admits(case):
                in_view.append(case)
            else:
                removed.append(case.id)
        self.query_one(QueueList).update_rows(self._rows(in_view), removed)
        if message.urgent:
            self.query_one(CountdownStrip).flash()
        self._refresh_summary()
        # Which actions make sense depends only on the selected and marked cases: a rebuild
        # of the footer for every batch was a third of the console's time in a busy demo.
        touched = {case.id for case in message.cases}
        if self._selected in touched or self._marked & touched:
            self.refresh_bindings()

    def roster_changed(self) -> None:
        self._refresh_side()

    def connection_changed(self) -> None:
        self.set_class(not self.console.live, "-readonly")
        self._refresh_status()
        self.refresh_bindings()

    def tick(self, now: datetime) -> None:
        self._now = now
        # The app's tick can land while this screen is still composing or already tearing
        # down (at exit): a widget that is not there simply has nothing to redraw.
        widgets = [*self.query(QueueList), *self.query(CountdownStrip), *self.query(CaseDetail)]
        if len(widgets) < 3 or not self.query(StatusBar):
            return
        for widget in widgets:
            widget.now = now
        self._refresh_status()

    # --- building what is shown ----------------------------------------------------------------

    def _now_or_hub(self) -> datetime:
        # Read afresh: before the welcome the client's clock is still the local one.
        self._now = self.console.hub_now()
        return self._now

    def _quick(self) -> bm.QuickFilter:
        p = self._prefs
        return bm.QuickFilter(level=p.level, unit=p.unit, source=p.source, grid=p.grid)

    def _names(self) -> bm.Names:
        c = self.console
        return bm.Names(c.tr, c.catalog, c.view.units, english=c.locale == "en", areas=c.view.areas)

    def _view_cases(self) -> list[Case]:
        now = self._now_or_hub() if self.console.client is not None else None
        if now is None:
            return []
        q, quick = self._prefs.queue, self._quick()
        return [
            c
            for c in self.console.view.cases.values()
            if bm.in_queue(c, q, now) and quick.admits(c)
        ]

    def _rows(self, cases: Iterable[Case]) -> list[QueueRow]:
        names, sort = self._names(), self._prefs.sort
        out = []
        for case in cases:
            line = bm.line(case, names, sort)
            out.append(QueueRow(line.key, line.cells, line.deadline, line.urgent, line.sort))
        return out

    def _refresh_summary(self) -> None:
        if self.console.client is not None:
            self._counts = bm.counts(
                self.console.view.cases.values(), self._now_or_hub(), self._quick()
            )
        self._refresh_tabs()
        self._refresh_strip()
        self._refresh_side()
        self._refresh_status()

    def _refresh_tabs(self) -> None:
        tr = self.console.tr
        text = Text()
        narrow = self.app.size.width < NARROW
        for n, queue in enumerate(bm.QUEUES, 1):
            current = queue is self._prefs.queue
            # At 80 columns only the current tab spells its name; the rest show key and count.
            title = f" {tr(bm.QUEUE_TITLES[queue])}" if current or not narrow else ":"
            text.append(f" {n}{title} {self._counts[queue]} ", "reverse bold" if current else "")
            text.append("│", "dim")
        if self._new:
            text.append(" " + tr("{n} new").format(n=self._new), "bold $warning")
        self.query_one("#tabs", Static).update(text)

    def _refresh_strip(self) -> None:
        cases = self.console.view.cases.values()
        urgent = bm.strip_cases((c for c in cases if c.urgency is Urgency.URGENT), 12)
        items = []
        for case in urgent:
            deadline = bm.shown_deadline(case)
            if deadline is not None:
                items.append(StripItem(case.id, case.title, deadline))
        self.query_one(CountdownStrip).set_items(items)

    def _refresh_side(self) -> None:
        self.query_one(CaseDetail).show(case_view(self.console, self._case(), full=False))
        c = self.console
        lines = (
            bm.roster_lines(
                c.view.staff.values(),
                c.view.cases.values(),
                self._names(),
                self._now_or_hub(),
                on_duty_only=True,
            )
            if c.client
            else []
        )
        self.query_one(RosterTable).set_rows([RosterRow(k, cells) for k, cells in lines])

    def _refresh_status(self) -> None:
        c, tr = self.console, self.console.tr
        bar = self.query_one(StatusBar)
        bar.connected = c.live
        bar.connection = tr(CONNECTION[c.connection]) + (
            "" if c.live or not c.connection_detail else f" ({c.connection_detail})"
        )
        bar.hub_time = self._now.astimezone(c.calendar.tz).strftime("%H:%M:%S") if self._now else ""
        role = label(c.role, tr, ROLE) if c.role else ""  # type: ignore[arg-type]
        bar.operator = f"{c.operator} {role}".strip()
        bar.filter_text = " ".join(
            t for t in (self._prefs.filter, bm.quick_text(self._quick(), self._names())) if t
        )
        bar.speed = c.client.speed if c.client is not None and c.live else 1.0
        bar.demo = c.demo or bar.speed != 1.0

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        self._refresh_strip()
        self._refresh_tabs()

    # --- messages from the list (messages up) ----------------------------------------------------

    @on(QueueList.Highlighted)
    def _highlighted(self, event: QueueList.Highlighted) -> None:
        self._selected = event.key
        self._refresh_side()
        self.refresh_bindings()

    @on(CountdownStrip.Selected)
    def _strip_selected(self, event: CountdownStrip.Selected) -> None:
        self._selected = event.key
        self.action_open_case()

    @on(QueueList.Selected)
    def _selected_case(self, event: QueueList.Selected) -> None:
        self.action_open_case()

    @on(QueueList.MarksChanged)
    def _marks(self, event: QueueList.MarksChanged) -> None:
        self._marked = event.keys
        self.refresh_bindings()

    @on(QueueList.NewRowsChanged)
    def _new_rows(self, event: QueueList.NewRowsChanged) -> None:
        self._new = event.count
        self._refresh_tabs()

    # --- keys ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = BY_METHOD.get(action)
        if spec is None:
            return True
        c = self.console
        if not role_may(c.role, spec):
            return None
        if spec.live and not c.live:
            return None
        if spec.case and self._case() is None:
            return None
        cases = self._targets() if spec.method in BULK else [self._case()]
        if not status_may(spec, (c for c in cases if c is not None)):
            return None
        return True

    def _case(self) -> Case | None:
        return self.console.view.cases.get(self._selected or "")

    def _targets(self) -> list[Case]:
        """The marked cases, or the selected one."""
        cases = self.console.view.cases
        if self._marked:
            return [cases[k] for k in sorted(self._marked) if k in cases]
        case = self._case()
        return [case] if case is not None else []

    def _send(self, make: type[CaseCommand], case: Case, **fields: Any) -> None:
        c = self.console
        c.send(make(id=c.new_id(), case=case.id, version=case.version, **fields))

    async def _ask_reason(self, prompt: str, required: bool = True) -> str | None:
        return await self.app.push_screen_wait(
            ReasonScreen(self.console.tr(prompt), required=required)
        )

    async def _confirm(self, question: str) -> bool:
        tr = self.console.tr
        return await self.app.push_screen_wait(ConfirmScreen(question, tr("y: yes   n: no")))

    async def _pick(self, prompt: str, choices: list[tuple[str, str]]) -> str | None:
        return await self.app.push_screen_wait(PickScreen(self.console.tr(prompt), choices))

    def _unit_choices(self, case: Case) -> list[tuple[str, str]]:
        c = self.console
        units = sorted(c.view.units.values(), key=lambda u: u.id)
        best = suggest_unit(case, c.hall())
        choices = [(u.id, u.name) for u in units if best is None or u.id != best.id]
        if best is not None:
            choices.insert(0, (best.id, f"★ {best.name}  ({c.tr('suggested')})"))
        return choices

    def _staff_choices(self, case: Case, unit: str) -> list[tuple[str, str]]:
        c = self.console
        ranked = rank_staff(case, unit, c.hall(), self._now_or_hub(), c.view.cases.values())
        return [(NONE, c.tr("(unit only, no person)"))] + [
            (r.staff.id, f"{r.staff.name}  {r.staff.role}  {c.tr('load')} {r.load}") for r in ranked
        ]

    def action_accept(self) -> None:
        for case in self._targets():
            self._send(Accept, case)

    @work(group="prompt")
    async def action_reject(self) -> None:
        case = self._case()
        if case is None or not await self._confirm(
            self.console.tr("Reject {case}?").format(case=case.id)
        ):
            return
        if (reason := await self._ask_reason("Reason for rejecting")) is not None:
            self._send(Reject, case, reason=reason)

    @work(group="prompt")
    async def action_dispatch(self) -> None:
        targets = self._targets()
        if not targets:
            return
        unit = await self._pick("Dispatch to which unit?", self._unit_choices(targets[0]))
        if unit is None:
            return
        staff = None
        if len(targets) == 1:
            staff = await self._pick("Which person?", self._staff_choices(targets[0], unit))
            if staff is None:
                return
        for case in targets:
            self._send(Dispatch, case, unit=unit, staff=None if staff == NONE else staff)
        self.query_one(QueueList).clear_marks()

    @work(group="prompt")
    async def action_reassign(self) -> None:
        case = self._case()
        if case is None:
            return
        unit = await self._pick("Reassign to which unit?", self._unit_choices(case))
        if unit is None:
            return
        staff = await self._pick("Which person?", self._staff_choices(case, unit))
        if staff is None:
            return
        if (reason := await self._ask_reason("Reason for reassigning")) is not None:
            self._send(
                Reassign, case, unit=unit, staff=None if staff == NONE else staff, reason=reason
            )

    async def _with_reason(
        self, make: type[CaseCommand], prompt: str, required: bool = True
    ) -> None:
        case = self._case()
        if case is not None and (reason := await self._ask_reason(prompt, required)) is not None:
            self._send(make, case, reason=reason)

    @work(group="prompt")
    async def action_escalate(self) -> None:
        await self._with_reason(Escalate, "Reason for escalating")

    @work(group="prompt")
    async def action_rework(self) -> None:
        await self._with_reason(Rework, "What must be redone?")

    @work(group="prompt")
    async def action_note(self) -> None:
        await self._with_reason(Note, "Note")

    @work(group="prompt")
    async def action_request_return(self) -> None:
        await self._with_reason(RequestReturn, "Reason for returning")

    def action_urge(self) -> None:
        for case in self._targets():
            self._send(Urge, case)
        self.query_one(QueueList).clear_marks()

    @work(group="prompt")
    async def action_joint(self) -> None:
        case = self._case()
        if case is None:
            return
        tr = self.console.tr
        choices = self._unit_choices(case)
        lead = await self._pick("Lead unit?", choices)
        if lead is None:
            return
        # Supporting units one pick at a time until "done" (offered once there is one).
        support: list[str] = []
        while True:
            rest = [x for x in choices if x[0] != lead and x[0] not in support]
            chosen = ", ".join(self.console.view.units[u].name for u in support)
            prompt = tr("Supporting unit?") + (f"  ({chosen})" if support else "")
            done = [(DONE, "✓ " + tr("Done: send"))] if support else []
            picked = await self.app.push_screen_wait(PickScreen(prompt, done + rest))
            if picked is None:
                return
            if picked == DONE:
                break
            support.append(picked)
            if not rest[1:] or len(support) == JOINT_MAX:
                break
        self._send(Joint, case, lead=lead, supporting=tuple(support))

    @work(group="prompt")
    async def action_verify(self) -> None:
        tr = self.console.tr
        case = self._case()
        yes = await self._pick(
            "Verified on site?", [("yes", tr("Confirmed")), ("no", tr("Not confirmed: void"))]
        )
        if case is not None and yes is not None:
            self._send(Verify, case, confirmed=yes == "yes")

    @work(group="prompt")
    async def action_check(self) -> None:
        tr = self.console.tr
        case = self._case()
        verdict = await self._pick(
            "On-site check", [("pass", tr("Passed")), ("fail", tr("Failed: rework"))]
        )
        if case is None or verdict is None:
            return
        reason = "" if verdict == "pass" else await self._ask_reason("What failed?")
        if reason is not None:
            self._send(Check, case, passed=verdict == "pass", reason=reason)

    @work(group="prompt")
    async def action_close_case(self) -> None:
        case = self._case()
        if case is not None and await self._confirm(
            self.console.tr("Close {case}?").format(case=case.id)
        ):
            self._send(Close, case)

    @work(group="prompt")
    async def action_request_extension(self) -> None:
        tr = self.console.tr
        case = self._case()
        minutes = await self._pick(
            "How much more time?",
            [
                ("30", tr("30 minutes")),
                ("60", tr("1 hour")),
                ("240", tr("4 hours")),
                ("1440", tr("1 day")),
            ],
        )
        if case is None or minutes is None:
            return
        if (reason := await self._ask_reason("Reason for the extension")) is not None:
            self._send(RequestExtension, case, minutes=int(minutes), reason=reason)

    def action_approve(self) -> None:
        case = self._case()
        if case is not None and case.request is not None:
            self._send(Approve, case, request=case.request.kind)
        elif case is not None:
            self.notify(self.console.tr("This case has no pending request."), severity="warning")

    @work(group="prompt")
    async def action_refuse(self) -> None:
        case = self._case()
        if case is None or case.request is None:
            self.notify(self.console.tr("This case has no pending request."), severity="warning")
            return
        if (reason := await self._ask_reason("Reason for refusing")) is not None:
            self._send(Refuse, case, request=case.request.kind, reason=reason)

    def action_mark(self) -> None:
        self.query_one(QueueList).action_toggle_mark()

    def action_open_case(self) -> None:
        from screens.case import CaseScreen

        if self._selected is not None:
            self.app.push_screen(CaseScreen(self._selected))

    def action_queue(self, queue: str) -> None:
        self._set_prefs(queue=bm.Queue(queue))
        self.hall_replaced()

    def action_sort(self) -> None:
        order = list(bm.Sort)
        self._set_prefs(sort=order[(order.index(self._prefs.sort) + 1) % len(order)])
        self.notify(
            self.console.tr("Sorted by {sort}").format(sort=self.console.tr(self._prefs.sort))
        )
        self.hall_replaced()

    @work(group="prompt")
    async def action_quick_filter(self) -> None:
        tr = self.console.tr
        kinds = [(k, tr(title)) for k, title in bm.QUICK_KINDS.items()]
        kind = await self._pick("Quick filter by?", [*kinds, (CLEAR, tr("Clear quick filters"))])
        if kind is None:
            return
        quick = bm.QuickFilter()
        if kind != CLEAR:
            values = bm.quick_values(kind, self._names(), self.console.view.cases.values())
            value = await self._pick(tr(bm.QUICK_KINDS[kind]), [(NONE, tr("(any)")), *values])
            if value is None:
                return
            quick = self._quick().with_value(kind, None if value == NONE else value)
        self._set_prefs(level=quick.level, unit=quick.unit, source=quick.source, grid=quick.grid)
        self.hall_replaced()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self._prefs.filter
        box.add_class("-open")
        box.focus()

    def _lookup(self) -> Lookup:
        """The verbs' view of the hall: the console's own copy, as it is now."""
        v = self.console.view
        return Lookup(v.cases, v.units, v.staff, v.areas, self.console.catalog)

    def action_command_line(self) -> None:
        box = self.query_one(CommandLine)
        box.set_completer(lambda line: complete(line, self._lookup()))
        box.value = ""
        box.add_class("-open")
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._set_prefs(filter=event.value.strip())
        self.query_one(QueueList).set_filter(self._prefs.filter)
        self._close_prompt(event.input)

    @on(Input.Submitted, "#command")
    def _command_submitted(self, event: Input.Submitted) -> None:
        self._close_prompt(event.input)
        c = self.console
        try:
            result = parse(event.value, self._lookup(), c.new_id)
        except VerbError as exc:
            self.notify(str(exc), title=c.tr("Cannot do that"), severity="error")
            return
        if isinstance(result, ReadVerb):
            self._read_verb(result)
        else:
            c.send(result)

    def _read_verb(self, verb: ReadVerb) -> None:
        if verb.name == "show" and verb.args:
            self._selected = verb.args[0]
            self.action_open_case()
        elif verb.name == "list" and verb.args:
            self.action_queue(verb.args[0])
        elif verb.name == "roster":
            self.action_roster()

    @on(CommandLine.Cancelled)
    def _command_cancelled(self, event: CommandLine.Cancelled) -> None:
        self._close_prompt(event.command_line)

    def _close_prompt(self, box: Input) -> None:
        box.remove_class("-open")
        self.query_one(QueueList).focus()
        self._refresh_status()

    def key_escape(self) -> None:
        for box in self.query(".prompt.-open").results(Input):
            self._close_prompt(box)

    def action_roster(self) -> None:
        from screens.roster import RosterScreen

        self.app.push_screen(RosterScreen())

    def action_intake(self) -> None:
        from screens.intake import IntakeScreen

        self.app.push_screen(IntakeScreen())

    def action_language(self) -> None:
        self.console.switch_language()

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        await self.console.action_quit()

    def _set_prefs(self, **changes: Any) -> None:
        import msgspec

        self._prefs = msgspec.structs.replace(self._prefs, **changes)
        self.console.save_prefs(self._prefs)
