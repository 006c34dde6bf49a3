"""The chain of command and 吹哨报到 on a real hub (loopback, SQLite file, the demo city), on
the hub's own clock held at exact instants: an escalation reaches the operators of the next
desk, a leadership instruction's deadline is breached when due, and the roll call of a whistle
says in time / late / never, the never escalated by rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from server_fixtures import RunningHub, TestClient, events_in, running_hub, sqlite_url_in

from dispatch.command_chain import addressed_to, desk_of
from dispatch.commands import (
    Accept,
    BlowWhistle,
    Dispatch,
    Escalate,
    Instruct,
    ReportIn,
    StaffStatus,
)
from dispatch.events import Event, EventType
from dispatch.metrics import report_in_by_unit
from dispatch.models import Actor, Duty, Level, Role, Step
from dispatch.protocol import Ack, Error, Events
from dispatch.whistle import Attendance, roll_call
from hub.clock import SimClock
from hub.demo_city import DISTRICT_HALL, LEADERSHIP, STREET_OFFICE

START = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # Monday 09:30 in the hall
COMMANDER = Actor(name="op-commander", role=Role.COMMANDER)


@dataclass
class Hall:
    hub: RunningHub
    clock: SimClock
    tokens: dict[str, str]

    async def run(self, command: Any, actor: Actor = COMMANDER) -> Ack:
        ack = await self.hub.engine.execute(command, actor)
        assert isinstance(ack, Ack), ack
        return ack

    async def at(self, minutes: float) -> None:
        """Hold the hub clock ``minutes`` after START and let the ticker breach what is due."""
        self.clock.hold(START + timedelta(minutes=minutes))
        await self.hub.engine.run_due()

    def version(self, case: str) -> int:
        return self.hub.engine.cases[case].version


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    clock = SimClock(START, paced=False)
    async with running_hub(sqlite_url_in(tmp_path), clock=clock,
                           engine_options={"ticker": False}) as hub:  # fmt: skip
        add = hub.store.add_operator
        tokens = {
            "street": await add("op-street", Role.DISPATCHER, STREET_OFFICE),
            "district": await add("op-district", Role.DISPATCHER, DISTRICT_HALL),
            "leader": await add("op-leader", Role.DISPATCHER, LEADERSHIP),
            "police": await add("op-police", Role.UNIT, "police"),
            "market": await add("op-market", Role.STANDBY, "market"),
            "dispatcher": hub.tokens[Role.DISPATCHER],
        }
        yield Hall(hub, clock, tokens)


async def new_case(hall: Hall, n: str) -> str:
    made = await hall.run(hall.hub.intake(n))
    assert made.case is not None
    return made.case


def alerts(frames: list[Any]) -> list[Event]:
    return [e for e in events_in(frames) if e.type is EventType.ALERT]


async def next_of(client: TestClient, kind: EventType) -> Event:
    """Read event frames until one holds an event of ``kind``; that event."""
    while True:
        _, batch = await client.until(Events)
        found = [e for e in batch.events if e.type is kind]
        if found:
            return found[0]


def on_duty(hall: Hall, unit: str) -> list[str]:
    staff = hall.hub.engine.snapshot().staff
    return sorted(s.id for s in staff if s.unit == unit and s.duty is Duty.ON_DUTY)


async def test_an_escalation_alerts_the_operators_on_duty_at_the_next_desk(hall: Hall) -> None:
    units, areas = hall.hub.engine.hall.units, hall.hub.engine.hall.areas
    async with (
        TestClient.connect(hall.hub.url) as street,
        TestClient.connect(hall.hub.url) as district,
    ):
        street_welcome = await street.hello(hall.tokens["street"])
        await street.snapshot()
        await district.hello(hall.tokens["district"])
        await district.snapshot()
        case = await new_case(hall, "1")
        # By hand: community → street. The street desk is told, with who is on duty there.
        _, ack = await street.execute(
            Escalate(id="up-1", case=case, version=hall.version(case), reason="社区协调不了")
        )
        assert isinstance(ack, Ack)
        alert = await next_of(district, EventType.ALERT)
        assert alert.data["level"] == "street" and alert.data["units"] == [STREET_OFFICE]
        assert alert.data["on_duty"] == on_duty(hall, STREET_OFFICE) != []
        assert addressed_to(alert.data, street_welcome.unit, Level.STREET)
        assert not addressed_to(alert.data, DISTRICT_HALL, Level.DISTRICT)
        street_desk = desk_of(STREET_OFFICE, units, areas)
        assert street_desk is not None and street_desk.holds(hall.hub.engine.cases[case])
        # One of the district hall's officers goes off duty: the alert names only who is on.
        district_hall = on_duty(hall, DISTRICT_HALL)
        await hall.run(StaffStatus(id="off", staff=district_hall[0], duty=Duty.OFF))
        # By the hub clock: the accept deadline (30 working minutes) passes, the case goes up
        # to the district, and the district desk's people are alerted at that very instant.
        due = hall.hub.engine.cases[case].deadline(Step.ACCEPT)
        assert due is not None
        await hall.at((due.due - START).total_seconds() / 60 - 1 / 60)
        assert hall.hub.engine.cases[case].level is Level.STREET
        await hall.at((due.due - START).total_seconds() / 60)
        alert = await next_of(district, EventType.ALERT)
        assert alert.actor == "hub" and alert.at == due.due
        assert alert.data["units"] == [DISTRICT_HALL]
        assert alert.data["on_duty"] == district_hall[1:] != []
        assert addressed_to(alert.data, DISTRICT_HALL, Level.DISTRICT)
        assert not addressed_to(alert.data, STREET_OFFICE, Level.STREET)
        district_desk = desk_of(DISTRICT_HALL, units, areas)
        assert district_desk is not None and district_desk.holds(hall.hub.engine.cases[case])
        assert not street_desk.holds(hall.hub.engine.cases[case])


async def test_a_leadership_instruction_carries_its_own_deadline_on_the_hub_clock(
    hall: Hall,
) -> None:
    case = await new_case(hall, "2")
    await hall.run(Accept(id="acc-2", case=case, version=hall.version(case)))
    for n in range(3):
        await hall.run(Escalate(id=f"up-2-{n}", case=case, version=hall.version(case),
                                reason="需区领导批办"))  # fmt: skip
    assert hall.hub.engine.cases[case].level is Level.LEADERSHIP
    async with TestClient.connect(hall.hub.url) as leader, TestClient.connect(
        hall.hub.url
    ) as plain:
        await leader.hello(hall.tokens["leader"])
        await leader.snapshot()
        await plain.hello(hall.tokens["dispatcher"])
        await plain.snapshot()
        # A dispatcher at no desk may not instruct; the leadership desk may.
        _, refused = await plain.execute(
            Instruct(id="i-0", case=case, version=hall.version(case), reason="x", minutes=5)
        )
        assert isinstance(refused, Error) and refused.detail == "not_instructing_desk"
        _, ack = await leader.execute(
            Instruct(
                id="i-1",
                case=case,
                version=hall.version(case),
                reason="一小时内处置到位并反馈",
                minutes=60,
            )
        )
        assert isinstance(ack, Ack)
        told = await next_of(plain, EventType.INSTRUCTED)
        assert told.actor == "op-leader" and told.reason == "一小时内处置到位并反馈"
    (note,) = hall.hub.engine.cases[case].instructions
    assert note.desk is Level.LEADERSHIP and note.due == START + timedelta(minutes=60)
    await hall.at(59.9)
    assert not hall.hub.engine.cases[case].deadline(Step.INSTRUCTION).breached
    await hall.at(60)
    stored = {c.id: c for c in await hall.hub.store.all_cases()}[case]
    assert stored.deadline(Step.INSTRUCTION).breached
    events = await hall.hub.store.events_after(0)
    missed = [e for e in events if e.actor == "hub" and e.data.get("step") == "instruction"]
    breach, alert = missed
    assert (breach.type, breach.at) == (EventType.DEADLINE_BREACHED, START + timedelta(minutes=60))
    # At the top there is nowhere to go: the leadership desk itself is told.
    assert alert.type is EventType.ALERT and alert.data["units"] == [LEADERSHIP]


async def test_roll_call_in_time_late_and_never_escalated_by_rule(hall: Hall) -> None:
    case = await new_case(hall, "3")
    await hall.run(Accept(id="acc-3", case=case, version=hall.version(case)))
    await hall.run(Dispatch(id="dis-3", case=case, version=hall.version(case), unit="jw-1"))
    async with TestClient.connect(hall.hub.url) as police:
        await police.hello(hall.tokens["police"])
        chunks = await police.snapshot()
        assert all(c.id != case for s in chunks for c in s.cases)  # not police's case yet
        await hall.run(BlowWhistle(id="w-3", case=case, version=hall.version(case),
                                   units=("police", "market", "sanitation"), minutes=30,
                                   reason="占道经营回潮，各部门报到"))  # fmt: skip
        # Summoned, the police terminal is sent the case (without the reporter's contact).
        entered = await next_of(police, EventType.IN_SCOPE)
        assert entered.case == case and entered.changes["reporter"] is None
        await hall.at(12)
        _, ack = await police.execute(
            ReportIn(id="r-police", case=case, version=hall.version(case), unit="police")
        )
        assert isinstance(ack, Ack)
        _, wrong = await police.execute(
            ReportIn(id="r-wrong", case=case, version=hall.version(case), unit="market")
        )
        assert isinstance(wrong, Error) and wrong.detail == "report_in_other_unit"
    # The deadline passes with market and sanitation out: never (so far), escalated by rule.
    await hall.at(30)
    after = hall.hub.engine.cases[case]
    assert after.level is Level.STREET and after.deadline(Step.REPORT_IN).breached
    ticker = [e for e in await hall.hub.store.events_after(0) if e.actor == "hub"]
    assert [e.type for e in ticker][-3:] == [
        EventType.DEADLINE_BREACHED, EventType.ESCALATED, EventType.ALERT,
    ]  # fmt: skip
    assert ticker[-1].data["absent"] == ["market", "sanitation"]
    assert ticker[-1].data["units"] == [STREET_OFFICE]
    # Market's standby officer reports in from home ten minutes late; sanitation never does.
    async with TestClient.connect(hall.hub.url) as market:
        await market.hello(hall.tokens["market"])
        await market.snapshot()
        await hall.at(40)
        _, ack = await market.execute(
            ReportIn(id="r-market", case=case, version=hall.version(case), unit="market")
        )
        assert isinstance(ack, Ack)
    whistle = hall.hub.engine.cases[case].whistles[-1]
    calls = {line.unit: line.attendance for line in roll_call(whistle, START + timedelta(hours=1))}
    assert calls == {
        "police": Attendance.IN_TIME, "market": Attendance.LATE, "sanitation": Attendance.ABSENT,
    }  # fmt: skip
    figures = report_in_by_unit(hall.hub.engine.cases.values(), START + timedelta(hours=1))
    assert {u: f.on_time_rate for u, f in figures.items()} == {
        "market": 0.0, "police": 1.0, "sanitation": 0.0,
    }  # fmt: skip
    # What the store holds is what the engine holds: a restart reads the same roll call.
    stored = {c.id: c for c in await hall.hub.store.all_cases()}[case]
    assert stored.whistles == hall.hub.engine.cases[case].whistles
