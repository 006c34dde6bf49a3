"""Thin links (issue 11, item 6): a tick sends only the characters that changed.

What a second costs on an SSH link is what the widgets refresh and what Textual then writes
for it: each widget is asked for its refreshed regions when time moves, and the terminal data
of a partial update is read from the compositor's own output (``console.thin_updates``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.segment import Segment
from textual._compositor import ChopsUpdate
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console import thin_updates
from dispatch.models import Basis, Deadline, Step
from widgets.case_detail import CaseDetail, CaseView
from widgets.countdown import format_countdown
from widgets.countdown_strip import BLOCK_WIDTH, CountdownStrip, StripItem
from widgets.status_bar import StatusBar

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def deadline(minutes_left: float, limit: int = 15) -> Deadline:
    due = T0 + timedelta(minutes=minutes_left)
    return Deadline(step=Step.ON_SCENE, start=due - timedelta(minutes=limit), due=due,
                    limit_minutes=limit, basis=Basis.WALL)  # fmt: skip


class OneWidget(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def record_refreshes(widget: Widget) -> list[Region]:
    """Every region ``widget`` marks dirty from now on, as its ``refresh`` decided (a refresh
    of the whole widget: its whole region)."""
    seen: list[Region] = []
    real = widget._set_dirty

    def recording(*regions: Region) -> None:
        seen.extend(regions or [Region(0, 0, widget.size.width, widget.size.height)])
        real(*regions)

    widget._set_dirty = recording  # type: ignore[method-assign]
    return seen


def test_a_partial_update_starts_at_the_refreshed_segment_not_the_widget_edge() -> None:
    thin_updates.install()
    line = Strip([Segment("Status  reported   "), Segment("14:38"), Segment(" left")])
    update = ChopsUpdate([{0: line}], [(0, 19, 24)], [[29]])
    out = update.render_segments(Console(color_system=None, width=80))
    assert out == "\x1b[1;20H14:38"  # the cursor goes to column 20: nothing left of it is sent
    # A region starting inside a wide character sends its whole segment, never half a glyph.
    wide = Strip([Segment("上水井盖"), Segment("12:00")])
    out = ChopsUpdate([{0: wide}], [(0, 3, 12)], [[13]]).render_segments(Console(width=80))
    assert out.startswith("\x1b[1;1H上水井盖")


def test_low_bandwidth_countdowns_change_once_a_minute() -> None:
    assert format_countdown(14 * 60 + 38) == "14:38"
    assert [format_countdown(s, minutes=True) for s in (14 * 60 + 38, 14 * 60 + 1)] == ["14m"] * 2
    assert format_countdown(-(3 * 60 + 10), minutes=True) == "-3m"  # the sign always shown
    assert format_countdown(5 * 3600 + 720, minutes=True) == "5h12m"


async def test_the_strip_repaints_only_the_countdown_characters_that_changed() -> None:
    strip = CountdownStrip()
    async with OneWidget(strip).run_test(size=(80, 5)) as pilot:
        strip.now = T0
        strip.set_items([StripItem("2611230001", "井盖", deadline(10)),
                         StripItem("2611230002", "塌陷", deadline(12))])  # fmt: skip
        await pilot.pause()
        seen = record_refreshes(strip)
        strip.now = T0 + timedelta(seconds=1)  # 10:00 → 09:59, 12:00 → 11:59
        await pilot.pause()
        left = (BLOCK_WIDTH - 5) // 2
        assert seen == [Region(left, 2, 5, 1), Region(BLOCK_WIDTH + 1 + left + 1, 2, 4, 1)]
        seen.clear()
        strip.now = T0 + timedelta(seconds=2)  # 09:59 → 09:58: one digit each
        await pilot.pause()
        assert seen == [Region(left + 4, 2, 1, 1), Region(BLOCK_WIDTH + 1 + left + 4, 2, 1, 1)]
        seen.clear()
        strip.set_minutes(True)
        await pilot.pause()
        seen.clear()
        strip.now = T0 + timedelta(seconds=3)  # still "9m" and "11m": nothing to send
        await pilot.pause()
        assert seen == []


async def test_the_status_bar_repaints_only_the_clock_digits_that_changed() -> None:
    bar = StatusBar()
    async with OneWidget(bar).run_test(size=(80, 3)) as pilot:
        bar.connection = "live"
        bar.operator = "张伟 commander"
        bar.hub_time = "09:30:09"
        await pilot.pause()
        seen = record_refreshes(bar)
        bar.hub_time = "09:30:10"
        await pilot.pause()
        at = bar.render().plain.index("09:30:10")
        assert seen == [Region(at + 6, 0, 2, 1)]


async def test_the_detail_repaints_only_its_countdowns_on_a_tick() -> None:
    detail = CaseDetail()
    view = CaseView(
        key="2611230001",
        title="2611230001  上水井盖移位",
        fields=(("状态", "已派遣"), ("单位", "东川供水")),
        deadlines=(("到场时限", deadline(10)), ("处置时限", deadline(55))),
    )
    async with OneWidget(detail).run_test(size=(60, 12)) as pilot:
        detail.now = T0
        detail.show(view)
        await pilot.pause()
        body = detail.query_one("#case-detail-body")
        lines = [s.text for s in pilot.app.screen._compositor.render_strips()]
        top = next(y for y, line in enumerate(lines) if "到场时限" in line) - body.region.y
        seen = record_refreshes(body)
        detail.now = T0 + timedelta(seconds=1)
        await pilot.pause()
        # Only " 09:59 " and " 54:59 ", after 到场时限 / 处置时限 (8 cells) and a space.
        assert seen == [Region(9, top, 7, 1), Region(9, top + 1, 7, 1)]
        detail.set_minutes(True)
        await pilot.pause()
        seen.clear()
        detail.now = T0 + timedelta(seconds=2)  # still "9m" and "54m": nothing is sent
        await pilot.pause()
        assert seen == []
