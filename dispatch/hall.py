"""The reference data a decision needs: settings, catalog, calendar, places, units, staff.

The hub keeps one :class:`Hall` current and hands it to the pure workflow with each command,
so the workflow never looks anything up on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.errors import refuse
from dispatch.intake_rules import check_rules
from dispatch.models import Area, Staff, Unit


@dataclass(frozen=True)
class Hall:
    settings: Settings
    catalog: Catalog
    calendar: WorkingCalendar
    areas: Mapping[str, Area] = field(default_factory=dict)
    units: Mapping[str, Unit] = field(default_factory=dict)
    staff: Mapping[str, Staff] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        settings: Settings,
        catalog: Catalog,
        *,
        areas: Iterable[Area] = (),
        units: Iterable[Unit] = (),
        staff: Iterable[Staff] = (),
    ) -> Hall:
        """A hall of these places, units and people, on the settings' working calendar.

        Refuses (``config_invalid``) intake rules that name categories the catalog lacks.
        """
        check_rules(settings.intake, catalog)
        return cls(
            settings=settings,
            catalog=catalog,
            calendar=WorkingCalendar.from_settings(settings),
            areas={a.code: a for a in areas},
            units={u.id: u for u in units},
            staff={s.id: s for s in staff},
        )

    def unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise refuse("unknown_unit", unit=unit_id) from None

    def person(self, staff_id: str) -> Staff:
        try:
            return self.staff[staff_id]
        except KeyError:
            raise refuse("unknown_staff", staff=staff_id) from None

    def area(self, code: str) -> Area:
        try:
            return self.areas[code]
        except KeyError:
            raise refuse("unknown_grid", grid=code) from None
