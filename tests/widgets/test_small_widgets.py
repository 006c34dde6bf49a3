"""The roster diffs in place, the status bar shows offline and demo, the command line
completes and remembers, the urgent strip fits its width, the detail ticks its deadlines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from dispatch.models import Basis, Deadline, Step
from widgets.case_detail import CaseDetail, CaseView, HistoryLine
from widgets.command_line import CommandLine
from widgets.countdown_strip import CountdownStrip, StripItem
from widgets.roster_table import RosterRow, RosterTable
from widgets.status_bar import StatusBar

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class OneWidget(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def unique(seen: list[Message], kind: type[Message]) -> list[Any]:
    return list({id(m): m for m in seen if isinstance(m, kind)}.values())


def screen_text(app: App[None]) -> str:
    """The screen as plain text, line by line (the SVG screenshot splits and escapes text)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(strip.text for strip in row) for row in update.strips)


def deadline(minutes_left: float, limit: int = 15) -> Deadline:
    due = T0 + timedelta(minutes=minutes_left)
    start = due - timedelta(minutes=limit)
    return Deadline(step=Step.ON_SCENE, start=start, due=due, limit_minutes=limit, basis=Basis.WALL)


async def test_roster_updates_only_changed_cells_and_keeps_the_cursor() -> None:
    roster = RosterTable()
    async with OneWidget(roster).run_test(size=(100, 20)) as pilot:
        roster.set_columns(["姓名", "单位", "状态"])
        roster.set_rows(
            [
                RosterRow("s1", ("张伟", "城管一中队", "在岗")),
                RosterRow("s2", ("李娜", "环卫所", "在岗")),
                RosterRow("s3", ("王强", "派出所", "外勤")),
            ]
        )
        roster.focus()
        await pilot.press("down")
        assert roster.highlighted_key == "s2"

        refreshed: list[tuple[Region, ...]] = []
        real_refresh = roster.refresh

        def recording_refresh(*regions: Region, **kwargs: Any) -> RosterTable:
            refreshed.append(regions)
            return real_refresh(*regions, **kwargs)

        roster.refresh = recording_refresh  # type: ignore[method-assign]
        # The same people, one status changed: only that cell is repainted.
        roster.set_rows(
            [
                RosterRow("s1", ("张伟", "城管一中队", "在岗")),
                RosterRow("s2", ("李娜", "环卫所", "外勤")),
                RosterRow("s3", ("王强", "派出所", "外勤")),
            ]
        )
        assert refreshed == [(Region(1 + 4 + 2 + 10 + 2, 2, 4, 1),)]
        assert roster.highlighted_key == "s2"
        roster.set_rows(
            [
                RosterRow("s2", ("李娜", "环卫所", "处置中")),
                RosterRow("s3", ("王强", "派出所", "外勤")),
                RosterRow("s4", ("赵敏", "市场所", "在岗")),
            ]
        )
        await pilot.pause()
        assert roster.row_count == 3
        assert roster.get_row("s2") == ["李娜", "环卫所", "处置中"]
        assert roster.get_row("s4") == ["赵敏", "市场所", "在岗"]
        assert roster.highlighted_key == "s2"  # s1 above it left; the cursor stays on s2


async def test_roster_enter_posts_the_staff_id() -> None:
    roster = RosterTable()
    seen: list[Message] = []
    async with OneWidget(roster).run_test(size=(100, 20), message_hook=seen.append) as pilot:
        roster.set_columns(["姓名"])
        roster.set_rows([RosterRow("s1", ("张伟",)), RosterRow("s2", ("李娜",))])
        roster.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
    assert [m.key for m in unique(seen, RosterTable.Selected)] == ["s2"]


async def test_status_bar_shows_offline_and_demo() -> None:
    bar = StatusBar()
    async with OneWidget(bar).run_test(size=(120, 3)) as pilot:
        bar.connection = "已连接"
        bar.operator = "张伟 (commander)"
        await pilot.pause()
        assert not bar.has_class("-offline")
        bar.connected = False
        bar.connection = "连接中断"
        bar.demo = True
        bar.speed = 60
        bar.filter_text = "城管"
        await pilot.pause()
        assert bar.has_class("-offline")
        text = bar.render().plain
        assert "连接中断" in text and "DEMO ×60" in text and "/城管" in text
        bar.connected = True
        await pilot.pause()
        assert not bar.has_class("-offline")


async def test_command_line_completes_words_and_keeps_a_history() -> None:
    line = CommandLine()
    seen: list[Message] = []
    async with OneWidget(line).run_test(size=(80, 5), message_hook=seen.append) as pilot:
        line.set_completer(
            words_completer(
                verbs=["accept", "assign", "escalate"],
                words=["城管一中队", "张伟", "2611230042", "2611230043"],
            )
        )
        line.focus()
        await pilot.press(*"esc")
        await pilot.pause()
        await pilot.press("tab")
        assert line.value == "escalate "
        await pilot.press(*"2611")
        await pilot.pause()
        await pilot.press("tab")
        assert line.value == "escalate 2611230042 "
        await pilot.press("城", "tab")
        assert line.value == "escalate 2611230042 城管一中队 "
        await pilot.press("enter")
        await pilot.pause()
        assert [m.value for m in unique(seen, Input.Submitted)] == [
            "escalate 2611230042 城管一中队 "
        ]
        line.value = ""
        await pilot.press(*"urge 1", "enter")
        line.value = "draft"
        await pilot.press("up")
        assert line.value == "urge 1"
        await pilot.press("up")
        assert line.value == "escalate 2611230042 城管一中队"
        await pilot.press("down", "down")
        assert line.value == "draft"
        await pilot.press("escape")
        await pilot.pause()
        assert line.value == ""
        assert len(unique(seen, CommandLine.Cancelled)) == 1


async def test_countdown_strip_orders_by_deadline_and_fits_the_width() -> None:
    strip = CountdownStrip()
    items = [StripItem(f"26112300{n:02d}", f"井盖{n}", deadline(n * 3 - 5)) for n in range(12)]
    seen: list[Message] = []
    async with OneWidget(strip).run_test(size=(200, 10), message_hook=seen.append) as pilot:
        strip.now = T0
        strip.set_items(list(reversed(items)))
        await pilot.pause()
        wide = strip.shown_keys
        assert wide[:2] == ["2611230000", "2611230001"]  # the most overdue first
        assert len(wide) == 200 // 19
        assert "-05:00" in strip.render_line(2).text
        strip.focus()
        await pilot.press("right", "enter")
        await pilot.pause()
        assert [m.key for m in unique(seen, CountdownStrip.Selected)] == ["2611230001"]
        strip.flash()
        assert strip.has_class("-flash")
        await pilot.resize_terminal(80, 10)
        await pilot.pause()
        assert len(strip.shown_keys) == 4


async def test_case_detail_shows_the_case_and_ticks_its_deadlines() -> None:
    detail = CaseDetail(placeholder="未选择案件")
    view = CaseView(
        key="2611230042",
        title="2611230042 井盖缺失",
        fields=(("类别", "上水井盖"), ("状态", "已派遣")),
        deadlines=(("到场", deadline(10)),),
        history=(HistoryLine("09:01", "张伟", "派遣 城管一中队"),),
    )
    async with OneWidget(detail).run_test(size=(80, 20)) as pilot:
        detail.now = T0
        detail.show(view)
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "上水井盖" in text and "派遣 城管一中队" in text and "10:00" in text
        detail.now = T0 + timedelta(minutes=11)
        await pilot.pause()
        assert "-01:00" in screen_text(pilot.app)
        detail.show(None)
        await pilot.pause()
        assert "未选择案件" in screen_text(pilot.app)


def words_completer(verbs: list[str], words: list[str]) -> Callable[[str], list[str]]:
    """A plain completer: verbs for the first word, the other words after it."""

    def complete(line: str) -> list[str]:
        head, _, word = line.rpartition(" ")
        return [w for w in (words if head.strip() else verbs) if w.startswith(word)]

    return complete
