"""The dispatch tests' small hall with the chain of command added: a second street, the
street hall of each street, the district hall and district leadership, with people on duty."""

from __future__ import annotations

import dataclasses

from dispatch.hall import Hall
from dispatch.models import Area, AreaKind, Duty, Level, Shift, Staff, Unit, UnitKind

DESKS = [
    Unit(id="SH1", name="东街道城运中心", kind=UnitKind.LOCALITY, area="S1", desk=Level.STREET),
    Unit(id="SH2", name="西街道城运中心", kind=UnitKind.LOCALITY, area="S2", desk=Level.STREET),
    Unit(id="DH", name="区城运中心", kind=UnitKind.LOCALITY, area="D1", desk=Level.DISTRICT),
    Unit(id="LEAD", name="区领导", kind=UnitKind.LOCALITY, area="D1", desk=Level.LEADERSHIP),
    Unit(id="LOC2", name="西街道", kind=UnitKind.LOCALITY, area="S2"),
]
WEST = [
    Area(code="S2", name="西街道", kind=AreaKind.STREET, parent="D1", locality="LOC2"),
    Area(code="G3", name="三网格", kind=AreaKind.GRID, parent="S2", locality="LOC2"),
]


def _person(id_: str, name: str, unit: str, duty: Duty = Duty.ON_DUTY) -> Staff:
    shift = Shift.DAY if duty is Duty.ON_DUTY else Shift.STANDBY
    return Staff(id=id_, name=name, unit=unit, role="值班员", shift=shift, duty=duty)


ON_DUTY = [
    _person("h1", "街道值班长", "SH1"),
    _person("h2", "街道备勤", "SH1", Duty.STANDBY),
    _person("h3", "西街值班长", "SH2"),
    _person("d1", "区值班长", "DH"),
    _person("l1", "分管副区长", "LEAD"),
]


def with_chain(hall: Hall) -> Hall:
    return dataclasses.replace(
        hall,
        areas={**hall.areas, **{a.code: a for a in WEST}},
        units={**hall.units, **{u.id: u for u in DESKS}},
        staff={**hall.staff, **{s.id: s for s in ON_DUTY}},
    )
