"""The engine against a real store: group commit, idempotency, conflicts, the SLA ticker,
and the promise that memory and disk never disagree."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.catalog import Catalog
from dispatch.commands import Accept, Dispatch, Intake, Note, Urge
from dispatch.config import Settings, SlaSettings
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import Event, EventType, apply_case_event
from dispatch.models import Actor, Case, Kind, Level, Role, Source, Status, Urgency
from hub.clock import VirtualClock, WallClock
from hub.demo_city import demo_city
from hub.engine import Engine
from hub.store import Store

COMMANDER = Actor(name="commander", role=Role.COMMANDER)


async def _engine(
    url: str, clock: WallClock | VirtualClock | None = None, settings: Settings | None = None
) -> tuple[Engine, Store]:
    store = await Store.open(url)
    city = demo_city()
    if await store.is_empty():
        await store.seed(city.areas, city.units, city.staff)
    engine = Engine(store, settings or Settings(), Catalog.default(), clock or WallClock())
    await engine.start()
    return engine, store


@pytest.fixture
async def running(db_url: str) -> AsyncIterator[tuple[Engine, Store]]:
    engine, store = await _engine(db_url)
    try:
        yield engine, store
    finally:
        await engine.stop()
        await store.close()


def _grid(engine: Engine) -> str:
    return next(a.code for a in engine.hall.areas.values() if a.kind == "grid")


def _intake(engine: Engine, n: int, *, urgency: Urgency | None = None) -> Intake:
    category = next(c for c in engine.hall.catalog if c.kind == Kind.EVENT)
    return Intake(
        id=f"intake-{n}",
        kind=category.kind,
        category=category.code,
        source=Source.PATROL,
        title=f"case {n}",
        grid=_grid(engine),
        urgency=urgency,
    )


async def test_intake_gets_a_dated_id_and_listeners_see_events_before_the_ack(
    running: tuple[Engine, Store],
) -> None:
    engine, store = running
    seen: list[Event] = []
    engine.listen(seen.extend)
    ack = await engine.execute(_intake(engine, 1), COMMANDER)
    today = datetime.now(UTC).astimezone(engine.hall.calendar.tz).strftime("%y%m%d")
    assert ack.case == f"{today}0001"
    assert ack.version == 1
    assert [e.seq for e in seen] == list(range(1, ack.seq + 1))
    assert seen[0].type is EventType.CASE_CREATED
    assert engine.cases[ack.case].status is Status.REPORTED
    assert [c.id for c in await store.all_cases()] == [ack.case]


async def test_a_burst_is_committed_in_groups_with_gap_free_sequence(
    running: tuple[Engine, Store],
) -> None:
    engine, store = running
    acks = await asyncio.gather(
        *(engine.execute(_intake(engine, n), COMMANDER) for n in range(300))
    )
    assert len({a.case for a in acks}) == 300
    events = await store.events_after(0)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert engine.seq == events[-1].seq == await store.last_seq()


async def test_the_same_command_id_applies_once(running: tuple[Engine, Store]) -> None:
    engine, store = running
    command = _intake(engine, 7)
    first, second = await asyncio.gather(
        engine.execute(command, COMMANDER), engine.execute(command, COMMANDER)
    )
    third = await engine.execute(command, COMMANDER)
    assert first.case == second.case == third.case
    assert (first.replayed, second.replayed, third.replayed) == (False, True, True)
    assert len(await store.all_cases()) == 1
    with pytest.raises(Refusal) as refused:
        await engine.execute(Note(id=command.id, case=first.case or "", version=1, reason="x"),
                             COMMANDER)  # fmt: skip
    assert refused.value.code is ErrorCode.DUPLICATE_ID


async def test_two_commands_on_one_version_one_wins(running: tuple[Engine, Store]) -> None:
    engine, store = running
    ack = await engine.execute(_intake(engine, 1), COMMANDER)
    assert ack.case is not None
    results = await asyncio.gather(
        engine.execute(Accept(id="a", case=ack.case, version=1), COMMANDER),
        engine.execute(Note(id="b", case=ack.case, version=1, reason="记录"), COMMANDER),
        return_exceptions=True,
    )
    codes = sorted(r.code if isinstance(r, Refusal) else "ack" for r in results)
    assert codes == ["ack", ErrorCode.CONFLICT]
    assert engine.cases[ack.case].version == 2
    assert [c.version for c in await store.all_cases()] == [2]


async def test_a_conflict_says_who_changed_the_case_and_what_it_is_now(db_url: str) -> None:
    engine, store = await _engine(db_url)
    desk = Actor(name="值班员王丽", role=Role.DISPATCHER)
    try:
        ack = await engine.execute(_intake(engine, 1), COMMANDER)
        assert ack.case is not None
        await engine.execute(Accept(id="a", case=ack.case, version=1), desk)
        with pytest.raises(Refusal) as stale:
            await engine.execute(Note(id="n", case=ack.case, version=1, reason="x"), COMMANDER)
        assert stale.value.code is ErrorCode.CONFLICT
        assert (stale.value.detail, stale.value.params) == (
            "version_conflict_by",
            {"case": ack.case, "version": 2, "status": "accepted", "expected": 1, "by": desk.name},
        )
        assert desk.name in stale.value.message
        # Two commands on one version in one group: the loser hears of the winner.
        results = await asyncio.gather(
            engine.execute(Urge(id="u", case=ack.case, version=2), COMMANDER),
            engine.execute(Note(id="m", case=ack.case, version=2, reason="记录"), desk),
            return_exceptions=True,
        )
        lost = next(r for r in results if isinstance(r, Refusal))
        assert lost.params["by"] == COMMANDER.name and lost.params["version"] == 3
    finally:
        await engine.stop()
        await store.close()
    # After a restart the engine has not seen who changed it: it says nothing rather than guess.
    engine, store = await _engine(db_url)
    try:
        with pytest.raises(Refusal) as after_restart:
            await engine.execute(Note(id="o", case=ack.case, version=1, reason="x"), desk)
        assert after_restart.value.detail == "version_conflict"
        assert "by" not in after_restart.value.params
        assert after_restart.value.params["version"] == 3
    finally:
        await engine.stop()
        await store.close()


async def test_a_refused_command_changes_nothing(running: tuple[Engine, Store]) -> None:
    engine, store = running
    ack = await engine.execute(_intake(engine, 1), COMMANDER)
    assert ack.case is not None
    before = (await store.last_seq(), await store.all_cases())
    with pytest.raises(Refusal) as refused:
        await engine.execute(Dispatch(id="d", case=ack.case, version=1, unit="nowhere"), COMMANDER)
    assert refused.value.code in {ErrorCode.ILLEGAL_STEP, ErrorCode.NOT_FOUND}
    with pytest.raises(Refusal) as unknown:
        await engine.execute(Urge(id="u", case="0000000000", version=1), COMMANDER)
    assert unknown.value.code is ErrorCode.NOT_FOUND
    assert (await store.last_seq(), await store.all_cases()) == before
    assert engine.seq == before[0]


async def test_a_failed_commit_acknowledges_nothing_and_memory_stays_as_disk(
    sqlite_url: str,
) -> None:
    engine, store = await _engine(sqlite_url)
    try:
        ack = await engine.execute(_intake(engine, 1), COMMANDER)
        # Break the database under the hub, as a full disk or a broken file would.
        path = sqlite_url.split("///", 1)[1]
        with sqlite3.connect(path) as raw:
            raw.execute("DROP TABLE events")
        with pytest.raises(Refusal) as refused:
            await engine.execute(_intake(engine, 2), COMMANDER)
        assert refused.value.code is ErrorCode.UNAVAILABLE
        assert list(engine.cases) == [ack.case]
        assert engine.seq == ack.seq
    finally:
        await engine.stop()
        await store.close()


async def test_rebuilding_cases_from_the_log_gives_the_stored_rows(
    running: tuple[Engine, Store],
) -> None:
    engine, store = running
    unit = next(iter(engine.hall.units))
    for n in range(5):
        ack = await engine.execute(_intake(engine, n), COMMANDER)
        assert ack.case is not None
        ack = await engine.execute(Accept(id=f"acc{n}", case=ack.case, version=1), COMMANDER)
        assert ack.case is not None
        if n % 2:
            await engine.execute(
                Dispatch(id=f"dsp{n}", case=ack.case, version=2, unit=unit), COMMANDER
            )
    rebuilt: dict[str, Case] = {}
    for event in await store.events_after(0):
        if event.case is not None and event.type is not EventType.ALERT:
            rebuilt[event.case] = apply_case_event(rebuilt.get(event.case), event)
    stored = {c.id: c for c in await store.all_cases()}
    assert rebuilt == stored == dict(engine.cases)


async def test_a_missed_urgent_deadline_escalates_on_the_hub_clock(sqlite_url: str) -> None:
    # 15 minutes of hub time pass in well under a second at this speed. The ticker keeps its
    # default 1 s tick: it must wake for the deadline itself, not 50 hub-minutes later.
    clock = VirtualClock(datetime.now(UTC), speed=3000.0)
    engine, store = await _engine(sqlite_url, clock, Settings())
    seen: list[Event] = []
    escalated = asyncio.Event()

    def watch(events: Sequence[Event]) -> None:
        seen.extend(events)
        if any(e.type is EventType.ESCALATED for e in events):
            escalated.set()

    engine.listen(watch)
    try:
        ack = await engine.execute(_intake(engine, 1, urgency=Urgency.URGENT), COMMANDER)
        assert ack.case is not None
        deadline = engine.cases[ack.case].deadlines[0]
        async with asyncio.timeout(10):
            await escalated.wait()
        breached = next(e for e in seen if e.type is EventType.DEADLINE_BREACHED)
        assert breached.actor == "hub" and breached.at >= deadline.due
        assert breached.at - deadline.due < timedelta(minutes=1)
        case = engine.cases[ack.case]
        assert case.level is not Level.COMMUNITY
        assert any(e.type is EventType.ALERT for e in seen)
        assert {c.id: c for c in await store.all_cases()}[ack.case] == case
    finally:
        await engine.stop()
        await store.close()


def test_settings_defaults_are_design_md() -> None:
    sla = SlaSettings()
    assert (sla.urgent_on_scene_minutes, sla.urgent_result_minutes) == (15, 60)


async def test_a_role_that_may_not_act_learns_nothing_about_which_cases_exist(
    running: tuple[Engine, Store],
) -> None:
    engine, _ = running
    observer = Actor(name="wall", role=Role.OBSERVER)
    ack = await engine.execute(_intake(engine, 1), COMMANDER)
    codes = set()
    for case in (ack.case or "", "0000000000"):
        with pytest.raises(Refusal) as refused:
            await engine.execute(Urge(id=f"u-{case}", case=case, version=1), observer)
        codes.add(refused.value.code)
    assert codes == {ErrorCode.FORBIDDEN}
