"""The other screens against a real hub: help lists every key, the case screen shows the
case's whole history (from before the console connected, too), the roster filters, intake
registers a case, the palette runs actions."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import TestClient, board_live, console_for, running_hub, sqlite_url_in, until

from dispatch.commands import Note
from dispatch.models import Role, Status
from screens.case import CaseScreen
from screens.help import HelpScreen
from screens.intake import IntakeScreen
from screens.roster import RosterScreen
from widgets.case_detail import CaseDetail
from widgets.queue_list import QueueList
from widgets.roster_table import RosterTable


async def test_case_screen_help_and_roster(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        # Before the console connects: only the hub's log can tell the case screen about it.
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
            await other.execute(Note(id="n0", case=ack.case, version=1, reason="井盖缺失"))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            async with TestClient.connect(hub.url) as other:
                await other.hello(hub.tokens[Role.DISPATCHER])
                await other.execute(Note(id="n1", case=ack.case, version=2, reason="路面塌陷"))
            await until(pilot, lambda: app.screen.query_one(QueueList).row(ack.case))
            await until(pilot, lambda: app.desk.seen.of(ack.case or ""))
            await pilot.press("enter")
            assert isinstance(app.screen, CaseScreen)
            detail = app.screen.query_one(CaseDetail)

            def texts() -> list[str]:
                return [h.text for h in detail.view.history] if detail.view else []

            await until(pilot, lambda: any("井盖缺失" in t for t in texts()))
            # In log order, each once: the live event is not repeated after the fetched ones.
            notes = [t.split()[-1] for t in texts() if "井盖缺失" in t or "路面塌陷" in t]
            assert notes == ["井盖缺失", "路面塌陷"]
            assert not any("older history is on the hub" in t for t in texts())
            await pilot.press("escape", "question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape", "R")
            assert isinstance(app.screen, RosterScreen)
            everyone = app.screen.query_one(RosterTable).row_count
            assert everyone == len(hub.engine.hall.staff)
            await pilot.press("u", "down", "enter")  # the first unit
            assert 0 < app.screen.query_one(RosterTable).row_count < everyone
            # ":roster UNIT" opens it on that unit's people.
            await pilot.press("escape", "colon", *"roster 城管一中队", "enter")
            await until(pilot, lambda: isinstance(app.screen, RosterScreen))
            squad = [s for s in hub.engine.hall.staff.values() if s.unit == "enforcement-1"]
            assert app.screen.query_one(RosterTable).row_count == len(squad)


async def test_intake_screen_registers_a_case(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.DISPATCHER], tmp_path)
        async with app.run_test(size=(120, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("i")
            assert isinstance(app.screen, IntakeScreen)
            app.screen.query_one("#search").focus()
            await pilot.press(*"0101")
            await pilot.pause(0.1)
            app.screen.query_one("#categories").focus()
            await pilot.press("enter")
            app.screen.query_one("#title").focus()
            await pilot.press(*"manhole", "ctrl+s")
            await until(pilot, lambda: len(hub.engine.cases) == 1)
            case = next(iter(hub.engine.cases.values()))
            assert case.category == "0101" and case.status is Status.REPORTED


async def test_command_palette_runs_board_actions(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("ctrl+p", *"Roster")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RosterScreen))


async def test_every_intake_field_is_reachable_by_tab_at_80x24(tmp_path: Path) -> None:
    """A standby officer on an 80×24 terminal tabs through the whole form: each field comes
    into view with the focus, the address (beside the grid code) too."""
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.DISPATCHER], tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            screen = app.screen
            seen: set[str] = set()
            for _ in range(12):
                await pilot.press("tab")
                await pilot.pause()
                focused = app.focused
                if focused is not None and focused.id:
                    assert focused.region.height > 0 and focused.region.width > 2, focused.id
                    assert screen.region.contains_region(focused.region), focused.id
                    seen.add(focused.id)
            fields = {"source", "search", "categories", "grid", "address", "urgency", "title"}
            assert fields | {"description"} <= seen, seen
