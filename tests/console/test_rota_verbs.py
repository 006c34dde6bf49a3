"""The rota's verbs (``:swap``, ``:standby``, ``:commander`` and ``griddesk ctl``) make the
commander's rota commands, with people and units by name; bad words are refused before
anything is sent."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from console.names import Lookup
from console.verbs import VerbError, parse
from dispatch.catalog import Catalog
from dispatch.commands import Command, RotaCommander, RotaStandby, RotaSwap
from hub.demo_city import demo_city

DAY = date(2026, 12, 5)


@pytest.fixture
def lookup() -> Lookup:
    city = demo_city()
    return Lookup(
        units={u.id: u for u in city.units},
        staff={s.id: s for s in city.staff},
        areas={a.code: a for a in city.areas},
        cases={},
        catalog=Catalog.default(),
    )


def run(line: str, lookup: Lookup) -> Command:
    counter = itertools.count(1)
    command = parse(line, lookup, lambda: f"cmd-{next(counter)}")
    assert isinstance(command, Command)
    return command


def test_swap_names_two_people_by_id_or_name(lookup: Lookup) -> None:
    name = lookup.staff["S041"].name
    assert run(f"swap 2026-12-05 S037 {name} 家中有事", lookup) == RotaSwap(
        id="cmd-1", on=DAY, a="S037", b="S041", reason="家中有事"
    )
    assert run("换班 2026-12-05 S037 S041", lookup) == RotaSwap(id="cmd-1", on=DAY, a="S037",
                                                                b="S041")  # fmt: skip


def test_standby_sets_a_units_order(lookup: Lookup) -> None:
    assert run("standby 2026-12-05 城管一中队 S041,S034", lookup) == RotaStandby(
        id="cmd-1", on=DAY, unit="enforcement-1", order=("S041", "S034")
    )


def test_commander_names_the_duty_commander(lookup: Lookup) -> None:
    assert run("指挥长 2026-12-05 林晓红 轮换调整", lookup) == RotaCommander(
        id="cmd-1", on=DAY, commander="林晓红", reason="轮换调整"
    )


@pytest.mark.parametrize(
    "line",
    ["swap tomorrow S037 S041", "swap 2026-12-05 S037", "standby 2026-12-05 城管一中队 S059",
     "commander 2026-13-01 林晓红", "commander 2026-12-05"],
)  # fmt: skip
def test_bad_words_are_refused_before_sending(line: str, lookup: Lookup) -> None:
    with pytest.raises(VerbError):
        run(line, lookup)
