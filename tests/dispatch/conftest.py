"""A small hall built in code (two grids, five units, three people, four categories) and a
``flow`` helper that runs commands through the workflow and applies the events it returns."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import CaseCommand, Intake
from dispatch.config import Settings
from dispatch.events import Event, apply_case_event
from dispatch.hall import Hall
from dispatch.models import (
    Actor,
    Area,
    AreaKind,
    Case,
    Kind,
    Role,
    Shift,
    Source,
    Staff,
    Unit,
    UnitKind,
)
from dispatch.workflow import decide

CATEGORIES = [
    {
        "code": "0101",
        "name": "上水井盖",
        "name_en": "Water manhole cover",
        "kind": "component",
        "big": "01",
        "big_name": "公用设施",
        "big_name_en": "Public facilities",
        "dept": "municipal",
        "limit": 240,
        "basis": "work_hours",
        "urgent": True,
    },
    {
        "code": "0102",
        "name": "路灯",
        "name_en": "Streetlight",
        "kind": "component",
        "big": "01",
        "big_name": "公用设施",
        "big_name_en": "Public facilities",
        "dept": "municipal",
        "limit": 120,
        "basis": "wall",
    },
    {
        "code": "E0101",
        "name": "暴露垃圾",
        "name_en": "Exposed garbage",
        "kind": "event",
        "big": "E01",
        "big_name": "市容环境",
        "big_name_en": "City appearance",
        "dept": "sanitation",
        "limit": 240,
        "basis": "work_hours",
    },
    {
        "code": "E0501",
        "name": "无照经营游商",
        "name_en": "Unlicensed street vending",
        "kind": "event",
        "big": "E05",
        "big_name": "街面秩序",
        "big_name_en": "Street order",
        "dept": "enforcement",
        "limit": 2,
        "basis": "work_days",
    },
]

SHANGHAI_OFFSET = timedelta(hours=8)

# Monday 23 Nov 2026, 09:00 in Shanghai: inside the morning work period.
MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - SHANGHAI_OFFSET


def make_hall(settings: Settings | None = None) -> Hall:
    settings = settings or Settings()
    areas = [
        Area(code="D1", name="示范区", kind=AreaKind.DISTRICT),
        Area(code="S1", name="东街道", kind=AreaKind.STREET, parent="D1", locality="LOC1"),
        Area(code="G1", name="一网格", kind=AreaKind.GRID, parent="S1", locality="LOC1"),
        Area(code="G2", name="二网格", kind=AreaKind.GRID, parent="S1", locality="LOC1"),
    ]
    units = [
        Unit(id="ENF", name="城管一中队", kind=UnitKind.DEPARTMENT, dept="enforcement"),
        Unit(id="ENF2", name="二组", kind=UnitKind.DEPARTMENT, dept="enforcement", parent="ENF"),
        Unit(id="SAN", name="环卫所", kind=UnitKind.DEPARTMENT, dept="sanitation"),
        Unit(id="POL", name="派出所", kind=UnitKind.DEPARTMENT, dept="police"),
        Unit(id="LOC1", name="东街道", kind=UnitKind.LOCALITY, area="S1"),
    ]
    staff = [
        Staff(id="p1", name="张三", unit="ENF", role="城管队员", shift=Shift.DAY),
        Staff(id="p2", name="李四", unit="SAN", role="环卫工", shift=Shift.STANDBY),
        Staff(id="p3", name="王五", unit="ENF", role="城管队员", shift=Shift.STANDBY),
    ]
    return Hall(
        settings=settings,
        catalog=Catalog.from_json(json.dumps(CATEGORIES)),
        calendar=WorkingCalendar.from_settings(settings),
        areas={a.code: a for a in areas},
        units={u.id: u for u in units},
        staff={s.id: s for s in staff},
    )


ACTORS = {
    "commander": Actor(name="指挥长", role=Role.COMMANDER),
    "dispatcher": Actor(name="值班员", role=Role.DISPATCHER),
    "standby": Actor(name="备勤", role=Role.STANDBY, unit="ENF"),
    "unit": Actor(name="城管终端", role=Role.UNIT, unit="ENF"),
    "other_unit": Actor(name="环卫终端", role=Role.UNIT, unit="SAN"),
    "observer": Actor(name="大屏", role=Role.OBSERVER),
    # Desks of the chain of command (units made by tests/dispatch/test_command_chain.py's hall).
    "street_desk": Actor(name="街道值班员", role=Role.DISPATCHER, unit="SH1"),
    "district_desk": Actor(name="区值班员", role=Role.DISPATCHER, unit="DH"),
    "leader": Actor(name="区领导", role=Role.DISPATCHER, unit="LEAD"),
    "police_terminal": Actor(name="派出所终端", role=Role.UNIT, unit="POL"),
}


class Flow:
    """Runs commands at a settable ``now`` and keeps every case up to date from the events."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.now = MONDAY_9
        self.cases: dict[str, Case] = {}
        self.events: list[Event] = []
        self._ids = itertools.count(1)

    def intake(self, actor: str = "dispatcher", **fields: Any) -> Case:
        args: dict[str, Any] = {
            "id": f"cmd-{next(self._ids)}",
            "kind": Kind.EVENT,
            "category": "E0101",
            "source": Source.PATROL,
            "title": "垃圾堆放",
            "grid": "G1",
        }
        args.update(fields)
        case_id = f"C{next(self._ids):04d}"
        events = decide(
            None,
            Intake(**args),
            ACTORS[actor],
            self.now,
            self.hall,
            new_id=case_id,
            others=self.cases,
        )
        self._apply(events)
        return self.cases[case_id]

    def command(self, case: Case, cls: type[CaseCommand], **fields: Any) -> CaseCommand:
        fields.setdefault("version", case.version)
        return cls(id=f"cmd-{next(self._ids)}", case=case.id, **fields)

    def do(
        self, case: Case, cls: type[CaseCommand], actor: str = "commander", **fields: Any
    ) -> Case:
        """Run the command, apply its events and return the case after them."""
        events = decide(
            self.cases[case.id],
            self.command(case, cls, **fields),
            ACTORS[actor],
            self.now,
            self.hall,
            others=self.cases,
        )
        self._apply(events)
        return self.cases[case.id]

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def _apply(self, events: list[Event]) -> None:
        for e in events:
            assert e.case is not None
            # Round-trip through JSON as the wire and the store do.
            e = msgspec.json.decode(msgspec.json.encode(e), type=Event)
            self.cases[e.case] = apply_case_event(self.cases.get(e.case), e)
            self.events.append(e)


@pytest.fixture(name="make_hall")
def make_hall_fixture() -> Callable[..., Hall]:
    """Build the test hall with other settings."""
    return make_hall


@pytest.fixture
def hall() -> Hall:
    return make_hall()


@pytest.fixture
def flow(hall: Hall) -> Flow:
    return Flow(hall)
