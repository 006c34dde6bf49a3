"""The case list at 80 columns (issue 11, item 7): columns fitted by priority, cut text marked
with "…", the unit column kept, and an overdue countdown's sign never cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from console.rows import COLUMNS, COUNTDOWN
from dispatch.models import Basis, Deadline, Step
from dispatch.queues import Entry
from widgets.queue_list import Column, QueueList, QueueRow

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CELLS = {
    "id": "2611230042",
    "urgency": "急",
    "status": "acknowledged",
    "unit": "东川供水排水公司",
    "title": "梧桐路北段雨水井盖移位严重影响通行",
    "category": "Storm-drain manhole cover",
    "place": "梧桐苑网格 310115001001",
    "level": "community",
    "source": "hotline",
}


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield QueueList()


def overdue(minutes: float) -> Deadline:
    due = T0 - timedelta(minutes=minutes)
    return Deadline(step=Step.ON_SCENE, start=due - timedelta(minutes=15), due=due,
                    limit_minutes=15, basis=Basis.WALL)  # fmt: skip


async def test_at_80_columns_the_unit_and_the_overdue_sign_stay_and_cuts_are_marked() -> None:
    async with ListApp().run_test(size=(80, 24)) as pilot:
        queue = pilot.app.query_one(QueueList)
        columns = [Column(c.key, c.title, c.width, c.min_width, c.priority) for c in COLUMNS]
        queue.set_columns(columns, COUNTDOWN.title, COUNTDOWN.width)
        queue.now = T0
        row = QueueRow("2611230042", tuple(CELLS[c.key] for c in COLUMNS), overdue(0.7), True)
        entry: Entry = (0.0, "2611230042")
        queue.show([entry], lambda key: row, lambda key: entry if key == entry[1] else None)
        await pilot.pause()
        header = queue.render_line(0).text
        line = queue.render_line(1).text
        assert len(line.rstrip()) <= 78 and queue.virtual_size.width <= 78  # no sideways scroll
        assert "-00:42" in line  # the sign of an overdue time is on screen
        assert "Unit" in header and "东川供" in line  # the unit column is kept, cut to fit
        assert "…" in line  # and what is cut says so
        assert "Source" not in header  # the least needed column gives way
