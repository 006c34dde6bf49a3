"""The on-duty roster: a ``DataTable`` keyed by staff id, updated in place.

A roster is small (tens to a few hundred people), so a ``DataTable`` is right here; what
matters is that a status change rewrites one cell, not the table, so the cursor and scroll
stay put while the roster moves.

Column widths are set here, from the widest title or cell in terminal cells (a Chinese name
takes two per character), not left to the table's own measuring: that ran at the table's next
idle moment, and a board drawn before it showed the names cut to their column titles' width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

from rich.cells import cell_len
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


@dataclass(frozen=True)
class RosterRow:
    """One person: the staff id and already-localised cells, one per column."""

    key: str
    cells: tuple[str, ...]


class RosterTable(DataTable[str]):
    """Staff keyed by id; :meth:`set_rows` adds, removes and rewrites only what changed."""

    DEFAULT_CSS = (files("widgets") / "roster_table.tcss").read_text(encoding="utf-8")

    class Selected(Message):
        """Enter (or a click) on a person."""

        def __init__(self, roster: RosterTable, key: str) -> None:
            super().__init__()
            self.roster = roster
            self.key = key

        @property
        def control(self) -> RosterTable:
            return self.roster

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, tuple[str, ...]] = {}
        self._column_keys: tuple[str, ...] = ()
        self._titles: tuple[str, ...] = ()
        self._widths: tuple[int, ...] = ()

    def set_columns(self, titles: Sequence[str]) -> None:
        """New column titles; the rows are kept only if the column count is unchanged."""
        rows = [RosterRow(key, cells) for key, cells in self._shown.items()]
        self._titles = tuple(titles)
        self._column_keys = tuple(f"c{i}" for i in range(len(titles)))
        keep = all(len(row.cells) == len(titles) for row in rows)
        self._rebuild(rows if keep else [], _widths(self._titles, rows if keep else []))

    def _rebuild(self, rows: Sequence[RosterRow], widths: tuple[int, ...]) -> None:
        """Columns of ``widths`` and ``rows`` afresh: only when a column must change width."""
        self.clear(columns=True)
        self._shown = {}
        self._widths = widths
        for key, title, width in zip(self._column_keys, self._titles, widths, strict=True):
            self.add_column(title, key=key, width=width)
        for row in rows:
            cells = _fit(row.cells, len(self._column_keys))
            self.add_row(*cells, key=row.key)
            self._shown[row.key] = cells

    def set_rows(self, rows: Sequence[RosterRow]) -> None:
        """Make the table show ``rows`` in this order of arrival, touching only what changed."""
        widths = _widths(self._titles, rows)
        if widths != self._widths:
            cursor = self.cursor_coordinate
            self._rebuild(rows, widths)
            if cursor.row < self.row_count:
                self.move_cursor(row=cursor.row, column=cursor.column, animate=False)
            return
        wanted = {row.key: _fit(row.cells, len(self._column_keys)) for row in rows}
        for key in [key for key in self._shown if key not in wanted]:
            self.remove_row(key)
            del self._shown[key]
        for key, cells in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            elif old != cells:
                for column, before, after in zip(self._column_keys, old, cells, strict=True):
                    if before != after:
                        self.update_cell(key, column, after)
            self._shown[key] = cells

    @property
    def highlighted_key(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key: RowKey = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(self, event.row_key.value))


def _widths(titles: tuple[str, ...], rows: Sequence[RosterRow]) -> tuple[int, ...]:
    """Each column's width in terminal cells: its widest title or cell."""
    widths = [cell_len(title) for title in titles]
    for row in rows:
        for i, cell in enumerate(row.cells[: len(widths)]):
            widths[i] = max(widths[i], cell_len(cell))
    return tuple(widths)


def _fit(cells: tuple[str, ...], count: int) -> tuple[str, ...]:
    """Exactly ``count`` cells, so a short row cannot break the table."""
    return (cells + ("",) * count)[:count]
