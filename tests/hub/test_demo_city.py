"""The demo city: the street a demo starts on must be complete, plausible and routable."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Acts, Catalog
from dispatch.config import Settings
from dispatch.geo import distance_m
from dispatch.hall import Hall
from dispatch.models import (
    AreaKind,
    Case,
    Duty,
    Kind,
    Level,
    Shift,
    Source,
    Status,
    UnitKind,
    Urgency,
)
from dispatch.routing import Suggestion, Why, open_load, rank_staff, suggest
from hub.demo_city import DISTRICT_HALL, LEADERSHIP, STREET_OFFICE, City, demo_city

DEPT_KEYS = {
    "enforcement",
    "police",
    "market",
    "housing",
    "sanitation",
    "municipal",
    "greening",
    "traffic",
    "water",
    "power",
    "gas",
    "telecom",
}

TREE = [AreaKind.DISTRICT, AreaKind.STREET, AreaKind.GRID, AreaKind.CELL]


@pytest.fixture(scope="module")
def city() -> City:
    return demo_city()


@pytest.fixture(scope="module")
def hall(city: City) -> Hall:
    settings = Settings()
    return Hall(
        settings=settings,
        catalog=Catalog.default(),
        calendar=WorkingCalendar(settings.calendar, ZoneInfo("Asia/Shanghai")),
        areas={a.code: a for a in city.areas},
        units={u.id: u for u in city.units},
        staff={s.id: s for s in city.staff},
    )


def of_kind(city: City, kind: AreaKind) -> list[str]:
    return [a.code for a in city.areas if a.kind is kind]


def test_one_street_five_grids_thirty_four_cells(city: City) -> None:
    counts = Counter(a.kind for a in city.areas)
    assert counts == {AreaKind.DISTRICT: 1, AreaKind.STREET: 1, AreaKind.GRID: 5, AreaKind.CELL: 34}
    codes = [a.code for a in city.areas]
    assert len(set(codes)) == len(codes)
    assert all(len(g) == 12 and g.isdigit() for g in of_kind(city, AreaKind.GRID))
    by_code = {a.code: a for a in city.areas}
    for a in city.areas:
        if a.parent is not None:
            assert TREE.index(by_code[a.parent].kind) == TREE.index(a.kind) - 1
            assert a.code.startswith(a.parent)


def test_every_cell_lies_near_its_grid(city: City) -> None:
    by_code = {a.code: a for a in city.areas}
    for cell in (a for a in city.areas if a.kind is AreaKind.CELL):
        assert cell.centre is not None and cell.parent is not None
        grid_centre = by_code[cell.parent].centre
        assert grid_centre is not None
        assert distance_m(cell.centre, grid_centre) < 600


def test_every_grid_has_a_residents_committee_under_the_street_office(city: City) -> None:
    units = {u.id: u for u in city.units}
    street = next(a for a in city.areas if a.kind is AreaKind.STREET)
    assert street.locality is not None and units[street.locality].kind is UnitKind.LOCALITY
    for grid in (a for a in city.areas if a.kind is AreaKind.GRID):
        assert grid.locality is not None
        committee = units[grid.locality]
        assert committee.kind is UnitKind.LOCALITY
        assert committee.area == grid.code
        assert committee.parent == street.locality


def test_every_department_type_is_staffed(city: City) -> None:
    departments = [u for u in city.units if u.kind is UnitKind.DEPARTMENT]
    assert {u.dept for u in departments} == DEPT_KEYS
    assert len([u for u in departments if u.dept == "enforcement"]) == 2
    staffed = {s.unit for s in city.staff}
    assert {u.id for u in city.units} <= staffed


def test_the_chain_of_command_has_a_desk_per_level_with_people_on_duty(city: City) -> None:
    desks = {u.id: u.desk for u in city.units if u.desk is not None}
    assert desks == {
        STREET_OFFICE: Level.STREET, DISTRICT_HALL: Level.DISTRICT, LEADERSHIP: Level.LEADERSHIP
    }  # fmt: skip
    for unit in desks:
        assert any(s.unit == unit and s.duty is Duty.ON_DUTY for s in city.staff), unit


def test_the_roster(city: City) -> None:
    units = {u.id for u in city.units}
    grids = set(of_kind(city, AreaKind.GRID))
    assert 110 <= len(city.staff) <= 130
    assert len({s.id for s in city.staff}) == len(city.staff)
    assert len({s.name for s in city.staff}) == len(city.staff)
    assert len({s.phone for s in city.staff}) == len(city.staff)
    for s in city.staff:
        assert s.unit in units
        # The district's desks patrol no grid; everyone else has home grids.
        assert bool(s.grids) is (s.unit not in (DISTRICT_HALL, LEADERSHIP))
        assert set(s.grids) <= grids
        assert s.position is not None
        assert s.phone is not None and s.phone.startswith("138") and len(s.phone) == 11
        assert 2 <= len(s.name) <= 3
        assert s.duty is (Duty.ON_DUTY if s.shift is Shift.DAY else Duty.STANDBY)
    standby_share = sum(s.shift is Shift.STANDBY for s in city.staff) / len(city.staff)
    assert 0.15 <= standby_share <= 0.35


def test_every_grid_has_a_head_and_at_least_two_grid_workers(city: City) -> None:
    for grid in of_kind(city, AreaKind.GRID):
        roles = Counter(s.role for s in city.staff if grid in s.grids)
        assert roles["网格长"] >= 1, grid
        assert roles["网格员"] >= 2, grid


def test_the_city_is_the_same_on_every_call(city: City) -> None:
    assert demo_city() == city


def test_routing_finds_a_unit_for_every_category_in_every_grid(city: City, hall: Hall) -> None:
    now = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
    for grid in of_kind(city, AreaKind.GRID) + of_kind(city, AreaKind.CELL):
        for category in hall.catalog:
            c = Case(
                id="C1",
                kind=category.kind,
                category=category.code,
                source=Source.PATROL,
                urgency=Urgency.GENERAL,
                status=Status.ACCEPTED,
                title=category.name,
                grid=grid,
                reported_at=now,
            )
            suggestion = suggest(c, hall)
            assert suggestion is not None, (grid, category.code)
            unit, where = suggestion.unit, (grid, category.code, unit_id_of(suggestion))
            if category.who_acts is Acts.LOCALITY or category.dept == "locality":
                assert suggestion.why is Why.LOCALITY, where
                assert unit.kind is UnitKind.LOCALITY and unit.area is not None, where
                assert grid.startswith(unit.area), where
            else:
                assert (suggestion.why, unit.dept) == (Why.DEPT, category.dept), where
            if category.who_acts is Acts.JOINT:
                (helper,) = suggestion.supporting
                assert helper.kind is UnitKind.LOCALITY and grid.startswith(helper.area or "-")
            else:
                assert suggestion.supporting == (), where
            assert rank_staff(c, unit.id, hall, now, open_load([])), where


def unit_id_of(suggestion: Suggestion) -> str:
    return suggestion.unit.id


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("E0403", "gas"),  # 燃气泄漏
        ("E0401", "municipal"),  # 路面塌陷
        ("E0402", "municipal"),  # 井盖缺失
        ("E0404", "water"),  # 自来水管破裂
        ("E0405", "power"),  # 供电线缆断落
    ],
)
def test_hazards_go_to_their_department_with_the_locality_supporting(
    hall: Hall, code: str, unit: str
) -> None:
    """The 屯溪 report's flaw (先属地后属主): a gas leak went to the residents' committee."""
    c = Case(
        id="C1",
        kind=Kind.EVENT,
        category=code,
        source=Source.PHOTO,
        urgency=Urgency.URGENT,
        status=Status.ACCEPTED,
        title="险情",
        grid="310115001002",
        reported_at=datetime(2026, 3, 16, 2, 0, tzinfo=UTC),
    )
    suggestion = suggest(c, hall)
    assert suggestion is not None
    assert (suggestion.unit.id, suggestion.why) == (unit, Why.DEPT)
    assert [u.id for u in suggestion.supporting] == ["jw-2"]  # 临河里居委会 helps
