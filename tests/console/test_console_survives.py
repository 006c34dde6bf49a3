"""The console never breaks: every ``:`` verb, right and wrong, as every role; a case arriving
above the selection; an action that raises; Tab through every panel; a refusal in Chinese. And
if the app does die, ``griddesk console`` exits non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_fixtures import (
    UNIT,
    RunningHub,
    TestClient,
    board_live,
    console_for,
    running_hub,
    sent_by_dispatcher,
    sqlite_url_in,
    until,
)
from textual.app import App, ComposeResult
from textual.widgets import Static

from console.app import exit_code
from console.verbs import VERBS
from dispatch.commands import Accept, Dispatch, Note
from dispatch.models import Role, Source, Status, Urgency
from widgets.command_line import CommandLine
from widgets.countdown_strip import CountdownStrip
from widgets.queue_list import QueueList
from widgets.roster_table import RosterTable
from widgets.status_bar import StatusBar

STANDBY_UNIT = "enforcement-1"


async def _hall(hub: RunningHub) -> dict[str, str]:
    """A small hall: a reported hotline case, an accepted case, one dispatched to the standby
    officer's unit; standby and unit operators; the case ids by what they are."""
    tokens = {
        "standby": await hub.store.add_operator("op-standby", Role.STANDBY, STANDBY_UNIT),
        "unit": await hub.store.add_operator("op-unit", Role.UNIT, STANDBY_UNIT),
    }
    async with TestClient.connect(hub.url) as other:
        await other.hello(hub.tokens[Role.DISPATCHER])
        _, hotline = await other.execute(hub.intake("h", source=Source.HOTLINE, title="噪音扰民"))
        _, accepted = await other.execute(hub.intake("a", title="占道经营"))
        await other.execute(Accept(id="acc-a", case=accepted.case, version=1))
        _, owned = await other.execute(hub.intake("o", title="暴露垃圾"))
        await other.execute(Accept(id="acc-o", case=owned.case, version=1))
        await other.execute(Dispatch(id="dsp-o", case=owned.case, version=2, unit=STANDBY_UNIT))
    assert hotline.case and accepted.case and owned.case
    return {**tokens, "hotline": hotline.case, "accepted": accepted.case, "owned": owned.case}


def _lines(ids: dict[str, str], *, wrong: bool) -> list[str]:
    """Every verb with arguments that fit and (``wrong``) with arguments that do not."""
    some, other = ids["accepted"], ids["owned"]
    good = {
        "accept": f"accept {ids['hotline']}",
        "reject": f"reject {ids['hotline']} 不属实",
        "verify": f"verify {ids['hotline']} yes",
        "assign": f"assign {some} {STANDBY_UNIT}",
        "reassign": f"reassign {other} 城管二中队 换人",
        "ack": f"ack {other}",
        "arrive": f"arrive {other}",
        "report": f"report {other} 已清理",
        "check": f"check {other} pass",
        "rework": f"rework {other} 不彻底",
        "close": f"close {other}",
        "callback": f"callback {ids['hotline']} yes",
        "escalate": f"escalate {some} 需要协调",
        "urge": f"urge {other}",
        "joint": f"joint {some} 城管一中队 城管二中队",
        "note": f"note {some} 备注",
        "return": f"return {other} 非本单位",
        "extend": f"extend {other} 4h 材料未到",
        "park": f"park {other} 等待审批",
        "void": f"void {other} 重复",
        "approve": f"approve {other} return",
        "refuse": f"refuse {other} return 需处理",
        "resume": f"resume {other}",
        "merge": f"merge {some} {other}",
        "intake": "intake --category E0101 --source patrol --title 新案件",
        "staff": "staff S001 on available",
        "shift": "shift standby",
        "instruct": f"instruct {some} 2h 今日内清理完毕",
        "senddown": f"senddown {some} community 属地可处置",
        "whistle": f"whistle {some} {STANDBY_UNIT},城管二中队 30 联合整治",
        "reportin": f"reportin {some} {STANDBY_UNIT}",
        "rollcall": f"rollcall {some}",
        "handnote": "handnote 路灯待修，明早复查",
        "takeover": "takeover 2026-11-23T00:30:00+08:00 2026-11-23T08:30:00+08:00 张建国",
        "rota": "rota",
        "swap": "swap 2030-01-02 S037 S041",
        "standby": "standby 2030-01-02 城管一中队 S041,S034",
        "commander": "commander 2030-01-02 林晓红",
        "list": "list accept",
        "show": f"show {some}",
        "roster": "roster 城管一中队",
        "suggest": f"suggest {some}",
    }
    assert set(good) == {v.name for v in VERBS}, "every verb has a line here"
    bad = [f"{name} 9999999999 --bogus 'unclosed" for name in good]
    bad += [f"{name}" for name in good] + ["", "frobnicate 1", "list later", "show nope"]
    return [*good.values(), *(bad if wrong else ["show nope"])]


@pytest.mark.parametrize("role", ["commander", "dispatcher", "standby", "unit", "observer"])
async def test_every_verb_leaves_the_console_alive_with_an_answer(
    tmp_path: Path, role: str
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        ids = await _hall(hub)
        token = ids.get(role) or hub.tokens[Role(role)]
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            board = app.screen
            command_line = board.query_one(CommandLine)
            # Wrong words fail in the parser, the same for every role: once is enough.
            for line in _lines(ids, wrong=role == "commander"):
                # As typed: ":" opens the line, the text goes in (pasted), Enter sends it.
                await pilot.press("colon")
                command_line.value = line
                await pilot.press("enter")
                await pilot.pause()
                # Back on the board (a read verb may open a screen: leave it), still running.
                while app.screen is not board:
                    await pilot.press("escape")
                assert app.is_running and app.return_code is None, line
            await until(pilot, lambda: app.desk.session.in_flight == 0, within=UNIT * 10)
            bar = board.query_one(StatusBar)
            assert bar.command, "the last line left an answer on the status bar"


async def test_new_rows_above_the_view_show_n_new_without_moving_the_selection(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        await sent_by_dispatcher(hub, *(hub.intake(n) for n in range(30)))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path, locale="zh_CN")
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7", "s")  # all cases, newest first: a new case goes on top
            listing = app.screen.query_one(QueueList)
            await until(pilot, lambda: listing.row_count == 30)
            await pilot.press(*["down"] * 25)
            chosen = listing.highlighted_key
            line = listing.visible_keys.index(chosen)  # type: ignore[arg-type]
            await sent_by_dispatcher(hub, hub.intake("new", title="燃气泄漏"))
            await until(pilot, lambda: listing.row_count == 31)
            await until(pilot, lambda: listing.new_count == 1)
            assert app.is_running
            assert listing.highlighted_key == chosen
            assert listing.visible_keys.index(chosen) == line  # type: ignore[arg-type]
            tabs = str(app.screen.query_one("#tabs", Static).content)
            assert "1 条新案件" in tabs


async def test_an_action_that_raises_is_shown_and_the_console_goes_on(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        [ack] = await sent_by_dispatcher(hub, hub.intake(1, urgency=Urgency.URGENT))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await until(pilot, lambda: app.screen.query_one(QueueList).row_count == 1)

            def broken() -> str:
                raise RuntimeError("id generator broke")

            app.new_id = broken  # type: ignore[method-assign]
            await pilot.press("a")
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: "id generator broke" in bar.command)
            assert app.is_running and app.return_code is None
            assert hub.engine.cases[ack.case or ""].status is Status.REPORTED
            # It goes on: the next key works.
            await pilot.press("7")
            await until(pilot, lambda: app.screen.query_one(QueueList).row_count == 1)


async def test_tab_walks_the_list_the_urgent_strip_and_the_roster(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        [ack] = await sent_by_dispatcher(hub, hub.intake(1, urgency=Urgency.URGENT))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            strip = app.screen.query_one(CountdownStrip)
            await until(pilot, lambda: strip.shown_keys == [ack.case])
            seen = set()
            for _ in range(6):
                seen.add(type(app.focused))
                await pilot.press("tab")
            assert {QueueList, CountdownStrip, RosterTable} <= seen
            # The strip works from the keyboard: Tab to it, Enter opens the case under it.
            while app.focused is not strip:
                await pilot.press("tab")
            await pilot.press("enter")
            from screens.case import CaseScreen

            await until(pilot, lambda: isinstance(app.screen, CaseScreen))
            await pilot.press("shift+tab", "escape")
            assert app.is_running


async def test_a_conflict_is_refused_in_chinese_and_says_who_changed_the_case(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        [ack] = await sent_by_dispatcher(hub, hub.intake(1))
        case_id = ack.case or ""
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path, locale="zh_CN")
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await until(pilot, lambda: case_id in app.desk.model.cases)
            stale = app.desk.model.cases[case_id]
            # Another operator changes the case first; this console's command still carries
            # the version it saw.
            await sent_by_dispatcher(hub, Note(id="n1", case=case_id, version=1, reason="现场有人"))
            await until(pilot, lambda: app.desk.model.cases[case_id].version == 2)
            line = f"note {case_id} 补充"
            command = Note(id="late", case=case_id, version=stale.version, reason="补充")
            app.send(command, what=line)
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: bar.command_state == "refused")
            assert "op-dispatcher" in bar.command  # who changed it
            assert "已上报" in bar.command  # what it is now, in Chinese
            assert not any(w in bar.command for w in ("version", "conflict", "is at"))
            assert hub.engine.cases[case_id].version == 2


class _Dies(App[int]):
    def compose(self) -> ComposeResult:
        raise RuntimeError("broken on start")


async def test_an_app_that_dies_exits_non_zero() -> None:
    app = _Dies()
    with pytest.raises(RuntimeError, match="broken on start"):
        async with app.run_test() as pilot:
            await pilot.pause()
    assert exit_code(app, None) != 0


def test_a_console_that_quits_normally_exits_zero() -> None:
    class Quits(App[int]):
        def on_mount(self) -> None:
            self.exit(0)

    app = Quits()
    assert exit_code(app, app.run(headless=True)) == 0
