"""All staff, filterable by unit, shift and field status; Enter shows a person's open cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from console import board_model as bm
from console.labels import FIELD, SHIFT, STATUS, label
from dispatch.models import Field, Shift
from screens.pick import PickScreen
from widgets.roster_table import RosterRow, RosterTable

if TYPE_CHECKING:
    from console.app import GriddeskApp

ANY = "*"


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

    def __init__(self) -> None:
        super().__init__()
        self._unit: str | None = None
        self._shift: Shift | None = None
        self._field: Field | None = None

    @property
    def console(self) -> GriddeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="filters")
        yield RosterTable()
        yield Static(id="cases")
        yield Footer()

    def on_mount(self) -> None:
        self.relabel()
        self.query_one(RosterTable).focus()

    def relabel(self) -> None:
        tr = self.console.tr
        self.query_one(RosterTable).set_columns([tr(t) for t in bm.ROSTER_COLUMNS])
        self._draw()

    def roster_changed(self) -> None:
        self._draw()

    hall_replaced = roster_changed

    def _draw(self) -> None:
        c, tr = self.console, self.console.tr
        names = bm.Names(tr, c.catalog, c.view.units, english=c.locale == "en")
        now = c.hub_now() if c.client is not None else datetime.now(UTC)
        lines = bm.roster_lines(
            c.view.staff.values(),
            c.view.cases.values(),
            names,
            now,
            on_duty_only=False,
            unit=self._unit,
            shift=self._shift,
            field=self._field,
        )
        self.query_one(RosterTable).set_rows([RosterRow(k, cells) for k, cells in lines])
        parts = [
            f"{tr('Unit')}: {names.unit(self._unit) if self._unit else tr('any')}",
            f"{tr('Shift')}: {label(self._shift, tr, SHIFT) if self._shift else tr('any')}",  # type: ignore[arg-type]
            f"{tr('Field')}: {label(self._field, tr, FIELD) if self._field else tr('any')}",  # type: ignore[arg-type]
            tr("{n} people").format(n=len(lines)),
        ]
        self.query_one("#filters", Static).update("   ".join(parts))

    async def _pick(self, prompt: str, choices: list[tuple[str, str]]) -> str | None:
        tr = self.console.tr
        return await self.app.push_screen_wait(PickScreen(tr(prompt), [(ANY, tr("any")), *choices]))

    @work(group="prompt")
    async def action_by_unit(self) -> None:
        units = sorted(self.console.view.units.values(), key=lambda u: u.id)
        pick = await self._pick("Unit", [(u.id, u.name) for u in units])
        if pick is not None:
            self._unit = None if pick == ANY else pick
            self._draw()

    @work(group="prompt")
    async def action_by_shift(self) -> None:
        tr = self.console.tr
        pick = await self._pick("Shift", [(s.value, label(s, tr, SHIFT)) for s in Shift])  # type: ignore[arg-type]
        if pick is not None:
            self._shift = None if pick == ANY else Shift(pick)
            self._draw()

    @work(group="prompt")
    async def action_by_field(self) -> None:
        tr = self.console.tr
        pick = await self._pick("Field status", [(f.value, label(f, tr, FIELD)) for f in Field])  # type: ignore[arg-type]
        if pick is not None:
            self._field = None if pick == ANY else Field(pick)
            self._draw()

    @on(RosterTable.Selected)
    def _person(self, event: RosterTable.Selected) -> None:
        c, tr = self.console, self.console.tr
        person = c.view.staff.get(event.key)
        owned = [x for x in c.view.cases.values() if x.is_open and x.owner_staff == event.key]
        text = Text(
            f"{person.name if person else event.key}: "
            + tr("{n} open cases").format(n=len(owned))
            + "\n",
            "bold",
        )
        for case in sorted(owned, key=lambda x: x.id):
            text.append(f"{case.id}  {label(case.status, tr, STATUS)}  {case.title}\n")  # type: ignore[arg-type]
        self.query_one("#cases", Static).update(text)
