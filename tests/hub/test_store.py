"""The hub's store on a real database (a SQLite file; PostgreSQL too with GRIDDESK_TEST_PG):
what is committed comes back exactly, batches are all-or-nothing, restarts lose nothing, and
operator tokens are never stored."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import IntegrityError

from dispatch.events import Event, EventType, case_fields
from dispatch.models import (
    Actor,
    Area,
    AreaKind,
    Basis,
    Case,
    Deadline,
    Duty,
    Field,
    Kind,
    Point,
    Request,
    RequestKind,
    Role,
    Shift,
    Source,
    Staff,
    Status,
    Step,
    Unit,
    UnitKind,
    Urgency,
)
from hub.migrations import alembic_config
from hub.schema import Base
from hub.store import Applied, OperatorExists, OperatorUnitError, Store, StoreUnavailable

CST = timezone(timedelta(hours=8))  # the hall's local offset
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in the hall

AREAS = [
    Area(code="310101", name="黄浦区", kind=AreaKind.DISTRICT),
    Area(code="310101002", name="南京东路街道", kind=AreaKind.STREET, parent="310101"),
    Area(
        code="31010100201",
        name="第一责任网格",
        kind=AreaKind.GRID,
        parent="310101002",
        locality="u-street",
        centre=Point(lon=121.4840, lat=31.2380),
    ),
]
UNITS = [
    Unit(id="u-street", name="南京东路街道", kind=UnitKind.LOCALITY, area="310101002"),
    Unit(
        id="u-enf1",
        name="城管一中队",
        kind=UnitKind.DEPARTMENT,
        dept="enforcement",
        parent="u-street",
    ),
]
STAFF = [
    Staff(
        id="s-001",
        name="张伟",
        unit="u-enf1",
        role="城管队员",
        shift=Shift.DAY,
        grids=("31010100201",),
        duty=Duty.ON_DUTY,
        field=Field.AVAILABLE,
        position=Point(lon=121.485, lat=31.239),
        seen_at=T0,
        phone="13800000000",
    ),
    Staff(id="s-002", name="李娜", unit="u-street", role="网格员", shift=Shift.STANDBY),
]


def make_case(
    case_id: str, *, status: Status = Status.REPORTED, version: int = 1, **kw: Any
) -> Case:
    fields: dict[str, Any] = {
        "id": case_id,
        "kind": Kind.EVENT,
        "category": "0201",
        "source": Source.HOTLINE,
        "urgency": Urgency.URGENT,
        "status": status,
        "title": "暴露垃圾",
        "grid": "31010100201",
        "reported_at": T0,
        "version": version,
    } | kw
    return Case(**fields)


def created(seq: int, case: Case, command: str | None = None) -> Event:
    return Event(
        seq=seq,
        at=case.reported_at,
        actor="alice",
        type=EventType.CASE_CREATED,
        case=case.id,
        command=command,
        changes=case_fields(case),
    )


def as_sent(event: Event) -> Event:
    """``event`` after a trip through JSON, as every client sees it: ``changes`` and ``data``
    are JSON, so a tuple in them comes back a list."""
    return msgspec.json.decode(msgspec.json.encode(event), type=Event)


def applied(
    command_id: str | None, events: list[Event], cases: list[Case], staff: Sequence[Staff] = ()
) -> Applied:
    last = cases[-1] if cases else None
    return Applied(
        command_id=command_id,
        digest=f"digest-{command_id}",
        actor="alice",
        events=events,
        cases=cases,
        staff=staff,
        ack_case=last.id if last else None,
        ack_version=last.version if last else None,
    )


RICH_CASE = make_case(
    "2611230001",
    status=Status.DISPATCHED,
    version=4,
    description="南京东路步行街 垃圾堆放",
    address="南京东路 300 号",
    position=Point(lon=121.4851, lat=31.2389),
    reporter="12345-0099",
    owner_unit="u-enf1",
    owner_staff="s-001",
    supporting_units=("u-street",),
    deadlines=(
        Deadline(
            step=Step.ON_SCENE,
            start=T0,
            due=T0 + timedelta(minutes=15),
            limit_minutes=15,
            basis=Basis.WALL,
        ),
    ),
    request=Request(kind=RequestKind.EXTENSION, by="u1", at=T0, reason="设备", minutes=30),
    accepted_at=T0 + timedelta(minutes=1),
    dispatched_at=T0 + timedelta(minutes=2),
)


async def test_seed_and_load_round_trip(store: Store) -> None:
    assert await store.is_empty()

    await store.seed(AREAS, UNITS, STAFF)

    assert not await store.is_empty()
    loaded = await store.load()
    assert loaded.areas == sorted(AREAS, key=lambda a: a.code)
    assert loaded.units == sorted(UNITS, key=lambda u: u.id)
    assert loaded.staff == STAFF
    assert loaded.cases == []
    assert loaded.last_seq == 0
    assert loaded.last_case_serial == {}


async def test_commit_reads_back_cases_staff_and_events_exactly(store: Store) -> None:
    await store.seed(AREAS, UNITS, STAFF)
    plain = make_case("2611230002")
    moved = msgspec.structs.replace(STAFF[0], field=Field.EN_ROUTE, version=2)
    dispatched = Event(
        seq=3,
        at=datetime(2026, 11, 23, 9, 2, tzinfo=CST),  # read back in UTC, the same instant
        actor="alice",
        type=EventType.DISPATCHED,
        case=RICH_CASE.id,
        command="c2",
        reason="就近派遣",
        changes={"status": "dispatched", "owner_unit": "u-enf1"},
        data={"unit": "u-enf1", "nested": {"n": [1, 2.5, None, "文"]}},
    )

    await store.commit(
        [
            applied("c1", [created(1, plain, "c1"), created(2, RICH_CASE, "c1")], [plain]),
            applied("c2", [dispatched], [RICH_CASE], [moved]),
        ]
    )

    assert await store.all_cases() == [RICH_CASE, plain]
    assert await store.all_staff() == [moved, STAFF[1]]
    events = await store.events_after(0)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[2] == dispatched
    assert events[0] == as_sent(created(1, plain, "c1"))
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    assert await store.last_seq() == 3
    loaded = await store.load()
    assert loaded.cases == [RICH_CASE, plain]
    assert loaded.last_seq == 3
    assert loaded.last_case_serial == {"261123": 2}


async def test_a_case_changed_twice_in_one_batch_keeps_its_latest_version(store: Store) -> None:
    v1 = make_case("2611230003")
    v2 = msgspec.structs.replace(v1, status=Status.ACCEPTED, version=2)
    v3 = msgspec.structs.replace(v2, status=Status.DISPATCHED, owner_unit="u-enf1", version=3)

    await store.commit([applied("a", [], [v1]), applied("b", [], [v2]), applied("c", [], [v3])])

    assert await store.all_cases() == [v3]


async def test_events_after_returns_later_events_in_order(store: Store) -> None:
    cases = [make_case(f"26112300{n:02}") for n in range(1, 8)]
    await store.commit([applied(f"c{i}", [created(i, c)], [c]) for i, c in enumerate(cases, 1)])

    assert [e.seq for e in await store.events_after(4)] == [5, 6, 7]
    assert [e.seq for e in await store.events_after(0, limit=3)] == [1, 2, 3]
    assert await store.events_after(7) == []


async def test_applied_commands_are_recorded_for_idempotency(store: Store) -> None:
    case = make_case("2611230010")
    await store.commit(
        [
            applied("first", [created(1, case, "first")], [case]),
            applied("no-op", [], []),
            applied(None, [created(2, make_case("2611230011"))], [make_case("2611230011")]),
        ]
    )
    await store.commit([applied("no-op-2", [], [])])

    record = await store.applied("first")
    assert record is not None
    assert (record.digest, record.seq, record.case, record.version) == (
        "digest-first",
        1,
        case.id,
        1,
    )
    no_op = await store.applied("no-op")
    assert no_op is not None and no_op.seq == 1  # wrote nothing: acked at the log's tail
    later = await store.applied("no-op-2")
    assert later is not None and later.seq == 2
    assert await store.applied("never-sent") is None


async def test_reopening_the_database_finds_everything(db_url: str) -> None:
    store = await Store.open(db_url)
    case = make_case("2611230020")
    await store.seed(AREAS, UNITS, STAFF)
    await store.commit([applied("c1", [created(1, case, "c1")], [case])])
    token = await store.add_operator("alice", Role.COMMANDER)
    before = await store.load()
    await store.close()

    reopened = await Store.open(db_url)  # migrating an up-to-date database changes nothing
    try:
        assert await reopened.load() == before
        assert await reopened.events_after(0) == [as_sent(created(1, case, "c1"))]
        assert await reopened.applied("c1") is not None
        assert await reopened.authenticate(token) is not None
    finally:
        await reopened.close()


REPO = Path(__file__).resolve().parents[2]
KILLED_WRITER = """
import asyncio, sys
from datetime import UTC, datetime
from dispatch.events import Event, EventType
from dispatch.models import Case, Kind, Source, Status, Urgency
from hub.store import Applied, Store

async def main(url):
    store = await Store.open(url)
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    case = Case(id="2611230099", kind=Kind.EVENT, category="0201", source=Source.PATROL,
                urgency=Urgency.GENERAL, status=Status.REPORTED, title="t", reported_at=at)
    event = Event(seq=1, at=at, actor="alice", type=EventType.CASE_CREATED, case=case.id)
    await store.commit([Applied(command_id="c1", digest="d", actor="alice", events=[event],
                                cases=[case], staff=[], ack_case=case.id, ack_version=1)])
    print("acknowledged", flush=True)
    sys.stdin.read()  # hold the engine and its connections open until killed

asyncio.run(main(sys.argv[1]))
"""


async def test_a_commit_survives_kill_9_right_after_it_returns(db_url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        KILLED_WRITER,
        db_url,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 30) == b"acknowledged\n"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    store = await Store.open(db_url)
    try:
        assert [c.id for c in await store.all_cases()] == ["2611230099"]
        assert await store.last_seq() == 1
        assert await store.applied("c1") is not None
    finally:
        await store.close()


async def test_a_reused_seq_fails_the_whole_batch(store: Store) -> None:
    first = make_case("2611230030")
    await store.commit([applied("c1", [created(1, first, "c1")], [first])])
    second = make_case("2611230031")
    changed = msgspec.structs.replace(first, status=Status.ACCEPTED, version=2)

    with pytest.raises(IntegrityError):
        await store.commit(
            [
                applied("c2", [created(2, second, "c2")], [second]),
                applied("c3", [created(1, changed, "c3")], [changed]),  # seq 1 is taken
            ]
        )

    assert await store.all_cases() == [first]
    assert await store.last_seq() == 1
    assert await store.applied("c2") is None
    assert await store.applied("c3") is None
    assert await store.events_after(0) == [as_sent(created(1, first, "c1"))]


async def test_a_new_case_is_never_written_over_a_row_it_did_not_write(store: Store) -> None:
    imported = make_case("2611230040", title="旧平台导入")
    await store.commit([applied(None, [], [imported])])  # a row with no event: another writer's
    new = make_case("2611230040", title="新登记")
    other = make_case("2611230041")

    with pytest.raises(IntegrityError):  # the rows refused, not the database failing
        await store.commit(
            [
                applied("c1", [created(1, other, "c1")], [other]),
                applied("c2", [created(2, new, "c2")], [new]),
            ]
        )

    assert await store.all_cases() == [imported]
    assert await store.last_seq() == 0
    assert await store.applied("c1") is None


async def test_a_store_that_cannot_write_is_unavailable_whatever_the_rows(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP TABLE events"))  # a broken file, a lost schema
        case = make_case("2611230050")
        with pytest.raises(StoreUnavailable):
            await store.commit([applied("c1", [created(1, case, "c1")], [case])])
    finally:
        await store.close()


async def test_load_keeps_open_and_recently_finished_cases(store: Store) -> None:
    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    old_open = make_case("2611010001", status=Status.PARKED, reported_at=now - timedelta(days=50))
    old_closed = make_case(
        "2611010002",
        status=Status.CLOSED,
        reported_at=now - timedelta(days=50),
        closed_at=now - timedelta(days=40),
    )
    closed_lately = make_case(
        "2611020001",
        status=Status.CLOSED,
        reported_at=now - timedelta(days=30),
        closed_at=now - timedelta(days=1),
    )
    rejected_lately = make_case("2612190017", status=Status.REJECTED, reported_at=now)
    cases = [old_open, old_closed, closed_lately, rejected_lately]
    await store.commit([applied(f"c{i}", [], [c]) for i, c in enumerate(cases)])

    loaded = await store.load(now=now)

    assert [c.id for c in loaded.cases] == ["2611010001", "2611020001", "2612190017"]
    assert len(await store.all_cases()) == 4
    assert loaded.last_case_serial == {"261101": 2, "261102": 1, "261219": 17}


async def test_a_restart_reads_the_serials_of_the_days_it_can_number_and_the_newest_acks(
    store: Store,
) -> None:
    now = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # 10:00 on the 20th in the hall
    cases = [make_case(i, reported_at=now) for i in ("2611010002", "2612190017", "2612200003")]
    await store.commit([applied(f"c{n}", [created(n + 1, c, f"c{n}")], [c])
                        for n, c in enumerate(cases)])  # fmt: skip

    loaded = await store.load(now=now, serials_from=now)

    # The hall's day may start the UTC day before: that day is read too, older ones not.
    assert loaded.last_case_serial == {"261219": 17, "261220": 3}
    recent = await store.recent_commands(2)
    assert [(r.command_id, r.seq, r.case) for r in recent] == [
        ("c1", 2, "2612190017"),
        ("c2", 3, "2612200003"),
    ]


async def test_operator_tokens_authenticate_and_are_never_stored(store: Store) -> None:
    await store.seed(AREAS, UNITS, STAFF)
    token = await store.add_operator("alice", Role.COMMANDER)
    standby_token = await store.add_operator("bob", Role.STANDBY, unit="u-enf1")

    assert await store.authenticate(token) == Actor(name="alice", role=Role.COMMANDER)
    assert await store.authenticate(standby_token) == Actor(
        name="bob", role=Role.STANDBY, unit="u-enf1"
    )
    assert await store.authenticate(token + "x") is None
    assert await store.authenticate("") is None
    assert token not in await _everything_stored(store)


async def test_disabled_operators_cannot_authenticate(store: Store) -> None:
    token = await store.add_operator("alice", Role.DISPATCHER)

    assert await store.set_operator_enabled("alice", False)
    assert await store.authenticate(token) is None
    [alice] = await store.list_operators()
    assert (alice.name, alice.role, alice.enabled) == ("alice", Role.DISPATCHER, False)
    assert alice.created_at.utcoffset() == timedelta(0)

    assert await store.set_operator_enabled("alice", True)
    assert await store.authenticate(token) is not None
    assert not await store.set_operator_enabled("nobody", False)


async def test_operator_names_are_unique_and_tokens_can_be_replaced(store: Store) -> None:
    old = await store.add_operator("alice", Role.COMMANDER)
    with pytest.raises(OperatorExists):
        await store.add_operator("alice", Role.OBSERVER)

    new = await store.reset_token("alice")

    assert new is not None and new != old
    assert await store.authenticate(old) is None
    assert await store.authenticate(new) is not None
    assert await store.reset_token("nobody") is None


async def test_migrations_build_exactly_the_models(store: Store) -> None:
    async with store.engine.connect() as conn:
        diffs = await conn.run_sync(_diff_against_models)
    assert diffs == []


async def test_standalone_migration_matches_the_models(db_url: str) -> None:
    # The path an operator takes without a running hub: Alembic opens its own engine.
    # Alembic's env runs its own event loop, so it runs in a worker thread here.
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "head")

    store = await Store.open(db_url, migrate=False)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff_against_models) == []
        assert await store.is_empty()
    finally:
        await store.close()


async def test_sqlite_is_durable_and_accepts_plain_urls(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "hub.db"
    store = await Store.open(f"sqlite:///{path}")
    try:
        async with store.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            sync = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
            keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, sync, keys) == ("wal", 2, 1)  # synchronous 2 = FULL
        assert path.exists()
    finally:
        await store.close()


def _diff_against_models(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _everything_stored(store: Store) -> str:
    """Every value of every table as text (and, for SQLite, the raw database files)."""

    def dump(conn: Connection) -> str:
        parts: list[str] = []
        for table in inspect(conn).get_table_names():
            rows = conn.execute(select(text("*")).select_from(text(f'"{table}"'))).all()
            parts.extend(repr(tuple(row)) for row in rows)
        return "\n".join(parts)

    async with store.engine.connect() as conn:
        stored = await conn.run_sync(dump)
    database = store.engine.url.database
    if store.dialect == "sqlite" and database:
        for path in Path(database).parent.glob(Path(database).name + "*"):
            stored += path.read_bytes().decode("latin-1")
    return stored


async def test_sqlite_commits_are_written_with_the_same_durable_pragmas(tmp_path: Path) -> None:
    # Commits on a SQLite file go through the store's own writer connection, not the async
    # engine's: it must be just as durable (WAL, synchronous=FULL) and wait on a busy file.
    store = await Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        writer = store._writer
        assert writer is not None

        def pragmas() -> tuple[Any, ...]:
            with writer._engine.connect() as conn:
                return tuple(
                    conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
                )

        assert await writer.run(pragmas) == ("wal", 2, 10_000, 1)
    finally:
        await store.close()


async def test_commits_and_other_writes_at_once_all_land(store: Store) -> None:
    cases = [make_case(f"26112301{n:02}") for n in range(1, 21)]
    batches = [[applied(f"c{i}", [created(i, c, f"c{i}")], [c])] for i, c in enumerate(cases, 1)]

    await asyncio.gather(
        *(store.commit(batch) for batch in batches),
        store.seed(AREAS, UNITS, STAFF),
        store.add_operator("alice", Role.COMMANDER),
    )

    assert await store.all_cases() == cases
    assert [e.seq for e in await store.events_after(0)] == list(range(1, 21))
    assert len(await store.applied_many([f"c{i}" for i in range(1, 21)])) == 20
    assert await store.all_staff() == STAFF
    assert [o.name for o in await store.list_operators()] == ["alice"]


async def test_closing_waits_for_a_commit_in_flight(db_url: str) -> None:
    store = await Store.open(db_url)
    case = make_case("2611230200")
    writing = asyncio.create_task(store.commit([applied("c1", [created(1, case, "c1")], [case])]))
    await asyncio.sleep(0)  # let the commit start; close must not cut it off

    await store.close()
    await writing

    reopened = await Store.open(db_url)
    try:
        assert await reopened.all_cases() == [case]
        assert await reopened.applied("c1") is not None
    finally:
        await reopened.close()


async def test_a_cancelled_commit_is_stored_whole_or_not_at_all(db_url: str) -> None:
    store = await Store.open(db_url)
    cases = [make_case(f"26112303{n:02}") for n in range(1, 6)]
    batch = [applied(f"c{i}", [created(i, c, f"c{i}")], [c]) for i, c in enumerate(cases, 1)]
    writing = asyncio.create_task(store.commit(batch))
    await asyncio.sleep(0)

    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    await store.close()

    reopened = await Store.open(db_url)
    try:
        stored = await reopened.all_cases()
        assert stored in ([], cases)
        assert await reopened.last_seq() == (5 if stored else 0)
        assert len(await reopened.applied_many([f"c{i}" for i in range(1, 6)])) == len(stored)
    finally:
        await reopened.close()


async def test_a_memory_database_commits_and_reads_back() -> None:
    store = await Store.open("sqlite://")
    try:
        case = make_case("2611230400")
        await store.commit([applied("c1", [created(1, case, "c1")], [case]), applied("c2", [], [])])

        assert await store.all_cases() == [case]
        record = await store.applied("c2")
        assert record is not None and record.seq == 1
    finally:
        await store.close()


async def test_a_standby_or_unit_operator_needs_a_unit_the_hall_has(store: Store) -> None:
    await store.seed(AREAS, UNITS, STAFF)
    for role in (Role.STANDBY, Role.UNIT):
        with pytest.raises(OperatorUnitError, match="give --unit"):
            await store.add_operator(f"no-unit-{role}", role)
        with pytest.raises(OperatorUnitError, match=r"no unit 'u-nope'.*u-enf1"):
            await store.add_operator(f"bad-unit-{role}", role, "u-nope")
    assert [o.name for o in await store.list_operators()] == []
    await store.add_operator("bob", Role.UNIT, "u-enf1")
