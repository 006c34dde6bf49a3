"""Shifts and standby on a real hub (SQLite file, the demo city and its rota), driven on a
virtual clock stood at exact instants: shift changes at their times across midnight, a weekend
and a holiday; an unsigned after-hours case walked down the standby order to the minute; the
commander's rota changes, and the refusals that change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from server_fixtures import UNIT

from dispatch.catalog import Catalog
from dispatch.commands import (
    Accept,
    Acknowledge,
    Dispatch,
    Intake,
    Note,
    RotaCommander,
    RotaStandby,
    RotaSwap,
)
from dispatch.config import CalendarSettings, Settings
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import Event, EventType
from dispatch.models import Actor, Duty, Kind, Role, Source
from hub.clock import SimClock, VirtualClock
from hub.demo_city import demo_city, demo_rota
from hub.engine import Engine
from hub.store import Store

TZ = ZoneInfo("Asia/Shanghai")
COMMANDER = Actor(name="演练指挥长", role=Role.COMMANDER)
DISPATCHER = Actor(name="值班员", role=Role.DISPATCHER)
SQUAD = "enforcement-1"
STANDBY_OFFICER = Actor(name="squad-standby", role=Role.STANDBY, unit=SQUAD)
# Friday 4 December 2026 is a working day; Monday the 7th is made a public holiday.
SETTINGS = Settings(calendar=CalendarSettings(holidays=(date(2026, 12, 7),)))
ROTA = demo_rota()


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=TZ).astimezone(UTC)


class Hall:
    """A hub on a file, its clock stood still until the test moves it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = SimClock(local(4, 14, 0), paced=False)
        self.events: list[Event] = []
        self.engine: Engine | None = None
        self.store: Store | None = None
        self.n = 0

    async def start(self, *, seed: bool) -> Engine:
        self.store = store = await Store.open(self.url)
        if seed:
            city = demo_city()
            await store.seed(city.areas, city.units, city.staff)
            await store.seed_rota(ROTA)
        self.engine = engine = Engine(store, SETTINGS, Catalog.default(), self.clock, ticker=False)
        await engine.start()
        engine.listen(self.events.extend)
        await engine.run_due()  # the start's catch-up
        return engine

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
        if self.store is not None:
            await self.store.close()

    @property
    def e(self) -> Engine:
        assert self.engine is not None
        return self.engine

    async def at(self, moment: datetime) -> list[Event]:
        """Stand the clock at ``moment`` and let the hub do what is due: the events it wrote."""
        before = len(self.events)
        self.clock.hold(moment)
        await self.e.run_due()
        return self.events[before:]

    def duty(self, staff_id: str) -> Duty:
        return self.e.hall.staff[staff_id].duty

    def id(self) -> str:
        self.n += 1
        return f"cmd-{self.n}"

    async def dispatched_case(self, staff: str | None = None) -> str:
        category = next(c for c in self.e.hall.catalog if c.kind == Kind.EVENT)
        grid = next(a.code for a in self.e.hall.areas.values() if a.kind == "grid")
        intake = Intake(id=self.id(), kind=category.kind, category=category.code,
                        source=Source.PATROL, title="占道经营", grid=grid)  # fmt: skip
        ack = await self.e.execute(intake, COMMANDER)
        assert ack.case is not None and ack.version is not None
        ack = await self.e.execute(Accept(id=self.id(), case=ack.case, version=ack.version),
                                   COMMANDER)  # fmt: skip
        assert ack.case is not None and ack.version is not None
        dispatch = Dispatch(id=self.id(), case=ack.case, version=ack.version, unit=SQUAD,
                            staff=staff)  # fmt: skip
        dispatched = await self.e.execute(dispatch, DISPATCHER)
        # The command's standby call is part of it: the version rises once for the command.
        assert dispatched.version == ack.version + 1 == self.e.cases[ack.case].version
        return ack.case


@pytest.fixture
async def hall(sqlite_url: str) -> AsyncIterator[Hall]:
    h = Hall(sqlite_url)
    await h.start(seed=True)
    try:
        yield h
    finally:
        await h.stop()


def order(day: date, unit: str = SQUAD) -> tuple[str, ...]:
    cycle = ROTA.cycle(unit)
    assert cycle is not None
    return cycle.orders[(day - ROTA.epoch).days % len(cycle.orders)]


def turn(day: date) -> str:
    return ROTA.commanders[(day - ROTA.epoch).days % len(ROTA.commanders)]


async def test_shifts_change_at_their_times_across_midnight_a_weekend_and_a_holiday(
    hall: Hall,
) -> None:
    squad = [s.id for s in hall.e.hall.staff.values() if s.unit == SQUAD]
    friday, saturday = order(date(2026, 12, 4)), order(date(2026, 12, 5))
    # Friday afternoon: the day staff on duty, nobody of the squad on standby.
    assert all(hall.duty(p) in (Duty.ON_DUTY, Duty.OFF) for p in squad)
    assert hall.duty("S037") is Duty.OFF  # a standby-shift officer, in the day shift
    assert hall.e.next_wakeup() == local(4, 17, 30)
    assert await hall.at(local(4, 17, 29, 59)) == []

    changed = await hall.at(local(4, 17, 30))
    shift = changed[-1]
    assert shift.type is EventType.SHIFT_CHANGED and shift.actor == "hub"
    assert shift.data["to"] == "standby" and shift.data["commander"] == turn(date(2026, 12, 4))
    assert {p for p in squad if hall.duty(p) is Duty.STANDBY} == set(friday)
    assert hall.e.next_wakeup() == local(5, 8, 30)

    # Across midnight nothing moves: 02:00 on Saturday is still Friday's night.
    assert await hall.at(local(5, 2, 0)) == []
    on = hall.e.on_duty()
    assert on is not None and on.day == date(2026, 12, 4) and on.standby[SQUAD] == friday

    await hall.at(local(5, 8, 30))  # Saturday: after hours all day, Saturday's order
    assert {p for p in squad if hall.duty(p) is Duty.STANDBY} == set(saturday)
    assert hall.events[-1].data["commander"] == turn(date(2026, 12, 5))
    assert hall.e.next_wakeup() == local(6, 8, 30)
    await hall.at(local(6, 8, 30))
    assert hall.e.next_wakeup() == local(7, 8, 30)
    await hall.at(local(7, 8, 30))  # the holiday Monday: still standby, no day shift
    assert hall.events[-1].data["to"] == "standby"
    assert {p for p in squad if hall.duty(p) is Duty.STANDBY} == set(order(date(2026, 12, 7)))
    assert hall.e.next_wakeup() == local(8, 8, 30)
    await hall.at(local(8, 8, 30))  # Tuesday: the day shift
    assert hall.events[-1].data["to"] == "day"
    assert hall.duty("S034") is Duty.ON_DUTY and hall.duty("S037") is Duty.OFF
    assert hall.e.next_wakeup() == local(8, 17, 30)


async def test_an_unsigned_case_goes_down_the_standby_order_then_to_the_commander(
    hall: Hall,
) -> None:
    await hall.at(local(4, 20, 0))
    friday = order(date(2026, 12, 4))
    case_id = await hall.dispatched_case()
    case = hall.e.cases[case_id]
    assert case.owner_staff == friday[0]
    first = hall.events[-1]
    assert first.type is EventType.STANDBY_CALLED and first.command == hall.events[-2].command
    assert first.data == {"to": "staff", "staff": friday[0], "unit": SQUAD, "step": 1}
    assert case.answer_due == local(4, 20, 10) and hall.e.next_wakeup() == local(4, 20, 10)

    assert await hall.at(local(4, 20, 9, 59)) == []
    for step, person in enumerate(friday[1:], start=2):
        moment = local(4, 20, 10 * (step - 1))
        called = await hall.at(moment)
        assert [e.type for e in called] == [EventType.STANDBY_CALLED]
        assert called[0].data == {"to": "staff", "staff": person, "unit": SQUAD, "step": step}
        assert hall.e.cases[case_id].owner_staff == person  # the board's person column
        assert hall.e.cases[case_id].answer_due == moment + timedelta(minutes=10)

    last = local(4, 20, 10 * len(friday))
    alerted = await hall.at(last)
    assert [e.type for e in alerted] == [EventType.STANDBY_CALLED]
    assert alerted[0].data["to"] == "commander"
    assert alerted[0].data["commander"] == turn(date(2026, 12, 4))
    assert hall.e.cases[case_id].answer_due is None
    assert await hall.at(last + timedelta(hours=1)) == []  # the chain ends there

    assert hall.store is not None
    stored = await hall.store.case_events(case_id)
    history = [e for e in stored if e.type is EventType.STANDBY_CALLED]
    assert [e.data["to"] for e in history] == ["staff"] * len(friday) + ["commander"]


async def test_signing_stops_the_clock_and_a_day_dispatch_starts_none(hall: Hall) -> None:
    await hall.at(local(4, 14, 55))
    day_case = await hall.dispatched_case()
    assert hall.e.cases[day_case].answer_due is None
    assert hall.e.cases[day_case].owner_staff is None

    await hall.at(local(4, 21, 0))
    case_id = await hall.dispatched_case()
    await hall.at(local(4, 21, 5))
    version = hall.e.cases[case_id].version
    await hall.e.execute(Acknowledge(id=hall.id(), case=case_id, version=version), STANDBY_OFFICER)
    assert hall.e.cases[case_id].answer_due is None
    assert await hall.at(local(4, 21, 10)) == []
    assert hall.e.cases[case_id].owner_staff == order(date(2026, 12, 4))[0]


async def test_a_named_officer_on_the_order_starts_the_chain_at_their_place(hall: Hall) -> None:
    await hall.at(local(4, 22, 0))
    friday = order(date(2026, 12, 4))
    case_id = await hall.dispatched_case(staff=friday[1])
    assert hall.e.cases[case_id].owner_staff == friday[1]
    called = await hall.at(local(4, 22, 10))
    assert called[0].data["staff"] == friday[2]


async def test_a_standby_operator_is_refused_in_the_day_shift_only(hall: Hall) -> None:
    await hall.at(local(4, 14, 55))  # 14:55 on a working Friday
    case_id = await hall.dispatched_case()
    version = hall.e.cases[case_id].version
    seq = hall.e.seq
    with pytest.raises(Refusal) as refused:
        await hall.e.execute(Note(id=hall.id(), case=case_id, version=version, reason="到"),
                             STANDBY_OFFICER)  # fmt: skip
    assert refused.value.code is ErrorCode.FORBIDDEN and refused.value.detail == "off_rota"
    assert hall.e.seq == seq
    await hall.at(local(4, 17, 30))
    await hall.e.execute(Note(id=hall.id(), case=case_id, version=version, reason="到"),
                         STANDBY_OFFICER)  # fmt: skip


async def test_the_commanders_changes_move_tonights_roster_and_outlive_a_restart(
    hall: Hall,
) -> None:
    await hall.at(local(4, 19, 0))
    friday = order(date(2026, 12, 4))
    outsider = next(s.id for s in hall.e.hall.staff.values()
                    if s.unit == SQUAD and s.id not in friday)  # fmt: skip
    today = date(2026, 12, 4)
    await hall.e.execute(RotaSwap(id=hall.id(), on=today, a=friday[0], b=outsider,
                                  reason="家中有事"), COMMANDER)  # fmt: skip
    assert hall.duty(outsider) is Duty.STANDBY and hall.duty(friday[0]) is Duty.OFF
    change = next(e for e in reversed(hall.events) if e.type is EventType.ROTA_CHANGED)
    assert change.actor == COMMANDER.name and change.reason == "家中有事"
    assert change.data["override"]["kind"] == "swap"
    await hall.e.execute(RotaCommander(id=hall.id(), on=today, commander="林晓红"), COMMANDER)
    saturday = date(2026, 12, 5)
    await hall.e.execute(RotaStandby(id=hall.id(), on=saturday, unit=SQUAD, order=(outsider,)),
                         COMMANDER)  # fmt: skip
    case_id = await hall.dispatched_case()
    assert hall.e.cases[case_id].owner_staff == outsider

    await hall.stop()
    again = await hall.start(seed=False)
    on = again.on_duty()
    assert on is not None and on.commander == "林晓红" and on.standby[SQUAD][0] == outsider
    await hall.at(local(5, 8, 30))
    assert again.on_duty() is not None
    assert again.on_duty().standby[SQUAD] == (outsider,)  # type: ignore[union-attr]
    assert hall.duty(outsider) is Duty.STANDBY


@pytest.mark.parametrize(
    ("command", "actor", "code"),
    [
        (RotaCommander(id="x1", on=date(2026, 12, 5), commander="周海峰"), DISPATCHER,
         ErrorCode.FORBIDDEN),
        (RotaSwap(id="x2", on=date(2026, 12, 3), a="S037", b="S041"), COMMANDER,
         ErrorCode.ILLEGAL_STEP),
        (RotaSwap(id="x3", on=date(2026, 12, 5), a="S037", b="S037"), COMMANDER,
         ErrorCode.INVALID),
        (RotaSwap(id="x4", on=date(2026, 12, 5), a="S037", b="S999"), COMMANDER,
         ErrorCode.NOT_FOUND),
        (RotaSwap(id="x8", on=date(2026, 12, 5), a="S037", b="S059"), COMMANDER,
         ErrorCode.INVALID),
        (RotaStandby(id="x5", on=date(2026, 12, 5), unit=SQUAD, order=("S037", "S059")),
         COMMANDER, ErrorCode.INVALID),
        (RotaStandby(id="x6", on=date(2026, 12, 5), unit=SQUAD, order=("S037", "S037")),
         COMMANDER, ErrorCode.INVALID),
        (RotaStandby(id="x7", on=date(2026, 12, 5), unit="nowhere", order=("S037",)),
         COMMANDER, ErrorCode.NOT_FOUND),
    ],
)  # fmt: skip
async def test_bad_rota_changes_are_refused_and_change_nothing(
    hall: Hall, command: RotaSwap | RotaStandby | RotaCommander, actor: Actor, code: ErrorCode
) -> None:
    seq, rota = hall.e.seq, hall.e.rota
    with pytest.raises(Refusal) as refused:
        await hall.e.execute(command, actor)
    assert refused.value.code is code
    assert hall.e.seq == seq and hall.e.rota == rota


def test_rota_commands_are_json_on_the_wire() -> None:
    raw = b'{"op":"rota_swap","id":"c1","on":"2026-12-05","a":"S037","b":"S041"}'
    from dispatch.commands import AnyCommand

    command = msgspec.json.decode(raw, type=AnyCommand)
    assert command == RotaSwap(id="c1", on=date(2026, 12, 5), a="S037", b="S041")


async def test_the_hubs_own_ticker_changes_the_shift_on_time(sqlite_url: str) -> None:
    """Not driven step by step: a hub with its ticker, on a clock running 600× (a minute of
    hub time in a tenth of a second), changes the shift at 17:30 by itself."""
    store = await Store.open(sqlite_url)
    city = demo_city()
    await store.seed(city.areas, city.units, city.staff)
    await store.seed_rota(ROTA)
    engine = Engine(store, SETTINGS, Catalog.default(), VirtualClock(local(4, 17, 29), 600))
    changed = asyncio.Event()
    seen: list[Event] = []

    def listen(events: Sequence[Event]) -> None:
        seen.extend(events)
        if any(e.type is EventType.SHIFT_CHANGED and e.data["to"] == "standby" for e in events):
            changed.set()

    engine.listen(listen)
    await engine.start()
    try:
        await asyncio.wait_for(changed.wait(), UNIT * 10)
        shifts = [e for e in seen if e.type is EventType.SHIFT_CHANGED]
        # The start's catch-up put the seeded roster on the day shift; then 17:30 came.
        assert [e.data["to"] for e in shifts] == ["day", "standby"]
        assert local(4, 17, 30) <= shifts[-1].at < local(4, 17, 31)
        assert engine.hall.staff[order(date(2026, 12, 4))[0]].duty is Duty.STANDBY
    finally:
        await engine.stop()
        await store.close()


async def test_a_named_officer_off_the_order_answers_first_then_the_order_from_its_top(
    hall: Hall,
) -> None:
    await hall.at(local(4, 23, 55))
    friday = order(date(2026, 12, 4))
    outsider = next(s.id for s in hall.e.hall.staff.values()
                    if s.unit == SQUAD and s.id not in friday)  # fmt: skip
    case_id = await hall.dispatched_case(staff=outsider)
    assert hall.events[-1].data == {"to": "staff", "staff": outsider, "unit": SQUAD, "step": 0}
    assert hall.e.cases[case_id].owner_staff == outsider
    # Past midnight the night is still Friday's: its order is called from the top.
    called = await hall.at(local(5, 0, 5))
    assert called[0].data["staff"] == friday[0] and called[0].data["step"] == 1
