"""All staff, filterable by unit, shift and field status; Enter shows a person's open cases
and, for the hall and the wall, today's patrol (巡查: minutes, minutes inside their own grids,
and the short-patrol flag against ``assessment.patrol_minimum_minutes``) read from the hub."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from console import rows
from console.desk import Desk
from console.messages import DeskChanged
from dispatch.models import Field, Shift
from dispatch.tracks import PatrolDay
from screens.guard import guarded
from screens.pick import PickScreen
from widgets.key_bar import KeyBar
from widgets.roster_table import RosterRow, RosterTable

ANY = "*"


class PatrolLoaded(Message):
    """A person's patrol today arrived (``patrol`` None: not available, ``note`` says why)."""

    def __init__(
        self, staff: str, patrol: PatrolDay | None, minimum: int = 0, note: str = ""
    ) -> None:
        super().__init__()
        self.staff = staff
        self.patrol = patrol
        self.minimum = minimum
        self.note = note


class RosterScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("u", "by_unit", "Unit"),
        Binding("s", "by_shift", "Shift"),
        Binding("f", "by_field", "Field status"),
    ]
    DEFAULT_CSS = """
    RosterScreen #filters { height: 1; padding: 0 1; background: $boost; }
    RosterScreen RosterTable { height: 1fr; }
    RosterScreen #cases { height: auto; max-height: 12; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self, desk: Desk, *, unit: str | None = None) -> None:
        """``unit``: show only that unit's people (``:roster 城管一中队``)."""
        super().__init__()
        self.desk = desk
        self._only = rows.RosterFilter(unit=unit)
        self._person: str | None = None
        self._patrol: PatrolLoaded | None = None
        """The selected person's patrol today, once the hub answered."""

    def compose(self) -> ComposeResult:
        yield Static(id="filters")
        yield RosterTable()
        yield Static(id="cases")
        yield KeyBar(self.desk.language.tr)

    def on_mount(self) -> None:
        self._relabel()
        self.query_one(RosterTable).focus()

    @guarded
    def on_desk_changed(self, message: DeskChanged) -> None:
        if message.language:
            self._relabel()
        elif message.hall is not None and (message.hall.replaced or message.hall.staff):
            self._draw()

    def _relabel(self) -> None:
        tr = self.desk.language.tr
        self.query_one(RosterTable).set_columns([tr(t) for t in rows.ROSTER_COLUMNS])
        self.query_one(KeyBar).set_translator(tr)
        self._draw()

    def _draw(self) -> None:
        desk, tr, words = self.desk, self.desk.language.tr, self.desk.words
        now = desk.commands.hub_now()
        lines = rows.roster_rows(desk.model, words, now, self._only)
        self.query_one(RosterTable).set_rows([RosterRow(k, cells) for k, cells in lines])
        only = self._only
        parts = [
            f"{tr('Unit')}: {words.unit(only.unit) if only.unit else tr('any')}",
            f"{tr('Shift')}: {words.shift(only.shift) if only.shift else tr('any')}",
            f"{tr('Field')}: {words.field(only.field) if only.field else tr('any')}",
            tr("{n} people").format(n=len(lines)),
        ]
        self.query_one("#filters", Static).update("   ".join(parts))
        if self._person is not None:
            self._show_person(self._person)

    async def _pick(self, prompt: str, choices: list[tuple[str, str]]) -> str | None:
        tr = self.desk.language.tr
        return await self.app.push_screen_wait(PickScreen(tr(prompt), [(ANY, tr("any")), *choices]))

    @work(group="prompt", exit_on_error=False)
    async def action_by_unit(self) -> None:
        units = sorted(self.desk.model.units.values(), key=lambda u: u.id)
        pick = await self._pick("Unit", [(u.id, u.name) for u in units])
        if pick is not None:
            self._only = dataclasses.replace(self._only, unit=None if pick == ANY else pick)
            self._draw()

    @work(group="prompt", exit_on_error=False)
    async def action_by_shift(self) -> None:
        words = self.desk.words
        pick = await self._pick("Shift", [(s.value, words.shift(s)) for s in Shift])
        if pick is not None:
            shift = None if pick == ANY else Shift(pick)
            self._only = dataclasses.replace(self._only, shift=shift)
            self._draw()

    @work(group="prompt", exit_on_error=False)
    async def action_by_field(self) -> None:
        words = self.desk.words
        pick = await self._pick("Field status", [(f.value, words.field(f)) for f in Field])
        if pick is not None:
            field = None if pick == ANY else Field(pick)
            self._only = dataclasses.replace(self._only, field=field)
            self._draw()

    @on(RosterTable.Selected)
    @guarded
    def _selected(self, event: RosterTable.Selected) -> None:
        self._person = event.key
        self._patrol = None
        self._show_person(event.key)
        self.desk.commands.fetch_patrol(self, event.key)

    @guarded
    def on_patrol_loaded(self, message: PatrolLoaded) -> None:
        if message.staff == self._person:
            self._patrol = message
            self._show_person(message.staff)

    def _show_person(self, staff_id: str) -> None:
        desk, words = self.desk, self.desk.words
        owned = [desk.model.cases[k] for k in desk.model.owned(staff_id)]
        text = Text(
            f"{words.person(staff_id)}: "
            + desk.language.tr("{n} open cases").format(n=len(owned))
            + "\n",
            "bold",
        )
        patrol = self._patrol
        if patrol is not None and patrol.staff == staff_id and patrol.patrol is not None:
            tr, day = desk.language.tr, patrol.patrol
            line = tr("Patrol today: {patrol} min, {inside} min in own grid").format(
                patrol=f"{day.patrol_minutes:.0f}", inside=f"{day.inside_minutes:.0f}"
            )
            text.append(line)
            if day.short:
                short = tr("under the minimum of {minimum} min").format(minimum=patrol.minimum)
                text.append("  ⚠ " + short, "bold red")
            text.append("\n")
        for case in sorted(owned, key=lambda c: c.id):
            text.append(f"{case.id}  {words.status(case.status)}  {case.title}\n")
        self.query_one("#cases", Static).update(text)
