"""The stored side of patrol tracks and of the assessment's case reads, as plain SQL
functions on one connection (the store runs them in one transaction, on SQLite on its writer
thread): insert a batch of thinned positions, read a day's points, prune by age, and read
the cases reported in a time window a page at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

import msgspec
from sqlalchemy import Connection, delete, insert, select

from dispatch.models import Case
from dispatch.tracks import TrackPoint
from hub.schema import CaseRow, TrackPointRow

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


def last_points(conn: Connection, since: datetime) -> dict[str, TrackPoint]:
    """Each person's latest point at or after ``since`` (the thinning's memory at start)."""
    points = read_points(conn, since, datetime.max.replace(tzinfo=since.tzinfo), ())
    return {staff: track[-1] for staff, track in points.items() if track}


def prune_points(conn: Connection, before: datetime) -> int:
    """Delete points older than ``before`` (retention); how many went."""
    result = conn.execute(delete(TrackPointRow).where(TrackPointRow.at < before))
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
