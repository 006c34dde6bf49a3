"""The hub's duplicate index against the plain rule: for any hall of open and finished cases,
changed any way (closed, reopened, moved to another category or grid), ``find_duplicate`` over
the few cases :class:`OpenCases` hands it picks exactly what it picks over every case."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.catalog import Catalog
from dispatch.config import IntakeSettings, Settings
from dispatch.hall import Hall
from dispatch.models import Case, Kind, Point, Source, Status, Urgency
from dispatch.routing import OpenCases, duplicate_window, find_duplicate

NOW = datetime(2026, 7, 15, 2, 30, tzinfo=UTC)
WINDOW_MINUTES = 120
CATEGORIES = ("E0101", "E0102")
GRIDS = ("G1", "G2", None)
STATUSES = (Status.REPORTED, Status.DISPATCHED, Status.CLOSED, Status.MERGED)


HALL = Hall.of(
    Settings(intake=IntakeSettings(duplicate_window_minutes=WINDOW_MINUTES)), Catalog.default()
)

# Report times on a half-hour grid around NOW, so many fall exactly on the window's edges.
minutes = st.integers(min_value=-12, max_value=4).map(lambda half_hours: 30 * half_hours)
positions = st.one_of(
    st.none(),
    st.builds(
        Point,
        lon=st.floats(min_value=121.499, max_value=121.501),
        lat=st.floats(min_value=31.199, max_value=31.201),
    ),
)


@st.composite
def cases(draw: st.DrawFn, case_id: str) -> Case:
    return Case(
        id=case_id,
        kind=Kind.EVENT,
        category=draw(st.sampled_from(CATEGORIES)),
        source=Source.PATROL,
        urgency=Urgency.GENERAL,
        status=draw(st.sampled_from(STATUSES)),
        title="t",
        grid=draw(st.sampled_from(GRIDS)),
        position=draw(positions),
        reported_at=NOW + timedelta(minutes=draw(minutes)),
        duplicate_of=draw(st.sampled_from((None, "X"))),
    )


@st.composite
def halls(draw: st.DrawFn) -> list[list[Case]]:
    """Each case's versions in turn: what the hub puts into the index one after another."""
    count = draw(st.integers(min_value=0, max_value=30))
    lives = []
    for n in range(count):
        versions = draw(st.lists(cases(f"C{n:03d}"), min_size=1, max_size=4))
        # A case keeps its report time through its life, whatever else changes.
        lives.append([_with(v, reported_at=versions[0].reported_at) for v in versions])
    return lives


def _with(case: Case, **changes: object) -> Case:
    return msgspec.structs.replace(case, **changes)


@settings(max_examples=300, deadline=None)
@given(lives=halls(), new=cases("NEW"), order=st.randoms(use_true_random=False))
def test_the_index_hands_find_duplicate_what_it_would_pick_from_all(
    lives: list[list[Case]], new: Case, order: random.Random
) -> None:
    index = OpenCases()
    latest: dict[str, Case] = {}
    # Interleave the cases' changes as a hall would; each case's own versions stay in order.
    pending = [list(life) for life in lives]
    steps = [n for n, life in enumerate(pending) for _ in life]
    order.shuffle(steps)
    for n in steps:
        version = pending[n].pop(0)
        index.put(latest.get(version.id), version)
        latest[version.id] = version

    window = duplicate_window(HALL)
    near = set(index.near(new.category, new.grid, new.reported_at, window))
    expected = {
        c.id
        for c in latest.values()
        if c.is_open
        and (c.category, c.grid) == (new.category, new.grid)
        and abs(c.reported_at - new.reported_at) <= window
    }
    assert near == expected
    # Built at once from the same cases (as the hub does at start), the same.
    assert set(
        OpenCases(latest.values()).near(new.category, new.grid, new.reported_at, window)
    ) == (expected)
    picked = find_duplicate(new, [latest[i] for i in near], HALL)
    assert picked == find_duplicate(new, latest.values(), HALL)


def test_a_case_leaves_when_it_closes_and_moves_when_its_category_changes() -> None:
    index = OpenCases()
    window = duplicate_window(HALL)
    first = Case(id="A", kind=Kind.EVENT, category="E0101", source=Source.PATROL,
                 urgency=Urgency.GENERAL, status=Status.REPORTED, title="t", grid="G1",
                 reported_at=NOW)  # fmt: skip
    index.put(None, first)
    assert list(index.near("E0101", "G1", NOW + window, window)) == ["A"]
    assert list(index.near("E0101", "G1", NOW - window, window)) == ["A"]
    assert list(index.near("E0101", "G1", NOW + window + timedelta(seconds=1), window)) == []
    moved = _with(first, category="E0102")
    index.put(first, moved)
    assert list(index.near("E0101", "G1", NOW, window)) == []
    assert list(index.near("E0102", "G1", NOW, window)) == ["A"]
    index.put(moved, _with(moved, status=Status.CLOSED))
    assert list(index.near("E0102", "G1", NOW, window)) == []
