"""The stored side of patrol tracks and of the assessment's case reads, as plain SQL
functions on one connection (the store runs them in one transaction, on SQLite on its writer
thread): write a flush of thinned positions with the patrol days they moved, read a day's
patrol (one row per worker) or points, resume a worker's count after a restart, prune by
age, and read the cases reported in a time window a page at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dispatch.models import Case
from dispatch.tracks import PatrolTally, TrackPoint
from hub.schema import CaseRow, PatrolDayRow, TrackPointRow


@dataclass(frozen=True)
class PatrolState:
    """A worker's counted patrol of one day, as stored."""

    staff: str
    day: date
    tally: PatrolTally


def write_patrol(
    conn: Connection,
    points: Sequence[tuple[str, TrackPoint]],
    days: Sequence[PatrolState],
) -> None:
    """Insert a flush's points and upsert the patrol days they moved, in one transaction."""
    insert_points(conn, points)
    rows = [_day_row(d) for d in days if d.tally.last is not None]
    if not rows:
        return
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(PatrolDayRow)
    keys = ("staff", "day")
    update = {c.name: stmt.excluded[c.name] for c in PatrolDayRow.__table__.columns
              if c.name not in keys}  # fmt: skip
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update), rows)


def _day_row(state: PatrolState) -> dict[str, Any]:
    t = state.tally
    assert t.last is not None
    return {
        "staff": state.staff,
        "day": state.day,
        "points": t.points,
        "patrol_minutes": t.patrol,
        "inside_minutes": t.within,
        "last_at": t.last.at,
        "last_lon": t.last.lon,
        "last_lat": t.last.lat,
        "last_inside": t.last_inside,
    }


def _state(row: Any) -> PatrolState:
    last = TrackPoint(at=row.last_at, lon=row.last_lon, lat=row.last_lat)
    tally = PatrolTally(points=row.points, patrol=row.patrol_minutes, within=row.inside_minutes,
                        last=last, last_inside=row.last_inside)  # fmt: skip
    return PatrolState(staff=row.staff, day=row.day, tally=tally)


def read_patrol_days(conn: Connection, day: date, staff: Collection[str]) -> list[PatrolState]:
    """The patrol of ``day``: one row per worker (of ``staff`` only, when given)."""
    query = select(PatrolDayRow).where(PatrolDayRow.day == day)
    if staff:
        query = query.where(PatrolDayRow.staff.in_(sorted(staff)))
    return [_state(row) for row in conn.execute(query.order_by(PatrolDayRow.staff))]


def latest_patrol(conn: Connection, staff: str) -> PatrolState | None:
    """The worker's latest counted day (a restarted hub goes on counting from it)."""
    query = (
        select(PatrolDayRow)
        .where(PatrolDayRow.staff == staff)
        .order_by(PatrolDayRow.day.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return _state(row) if row is not None else None


_case_decoder = msgspec.json.Decoder(Case)


def insert_points(conn: Connection, points: Sequence[tuple[str, TrackPoint]]) -> None:
    """Store ``(staff, point)`` pairs already thinned; one executemany for the batch."""
    if points:
        rows = [{"staff": s, "at": p.at, "lon": p.lon, "lat": p.lat} for s, p in points]
        conn.execute(insert(TrackPointRow), rows)


def read_points(
    conn: Connection, since: datetime, until: datetime, staff: Collection[str]
) -> dict[str, list[TrackPoint]]:
    """Points with ``since`` <= ``at`` < ``until`` by person, each in time order; of the
    given people only, or everyone's when ``staff`` is empty."""
    query = select(TrackPointRow.staff, TrackPointRow.at, TrackPointRow.lon, TrackPointRow.lat)
    query = query.where(TrackPointRow.at >= since, TrackPointRow.at < until)
    if staff:
        query = query.where(TrackPointRow.staff.in_(sorted(staff)))
    out: defaultdict[str, list[TrackPoint]] = defaultdict(list)
    for row in conn.execute(query.order_by(TrackPointRow.staff, TrackPointRow.at)):
        out[row.staff].append(TrackPoint(at=row.at, lon=row.lon, lat=row.lat))
    return dict(out)


def prune(conn: Connection, points_before: datetime, days_before: date) -> int:
    """Delete points older than ``points_before`` and patrol days before ``days_before``
    (retention); how many points went."""
    result = conn.execute(delete(TrackPointRow).where(TrackPointRow.at < points_before))
    conn.execute(delete(PatrolDayRow).where(PatrolDayRow.day < days_before))
    return int(result.rowcount or 0)


def read_cases_reported(
    conn: Connection, since: datetime, until: datetime, after: str | None, limit: int
) -> list[Case]:
    """Cases reported in [``since``, ``until``) as stored now, by id after ``after``, at most
    ``limit`` (through the ``reported_at`` index: the window's rows, not the table)."""
    query = select(CaseRow.data).where(CaseRow.reported_at >= since, CaseRow.reported_at < until)
    if after is not None:
        query = query.where(CaseRow.id > after)
    rows = conn.execute(query.order_by(CaseRow.id).limit(limit)).scalars()
    return [_case_decoder.decode(d) for d in rows]
