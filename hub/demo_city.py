"""The demo city: one invented street with its grids, units and roster, for `make demo`.

东川区 → 青石街道 → 5 responsibility grids (责任网格, one residents' committee each) → 34 cells
(单元网格), around (121.50 E, 31.20 N). The street office and the five 居委 are the
localities; thirteen departments carry the catalog's department keys. The desks of the chain
of command: the street office (青石街道城运中心), the district hall (东川区城运中心) and district
leadership (东川区领导). About 120 staff with
invented names. Deterministic: a fixed seed and no clock, so every demo starts the same.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

from dispatch.models import (
    Area,
    AreaKind,
    Duty,
    Field,
    Level,
    Point,
    Shift,
    Staff,
    Unit,
    UnitKind,
)
from dispatch.rota import Rota, load_rota

SEED = 20240315

DISTRICT = "310115"
STREET = "310115001"
STREET_OFFICE = "street"
DISTRICT_HALL = "district-hall"
LEADERSHIP = "leadership"
DESKS = (STREET_OFFICE, DISTRICT_HALL, LEADERSHIP)
"""The desks of the chain of command (三级指挥): the street hall, the district hall, district
leadership. Their people are on no grid."""


@dataclass(frozen=True)
class City:
    areas: list[Area]
    units: list[Unit]
    staff: list[Staff]


@dataclass(frozen=True)
class _Grid:
    name: str  # the residents' committee and its grid are named after the neighbourhood
    centre: Point
    cells: str  # the cells' names, space-separated


_GRIDS = (
    _Grid(
        "梧桐苑",
        Point(lon=121.4945, lat=31.2065),
        "梧桐路北段 梧桐路南段 梧桐苑一区 梧桐苑二区 桐荫广场 北环菜场 梧桐小学",
    ),
    _Grid(
        "临河里",
        Point(lon=121.5060, lat=31.2070),
        "临河路东段 临河路西段 临河里小区 滨河绿带 石桥弄 河埠头 临河农贸市场",
    ),
    _Grid(
        "青石新村",
        Point(lon=121.4950, lat=31.1975),
        "青石路中段 青石新村东区 青石新村西区 青石公园 街道办事处 社区医院 青石商业街",
    ),
    _Grid(
        "望江",
        Point(lon=121.5065, lat=31.1980),
        "望江路北段 望江路南段 望江苑 江景花园 望江中学 滨江步道 轮渡站",
    ),
    _Grid(
        "北苑",
        Point(lon=121.5005, lat=31.1890),
        "北苑路 北苑新村 创业园 物流园 北苑公交枢纽 南浦工地",
    ),
)


def grid_code(n: int) -> str:
    """The 12-digit code of responsibility grid ``n`` (1-based): street code + 3 digits."""
    return f"{STREET}{n:03d}"


def cell_code(grid: int, n: int) -> str:
    """The 14-digit code of cell ``n`` of grid ``grid``: grid code + 2 digits."""
    return f"{grid_code(grid)}{n:02d}"


def locality_id(grid: int) -> str:
    return f"jw-{grid}"


# id, name, dept, area it answers for (None: the whole street, no particular area)
_DEPARTMENTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("enforcement-1", "城管一中队", "enforcement", STREET),
    # The second squad answers for 北苑 (the business park and the building sites).
    ("enforcement-2", "城管二中队", "enforcement", grid_code(5)),
    ("police", "青石派出所", "police", STREET),
    ("market", "青石市场监管所", "market", STREET),
    ("housing", "青石房管所", "housing", STREET),
    ("sanitation", "青石环卫所", "sanitation", STREET),
    ("municipal", "东川区市政养护所", "municipal", None),
    ("greening", "东川区园林绿化所", "greening", None),
    ("traffic", "交警青石中队", "traffic", STREET),
    ("water", "东川供水排水公司", "water", None),
    ("power", "东川供电所", "power", None),
    ("gas", "东川燃气公司", "gas", None),
    ("telecom", "东川通信分公司", "telecom", None),
)

# unit id → job titles of its members, in order; the first title listed is the unit's lead
_ROSTER: dict[str, tuple[tuple[str, int], ...]] = {
    STREET_OFFICE: (("值班长", 1), ("值班员", 2), ("监督员", 5)),
    **{locality_id(g): (("网格长", 1), ("网格员", 3), ("社工", 1)) for g in range(1, 6)},
    "enforcement-1": (("中队长", 1), ("城管队员", 11)),
    "enforcement-2": (("中队长", 1), ("城管队员", 9)),
    "police": (("社区民警", 6), ("协管员", 4)),
    "market": (("市场监管员", 6),),
    "housing": (("房管员", 5),),
    "sanitation": (("环卫班长", 2), ("环卫工", 8)),
    "municipal": (("养护班长", 1), ("养护工", 7)),
    "greening": (("绿化工", 6),),
    "traffic": (("交警", 4), ("协管员", 2)),
    "water": (("抢修工", 4),),
    "power": (("抢修工", 4),),
    "gas": (("抢修工", 4),),
    "telecom": (("线路维护员", 4),),
    # Last, so the people above keep their seeded names, phones and posts.
    DISTRICT_HALL: (("值班长", 1), ("值班员", 2)),
    LEADERSHIP: (("区领导", 2),),
}

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴"
)
_GIVEN = (
    "伟",
    "芳",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "建国",
    "志强",
    "海燕",
    "红梅",
    "晓东",
    "文静",
    "国庆",
    "春生",
    "立新",
    "子涵",
    "浩然",
    "雨萱",
    "思远",
    "佳怡",
    "宇航",
    "俊杰",
    "梓轩",
    "丽娟",
    "永刚",
    "德明",
    "玉兰",
    "晓燕",
    "小红",
    "卫东",
    "志明",
    "婷婷",
    "新民",
    "振华",
    "美玲",
)

# Roughly 300 m: how far from its grid's centre a cell or a person's post may lie.
_SPREAD_DEG = 0.003


def demo_city() -> City:
    """The demo street, the same on every call."""
    rng = random.Random(SEED)
    areas = _areas(rng)
    units = _units()
    staff = _staff(rng)
    return City(areas=areas, units=units, staff=staff)


def demo_rota() -> Rota:
    """The demo city's rota (``hub/data/rota.json``): seven departments keep two or three
    officers on after-hours standby in a weekly cycle (盈浦: 8小时之外七大部门安排工作人员备勤),
    and four of the hall's leaders take turns, a duty day each, as duty commander."""
    return load_rota(files("hub.data").joinpath("rota.json").read_bytes())


def _near(rng: random.Random, centre: Point) -> Point:
    return Point(
        lon=round(centre.lon + rng.uniform(-_SPREAD_DEG, _SPREAD_DEG), 6),
        lat=round(centre.lat + rng.uniform(-_SPREAD_DEG, _SPREAD_DEG), 6),
    )


_CENTRE = Point(lon=121.5005, lat=31.1985)


def grid_outlines() -> dict[str, tuple[Point, ...]]:
    """Each responsibility grid's boundary (hub/data/grid_outlines.json): the five grids tile
    the street along its roads and the river, neighbours sharing their border points."""
    text = files("hub.data").joinpath("grid_outlines.json").read_text("utf-8")
    raw: dict[str, list[list[float]]] = json.loads(text)
    return {code: tuple(Point(lon=lon, lat=lat) for lon, lat in ring) for code, ring in raw.items()}


def _areas(rng: random.Random) -> list[Area]:
    outlines = grid_outlines()
    street_centre = _CENTRE
    areas = [
        Area(code=DISTRICT, name="东川区", kind=AreaKind.DISTRICT, centre=street_centre),
        Area(
            code=STREET,
            name="青石街道",
            kind=AreaKind.STREET,
            parent=DISTRICT,
            locality=STREET_OFFICE,
            centre=street_centre,
        ),
    ]
    for g, grid in enumerate(_GRIDS, start=1):
        areas.append(
            Area(
                code=grid_code(g),
                name=f"{grid.name}网格",
                kind=AreaKind.GRID,
                parent=STREET,
                locality=locality_id(g),
                centre=grid.centre,
                outline=outlines.get(grid_code(g), ()),
            )
        )
        areas.extend(
            Area(
                code=cell_code(g, n),
                name=cell,
                kind=AreaKind.CELL,
                parent=grid_code(g),
                centre=_near(rng, grid.centre),
            )
            for n, cell in enumerate(grid.cells.split(), start=1)
        )
    return areas


def _units() -> list[Unit]:
    units = [
        Unit(
            id=STREET_OFFICE,
            name="青石街道城运中心",
            kind=UnitKind.LOCALITY,
            dept="locality",
            area=STREET,
            desk=Level.STREET,
        ),
        Unit(
            id=DISTRICT_HALL,
            name="东川区城运中心",
            kind=UnitKind.LOCALITY,
            area=DISTRICT,
            desk=Level.DISTRICT,
        ),
        Unit(
            id=LEADERSHIP,
            name="东川区领导",
            kind=UnitKind.LOCALITY,
            area=DISTRICT,
            desk=Level.LEADERSHIP,
        ),
    ]
    units.extend(
        Unit(
            id=locality_id(g),
            name=f"{grid.name}居委会",
            kind=UnitKind.LOCALITY,
            dept="locality",
            area=grid_code(g),
            parent=STREET_OFFICE,
        )
        for g, grid in enumerate(_GRIDS, start=1)
    )
    units.extend(
        Unit(id=uid, name=name, kind=UnitKind.DEPARTMENT, dept=dept, area=area)
        for uid, name, dept, area in _DEPARTMENTS
    )
    return units


def _home_grids(unit_id: str, k: int) -> tuple[int, ...]:
    """The grids (1-based) the ``k``-th member of a unit covers."""
    if unit_id in (DISTRICT_HALL, LEADERSHIP):
        return ()  # the district's desks patrol no grid
    if unit_id.startswith("jw-"):
        return (int(unit_id.removeprefix("jw-")),)
    if unit_id == "enforcement-2":
        return (5,)
    if unit_id == STREET_OFFICE and k < 3:
        return (1, 2, 3, 4, 5)  # the duty desk answers for the whole street
    # Everyone else patrols one grid and backs up the next, round the street.
    first = k % 5 + 1
    return (first, first % 5 + 1)


def _staff(rng: random.Random) -> list[Staff]:
    names: set[str] = set()
    phones: set[str] = set()
    people: list[Staff] = []
    for unit_id, titles in _ROSTER.items():
        k = 0
        for title, count in titles:
            for _ in range(count):
                grids = _home_grids(unit_id, k)
                # Every fourth person of a unit is on the after-hours standby rota; leads and
                # grid heads work days.
                standby = k % 4 == 3
                people.append(
                    Staff(
                        id=f"S{len(people) + 1:03d}",
                        name=_unique(names, lambda: rng.choice(_SURNAMES) + rng.choice(_GIVEN)),
                        unit=unit_id,
                        role=title,
                        shift=Shift.STANDBY if standby else Shift.DAY,
                        grids=tuple(grid_code(g) for g in grids),
                        duty=Duty.STANDBY if standby else Duty.ON_DUTY,
                        field=Field.AVAILABLE if rng.random() < 0.85 else Field.OFFLINE,
                        position=_near(rng, _GRIDS[grids[0] - 1].centre if grids else _CENTRE),
                        phone=_unique(phones, lambda: f"138{rng.randrange(10**8):08d}"),
                    )
                )
                k += 1
    return people


def _unique(seen: set[str], draw: Callable[[], str]) -> str:
    """The first value ``draw`` makes that is not in ``seen``, recorded there."""
    while (value := draw()) in seen:
        pass
    seen.add(value)
    return value
