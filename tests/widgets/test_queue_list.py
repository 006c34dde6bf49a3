"""The case list: loads 20,000 rows, keeps the highlighted case put while rows arrive, marks,
filters, sorts by bisection, and ticks only the countdown cells, with CJK columns aligned."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.message import Message
from textual.pilot import Pilot

from dispatch import sla
from dispatch.calendar import WorkingCalendar
from dispatch.config import Settings
from dispatch.models import Basis, Deadline, Step
from dispatch.queues import Entry
from widgets.countdown import format_countdown
from widgets.queue_list import Column, QueueList, QueueRow

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
SIZE = (80, 24)  # 23 rows under the header
COLUMNS = [Column("id", "编号", 10), Column("title", "事项", 12), Column("unit", "单位", 10)]
COUNTDOWN_WIDTH = 7


def wall(minutes_due: float, limit: int = 100) -> Deadline:
    start = T0 + timedelta(minutes=minutes_due - limit)
    due = T0 + timedelta(minutes=minutes_due)
    return Deadline(step=Step.RESULT, start=start, due=due, limit_minutes=limit, basis=Basis.WALL)


@dataclass(frozen=True)
class Sorted:
    """A row and where it sorts: what a screen knows about each case it lists."""

    row: QueueRow
    sort: float

    @property
    def entry(self) -> Entry:
        return (self.sort, self.row.key)


def row(n: int, *, title: str = "garbage", sort: float | None = None) -> Sorted:
    key = f"26{n:08d}"
    made = QueueRow(
        key=key, cells=(key, title, "城管一中队"), deadline=wall(30 + n % 50), urgent=n % 7 == 0
    )
    return Sorted(made, float(n) if sort is None else sort)


def rows(start: int, stop: int) -> Iterator[Sorted]:
    return (row(n) for n in range(start, stop))


@dataclass
class Feed:
    """What the board does for its list: keeps every row, hands the list entries to show and,
    per batch, the entries that left and joined and the rows changed in place."""

    queue: QueueList
    rows: dict[str, Sorted] = field(default_factory=dict)

    def render(self, key: str) -> QueueRow:
        return self.rows[key].row

    def replace(self, items: Iterable[Sorted]) -> None:
        self.rows = {item.row.key: item for item in items}
        self.queue.show(sorted(item.entry for item in self.rows.values()), self.render, self.locate)

    def locate(self, key: str) -> Entry | None:
        item = self.rows.get(key)
        return item.entry if item is not None else None

    def update(self, items: Iterable[Sorted], removed: Iterable[str] = ()) -> None:
        gone: list[Entry] = []
        added: list[Entry] = []
        changed: list[str] = []
        for key in removed:
            old = self.rows.pop(key, None)
            if old is not None:
                gone.append(old.entry)
        for item in items:
            key = item.row.key
            old = self.rows.get(key)
            self.rows[key] = item
            if old is None:
                added.append(item.entry)
            elif old.entry != item.entry:
                gone.append(old.entry)
                added.append(item.entry)
            else:
                changed.append(key)
        self.queue.apply(gone, added, changed)


FEEDS: dict[int, Feed] = {}


def feed(queue: QueueList) -> Feed:
    return FEEDS.setdefault(id(queue), Feed(queue))


def replace_rows(queue: QueueList, items: Iterable[Sorted]) -> None:
    feed(queue).replace(items)


def update_rows(queue: QueueList, items: Iterable[Sorted], removed: Iterable[str] = ()) -> None:
    feed(queue).update(items, removed)


def one(key: str, cells: tuple[str, ...], deadline: Deadline, sort: float = 0.0) -> Sorted:
    return Sorted(QueueRow(key, cells, deadline, False), sort)


class ListApp(App[None]):
    def __init__(self, countdown_index: int = 1) -> None:
        super().__init__()
        self.countdown_index = countdown_index

    def compose(self) -> ComposeResult:
        yield QueueList()

    def on_mount(self) -> None:
        queue = self.query_one(QueueList)
        queue.set_columns(COLUMNS, "剩余", COUNTDOWN_WIDTH, self.countdown_index)
        queue.now = T0
        queue.focus()


def messages(seen: list[Message], kind: type[Message]) -> list[Any]:
    """Each posted message once (the hook sees it again at every node it bubbles through)."""
    unique = {id(m): m for m in seen if isinstance(m, kind)}
    return list(unique.values())


async def loaded(pilot: Pilot[None], n: int = 20_000) -> QueueList:
    queue = pilot.app.query_one(QueueList)
    replace_rows(queue, rows(1_000, 1_000 + n))
    await pilot.pause()
    return queue


def line_text(queue: QueueList, y: int) -> str:
    return queue.render_line(y).text


async def test_twenty_thousand_rows_load_and_show_the_first() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot)
        assert queue.row_count == 20_000
        assert queue.highlighted_key == "2600001000"
        assert queue.visible_keys[:2] == ["2600001000", "2600001001"]
        assert len(queue.visible_keys) == SIZE[1] - 1
        assert "编号" in line_text(queue, 0)
        assert "2600001000" in line_text(queue, 1)


async def test_keyboard_moves_the_cursor_and_scrolls() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot)
        await pilot.press("down", "down", "down")
        assert queue.highlighted_key == "2600001003"
        await pilot.press("pagedown")
        assert queue.highlighted_key == "2600001026"
        assert queue.visible_keys[-1] == "2600001026"
        await pilot.press("end")
        assert queue.highlighted_key == "2600020999"
        assert queue.visible_keys[-1] == "2600020999"
        await pilot.press("pageup")
        assert queue.highlighted_key == "2600020976"
        await pilot.press("home")
        assert queue.highlighted_key == "2600001000"
        assert queue.scroll_y == 0
        await pilot.press("up")
        assert queue.highlighted_key == "2600001000"


async def test_enter_selects_the_highlighted_case() -> None:
    seen: list[Message] = []
    async with ListApp().run_test(size=SIZE, message_hook=seen.append) as pilot:
        await loaded(pilot, 50)
        await pilot.press("down", "enter")
        await pilot.pause()
    assert [m.key for m in messages(seen, QueueList.Selected)] == ["2600001001"]
    assert messages(seen, QueueList.Highlighted)[-1].key == "2600001001"


async def test_rows_inserted_above_keep_the_case_on_its_screen_line_and_count_as_new() -> None:
    seen: list[Message] = []
    async with ListApp().run_test(size=SIZE, message_hook=seen.append) as pilot:
        queue = await loaded(pilot)
        for _ in range(10):
            await pilot.press("down")
        assert queue.highlighted_key == "2600001010"
        line_before = queue.visible_keys.index("2600001010")

        update_rows(queue, rows(0, 100))  # sort keys 0–99 go above everything
        await pilot.pause()

        assert queue.highlighted_key == "2600001010"
        assert queue.visible_keys.index("2600001010") == line_before
        assert queue.row_count == 20_100
        assert queue.new_count == 100
        assert messages(seen, QueueList.NewRowsChanged)[-1].count == 100
        assert "2600001010" in line_text(queue, line_before + 1)

        # Rows removed above move the view back the other way, still on the same line.
        update_rows(queue, [], removed=[f"26{n:08d}" for n in range(50)])
        await pilot.pause()
        assert queue.visible_keys.index("2600001010") == line_before

        await pilot.press("home")
        assert queue.new_count == 0
        assert messages(seen, QueueList.NewRowsChanged)[-1].count == 0


async def test_rows_arriving_below_the_top_of_the_view_are_not_new() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot, 100)
        update_rows(queue, [row(5_000)])
        await pilot.pause()
        assert queue.new_count == 0
        assert queue.highlighted_key == "2600001000"


async def test_removing_the_highlighted_case_highlights_the_row_that_took_its_place() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot, 100)
        await pilot.press("down", "down")
        update_rows(queue, [], removed=["2600001002"])
        await pilot.pause()
        assert queue.highlighted_key == "2600001003"


async def test_space_marks_and_unmarks_with_a_glyph() -> None:
    seen: list[Message] = []
    async with ListApp().run_test(size=SIZE, message_hook=seen.append) as pilot:
        queue = await loaded(pilot, 100)
        await pilot.press("space", "down", "down", "space")
        await pilot.pause()
        assert queue.marked == {"2600001000", "2600001002"}
        assert line_text(queue, 1).startswith("✓ 2600001000")
        assert line_text(queue, 2).startswith("  2600001001")
        await pilot.press("space")
        assert queue.marked == {"2600001000"}
        update_rows(queue, [], removed=["2600001000"])  # a marked case that leaves is unmarked
        await pilot.pause()
        assert queue.marked == frozenset()
        assert messages(seen, QueueList.MarksChanged)[-1].keys == frozenset()


async def test_filter_is_a_case_insensitive_substring_over_cells() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = pilot.app.query_one(QueueList)
        replace_rows(queue,
            [row(1, title="Garbage pile"), row(2, title="占道经营"), row(3, title="garbage bin")]
        )
        await pilot.pause()
        queue.set_filter("GARBAGE")
        await pilot.pause()
        assert queue.visible_keys == ["2600000001", "2600000003"]
        queue.set_filter("占道")
        await pilot.pause()
        assert queue.visible_keys == ["2600000002"]
        assert queue.highlighted_key == "2600000002"
        # A changed row joins or leaves the filtered view by its new text.
        update_rows(queue, [row(3, title="占道 again")])
        await pilot.pause()
        assert queue.visible_keys == ["2600000002", "2600000003"]
        queue.set_filter("")
        await pilot.pause()
        assert queue.visible_keys == ["2600000001", "2600000002", "2600000003"]
        assert queue.highlighted_key == "2600000002"


async def test_rows_are_sorted_by_sort_key_then_id_and_move_when_it_changes() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = pilot.app.query_one(QueueList)
        replace_rows(queue, [row(3, sort=1), row(1, sort=2), row(2, sort=1), row(4, sort=0)])
        await pilot.pause()
        assert queue.visible_keys == ["2600000004", "2600000002", "2600000003", "2600000001"]
        update_rows(queue, [row(4, sort=9), row(3, sort=1, title="renamed")])
        await pilot.pause()
        assert queue.visible_keys == ["2600000002", "2600000003", "2600000001", "2600000004"]
        assert "renamed" in line_text(queue, 2)


@pytest.mark.parametrize(
    ("minutes_used", "text", "colour"),
    [
        (79, "21:00", "green"),  # 79 % of a 100-minute limit
        (80, "20:00", "amber"),  # amber from 80 % used
        (100, "00:00", "red"),  # due this instant: overdue, as the hub marks it
        (101, "-01:00", "red"),  # breached, with the minutes overdue
        (100 + 5 * 60 + 12, "-5h12m", "red"),
    ],
)
async def test_countdown_text_and_traffic_light(minutes_used: int, text: str, colour: str) -> None:
    calendar = WorkingCalendar.from_settings(Settings())
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = pilot.app.query_one(QueueList)
        queue.set_light(lambda d, now: sla.light(d, now, calendar))
        deadline = wall(100)  # started at T0, due T0 + 100 min
        replace_rows(queue, [one("2611230042", ("2611230042", "x", "y"), deadline)])
        queue.now = T0 + timedelta(minutes=minutes_used)
        await pilot.pause()
        strip = queue.render_line(1)
        cells = [s for s in strip if s.text.strip() == text]
        assert len(cells) == 1
        expected = queue.get_component_rich_style(f"queue-list--{colour}", partial=True)
        assert cells[0].style is not None
        assert cells[0].style.color == expected.color


async def test_working_hours_deadline_lights_on_the_calendar() -> None:
    calendar = WorkingCalendar.from_settings(Settings())
    start = T0  # 09:00 local
    due = calendar.add_work_minutes(start, 240)  # 13:00 of work: 09:00-12:00, 13:30-14:30
    deadline = Deadline(
        step=Step.RESULT, start=start, due=due, limit_minutes=240, basis=Basis.WORK_HOURS
    )
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = pilot.app.query_one(QueueList)
        queue.set_light(lambda d, now: sla.light(d, now, calendar))
        replace_rows(queue, [one("k", ("k", "x", "y"), deadline)])
        # 12:30 local: 180 of 240 working minutes used (75 %) although 3.5 h of 5.5 h passed.
        queue.now = T0 + timedelta(hours=3, minutes=30)
        await pilot.pause()
        cells = [s for s in queue.render_line(1) if s.text.strip() == "2h00m"]
        green = queue.get_component_rich_style("queue-list--green", partial=True)
        assert len(cells) == 1 and cells[0].style is not None
        assert cells[0].style.color == green.color


def test_countdown_formats() -> None:
    assert format_countdown(12 * 60 + 34.9) == "12:34"
    assert format_countdown(-(3 * 60 + 10)) == "-03:10"
    assert format_countdown(5 * 3600 + 12 * 60) == "5h12m"
    assert format_countdown(2 * 86400 + 3 * 3600 + 59) == "2d3h"
    assert format_countdown(-(2 * 86400)) == "-2d0h"


async def test_cjk_columns_keep_the_countdown_column_aligned() -> None:
    async with ListApp(countdown_index=3).run_test(size=SIZE) as pilot:
        queue = pilot.app.query_one(QueueList)
        replace_rows(queue,
            [
                one("a", ("2611230042", "暴露垃圾堆放严重影响", "城管一中队"), wall(5), 1),
                one("b", ("2611230043", "garbage", "sanitation"), wall(6), 2),
                Sorted(QueueRow("c", ("2611230044", "井盖", "市政"), wall(7), True), 3),
            ]
        )
        await pilot.pause()
        xs = []
        for y, text in ((1, "05:00"), (2, "06:00"), (3, "07:00")):
            line = line_text(queue, y)
            xs.append(cell_len(line[: line.index(text)]))
            assert cell_len(line) == SIZE[0] - 1 or cell_len(line) == SIZE[0]
        assert xs[0] == xs[1] == xs[2]
        assert line_text(queue, 1).count("暴露垃圾堆") == 1  # cut to 10 cells, no half glyph


async def test_tick_repaints_only_the_countdown_cells_that_changed() -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot)
        calls: list[tuple[Region, ...]] = []
        real_refresh = queue.refresh

        def recording_refresh(*regions: Region, **kwargs: Any) -> QueueList:
            calls.append(regions)
            return real_refresh(*regions, **kwargs)

        queue.refresh = recording_refresh  # type: ignore[method-assign]
        queue.now = T0 + timedelta(seconds=1)
        await pilot.pause()

        regions = [region for call in calls for region in call]
        assert len(calls) == 1 and len(regions) == SIZE[1] - 1  # one per visible row
        countdown_x = 2 + COLUMNS[0].width + 1
        # Each from its first changed character ("05:00" → "04:59": from the "4") to the
        # column's end, nothing left of it.
        assert all(r.height == 1 and r.right == countdown_x + COUNTDOWN_WIDTH for r in regions)
        assert all(countdown_x + COUNTDOWN_WIDTH - 5 <= r.x for r in regions)
        assert sorted(r.y for r in regions) == list(range(1, SIZE[1]))

        # Rows more than an hour away read "1h05m" for a minute: a tick repaints nothing.
        far = [
            Sorted(QueueRow(r.row.key, r.row.cells, wall(65 + n % 3), r.row.urgent), r.sort)
            for n, r in enumerate(rows(1_000, 1_030))
        ]
        update_rows(queue, far)
        queue.now = T0 + timedelta(seconds=2)
        await pilot.pause()
        calls.clear()
        queue.now = T0 + timedelta(seconds=3)
        await pilot.pause()
        assert calls == []


async def test_a_batch_repaints_only_the_lines_that_show_something_new() -> None:
    """At 100 events a second most of a batch is off screen: the list must not repaint all
    its lines for it (a terminal over SSH, and the board's frame time, pay for each)."""
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot)
        calls: list[tuple[Region, ...]] = []
        real_refresh = queue.refresh

        def recording_refresh(*regions: Region, **kwargs: Any) -> QueueList:
            calls.append(regions)
            return real_refresh(*regions, **kwargs)

        queue.refresh = recording_refresh  # type: ignore[method-assign]
        # Rows far below the view change in place, others join and leave down there.
        update_rows(queue, [row(n, title="moved on") for n in range(5_000, 5_050)],
                    removed=[f"26{n:08d}" for n in range(6_000, 6_010)])  # fmt: skip
        await pilot.pause()
        assert calls == [], "nothing on screen changed"

        # The fourth row on screen changes in place: its line, and only it, is repainted.
        key = queue.visible_keys[3]
        update_rows(queue, [row(int(key[2:]), title="垃圾已清")])
        await pilot.pause()
        regions = [region for call in calls for region in call]
        assert [(r.y, r.height) for r in regions] == [(4, 1)]
        assert "垃圾已清" in line_text(queue, 4)
        calls.clear()

        # A row joins on screen: the lines from it down show other rows now.
        update_rows(queue, [row(99_000, sort=float(int(queue.visible_keys[10][2:])) - 0.5)])
        await pilot.pause()
        assert sorted({r.y for call in calls for r in call}) == list(range(11, SIZE[1]))


@pytest.mark.parametrize("batch", [10, 3_000])  # a few rows / more rows than are on screen
async def test_a_batch_leaves_the_same_order_as_a_full_reload(batch: int) -> None:
    async with ListApp().run_test(size=SIZE) as pilot:
        queue = await loaded(pilot, 10_000)
        queue.set_filter("26000")  # ids 2600010000+ drop out of the filtered view
        changed = [row(n, sort=-n if n % 2 else n) for n in range(1_000, 1_000 + batch)]
        gone = [f"26{n:08d}" for n in range(5_000, 5_000 + batch // 10)]
        update_rows(queue, [*changed, *rows(20_000, 20_000 + batch)], removed=gone)
        await pilot.pause()
        incremental = queue.listed_keys
        replace_rows(queue, list(feed(queue).rows.values()))
        await pilot.pause()
        assert incremental == queue.listed_keys
        assert queue.total_count == 10_000 + batch - batch // 10
