"""The monthly assessment (考核) of a window: the figures of the whole hall and per unit, grid
or worker, each grid worker's reports and validity, their patrol, and the callbacks owed.

Pure assembly over :mod:`dispatch.metrics` (every rule is there, none is copied here): the
``griddesk report`` command and the console's K screen build the same :class:`Assessment`
and only render it differently. The cases counted are those **reported** in the window
(``metrics.by_period``'s rule), as they stand at ``now``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from dispatch import metrics
from dispatch.callbacks import callback_queue
from dispatch.metrics import Figures
from dispatch.models import Case
from dispatch.tracks import PatrolDay


class GroupBy(StrEnum):
    """What the assessment's main table is per."""

    UNIT = "unit"  # the owning unit (职能部门 / 属地)
    GRID = "grid"  # the grid of the case
    WORKER = "worker"  # the owning person: how they handled what they held


_GROUPERS = {
    GroupBy.UNIT: metrics.by_unit,
    GroupBy.GRID: metrics.by_grid,
    GroupBy.WORKER: metrics.by_worker,
}


class Patrol(msgspec.Struct, frozen=True, kw_only=True):
    """A grid worker's patrol over the window's days (from :class:`PatrolDay`s)."""

    days: int = 0  # days with a track
    patrol_minutes: float = 0.0
    inside_minutes: float = 0.0
    short_days: int = 0  # days on patrol under the minimum (巡查有效时间短)


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime
    until: datetime
    now: datetime
    by: GroupBy
    whole: Figures
    rows: dict[str, Figures]  # by unit id, grid code or staff id
    finders: dict[str, Figures]  # per grid worker who found cases: report count and validity
    patrols: dict[str, Patrol]  # per grid worker with a patrol record in the window
    callbacks_owed: int
    callbacks_overdue: int


def patrol_totals(days: Iterable[PatrolDay]) -> dict[str, Patrol]:
    """Each worker's patrol days summed. A day with no point is neither a patrol day nor a
    short one: the hub does not know who was off that day (rest days, leave)."""
    sums: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    for d in days:
        s = sums[d.staff]
        s[0] += 1 if d.points else 0
        s[1] += d.patrol_minutes
        s[2] += d.inside_minutes
        s[3] += 1 if d.points and d.short else 0
    return {
        staff: Patrol(
            days=int(s[0]),
            patrol_minutes=round(s[1], 1),
            inside_minutes=round(s[2], 1),
            short_days=int(s[3]),
        )
        for staff, s in sorted(sums.items())
    }


def assess(
    cases: Iterable[Case],
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    by: GroupBy = GroupBy.UNIT,
    patrol_days: Iterable[PatrolDay] = (),
    callback_due: timedelta = timedelta(hours=48),
    grid_workers: Iterable[str] = (),
) -> Assessment:
    """The assessment of the cases reported in [``since``, ``until``), at ``now``."""
    window = [c for c in cases if since <= c.reported_at < until]
    owed = callback_queue(window, callback_due)
    finders = metrics.by_finder(window, now)
    for staff in grid_workers:  # grid workers who found nothing still have a row
        finders.setdefault(staff, Figures())
    return Assessment(
        since=since,
        until=until,
        now=now,
        by=by,
        whole=metrics.figures(window, now),
        rows=_GROUPERS[by](window, now),
        finders=dict(sorted(finders.items())),
        patrols=patrol_totals(patrol_days),
        callbacks_owed=len(owed),
        callbacks_overdue=sum(1 for c in owed if c.overdue(now)),
    )
