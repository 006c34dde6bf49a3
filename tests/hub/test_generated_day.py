"""A generated day replayed through the real hub ends exactly as its [expect] table says.

The generator plans every case against the pure workflow; here the hub itself — store, engine,
the scenario player as SLA ticker — plays the steps. No step may be refused, the figures at
the end must be the expected ones, and the hub (not the script) must escalate exactly the
expected cases, to the expected level, at the expected instants. The days are smaller than a
full 300-case day (which takes over ten seconds to play) and ask for more of every side way,
so that returns, reworks, reassignments, joint enforcement, late units and a late hall all
happen in them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from dispatch.catalog import Catalog
from dispatch.config import Settings
from dispatch.events import EventType
from dispatch.models import Status
from dispatch.scenario import Scenario, parse_time
from dispatch.scenario_gen import DayParams, generate
from hub.demo_city import demo_city
from hub.replay import Outcome, play_offline

# More of every side way than a calibrated day has, so that each happens in a small day.
EVENTFUL = DayParams(
    slow_share=0.2,
    hall_slow_share=0.1,
    return_share=0.1,
    reassign_share=0.1,
    rework_share=0.1,
    joint_share=0.5,
    reject_share=0.08,
)

DAYS = {
    # The afternoon peak into the evening: the hand-over to standby at 17:30 falls inside.
    "end-of-day": replace(EVENTFUL, seed=7, cases=120, start="12:00", end="24:00"),
    # A standby-only night running into the next morning: only standby people go out.
    "standby-night": replace(EVENTFUL, seed=7, start="18:00", end="32:00", after_hours=True),
}


def _generated(params: DayParams) -> Scenario:
    return generate(params, city=demo_city(), catalog=Catalog.default(), settings=Settings())


@pytest.fixture(params=sorted(DAYS), scope="module")
def day(request: pytest.FixtureRequest) -> Scenario:
    return _generated(DAYS[request.param])


def _escalations(outcome: Outcome, scenario: Scenario) -> list[tuple[str, object, str]]:
    names = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    return [
        (names[e.case], scenario.offset(e.at), e.changes["level"])
        for e in outcome.events
        if e.type is EventType.ESCALATED and e.case is not None
    ]


def test_the_generated_days_are_eventful(day: Scenario) -> None:
    """The replay below is only worth something if the day takes every side way."""
    assert day.expect is not None
    assert day.expect.escalation and day.expect.returned and day.expect.reworked
    assert day.expect.closed_on_time is not None and day.expect.closed is not None
    assert day.expect.closed_on_time < day.expect.closed
    assert day.expect.accepted is not None and day.expect.accepted < day.cases  # rejected
    ops = Counter(step.do for step in day.steps)
    for op in ("request_return", "approve", "joint", "urge", "callback"):
        assert ops[op] > 0, op
    # A unit's standby rota is one or two people: nobody to hand a silent case to at night.
    assert ops["reassign"] > 0 or day.header.generator["after_hours"]


async def test_replaying_a_generated_day_gives_exactly_the_expected_day(
    day: Scenario, db_url: str
) -> None:
    outcome = await play_offline(day, db_url)

    assert [(step.where, str(refusal)) for step, refusal in outcome.refused] == []
    assert day.expect is not None
    figures = {name: getattr(outcome.figures, name) for name in day.expect.figures()}
    assert figures == day.expect.figures()
    expected = [(x.case, parse_time(x.at), str(x.level)) for x in day.expect.escalation]
    assert _escalations(outcome, day) == expected
    assert all(e.actor == "hub" for e in outcome.events if e.type is EventType.ESCALATED)
    statuses = Counter(case.status for case in outcome.cases.values())
    assert statuses[Status.CLOSED] == day.expect.closed
    turned_down = statuses[Status.REJECTED] + statuses[Status.VOIDED]
    assert day.expect.accepted is not None and 0 < turned_down <= day.cases - day.expect.accepted
