"""Where a demo grid worker walks: a deterministic patrol path around their grid.

The demo hall has no phones, so the hub's demo moves its grid workers itself: each walks a
loop around their first grid's centre (a few hundred metres across, at a walking pace), with
a phase of their own so the dots do not move in step, and for a few minutes of each hour steps
outside the grid (a meal, an errand) — so a day's inside-grid minutes are realistic, not 100 %.
Pure: the same worker and instant give the same point.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime

from dispatch.models import Point

LOOP_SECONDS = 40 * 60
"""One round of the loop takes this long (~1.1 km at 0.5 m/s: patrol, not a stroll)."""
RADIUS_M = 180.0
"""The loop's radius around the grid's centre."""
OUTSIDE_MINUTES = 8
"""Minutes of each hour spent outside the grid (beyond the loop, away from the centre)."""
_M_PER_DEG_LAT = 111_320.0


def walk_position(staff_id: str, centre: Point, at: datetime) -> Point:
    """The worker's position at ``at``: on the loop, or outside it part of each hour."""
    seed = zlib.crc32(staff_id.encode())
    seconds = at.timestamp() + seed % LOOP_SECONDS
    angle = 2 * math.pi * (seconds % LOOP_SECONDS) / LOOP_SECONDS
    minute_of_hour = int(seconds // 60) % 60
    radius = RADIUS_M * (3.5 if minute_of_hour < OUTSIDE_MINUTES else 1.0)
    dlat = radius * math.sin(angle) / _M_PER_DEG_LAT
    dlon = radius * math.cos(angle) / (_M_PER_DEG_LAT * math.cos(math.radians(centre.lat)))
    return Point(lon=round(centre.lon + dlon, 6), lat=round(centre.lat + dlat, 6))
