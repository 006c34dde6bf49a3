"""The demo city's grids have real-looking outlines: each grid's centre, cells and staff lie
inside their own grid's polygon and no other, and the outlines reach the client in the
snapshot like the rest of an area."""

from __future__ import annotations

import msgspec

from dispatch.models import Area, AreaKind, Point
from hub.demo_city import demo_city


def inside(p: Point, ring: tuple[Point, ...]) -> bool:
    """Ray casting: whether ``p`` lies inside the polygon ``ring``."""
    hit = False
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        if (a.lat > p.lat) != (b.lat > p.lat):
            cross = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            if p.lon < cross:
                hit = not hit
    return hit


def test_every_grid_has_an_outline_holding_its_centre_and_cells_only() -> None:
    city = demo_city()
    grids = [a for a in city.areas if a.kind is AreaKind.GRID]
    assert len(grids) == 5
    for grid in grids:
        assert len(grid.outline) >= 6  # a street block, not a box
        cells = [a for a in city.areas if a.parent == grid.code]
        for place in [grid, *cells]:
            assert place.centre is not None
            owners = [g.code for g in grids if inside(place.centre, g.outline)]
            assert owners == [grid.code], place.name


def test_staff_stand_inside_the_grid_they_patrol_first() -> None:
    city = demo_city()
    outlines = {a.code: a.outline for a in city.areas if a.kind is AreaKind.GRID}
    placed = [s for s in city.staff if s.position is not None and s.grids]
    assert len(placed) > 100
    for person in placed:
        assert person.position is not None
        assert inside(person.position, outlines[person.grids[0]]), person.name


def test_neighbouring_grids_share_their_border_points() -> None:
    city = demo_city()
    rings = [set(a.outline) for a in city.areas if a.kind is AreaKind.GRID]
    shared = sum(1 for i, a in enumerate(rings) for b in rings[i + 1 :] if len(a & b) >= 2)
    assert shared >= 5  # the tiles meet along their borders, no gaps between them


def test_an_outline_survives_the_wire() -> None:
    grid = next(a for a in demo_city().areas if a.kind is AreaKind.GRID)
    assert msgspec.json.decode(msgspec.json.encode(grid), type=Area) == grid
