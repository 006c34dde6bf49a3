"""The assessment (``dispatch.assessment``) in words: tables, Markdown and CSV.

``griddesk report`` prints :func:`markdown` or :func:`csv_text`; the K screen shows the same
:func:`figure_table` and :func:`worker_table`. Rates are shown as percentages with two
decimals ("96.57 %"), "—" when there is nothing to divide by (no cases is not 0 %); in CSV
as plain numbers ("96.57"), empty for "—". Every heading and column is a gettext id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.wording import Wording
from dispatch.assessment import Assessment, GroupBy, Patrol
from dispatch.metrics import Figures

FIGURE_COLUMNS = (
    "Reported",
    "Accepted",
    "Closed",
    "Closure rate",
    "On-time closure rate",
    "Rework rate",
    "Return rate",
    "Found-first share",
    "Satisfaction",
    "Overdue now",
)
"""The figures' columns (gettext ids), as docs/FIGURES.md names them."""

WORKER_COLUMNS = (
    "Grid worker",
    "Reports",
    "Accepted",
    "Validity",
    "Patrol days",
    "Patrol minutes",
    "Minutes in own grid",
    "Short-patrol days",
)
"""The grid workers' columns (gettext ids): report count, validity, patrol."""

GROUP_TITLES: Mapping[GroupBy, str] = {
    GroupBy.UNIT: "Unit",
    GroupBy.GRID: "Grid",
    GroupBy.WORKER: "Worker",
}
"""The main table's first column, by what it is per (gettext ids)."""

WHOLE_HALL = "Whole hall"
NONE_SHOWN = "—"

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]
"""Column headings (translated) and rows of cells."""


def percent(rate: float | None, decimals: int = 2) -> str:
    """A rate as the report shows it ("96.57 %"); with ``decimals`` 1 as a narrow screen
    does ("96.6%")."""
    if rate is None:
        return NONE_SHOWN
    return f"{rate * 100:.2f} %" if decimals == 2 else f"{rate * 100:.{decimals}f}%"


def _number(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.2f}"


def _rates(f: Figures) -> tuple[float | None, ...]:
    return (f.closure_rate, f.on_time_rate, f.rework_rate, f.return_rate, f.proactive_share,
            f.satisfaction_rate)  # fmt: skip


def figure_cells(f: Figures, decimals: int = 2) -> tuple[str, ...]:
    """A row of :data:`FIGURE_COLUMNS` for ``f``."""
    rates = tuple(percent(r, decimals) for r in _rates(f))
    return (str(f.reported), str(f.accepted), str(f.closed), *rates, str(f.overdue))


def _name(a: Assessment, key: str, words: Wording) -> str:
    if a.by is GroupBy.UNIT:
        return words.unit(key)
    if a.by is GroupBy.GRID:
        return words.grid(key)
    return words.person(key)


def figure_table(a: Assessment, words: Wording, decimals: int = 2) -> Table:
    """The whole hall's figures first, then one row per unit, grid or worker."""
    tr = words.tr
    heads = (tr(GROUP_TITLES[a.by]), *(tr(c) for c in FIGURE_COLUMNS))
    rows = [(tr(WHOLE_HALL), *figure_cells(a.whole, decimals))]
    rows += [(_name(a, key, words), *figure_cells(f, decimals)) for key, f in a.rows.items()]
    return heads, rows


def _workers(a: Assessment) -> list[str]:
    return sorted({*a.finders, *a.patrols})


def worker_table(a: Assessment, words: Wording, decimals: int = 2) -> Table:
    """One row per grid worker: reports found, accepted, validity, and the patrol."""
    tr = words.tr
    rows: list[tuple[str, ...]] = []
    for staff in _workers(a):
        f = a.finders.get(staff, Figures())
        p = a.patrols.get(staff, Patrol())
        rows.append((words.person(staff), str(f.reported), str(f.accepted),
                     percent(f.validity_rate, decimals), str(p.days), f"{p.patrol_minutes:.0f}",
                     f"{p.inside_minutes:.0f}", str(p.short_days)))  # fmt: skip
    return tuple(tr(c) for c in WORKER_COLUMNS), rows


def _md_table(table: Table) -> list[str]:
    heads, rows = table
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    out += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return out


def _day(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _date(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d")


def markdown(a: Assessment, words: Wording, tz: ZoneInfo) -> str:
    """The monthly report: a ``#`` heading, the window, the figures table, the grid workers'
    table and the callbacks still owed."""
    tr = words.tr
    out = [
        "# " + tr("Assessment report {since} – {until}").format(
            since=_date(a.since, tz), until=_date(a.until - timedelta(microseconds=1), tz)),
        "",
        "- " + tr("Window") + f": {_day(a.since, tz)} – {_day(a.until, tz)} ({tz.key})",
        "- " + tr("Counted") + ": " + tr("cases reported in the window, as they stand at {now}")
        .format(now=_day(a.now, tz)),
        "- " + tr("Callbacks owed") + f": {a.callbacks_owed} · "
        + tr("overdue") + f": {a.callbacks_overdue}",
        "",
        "## " + tr("Figures by {group}").format(group=tr(GROUP_TITLES[a.by])),
        "",
        *_md_table(figure_table(a, words)),
        "",
        "## " + tr("Grid workers"),
        "",
    ]  # fmt: skip
    workers = worker_table(a, words)
    out += _md_table(workers) if workers[1] else [tr("None.")]
    return "\n".join(out) + "\n"


CSV_COLUMNS = ("Section", "Id", "Label", *FIGURE_COLUMNS, *WORKER_COLUMNS[3:])


def csv_text(a: Assessment, words: Wording) -> str:
    """The same figures as one CSV table (a spreadsheet's input): a row for the whole hall,
    one per unit, grid or worker, one per grid worker; rates as percentages, empty for none."""
    tr = words.tr
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([tr(c) for c in CSV_COLUMNS])
    blank = [""] * (len(WORKER_COLUMNS) - 3)
    writer.writerow([tr(WHOLE_HALL), "", "", *_csv_figures(a.whole), *blank])
    group = tr(GROUP_TITLES[a.by])
    for key, f in a.rows.items():
        writer.writerow([group, key, _name(a, key, words), *_csv_figures(f), *blank])
    worker = tr("Grid worker")
    for staff in _workers(a):
        f = a.finders.get(staff, Figures())
        p = a.patrols.get(staff, Patrol())
        writer.writerow([worker, staff, words.person(staff), *_csv_figures(f),
                         _number(f.validity_rate), p.days, f"{p.patrol_minutes:.1f}",
                         f"{p.inside_minutes:.1f}", p.short_days])  # fmt: skip
    return buffer.getvalue()


def _csv_figures(f: Figures) -> list[str]:
    rates = [_number(r) for r in _rates(f)]
    return [str(f.reported), str(f.accepted), str(f.closed), *rates, str(f.overdue)]


__all__ = ["csv_text", "figure_table", "markdown", "worker_table"]
