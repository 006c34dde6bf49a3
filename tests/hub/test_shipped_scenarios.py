"""Every scenario griddesk ships (hub/data/scenarios/*.toml), and the example in
docs/SCENARIOS.md, plays through the real hub as written: no step refused, nobody off duty
acting, and the day ends with exactly the figures and escalations its [expect] table states.

New files in the folder are picked up by the parametrisation; nothing to add here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from dispatch.commands import RotaSwap, ShiftChange, StaffStatus
from dispatch.events import EventType
from dispatch.models import Duty, Shift
from dispatch.rota import Swap, on_duty
from dispatch.scenario import UPPER_DESKS, Scenario, check_city, format_time, loads, parse_time
from hub.demo_city import demo_rota
from hub.replay import chain_figures, demo_city_hall, expected_chain_figures, play_offline

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "hub" / "data" / "scenarios").glob("*.toml"))
DOC = ROOT / "docs" / "SCENARIOS.md"
DOC_EXAMPLE = "SCENARIOS.md example"
SOURCES = [p.name for p in SHIPPED] + [DOC_EXAMPLE]


def _text(source: str) -> str:
    if source == DOC_EXAMPLE:
        doc = DOC.read_text(encoding="utf-8")
        blocks: list[str] = re.findall(r"```toml\n(.*?)\n```", doc, flags=re.DOTALL)
        return blocks[0]
    return (ROOT / "hub" / "data" / "scenarios" / source).read_text(encoding="utf-8")


@pytest.fixture(params=SOURCES)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return loads(_text(request.param))


def test_the_folder_holds_the_scenarios_the_demo_offers() -> None:
    assert {"short.toml", "storm-night.toml", "after-hours.toml"} <= {p.name for p in SHIPPED}


def test_it_is_written_for_the_demo_city_and_states_what_it_implies(scenario: Scenario) -> None:
    assert scenario.header.city == "demo"
    check_city(scenario, demo_city_hall(scenario))
    assert scenario.expect is not None and scenario.expect.figures(), "no [expect] figures"


def test_nobody_off_duty_acts(scenario: Scenario) -> None:
    """After the hand-over to standby, day-shift people are off: they do not sign for cases
    (and the other way round after a hand-over to the day shift) — but whoever signed for a
    case on duty, or was sent it, finishes it."""
    hall = demo_city_hall(scenario)
    duty = {s.id: s.duty for s in hall.staff.values()}
    rota = demo_rota() if scenario.header.rota else None
    taken: set[tuple[str, str]] = set()  # (person, case) given or signed for on duty
    for step in scenario.steps:
        if rota is not None:  # the roster is the rota's at the step's time
            on = on_duty(rota, hall.calendar, scenario.instant(step.at))
            duty = {s.id: on.duty_of(s) for s in hall.staff.values()}
        person = hall.staff.get(step.by or "")
        if person is not None and hall.units[person.unit].desk in UPPER_DESKS:
            continue  # a district leader instructs from wherever the call finds them
        if step.by in duty:
            # Whoever got or signed for a case on duty sees it through after the hand-over.
            finishing = (step.by, step.case) in taken
            assert finishing or duty[step.by] is not Duty.OFF, (
                f"{step.where}: {step.by} is off duty"
            )
            if step.case is not None:
                taken.add((step.by, step.case))
        assigned = getattr(step.template, "staff", None)
        if step.case is not None and assigned is not None and duty[assigned] is not Duty.OFF:
            taken.add((assigned, step.case))  # dispatched to them while on duty
        template = step.template
        if isinstance(template, ShiftChange):
            for person in hall.staff.values():
                on = Duty.ON_DUTY if template.to is Shift.DAY else Duty.STANDBY
                duty[person.id] = on if person.shift is template.to else Duty.OFF
        elif isinstance(template, StaffStatus) and template.duty is not None:
            duty[template.staff] = template.duty
        elif isinstance(template, RotaSwap) and rota is not None:
            swap = Swap(on=template.on, a=template.a, b=template.b)
            rota = msgspec.structs.replace(rota, overrides=(*rota.overrides, swap))


async def test_it_replays_with_no_refused_step_to_exactly_its_expectations(
    scenario: Scenario, sqlite_url: str
) -> None:
    outcome = await play_offline(scenario, sqlite_url)

    refused = [f"{step.where}: {refusal}" for step, refusal in outcome.refused]
    assert refused == []
    assert outcome.end == scenario.instant(scenario.end)
    assert scenario.expect is not None
    figures = {name: getattr(outcome.figures, name) for name in scenario.expect.figures()}
    assert figures == scenario.expect.figures()
    # [expect.escalation] lists what the hub does by itself; `escalate` steps are the script's.
    name_of = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    escalated = sorted(
        (scenario.offset(e.at), name_of[e.case], str(e.changes["level"]))
        for e in outcome.events
        if e.type is EventType.ESCALATED and e.case is not None and not e.data.get("manual")
    )
    expected = sorted((parse_time(x.at), x.case, str(x.level)) for x in scenario.expect.escalation)
    assert _readable(escalated) == _readable(expected)
    # The chain's own figures: standby calls, roll calls, instructions, the rota's shifts.
    assert chain_figures(outcome, scenario) == expected_chain_figures(scenario)


async def test_the_night_is_played_on_the_rota_and_reaches_every_level() -> None:
    """after-hours.toml states what issue 11 is about: the shifts move by the rota, a call
    goes down a standby order to the commander, the chain climbs to the district, leadership
    instructs (met and missed), and a roll call has all three outcomes."""
    night = loads(_text("after-hours.toml"))
    assert night.header.rota and night.expect is not None
    expect = night.expect
    assert {(str(x.to), x.at) for x in expect.shift} >= {("standby", "17:30"), ("day", "32:30")}
    assert any(c.to == "commander" for c in expect.standby_call)
    assert {str(e.level) for e in expect.escalation} >= {"street", "district"}
    assert {i.breached for i in expect.instruction} == {True, False}
    assert {r.attendance for r in expect.roll_call} == {"in_time", "late", "absent"}
    assert {s.do for s in night.steps} >= {"instruct", "send_down", "whistle", "report_in",
                                          "rota_swap", "handover_note", "handover_ack"}  # fmt: skip
    assert "shift_change" not in {s.do for s in night.steps}


def _readable(rows: list[tuple[timedelta, str, str]]) -> list[str]:
    return [f"{format_time(at)} {case} → {level}" for at, case, level in rows]
