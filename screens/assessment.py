"""The assessment screen (考核, key ``K``): the hall's figures per unit, grid or worker for
today, this week or this month; the grid workers' reports, validity and today's patrol; the
callback queue (回访) by due time.

The window's cases are read from the hub when the screen opens and on each change of period
(``Commands.fetch_assessment``: ``cases_window``, so a month's finished cases count even when
older than the hub keeps in memory; ``tracks`` for today's patrol). An operator who may not
read the whole hall (standby, unit) sees the figures of the cases their console holds. The
figures are ``dispatch.assessment``'s and the tables ``console/report_text.py``'s: the same as
``griddesk report``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from console.desk import Desk
from console.messages import DeskChanged
from console.report_text import GROUP_TITLES, figure_table, worker_table
from dispatch.assessment import Assessment, GroupBy, assess
from dispatch.callbacks import CallbackDue, callback_queue
from dispatch.models import Case
from dispatch.tracks import PatrolDay, grid_workers
from screens.guard import guarded
from widgets.key_bar import KeyBar

WIDE = 120
"""From this many columns the rates show two decimals, as in the report."""
QUEUE_SHOWN = 12
"""Callbacks listed at most (the soonest due); the count says how many are owed."""


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"


PERIOD_TITLES = {Period.TODAY: "Today", Period.WEEK: "This week", Period.MONTH: "This month"}
"""Gettext ids."""


def period_window(period: Period, today: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first day 00:00, the day after today 00:00) in the hall's zone: today, since Monday,
    since the 1st."""
    if period is Period.TODAY:
        first = today
    elif period is Period.WEEK:
        first = today - timedelta(days=today.weekday())
    else:
        first = today.replace(day=1)
    after = today + timedelta(days=1)
    return (
        datetime(first.year, first.month, first.day, tzinfo=tz),
        datetime(after.year, after.month, after.day, tzinfo=tz),
    )


class AssessmentLoaded(Message):
    """The window's cases and today's patrol arrived; ``cases`` None: the hub would not give
    the whole hall's (``note`` says why) and the console's own cases are counted."""

    def __init__(
        self,
        since: datetime,
        cases: tuple[Case, ...] | None,
        patrols: tuple[PatrolDay, ...] = (),
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.since = since
        self.cases = cases
        self.patrols = patrols
        self.note = note


class AssessmentScreen(Screen[None]):
    """Figures per unit, grid or worker; ``d``/``w``/``m`` the period, ``g`` the grouping."""

    CSS_PATH = "assessment.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("d", "period('today')", "Today", id="today"),
        Binding("w", "period('week')", "This week", id="week"),
        Binding("m", "period('month')", "This month", id="month"),
        Binding("g", "group", "Group by"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.period = Period.MONTH
        self.by = GroupBy.UNIT
        self.assessment: Assessment | None = None
        """What is shown; None while the window is being read."""
        self._loaded: AssessmentLoaded | None = None
        self._asked: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="assessment-head")
        with VerticalScroll(id="assessment-body"):
            yield Static(id="assessment-figures")
        yield KeyBar(self.desk.language.tr)

    def on_mount(self) -> None:
        self.query_one("#assessment-body").focus()
        self.action_refresh()

    @property
    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.desk.settings.clock.timezone)

    def _window(self) -> tuple[datetime, datetime]:
        today = self.desk.commands.hub_now().astimezone(self._tz).date()
        return period_window(self.period, today, self._tz)

    def _workers(self) -> list[str]:
        return grid_workers(self.desk.model.staff.values())

    # --- keys ------------------------------------------------------------------------------

    def action_period(self, period: str) -> None:
        self.period = Period(period)
        self.action_refresh()

    def action_group(self) -> None:
        order = list(GroupBy)
        self.by = order[(order.index(self.by) + 1) % len(order)]
        self._assess()
        self._draw()

    def action_refresh(self) -> None:
        since, until = self._window()
        self.assessment, self._loaded, self._asked = None, None, since
        self._draw()
        self.desk.commands.fetch_assessment(self, since, until, self._workers())

    @guarded
    def on_assessment_loaded(self, message: AssessmentLoaded) -> None:
        if message.since != self._asked:
            return  # an answer for a period no longer shown
        self._loaded = message
        self._assess()
        self._draw()

    def _assess(self) -> None:
        loaded = self._loaded
        if loaded is None:
            return
        since, until = self._window()
        cases = loaded.cases if loaded.cases is not None else self.desk.model.cases.values()
        due = timedelta(hours=self.desk.settings.assessment.callback_due_hours)
        self.assessment = assess(
            cases, since, until, self.desk.commands.hub_now(), by=self.by,
            patrol_days=loaded.patrols, callback_due=due, grid_workers=self._workers(),
        )  # fmt: skip

    # --- drawing ---------------------------------------------------------------------------

    def _draw(self) -> None:
        tr = self.desk.language.tr
        since, until = self._window()
        last = (until - timedelta(days=1)).date()
        span = f"{since:%Y-%m-%d}" + ("" if last == since.date() else f" – {last:%Y-%m-%d}")
        title = "  ·  ".join(
            (tr("Assessment"), f"{tr(PERIOD_TITLES[self.period])} {span}",
             tr("Figures by {group}").format(group=tr(GROUP_TITLES[self.by])))
        )  # fmt: skip
        self.query_one("#assessment-head", Static).update(Text(title, style="bold"))
        body = self.query_one("#assessment-figures", Static)
        a = self.assessment
        if a is None:
            body.update(tr("Reading the window's cases from the hub…"))
            return
        parts: list[RenderableType] = []
        if self._loaded is not None and self._loaded.note:
            parts.append(Text(self._loaded.note, style="dim"))
        # A narrow terminal gets one decimal ("96.6%"), so eleven columns fit in 80.
        decimals = 2 if self.size.width >= WIDE else 1
        parts.append(_table(figure_table(a, self.desk.words, decimals)))
        head = Text(tr("Grid workers") + " · " + tr("patrol today"), style="bold underline")
        short = sum(1 for p in a.patrols.values() if p.short_days)
        if short:  # 巡查有效时间短: the alert a leader looks for first
            minimum = self.desk.settings.assessment.patrol_minimum_minutes
            alert = tr("{n} under the patrol minimum of {minimum} min")
            head.append("  ⚠ " + alert.format(n=short, minimum=minimum), "bold red")
        parts.append(head)
        heads, rows = worker_table(a, self.desk.words, decimals)
        parts.append(_table((heads, rows)) if rows else Text(tr("None."), style="dim"))
        parts.extend(self._callback_queue())
        body.update(Group(*parts))

    def _callback_queue(self) -> list[RenderableType]:
        tr = self.desk.language.tr
        due = timedelta(hours=self.desk.settings.assessment.callback_due_hours)
        now = self.desk.commands.hub_now()
        queue = callback_queue(self.desk.model.cases.values(), due)
        overdue = sum(1 for c in queue if c.overdue(now))
        head = f"{tr('Callback queue')} · {tr('owed')} {len(queue)} · {tr('overdue')} {overdue}"
        out: list[RenderableType] = [Text(head, style="bold underline")]
        if not queue:
            out.append(Text(tr("None."), style="dim"))
            return out
        heads = (tr("Case"), tr("Title"), tr("Reporters"), tr("Due"), "")
        out.append(_table((heads, [self._callback_row(c, now) for c in queue[:QUEUE_SHOWN]])))
        return out

    def _callback_row(self, c: CallbackDue, now: datetime) -> tuple[str, ...]:
        late = self.desk.language.tr("overdue") if c.overdue(now) else ""
        due = c.due.astimezone(self._tz).strftime("%m-%d %H:%M")
        return (c.case, c.title, "、".join(c.reporters), due, late)

    def on_resize(self) -> None:
        self._draw()

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        # Only the language: the figures are of the window as read, refreshed with ``r``
        # (recounting on every batch would cost the whole window per event).
        if message.language:
            self.query_one(KeyBar).set_translator(self.desk.language.tr)
            self._draw()


def _table(table: tuple[tuple[str, ...], list[tuple[str, ...]]]) -> Table:
    heads, rows = table
    # Headings fold onto a second line rather than end in "…" when the terminal is narrow.
    out = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for head in heads:
        out.add_column(head, overflow="fold")
    for row in rows:
        out.add_row(*row)
    return out
