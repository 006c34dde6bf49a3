"""Routing's suggestion for a case as a person reads it: the units, why each, and the people.

One rendering for ``griddesk ctl suggest ID`` and the console's ``:suggest ID``, in the
operator's language, so the terminal and the board give the same answer with the same reasons
("燃气泄漏 → 东川燃气公司：主管部门").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.i18n import Translate
from console.labels import label
from dispatch.hall import Hall
from dispatch.models import Case
from dispatch.routing import Ranked, Why, rank_staff, suggest

PEOPLE_SHOWN = 5
"""People listed per unit: the first few are the choice; the rest is the roster."""


def suggestion_lines(
    case: Case,
    what: str,
    hall: Hall,
    now: datetime,
    load: Callable[[str], int],
    tr: Translate,
) -> list[str]:
    """The suggestion for ``case`` (``what``: its category as the reader names it): one line
    per unit (lead, then supporting), each followed by its best people with what ranked them;
    one line saying so when nobody fits."""
    suggestion = suggest(case, hall)
    if suggestion is None:
        return [f"{case.id} {what} → " + tr("no unit of the hall fits this case")]
    lines = [f"{case.id} {what} → {suggestion.unit.name}：{label(suggestion.why, tr)}"]
    lines += _people(case, suggestion.unit.id, hall, now, load, tr)
    for helper in suggestion.supporting:
        lines.append(f"  + {helper.name}：{label(Why.LOCALITY, tr)} · {tr('supports')}")
        lines += _people(case, helper.id, hall, now, load, tr)
    return lines


def _people(
    case: Case, unit: str, hall: Hall, now: datetime, load: Callable[[str], int], tr: Translate
) -> list[str]:
    ranked = rank_staff(case, unit, hall, now, load)
    if not ranked:
        return ["    " + tr("nobody of this unit is on duty or on standby")]
    return [f"    {n}. {person_line(r, tr)}" for n, r in enumerate(ranked[:PEOPLE_SHOWN], 1)]


def person_line(r: Ranked, tr: Translate) -> str:
    """A ranked person with what ranked them: duty, field status, distance, own grid, load."""
    s = r.staff
    where = f"{r.distance_m:,.0f} m" if r.distance_m is not None else "—"
    grid = f"  {tr('own grid')}" if r.covers_grid else ""
    return (
        f"{s.name}  {s.role}  {label(s.duty, tr)} · {label(s.field, tr)}  {where}"
        f"{grid}  {tr('load')} {r.load}"
    )
