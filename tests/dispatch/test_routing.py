"""Routing suggestions: which unit, which person, and which open case a new one repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.geo import distance_m
from dispatch.hall import Hall
from dispatch.models import (
    Area,
    AreaKind,
    Case,
    Duty,
    Field,
    Kind,
    Point,
    Shift,
    Source,
    Staff,
    Status,
    Unit,
    UnitKind,
    Urgency,
)
from dispatch.routing import (
    Why,
    find_duplicate,
    open_load,
    rank_staff,
    suggest,
    suggest_unit,
    text_similarity,
)

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
G1_CENTRE = Point(lon=121.500, lat=31.200)
G2_CENTRE = Point(lon=121.510, lat=31.200)  # about 950 m east of G1


def _hall(units: list[Unit], staff: list[Staff] | None = None) -> Hall:
    settings = Settings()
    areas = [
        Area(code="D", name="区", kind=AreaKind.DISTRICT),
        Area(code="S", name="街道", kind=AreaKind.STREET, parent="D", locality="office"),
        Area(
            code="G1",
            name="一网格",
            kind=AreaKind.GRID,
            parent="S",
            locality="jw1",
            centre=G1_CENTRE,
        ),
        Area(code="G2", name="二网格", kind=AreaKind.GRID, parent="S", centre=G2_CENTRE),
        Area(code="G1C1", name="单元", kind=AreaKind.CELL, parent="G1"),
    ]
    return Hall(
        settings=settings,
        catalog=Catalog.default(),
        calendar=WorkingCalendar(settings.calendar, ZoneInfo("Asia/Shanghai")),
        areas={a.code: a for a in areas},
        units={u.id: u for u in units},
        staff={s.id: s for s in staff or []},
    )


OFFICE = Unit(id="office", name="街道城运中心", kind=UnitKind.LOCALITY, dept="locality", area="S")
JW1 = Unit(
    id="jw1", name="一居委", kind=UnitKind.LOCALITY, dept="locality", area="G1", parent="office"
)
ENF_STREET = Unit(
    id="enf1", name="城管一中队", kind=UnitKind.DEPARTMENT, dept="enforcement", area="S"
)
ENF_G2 = Unit(id="enf2", name="城管二中队", kind=UnitKind.DEPARTMENT, dept="enforcement", area="G2")
WATER = Unit(id="water", name="供水", kind=UnitKind.DEPARTMENT, dept="water")
UNITS = [OFFICE, JW1, ENF_STREET, ENF_G2, WATER]


def case(
    category: str,
    grid: str | None = "G1",
    *,
    id: str = "C1",
    position: Point | None = None,
    reported_at: datetime = NOW,
    status: Status = Status.REPORTED,
    owner_staff: str | None = None,
    duplicate_of: str | None = None,
) -> Case:
    kind = Kind.EVENT if category.startswith("E") else Kind.COMPONENT
    return Case(
        id=id,
        kind=kind,
        category=category,
        source=Source.PATROL,
        urgency=Urgency.GENERAL,
        status=status,
        title="t",
        grid=grid,
        position=position,
        reported_at=reported_at,
        owner_staff=owner_staff,
        duplicate_of=duplicate_of,
    )


# --- geo -----------------------------------------------------------------------------------


def test_distance_matches_known_values() -> None:
    assert distance_m(G1_CENTRE, G1_CENTRE) == 0
    # One degree of latitude is ~111.2 km everywhere on the sphere.
    assert distance_m(Point(lon=121.5, lat=31.0), Point(lon=121.5, lat=32.0)) == pytest.approx(
        111_195, rel=1e-3
    )
    # Shanghai People's Square to Beijing Tiananmen is about 1,067 km.
    shanghai, beijing = Point(lon=121.4737, lat=31.2304), Point(lon=116.3975, lat=39.9087)
    assert distance_m(shanghai, beijing) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(shanghai, beijing) == distance_m(beijing, shanghai)


# --- which unit ----------------------------------------------------------------------------


def test_component_goes_to_a_unit_of_the_category_department() -> None:
    hall = _hall(UNITS)
    assert suggest_unit(case("0101", "G1"), hall) == WATER  # 上水井盖: the water company
    # 健身设施 belongs to the locality: the 居委 bound to G1, else the street office.
    assert suggest_unit(case("0601", "G1"), hall) == JW1
    assert suggest_unit(case("0601", "G2"), hall) == OFFICE


def test_component_prefers_the_unit_bound_closest_to_the_grid() -> None:
    hall = _hall(UNITS)
    # 施工围挡 (enforcement): the squad bound to G2 there, the street's squad elsewhere.
    assert suggest_unit(case("0605", "G2"), hall) == ENF_G2
    assert suggest_unit(case("0605", "G1"), hall) == ENF_STREET
    assert suggest_unit(case("0605", "G1C1"), hall) == ENF_STREET
    assert suggest_unit(case("0605", None), hall) == ENF_STREET


def test_component_with_no_department_of_its_type_goes_to_the_locality_saying_so() -> None:
    hall = _hall(UNITS)
    suggestion = suggest(case("0105", "G1"), hall)  # 电力井盖: no power unit here
    assert suggestion is not None
    assert (suggestion.unit, suggestion.why) == (JW1, Why.LOCALITY)
    assert suggest(case("0105", "G1"), _hall([WATER])) is None  # nobody at all


def test_event_goes_to_the_locality_of_its_grid_walking_up_the_tree() -> None:
    hall = _hall(UNITS)
    assert suggest_unit(case("E0101", "G1"), hall) == JW1
    assert suggest_unit(case("E0101", "G1C1"), hall) == JW1  # a cell inherits its grid's 居委
    assert suggest_unit(case("E0101", "G2"), hall) == OFFICE  # G2 has none: the street's


def test_event_with_no_locality_falls_back_to_the_category_department() -> None:
    hall = _hall([ENF_STREET, WATER])
    assert suggest_unit(case("E0501", "G1"), hall) == ENF_STREET  # 占道经营
    assert suggest_unit(case("E0104", None), hall) == WATER  # 河道漂浮物, no grid known


def test_unknown_category_component_has_no_suggestion() -> None:
    assert suggest_unit(case("0999", "G1"), _hall(UNITS)) is None


# --- which person --------------------------------------------------------------------------


def person(
    id: str,
    *,
    unit: str = "enf1",
    duty: Duty = Duty.ON_DUTY,
    field: Field = Field.AVAILABLE,
    grids: tuple[str, ...] = ("G1",),
    position: Point | None = G1_CENTRE,
    seen_at: datetime | None = None,
) -> Staff:
    shift = Shift.STANDBY if duty is Duty.STANDBY else Shift.DAY
    return Staff(
        id=id,
        name=id,
        unit=unit,
        role="城管队员",
        shift=shift,
        grids=grids,
        duty=duty,
        field=field,
        position=position,
        seen_at=seen_at,
    )


def ranked_ids(hall: Hall, c: Case, open_cases: list[Case] | None = None) -> list[str]:
    return [r.staff.id for r in rank_staff(c, "enf1", hall, NOW, open_load(open_cases or []))]


def test_only_staff_of_the_unit_on_duty_or_standby_are_listed() -> None:
    staff = [
        person("on"),
        person("standby", duty=Duty.STANDBY),
        person("off", duty=Duty.OFF),
        person("elsewhere", unit="enf2"),
    ]
    assert ranked_ids(_hall(UNITS, staff), case("0605")) == ["on", "standby"]


def test_on_duty_beats_standby_even_when_standby_covers_the_grid_and_is_idle() -> None:
    staff = [person("standby", duty=Duty.STANDBY), person("on", grids=("G2",))]
    loaded = [case("0605", id=f"X{i}", owner_staff="on") for i in range(5)]
    assert ranked_ids(_hall(UNITS, staff), case("0605"), loaded) == ["on", "standby"]


def test_an_offline_person_is_never_first_while_anyone_answers() -> None:
    staff = [
        person("offline", field=Field.OFFLINE),
        person("standby", duty=Duty.STANDBY, grids=("G2",), position=G2_CENTRE),
    ]
    assert ranked_ids(_hall(UNITS, staff), case("0605")) == ["standby", "offline"]


def test_free_beats_en_route_beats_busy_whatever_the_grid() -> None:
    staff = [
        person("busy", field=Field.BUSY),
        person("en_route", field=Field.EN_ROUTE),
        person("free", field=Field.AVAILABLE, grids=("G2",)),
    ]
    assert ranked_ids(_hall(UNITS, staff), case("0605")) == ["free", "en_route", "busy"]


def test_within_one_distance_band_the_lighter_load_wins() -> None:
    near = Point(lon=121.5005, lat=31.200)  # ~50 m from the case
    further = Point(lon=121.503, lat=31.200)  # ~290 m: the same 500 m band
    beyond = Point(lon=121.508, lat=31.200)  # ~760 m: the next band
    staff = [
        person("near", position=near),
        person("further", position=further),
        person("beyond", position=beyond),
    ]
    loaded = [case("0605", id=f"X{i}", owner_staff="near") for i in range(2)]
    loaded += [case("0605", id="Y1", owner_staff="further")]
    c = case("0605", position=G1_CENTRE)
    assert ranked_ids(_hall(UNITS, staff), c, loaded) == ["further", "near", "beyond"]


def test_covering_the_grid_beats_a_lighter_load() -> None:
    staff = [person("stranger", grids=("G2",)), person("local")]
    busy = [case("0605", id="X1", owner_staff="local", status=Status.DISPATCHED)]
    assert ranked_ids(_hall(UNITS, staff), case("0605"), busy) == ["local", "stranger"]


def test_a_person_covering_the_street_covers_its_grids() -> None:
    staff = [person("stranger", grids=("G2",)), person("street", grids=("S",))]
    ranked = rank_staff(case("0605", "G1C1"), "enf1", _hall(UNITS, staff), NOW, open_load([]))
    assert [(r.staff.id, r.covers_grid) for r in ranked] == [("street", True), ("stranger", False)]


def test_lighter_load_wins_and_only_open_cases_count() -> None:
    staff = [person("a"), person("b")]
    cases = [
        case("0605", id="X1", owner_staff="a", status=Status.ON_SCENE),
        case("0605", id="X2", owner_staff="b", status=Status.CLOSED),
        case("0605", id="X3", owner_staff="b", status=Status.CLOSED),
    ]
    ranked = rank_staff(case("0605"), "enf1", _hall(UNITS, staff), NOW, open_load(cases))
    assert [(r.staff.id, r.load) for r in ranked] == [("b", 0), ("a", 1)]


def test_nearer_wins_among_equals_and_unknown_position_comes_last() -> None:
    far = Point(lon=121.504, lat=31.200)
    near = Point(lon=121.501, lat=31.200)
    staff = [
        person("unknown", position=None),
        person("far", position=far),
        person("near", position=near),
    ]
    hall = _hall(UNITS, staff)
    ranked = rank_staff(case("0605", position=G1_CENTRE), "enf1", hall, NOW, open_load([]))
    assert [r.staff.id for r in ranked] == ["near", "far", "unknown"]
    assert ranked[0].distance_m == pytest.approx(95, abs=2)
    assert ranked[2].distance_m is None


def test_a_case_without_position_is_measured_from_its_grid_centre() -> None:
    staff = [person("far", position=G2_CENTRE), person("near", position=G1_CENTRE)]
    ranked = rank_staff(case("0605", "G1"), "enf1", _hall(UNITS, staff), NOW, open_load([]))
    assert [r.staff.id for r in ranked] == ["near", "far"]
    assert ranked[0].distance_m == 0


def test_a_stale_position_fix_does_not_count_as_near() -> None:
    staff = [
        person("stale", position=G1_CENTRE, seen_at=NOW - timedelta(hours=2)),
        person("fresh", position=G2_CENTRE, seen_at=NOW - timedelta(minutes=5)),
    ]
    ranked = rank_staff(case("0605", "G1"), "enf1", _hall(UNITS, staff), NOW, open_load([]))
    assert [(r.staff.id, r.distance_m is None) for r in ranked] == [
        ("fresh", False),
        ("stale", True),
    ]


# --- duplicates ----------------------------------------------------------------------------


def test_same_category_nearby_and_recent_is_a_duplicate() -> None:
    hall = _hall(UNITS)
    original = case("E0101", id="A", position=G1_CENTRE, reported_at=NOW - timedelta(minutes=30))
    new = case("E0101", id="B", position=Point(lon=121.5005, lat=31.2))  # ~48 m away
    assert find_duplicate(new, [original, new], hall) == original


@pytest.mark.parametrize(
    ("why", "other"),
    [
        ("other category", case("E0102", id="A", position=G1_CENTRE)),
        ("other grid", case("E0101", "G2", id="A", position=G1_CENTRE)),
        ("too far", case("E0101", id="A", position=Point(lon=121.502, lat=31.2))),
        (
            "too old",
            case("E0101", id="A", position=G1_CENTRE, reported_at=NOW - timedelta(hours=3)),
        ),
        ("closed", case("E0101", id="A", position=G1_CENTRE, status=Status.CLOSED)),
    ],
)
def test_not_a_duplicate(why: str, other: Case) -> None:
    new = case("E0101", id="B", position=G1_CENTRE)
    assert find_duplicate(new, [other], _hall(UNITS)) is None, why


def worded(id: str, title: str, address: str = "", **fields: Any) -> Case:
    return msgspec.structs.replace(case("E0501", id=id, **fields), title=title, address=address)


def test_without_positions_the_words_must_match_not_just_the_grid() -> None:
    """12345 tickets rarely carry coordinates: 22 of 114 were flagged wrongly on grid alone."""
    hall = _hall(UNITS)
    earlier = NOW - timedelta(minutes=10)
    stall = worded("A", "占道经营", "梧桐路12号", reported_at=earlier)
    assert find_duplicate(worded("B", "占道经营水果摊", "梧桐路１２号门口"), [stall], hall) == stall
    assert find_duplicate(worded("C", "占道经营", "临河路3号"), [stall], hall) is None
    # No address on one side: the titles decide.
    titled = worded("D", "小区门口堆放垃圾", reported_at=earlier)
    assert find_duplicate(worded("E", "小区门口垃圾堆放"), [titled], hall) == titled
    assert find_duplicate(worded("F", "路灯不亮"), [titled], hall) is None


def test_the_most_alike_wins_without_positions() -> None:
    hall = _hall(UNITS)
    earlier = NOW - timedelta(minutes=10)
    near = worded("A", "占道", "梧桐路12号", reported_at=earlier)
    nearer = worded("B", "占道", "梧桐路12号东侧", reported_at=earlier)
    assert find_duplicate(worded("C", "占道", "梧桐路12号东侧门口"), [near, nearer], hall) == nearer


def test_text_similarity_folds_width_case_and_punctuation() -> None:
    assert text_similarity("梧桐路12号", "梧桐路１２号") == 1.0
    assert text_similarity("Wutong Rd. 12", "wutong rd 12") == 1.0
    assert text_similarity("梧桐路12号", "临河路3号") == 0.0
    assert text_similarity("", "") == 0.0


def test_the_nearest_original_is_preferred_over_a_flagged_duplicate() -> None:
    hall = _hall(UNITS)
    flagged = case("E0101", id="A", position=G1_CENTRE, duplicate_of="O")
    original = case(
        "E0101",
        id="O",
        position=Point(lon=121.5003, lat=31.2),
        reported_at=NOW - timedelta(minutes=50),
    )
    nearer = case(
        "E0101",
        id="N",
        position=Point(lon=121.5001, lat=31.2),
        reported_at=NOW - timedelta(minutes=40),
    )
    new = case("E0101", id="B", position=G1_CENTRE)
    assert find_duplicate(new, [flagged, original, nearer], hall) == nearer
    assert find_duplicate(new, [flagged], hall) == flagged
