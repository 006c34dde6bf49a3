"""Register a case from a phone call: source, category (searched in the catalog), grid code or
address, urgency, title and description → an ``Intake`` command."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from console.desk import Desk
from dispatch.commands import Intake
from dispatch.models import Source, Urgency
from screens.guard import guarded
from widgets.key_bar import KeyBar

DEFAULT = "default"


class IntakeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "submit", "Register"),
    ]
    DEFAULT_CSS = """
    IntakeScreen VerticalScroll { padding: 0 1; }
    IntakeScreen Horizontal { height: auto; }
    /* Grid code and address side by side, each half: an Input alone takes the whole line. */
    IntakeScreen Horizontal Input { width: 1fr; }
    IntakeScreen Label { padding: 1 0 0 0; }
    IntakeScreen #categories { height: 8; }
    """

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._category: str | None = None

    def compose(self) -> ComposeResult:
        tr, words = self.desk.language.tr, self.desk.words
        with VerticalScroll():
            yield Label(tr("Source"))
            yield Select(
                [(words.source(s), s.value) for s in Source],
                value=Source.HOTLINE.value,
                allow_blank=False,
                id="source",
            )
            yield Label(tr("Category (type to search)"))
            yield Input(id="search")
            yield OptionList(id="categories")
            yield Label(tr("Grid code or address"))
            with Horizontal():
                yield Input(placeholder=tr("grid code"), id="grid")
                yield Input(placeholder=tr("address"), id="address")
            yield Label(tr("Urgency"))
            yield Select(
                [(tr("category default"), DEFAULT)]
                + [(words.urgency(u), u.value) for u in Urgency],
                value=DEFAULT,
                allow_blank=False,
                id="urgency",
            )
            yield Label(tr("Title"))
            yield Input(id="title")
            yield Label(tr("Description"))
            yield Input(id="description")
        yield KeyBar(tr)

    @on(Input.Changed, "#search")
    @guarded
    def _search(self, event: Input.Changed) -> None:
        english = self.desk.language.english
        found = self.desk.catalog.search(event.value)[:50] if event.value.strip() else []
        options = self.query_one("#categories", OptionList)
        options.clear_options()
        options.add_options(
            Option(
                f"{c.code} {c.big_name_en if english else c.big_name} / "
                f"{c.name_en if english else c.name}",
                id=c.code,
            )
            for c in found
        )
        # The best match is taken unless the operator moves to another one.
        self._category = found[0].code if found else None
        if found:
            options.highlighted = 0

    @on(OptionList.OptionHighlighted, "#categories")
    @on(OptionList.OptionSelected, "#categories")
    @guarded
    def _chosen(self, event: OptionList.OptionHighlighted | OptionList.OptionSelected) -> None:
        self._category = event.option.id

    def action_submit(self) -> None:
        desk, tr = self.desk, self.desk.language.tr
        value = {w.id: w.value.strip() for w in self.query(Input) if w.id}
        if self._category is None or not value["title"]:
            self.notify(tr("Choose a category and give a title."), severity="warning")
            return
        category = desk.catalog.by_code[self._category]
        urgency = self.query_one("#urgency", Select).value
        desk.commands.send(
            Intake(
                id=desk.commands.new_id(),
                kind=category.kind,
                category=category.code,
                source=Source(str(self.query_one("#source", Select).value)),
                title=value["title"],
                description=value["description"],
                urgency=None if urgency == DEFAULT else Urgency(str(urgency)),
                grid=value["grid"] or None,
                address=value["address"],
            ),
            what=f"{desk.words.op('intake')} {value['title']}",
        )
        self.app.pop_screen()
