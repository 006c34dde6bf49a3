"""The console against a real hub on loopback: keys change the hub, the hub's events change
the screen, refusals change nothing, and a hub restart is survived with an exact resync."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import (
    TestClient,
    board_live,
    console_for,
    running_hub,
    sent_by_dispatcher,
    sqlite_url_in,
    until,
)
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from dispatch.commands import Accept, Dispatch
from dispatch.models import Role, Source, Status, Urgency
from dispatch.routing import suggest_unit
from screens.pick import PickScreen
from widgets.key_bar import KeyBar
from widgets.queue_list import QueueList
from widgets.status_bar import StatusBar


def tabs(app: object) -> str:
    """The queue tabs line as the commander reads it: key, title, count."""
    return str(app.screen.query_one("#tabs", Static).content)  # type: ignore[attr-defined]


def cells_of(app: object, case_id: str) -> tuple[str, ...]:
    row = app.screen.query_one(QueueList).row(case_id)  # type: ignore[attr-defined]
    return row.cells if row is not None else ()


async def test_a_case_accepted_by_key_changes_the_hub_and_the_screen(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
        case_id = ack.case
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app) and case_id in app.desk.model.cases)
            await pilot.press("2")  # the "to accept" queue
            await until(pilot, lambda: cells_of(app, case_id))
            assert app.screen.query_one(QueueList).highlighted_key == case_id
            await pilot.press("a")
            await until(pilot, lambda: hub.engine.cases[case_id].status is Status.ACCEPTED)
            await until(pilot, lambda: app.desk.model.cases[case_id].status is Status.ACCEPTED)
            # It left "to accept"; in "to dispatch" it reads accepted.
            await until(pilot, lambda: not cells_of(app, case_id))
            await pilot.press("3")
            await until(pilot, lambda: "accepted" in cells_of(app, case_id))


async def test_dispatch_offers_the_routing_suggestion_first(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
            await other.execute(Accept(id="acc-1", case=ack.case, version=1))
        case_id = ack.case
        expected = suggest_unit(hub.engine.cases[case_id], hub.engine.hall)
        assert expected is not None
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("3")
            await until(pilot, lambda: cells_of(app, case_id))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, PickScreen))
            first = app.screen._choices[0]
            # The unit with the rule that picked it (hub.intake's category acts by locality).
            assert first[0] == expected.id
            assert first[1] == f"★ {expected.name}  the grid's locality · suggested"
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, PickScreen)
                        and app.screen._prompt != "")  # fmt: skip
            people = app.screen._choices[1:]
            assert people, "the unit's people, ranked, each with what ranked them"
            assert all(("on duty" in text or "standby" in text) and "load" in text
                       for _, text in people)  # fmt: skip
            await pilot.press("enter")  # "unit only"
            await until(pilot, lambda: hub.engine.cases[case_id].status is Status.DISPATCHED)
            assert hub.engine.cases[case_id].owner_unit == expected.id


async def test_a_second_clients_change_appears_on_the_board(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            bells: list[None] = []
            app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
            async with TestClient.connect(hub.url) as other:
                await other.hello(hub.tokens[Role.DISPATCHER])
                _, ack = await other.execute(hub.intake(7, urgency=Urgency.URGENT))
            await until(pilot, lambda: cells_of(app, ack.case))  # the urgent queue is the default
            assert bells, "a new urgent case rings the bell"


async def test_a_refused_command_shows_the_error_and_changes_nothing(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
        case_id = ack.case
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            await until(pilot, lambda: cells_of(app, case_id))
            before = cells_of(app, case_id)
            # The "z" key is greyed out for a reported case; the command line still sends.
            assert app.screen.check_action("close_case", ()) is None
            await pilot.press("colon", *f"close {case_id}", "enter")
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: bar.command_state == "refused")
            # The operator reads what was refused and why, in their language.
            assert bar.command.startswith(f"✗ close {case_id}: ")
            assert bar.command.endswith("cannot close a case that is reported")
            assert hub.engine.cases[case_id].status is Status.REPORTED
            assert app.desk.model.cases[case_id].version == 1
            assert cells_of(app, case_id) == before


async def test_observer_sees_actions_greyed_out(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
        app = console_for(hub.url, hub.tokens[Role.OBSERVER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            await until(pilot, lambda: cells_of(app, ack.case))
            # Not an observer's key: off the key bar, and pressing it says why.
            assert app.screen.check_action("accept", ()) is False
            assert "accept" not in [k.action for k in app.screen.query_one(KeyBar).keys]
            assert app.screen.check_action("roster", ()) is True
            await pilot.press("a")
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: bar.command_state == "refused")
            assert bar.command.startswith("✗ Accept: ")
            assert "observer" in bar.command
            assert hub.engine.cases[ack.case].status is Status.REPORTED


async def test_filter_and_queue_persist_per_operator(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = hub.tokens[Role.COMMANDER]
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("4", "slash")
            await pilot.press(*"abc", "enter")
            assert app.screen.query_one(QueueList).filter_text == "abc"
        again = console_for(hub.url, token, tmp_path)
        async with again.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(again))
            await pilot.pause(0.1)
            assert again.screen.query_one(QueueList).filter_text == "abc"
            assert again.screen.query_one(StatusBar).filter_text == "abc"
            assert again.screen.query_one("#filter", Input).has_class("-open") is False


async def test_case_actions_follow_the_highlighted_cases_status(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
        case_id = ack.case
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            await until(pilot, lambda: cells_of(app, case_id))
            screen = app.screen
            assert screen.check_action("dispatch", ()) is None
            assert screen.check_action("close_case", ()) is None
            assert screen.check_action("accept", ()) is True
            await pilot.press("a")
            await until(pilot, lambda: app.desk.model.cases[case_id].status is Status.ACCEPTED)
            await until(pilot, lambda: screen.check_action("accept", ()) is None)
            assert screen.check_action("dispatch", ()) is True
            assert screen.check_action("joint", ()) is True
            # The footer shows the disabled key greyed out, not hidden.
            accept = next(
                b for b in screen.active_bindings.values() if b.binding.action == "accept"
            )
            assert accept.enabled is False


async def test_bulk_action_is_enabled_if_any_marked_case_allows_it(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, first = await other.execute(hub.intake(1))
            _, second = await other.execute(hub.intake(2))
            await other.execute(Accept(id="acc-1", case=first.case, version=1))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            await until(pilot, lambda: cells_of(app, first.case) and cells_of(app, second.case))
            listing = app.screen.query_one(QueueList)
            await pilot.press("home")
            await until(pilot, lambda: listing.highlighted_key is not None)
            reported = listing.highlighted_key
            await pilot.press("space")
            await until(pilot, lambda: listing.marked == {reported})
            await pilot.press("down", "space")
            await until(pilot, lambda: listing.marked == {first.case, second.case})
            # One marked case is accepted, one reported: both dispatch and accept may start.
            assert app.screen.check_action("dispatch", ()) is True
            assert app.screen.check_action("accept", ()) is True


async def test_joint_enforcement_sends_every_supporting_unit(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
            await other.execute(Accept(id="acc-1", case=ack.case, version=1))
        case_id = ack.case
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("3")
            await until(pilot, lambda: cells_of(app, case_id))
            # Lead: the first choice; supporting: the first of the rest, then (below "done")
            # the first of what is left; then done.
            await pilot.press("j", "enter", "enter", "down", "enter", "enter")
            await until(pilot, lambda: hub.engine.cases[case_id].supporting_units)
            case = hub.engine.cases[case_id]
            assert len(case.supporting_units) == 2
            assert case.owner_unit not in case.supporting_units
            assert len(set(case.supporting_units)) == 2


async def test_a_unit_quick_filter_lists_only_that_unit_and_persists(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        unit = hub.first_locality()
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, mine = await other.execute(hub.intake(1))
            _, theirs = await other.execute(hub.intake(2))
            await other.execute(Accept(id="acc-1", case=mine.case, version=1))
            await other.execute(Dispatch(id="dsp-1", case=mine.case, version=2, unit=unit))
        unit_name = hub.engine.hall.units[unit].name
        token = hub.tokens[Role.COMMANDER]
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            await until(pilot, lambda: cells_of(app, mine.case) and cells_of(app, theirs.case))
            assert "7 All 2 " in tabs(app)
            await pilot.press("f")
            await until(pilot, lambda: isinstance(app.screen, PickScreen))
            await pick(pilot, "unit")
            await pick(pilot, unit)
            await until(pilot, lambda: not cells_of(app, theirs.case))
            assert cells_of(app, mine.case)
            # The tabs count what the filter leaves: one case, already accepted.
            assert "7 All 1 " in tabs(app)
            assert "2 To accept 0 " in tabs(app)
            assert f"Unit:{unit_name}" in app.screen.query_one(StatusBar).filter_text
        again = console_for(hub.url, token, tmp_path)
        async with again.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(again) and cells_of(again, mine.case))
            assert not cells_of(again, theirs.case)
            assert f"Unit:{unit_name}" in again.screen.query_one(StatusBar).filter_text
            await pilot.press("f")
            await until(pilot, lambda: isinstance(again.screen, PickScreen))
            await pick(pilot, "*clear")
            await until(pilot, lambda: cells_of(again, theirs.case))
            assert again.screen.query_one(StatusBar).filter_text == ""


async def pick(pilot: Pilot[int], key: str) -> None:
    """Choose the option ``key`` of the pick screen on top, by keyboard."""
    screen = pilot.app.screen
    assert isinstance(screen, PickScreen)
    options = screen.query_one(OptionList)
    index = options.get_option_index(key)
    await pilot.press("home", *["down"] * index, "enter")
    await until(pilot, lambda: pilot.app.screen is not screen)


async def test_the_command_line_completes_from_the_verbs_grammar(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        async with TestClient.connect(hub.url) as other:
            await other.hello(hub.tokens[Role.DISPATCHER])
            _, ack = await other.execute(hub.intake(1))
        case_id = ack.case
        assert case_id is not None
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app) and case_id in app.desk.model.cases)
            line = app.screen.query_one("#command", Input)
            await pilot.press("colon", *"assi", "tab")
            assert line.value == "assign "
            await pilot.press(*case_id[:6], "tab")
            assert line.value == f"assign {case_id} "
            # The third word is a unit, and the fourth a person of that unit only.
            await pilot.press(*"城管一", "tab")
            assert line.value == f"assign {case_id} 城管一中队 "
            members = [s.name for s in hub.engine.hall.staff.values() if s.unit == "enforcement-1"]
            await pilot.press(members[0][0], "tab")
            assert line.value.split()[-1] in members


async def test_a_hotline_case_offers_verify_not_accept_and_says_why(tmp_path: Path) -> None:
    """The key is greyed by the hub's own rule (a 12345 case is verified before it is
    accepted), and pressed anyway it says so instead of doing nothing."""
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        [ack] = await sent_by_dispatcher(hub, hub.intake(1, source=Source.HOTLINE))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("2")
            await until(pilot, lambda: cells_of(app, ack.case or ""))
            assert app.screen.check_action("accept", ()) is None
            assert app.screen.check_action("verify", ()) is True
            await pilot.press("a")
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: bar.command_state == "refused")
            assert "before it is verified" in bar.command
            assert hub.engine.cases[ack.case or ""].status is Status.REPORTED
