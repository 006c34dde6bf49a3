"""One bad command fails alone, and a command applied long ago is still applied once — against
a real hub (SQLite, and PostgreSQL with GRIDDESK_TEST_PG).

The poison is a row another writer put in the database: a case under the id the hub gives its
next intake. Halls load cases from outside while the hub runs — the old platform's open cases
when a district moves to griddesk, a hotline bridge writing tickets straight into the table,
a second hub started on the same PostgreSQL by mistake — and the hub reads case serials only
at start. Such a row passes every check of the command itself (it is not in the command), so
only the commit can refuse it: a new case is inserted, never written over a row.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from server_fixtures import RunningHub, TestClient, running_hub
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from dispatch.catalog import Catalog
from dispatch.commands import Accept, Command, Intake, Note
from dispatch.config import Settings
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import EventType
from dispatch.models import Actor, Case, Kind, Point, Role, Source, Status, Urgency
from dispatch.protocol import Ack, Error
from hub.clock import SimClock, VirtualClock
from hub.demo_city import demo_city
from hub.engine import Engine
from hub.engines import async_url
from hub.schema import CaseRow, CommandRow, EventRow
from hub.store import Store

START = datetime(2026, 7, 15, 2, 30, tzinfo=UTC)  # 10:30 on a Wednesday in the hall
DAY = START.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%y%m%d")
COMMANDER = Actor(name="commander", role=Role.COMMANDER)


# --- another writer ----------------------------------------------------------------------------


async def write_foreign_case(url: str, case_id: str) -> Case:
    """A case row written by another program (no event, no command): an imported case."""
    case = Case(
        id=case_id,
        kind=Kind.EVENT,
        category="E0101",
        source=Source.HOTLINE,
        urgency=Urgency.GENERAL,
        status=Status.ACCEPTED,
        title="旧平台导入：占道经营",
        reported_at=START - timedelta(hours=1),
    )
    row = {
        "id": case.id, "status": str(case.status), "urgency": str(case.urgency),
        "category": case.category, "kind": str(case.kind), "source": str(case.source),
        "grid": None, "level": str(case.level), "owner_unit": None, "owner_staff": None,
        "reported_at": case.reported_at, "closed_at": None, "version": case.version,
        "data": msgspec.json.encode(case).decode(),
    }  # fmt: skip
    await _execute(url, insert(CaseRow).values(row))
    return case


async def _execute(url: str, *statements: Any) -> list[Any]:
    """Run ``statements`` in one transaction on an engine of their own; the selects' rows."""
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            results = [await conn.execute(s) for s in statements]
            return [r.all() if r.returns_rows else None for r in results]
    finally:
        await engine.dispose()


async def stored(url: str) -> tuple[dict[str, Case], list[tuple[int, str | None]], set[str]]:
    """The database as it is: cases, (seq, command) of every event, the command ids."""
    cases, events, commands = await _execute(
        url,
        select(CaseRow.data),
        select(EventRow.seq, EventRow.command).order_by(EventRow.seq),
        select(CommandRow.id),
    )
    decoded = (msgspec.json.decode(d, type=Case) for (d,) in cases)
    return {c.id: c for c in decoded}, [tuple(e) for e in events], {c for (c,) in commands}


# --- clients -----------------------------------------------------------------------------------


async def send_all(client: TestClient, commands: Iterable[Command]) -> set[str]:
    ids = set()
    for command in commands:
        await client.command(command)
        ids.add(command.id)
    return ids


async def replies(client: TestClient, ids: set[str]) -> dict[str, Ack | Error]:
    """Read until every command of ``ids`` has its ack or error."""
    got: dict[str, Ack | Error] = {}
    while ids - got.keys():
        message = await client.recv()
        if isinstance(message, Ack | Error) and message.command in ids:
            got[message.command] = message
    return got


def intakes(hub: RunningHub, prefix: str, count: int) -> list[Intake]:
    """Valid intakes spread over the demo city's grids."""
    grids = sorted(a.code for a in hub.engine.hall.areas.values() if a.kind == "grid")
    return [hub.intake(f"{prefix}-{n}", grid=grids[n % len(grids)]) for n in range(count)]


# --- the poison --------------------------------------------------------------------------------


async def test_a_poison_among_100_commands_from_three_clients_fails_alone(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_hub(db_url, clock=VirtualClock(START, 1.0)) as hub:
        second = await hub.store.add_operator("值班员二", Role.DISPATCHER)
        async with (
            TestClient.connect(hub.url) as a,
            TestClient.connect(hub.url) as b,
            TestClient.connect(hub.url) as c,
        ):
            await a.hello(hub.tokens[Role.COMMANDER])
            await b.hello(hub.tokens[Role.DISPATCHER])
            await c.hello(second)
            setup = await replies(a, await send_all(a, intakes(hub, "setup", 66)))
            cases = sorted(r.case for r in setup.values() if isinstance(r, Ack) and r.case)
            assert cases == [f"{DAY}{n:04d}" for n in range(1, 67)]
            # The old platform's import lands while the hub runs: a case under the id the
            # twentieth intake of the burst will be given.
            foreign = await write_foreign_case(db_url, f"{DAY}{66 + 20:04d}")
            before = await stored(db_url)

            burst: dict[TestClient, Sequence[Command]] = {
                a: intakes(hub, "burst", 34),
                b: [Accept(id=f"accept-{n}", case=case, version=1)
                    for n, case in enumerate(cases[:33])],
                c: [Note(id=f"note-{n}", case=case, version=1, reason="现场已拍照")
                    for n, case in enumerate(cases[33:])],
            }  # fmt: skip
            caplog.set_level(logging.WARNING, logger="hub.engine")
            sent = await asyncio.gather(*(send_all(cl, cmds) for cl, cmds in burst.items()))
            got = await asyncio.gather(
                *(replies(cl, ids) for cl, ids in zip(burst, sent, strict=True))
            )
            answers = {k: v for reply in got for k, v in reply.items()}

            refused = {k: v for k, v in answers.items() if isinstance(v, Error)}
            assert len(answers) == 100 and len(refused) == 1, refused
            [(poisoned_id, error)] = refused.items()
            assert (error.code, error.detail) == (ErrorCode.UNAVAILABLE, "command_not_stored")
            assert poisoned_id.startswith("intake-burst-")
            acks = [v for v in answers.values() if isinstance(v, Ack)]
            assert len(acks) == 99 and not any(ack.replayed for ack in acks)
            # The failed commit held other operators' commands too; they were applied.
            failed = re.compile(r"refused a group of (\d+) commands")
            sizes = [int(m[1]) for r in caplog.records if (m := failed.search(r.getMessage()))]
            assert sizes and sizes[0] > 1

            after_cases, after_events, after_commands = await stored(db_url)
            # Nothing of the poison is stored, the foreign row is as its writer left it, and
            # every other command is there once, its events with it.
            assert after_cases[foreign.id] == foreign
            assert poisoned_id not in after_commands
            assert all(command != poisoned_id for _, command in after_events)
            assert after_commands - before[2] == {k for k, v in answers.items() if k != poisoned_id}
            assert [seq for seq, _ in after_events] == list(range(1, len(after_events) + 1))
            new_cases = {ack.case for ack in acks if ack.case and ack.case not in cases}
            assert len(new_cases) == 33 and foreign.id not in new_cases
            assert {k: v for k, v in after_cases.items() if k != foreign.id} == dict(
                hub.engine.cases
            )
            assert all(after_cases[case].status is Status.ACCEPTED for case in cases[:33])
            assert all(after_cases[case].version == 2 for case in cases)

            # Sent again with the same id, the intake is decided afresh and gets a free id.
            [retry] = [cmd for cmd in burst[a] if cmd.id == poisoned_id]
            _, again = await a.execute(retry)
            assert isinstance(again, Ack) and not again.replayed
            assert again.case not in after_cases


async def test_a_poison_in_a_group_with_a_due_breach_leaves_the_breach_committed(
    db_url: str,
) -> None:
    clock = SimClock(START, paced=False)
    store = await Store.open(db_url)
    city = demo_city()
    await store.seed(city.areas, city.units, city.staff)
    engine = Engine(store, Settings(), Catalog.default(), clock, ticker=False)
    await engine.start()
    try:
        urgent = await engine.execute(_intake(engine, "urgent", urgency=Urgency.URGENT), COMMANDER)
        assert urgent.case is not None
        due = engine.cases[urgent.case].deadlines[0].due
        await write_foreign_case(db_url, f"{DAY}{2 + 3:04d}")  # the burst's fourth intake
        clock.hold(due + timedelta(minutes=1))
        # Queued in one turn of the loop, so the writer takes breach and commands as one group.
        results = await asyncio.gather(
            engine.run_due(),
            *(engine.execute(_intake(engine, n), COMMANDER) for n in range(8)),
            return_exceptions=True,
        )
        refusals = [r for r in results[1:] if isinstance(r, Refusal)]
        assert [r.detail for r in refusals] == ["command_not_stored"]
        breached = [e for e in await store.case_events(urgent.case)
                    if e.type is EventType.DEADLINE_BREACHED]  # fmt: skip
        assert len(breached) == 1 and breached[0].actor == "hub"
        assert {c.id: c for c in await store.all_cases()}[urgent.case] == (
            engine.cases[urgent.case]
        )
        assert sum(isinstance(r, Ack) for r in results[1:]) == 7
    finally:
        await engine.stop()
        await store.close()


async def test_a_command_whose_deciding_raises_fails_alone(db_url: str) -> None:
    store, engine = await _started(db_url)
    try:
        at = Point(lon=121.50, lat=31.20)
        await engine.execute(_intake(engine, "first", position=at), COMMANDER)
        # Built in code, never decoded (the wire refuses it): the duplicate check's distance
        # maths raises on it. Sent with seven good ones, in one group.
        broken = _intake(engine, "broken", position=Point(lon=float("inf"), lat=31.2))
        commands = [_intake(engine, n, position=at) for n in range(7)]
        results = await asyncio.gather(
            *(engine.execute(cmd, COMMANDER) for cmd in [*commands[:3], broken, *commands[3:]]),
            return_exceptions=True,
        )
        refusals = [r for r in results if isinstance(r, Refusal)]
        assert [(r.code, r.detail) for r in refusals] == [(ErrorCode.UNAVAILABLE, "command_failed")]
        assert results[3] is refusals[0]
        assert sum(isinstance(r, Ack) for r in results) == 7
        assert len(await store.all_cases()) == 8 == len(engine.cases)
    finally:
        await engine.stop()
        await store.close()


# --- the database itself ------------------------------------------------------------------------


async def test_a_database_that_fails_fails_every_command_at_once(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, engine = await _started(db_url)
    try:
        first = await engine.execute(_intake(engine, "first"), COMMANDER)
        await _execute(db_url, text("DROP TABLE events"))  # a broken file, a lost schema
        caplog.set_level(logging.WARNING, logger="hub.engine")
        results = await asyncio.gather(
            *(engine.execute(_intake(engine, n), COMMANDER) for n in range(20)),
            return_exceptions=True,
        )
        assert {(r.code, r.detail) for r in results if isinstance(r, Refusal)} == {
            (ErrorCode.UNAVAILABLE, "store_failed")
        }
        assert len(results) == 20
        # No group was taken apart looking for a command to blame.
        assert not [r for r in caplog.records if "refused a group" in r.getMessage()]
        assert list(engine.cases) == [first.case] and engine.seq == first.seq
    finally:
        await engine.stop()
        await store.close()


async def test_another_process_writing_the_log_fails_commands_without_blaming_them(
    db_url: str,
) -> None:
    store, engine = await _started(db_url)
    try:
        first = await engine.execute(_intake(engine, "first"), COMMANDER)
        # A second hub on the same database: it numbers its events from the same tail.
        event = {"seq": first.seq + 1, "at": START, "actor": "other-hub",
                 "type": str(EventType.NOTED), "case": first.case, "staff": None,
                 "command": "elsewhere", "reason": "", "changes": {}, "data": {}}  # fmt: skip
        await _execute(db_url, insert(EventRow).values(event))
        results = await asyncio.gather(
            *(engine.execute(_intake(engine, n), COMMANDER) for n in range(10)),
            return_exceptions=True,
        )
        if store.shared:
            # PostgreSQL is shared by design (tests/hub/test_multihub.py): the other's event
            # is read and applied, and the commands are numbered after it.
            assert all(isinstance(r, Ack) and r.seq > first.seq + 1 for r in results), results
            assert len(engine.cases) == 11 and engine.seq == max(r.seq for r in results)
            return
        assert {r.detail for r in results if isinstance(r, Refusal)} == {"store_failed"}
        assert len(results) == 10 and list(engine.cases) == [first.case]
        await _execute(db_url, delete(EventRow).where(EventRow.seq > first.seq))
        assert (await engine.execute(_intake(engine, "later"), COMMANDER)).case is not None
    finally:
        await engine.stop()
        await store.close()


async def test_a_failure_after_the_commit_never_runs_a_command_again(db_url: str) -> None:
    store, engine = await _started(db_url)

    def broken_listener(_: object) -> None:
        raise RuntimeError("a listener that breaks on every batch")

    engine.listen(broken_listener)
    try:
        commands = [_intake(engine, n) for n in range(10)]
        acks = await asyncio.gather(*(engine.execute(cmd, COMMANDER) for cmd in commands))
        assert not any(ack.replayed for ack in acks)
        events = await store.events_after(0)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert sorted(e.command or "" for e in events if e.type is EventType.CASE_CREATED) == (
            sorted(cmd.id for cmd in commands)
        )
        assert engine.seq == await store.last_seq()
        assert (await engine.execute(commands[0], COMMANDER)).replayed
    finally:
        await engine.stop()
        await store.close()


# --- commands applied long ago ------------------------------------------------------------------


async def test_a_command_applied_long_ago_is_a_replay_and_applied_once(db_url: str) -> None:
    # The hub remembers three ids; the rest are found in the database when needed.
    clock = VirtualClock(START, 1.0)
    async with (
        running_hub(db_url, clock=clock, engine_options={"remember": 3}) as hub,
        TestClient.connect(hub.url) as client,
        TestClient.connect(hub.url) as other,
    ):
        await client.hello(hub.tokens[Role.COMMANDER])
        await other.hello(hub.tokens[Role.DISPATCHER])
        old_intake = hub.intake("old")
        _, first = await client.execute(old_intake)
        assert isinstance(first, Ack) and first.case is not None
        old_accept = Accept(id="old-accept", case=first.case, version=1)
        _, accepted = await client.execute(old_accept)
        assert isinstance(accepted, Ack)
        await replies(client, await send_all(client, intakes(hub, "later", 6)))
        before = await stored(db_url)

        # Retried in a burst with another operator's new commands: answered as replays,
        # the others applied, nothing written twice.
        news = intakes(hub, "news", 5)
        sent = await asyncio.gather(
            send_all(client, [old_intake, old_accept]), send_all(other, news)
        )
        mine, theirs = await asyncio.gather(replies(client, sent[0]), replies(other, sent[1]))
        assert mine == {
            old_intake.id: msgspec.structs.replace(first, replayed=True),
            old_accept.id: msgspec.structs.replace(accepted, replayed=True),
        }
        assert all(isinstance(r, Ack) and not r.replayed for r in theirs.values())
        after = await stored(db_url)
        assert len(after[0]) == len(before[0]) + 5
        assert after[2] - before[2] == {cmd.id for cmd in news}

        # The same ids with another body: refused as reused, whichever path finds them.
        for reused in (
            hub.intake("old", title="另一件事"),
            Note(id="old-accept", case=first.case, version=2, reason="记录"),
        ):
            _, refused = await client.execute(reused)
            assert isinstance(refused, Error) and refused.code is ErrorCode.DUPLICATE_ID
        assert await stored(db_url) == after
        tokens = hub.tokens

    # After a restart, which keeps only the newest ids in memory, the same.
    async with (
        running_hub(db_url, seed=False, clock=clock, engine_options={"remember": 3}) as hub,
        TestClient.connect(hub.url) as client,
    ):
        await client.hello(tokens[Role.COMMANDER])
        _, again = await client.execute(old_intake)
        assert again == msgspec.structs.replace(first, replayed=True)
        assert await stored(db_url) == after


# --- helpers -----------------------------------------------------------------------------------


async def _started(url: str) -> tuple[Store, Engine]:
    store = await Store.open(url)
    city = demo_city()
    await store.seed(city.areas, city.units, city.staff)
    engine = Engine(store, Settings(), Catalog.default(), VirtualClock(START, 1.0))
    await engine.start()
    return store, engine


def _intake(engine: Engine, n: int | str, **fields: Any) -> Intake:
    category = next(c for c in engine.hall.catalog if c.kind == Kind.EVENT)
    grid = next(a.code for a in engine.hall.areas.values() if a.kind == "grid")
    values: dict[str, Any] = {"id": f"intake-{n}", "kind": category.kind,
                              "category": category.code, "source": Source.PATROL,
                              "title": f"case {n}", "grid": grid}  # fmt: skip
    return Intake(**(values | fields))
