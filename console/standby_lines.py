"""The console's ``:rota`` answer: who stands by now, unit by unit, from the roster the hub
keeps current (each person's ``duty`` moves at the rota's shift changes). The order each unit
calls them in and the duty commander are the hub's (``griddesk ctl rota`` asks for them)."""

from __future__ import annotations

from collections.abc import Iterable

from console.wording import Wording
from dispatch.models import Duty, Staff


def standby_lines(staff: Iterable[Staff], words: Wording) -> list[str]:
    """One line per unit with someone on standby now: the unit's name, then the people."""
    by_unit: dict[str, list[Staff]] = {}
    for person in staff:
        if person.duty is Duty.STANDBY:
            by_unit.setdefault(person.unit, []).append(person)
    if not by_unit:
        return [words.tr("Nobody is on standby now")]
    return [
        f"{words.unit(unit)}: {'、'.join(p.name for p in sorted(people, key=lambda p: p.id))}"
        for unit, people in sorted(by_unit.items())
    ]
