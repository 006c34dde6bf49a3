"""Distances between positions on the ground, for routing and duplicate detection."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from dispatch.models import Point

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG); the haversine error from the ellipsoid is < 0.5 %."""


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    lat1, lat2 = radians(a.lat), radians(b.lat)
    dlat = lat2 - lat1
    dlon = radians(b.lon - a.lon)
    h = sin(dlat / 2) ** 2 + cos(lat1) * cos(lat2) * sin(dlon / 2) ** 2
    # min() guards asin against a rounding error pushing h a hair above 1 for antipodes.
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))
