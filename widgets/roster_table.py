"""The on-duty roster: a ``DataTable`` keyed by staff id, updated in place.

A roster is small (tens to a few hundred people), so a ``DataTable`` is right here; what
matters is that a status change rewrites one cell, not the table, so the cursor and scroll
stay put while the roster moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

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

    def set_columns(self, titles: Sequence[str]) -> None:
        """New column titles; the rows are kept only if the column count is unchanged."""
        rows = [RosterRow(key, cells) for key, cells in self._shown.items()]
        self.clear(columns=True)
        self._shown = {}
        self._column_keys = tuple(f"c{i}" for i in range(len(titles)))
        for key, title in zip(self._column_keys, titles, strict=True):
            self.add_column(title, key=key)
        if all(len(row.cells) == len(titles) for row in rows):
            self.set_rows(rows)

    def set_rows(self, rows: Sequence[RosterRow]) -> None:
        """Make the table show ``rows`` in this order of arrival, touching only what changed."""
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


def _fit(cells: tuple[str, ...], count: int) -> tuple[str, ...]:
    """Exactly ``count`` cells, so a short row cannot break the table."""
    return (cells + ("",) * count)[:count]
