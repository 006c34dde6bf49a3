"""The wall's figures, by delta: a case taken in moves the backlog, the grid and the hour; a
closure, the closed bars; a missed deadline, the overdue units; and after any run of batches
the counts equal a fresh count of the same hall (what a resync would show)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from dispatch.calendar import WorkingCalendar
from dispatch.config import Settings
from dispatch.metrics import figures
from dispatch.models import (
    Basis,
    Case,
    Deadline,
    Kind,
    Level,
    Source,
    Status,
    Step,
    Urgency,
)
from hub.demo_city import cell_code, demo_city, grid_code
from wallboard.wall_model import WallData, WallModel

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 16, 2, 30, tzinfo=UTC)  # Monday 10:30 in the hall


def model() -> WallModel:
    city = demo_city()
    wall = WallModel(tz=TZ, calendar=WorkingCalendar.from_settings(Settings()))
    wall.replace([], city.staff, city.units, city.areas, NOW)
    return wall


def case(n: int, **fields: object) -> Case:
    base = Case(
        id=f"C{n:04d}",
        kind=Kind.EVENT,
        category="E0101",
        source=Source.PATROL,
        urgency=Urgency.GENERAL,
        status=Status.REPORTED,
        title=f"案件{n}",
        grid=cell_code(2, 1),
        reported_at=NOW - timedelta(minutes=5),
    )
    return msgspec.structs.replace(base, **fields)


def test_a_case_taken_in_moves_the_backlog_the_map_and_the_hour() -> None:
    wall = model()
    before = wall.data()
    wall.apply([case(1)], [], NOW, ())
    after = wall.data()
    assert after.by_level[Level.COMMUNITY] == before.by_level[Level.COMMUNITY] + 1
    assert after.by_status[Status.REPORTED] == before.by_status[Status.REPORTED] + 1
    grid = {g.code: g.open_cases for g in after.grids}
    assert grid[grid_code(2)] == 1  # a cell's case shades its responsibility grid
    assert after.intake_today[10] == 1  # reported at 10:25 local
    assert sum(after.intake_today) == 1


def test_a_closure_leaves_the_backlog_and_joins_the_closed_bars() -> None:
    wall = model()
    wall.apply([case(1)], [], NOW, ())
    closed = case(1, status=Status.CLOSED, closed_at=NOW, accepted_at=NOW, on_time=True)
    wall.apply([closed], [], NOW, ())
    data = wall.data()
    assert sum(data.by_level.values()) == 0
    assert {g.code: g.open_cases for g in data.grids}[grid_code(2)] == 0
    assert data.closed_today[10] == 1
    assert data.month.closed == 1 and data.month.closure_rate == 1.0


def test_a_missed_deadline_names_the_unit_and_the_urgent_countdown_runs_red() -> None:
    wall = model()
    due = NOW + timedelta(minutes=10)
    deadline = Deadline(
        step=Step.ON_SCENE,
        start=NOW - timedelta(minutes=5),
        due=due,
        limit_minutes=15,
        basis=Basis.WALL,
    )
    urgent = case(
        1,
        urgency=Urgency.URGENT,
        status=Status.DISPATCHED,
        owner_unit="sanitation",
        deadlines=(deadline,),
        accepted_at=NOW,
        dispatched_at=NOW,
    )
    wall.apply([urgent], [], NOW, ())
    data = wall.data()
    assert data.overdue_units == []
    assert [r.light.colour for r in data.urgent] == ["green"]
    wall.advance(due + timedelta(seconds=30))
    data = wall.data()
    assert data.overdue_units == [("青石环卫所", 1)]
    assert data.urgent[0].light.colour == "red" and data.urgent[0].light.seconds_left == -30
    assert len(data.urgent_points) == 1  # the map rings it (at its grid's centre)


def test_counts_by_delta_equal_a_fresh_count_after_any_batches() -> None:
    rng = random.Random(7)
    wall = model()
    held: dict[str, Case] = {}
    statuses = [Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.CLOSED]
    for step in range(300):
        n = rng.randrange(60)
        status = rng.choice(statuses)
        new = case(
            n,
            status=status,
            level=rng.choice(list(Level)),
            source=rng.choice(list(Source)),
            grid=cell_code(rng.randrange(1, 6), 1),
            reported_at=NOW - timedelta(hours=rng.randrange(0, 24 * 10)),
            accepted_at=NOW if status is not Status.REPORTED else None,
            closed_at=NOW if status is Status.CLOSED else None,
            on_time=rng.random() < 0.5 if status is Status.CLOSED else None,
            version=step + 1,
        )
        removed = [new.id] if rng.random() < 0.05 else []
        if removed:
            held.pop(new.id, None)
            wall.apply([], [], NOW, removed)
        else:
            held[new.id] = new
            wall.apply([new], [], NOW, ())
    city = demo_city()
    fresh = WallModel(tz=TZ, calendar=WorkingCalendar.from_settings(Settings()))
    fresh.replace(held.values(), city.staff, city.units, city.areas, NOW)
    assert _comparable(wall.data()) == _comparable(fresh.data())
    month_start = datetime(2026, 3, 1, tzinfo=TZ)
    assert wall.data().month == figures(
        [c for c in held.values() if c.reported_at >= month_start], NOW
    )


def _comparable(data: WallData) -> tuple[object, ...]:
    return (
        data.intake_today,
        data.closed_today,
        data.intake_last_week,
        data.closed_last_week,
        data.by_level,
        data.by_status,
        data.month,
        data.overdue_units,
        [(g.code, g.open_cases, g.urgent_cases) for g in data.grids],
    )


def test_last_weeks_same_day_is_drawn_beside_today() -> None:
    wall = model()
    week_ago = NOW - timedelta(days=7)
    closed = case(
        2, reported_at=week_ago - timedelta(hours=1), status=Status.CLOSED,
        accepted_at=week_ago, closed_at=week_ago, on_time=True,
    )  # fmt: skip
    wall.apply([case(1, reported_at=week_ago), closed], [], NOW, ())
    data = wall.data()
    assert data.intake_last_week[10] == 1 and data.intake_last_week[9] == 1
    assert data.closed_last_week[10] == 1
    assert sum(data.intake_today) == sum(data.closed_today) == 0
    assert data.hour_now == 10
