"""The seeded hall is one the hub could have written: a real hub starts on it, a client mirrors
it, every stored case is the fold of its stored events, seqs have no gap, new commands apply
and a retried seeded command is answered as a replay. On a small hall (2,000 open cases,
20,000 events), SQLite always and PostgreSQL through ``GRIDDESK_TEST_PG``."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from client_fixtures import running_client
from server_fixtures import PG_ENV, UNIT, fresh_pg_database, running_hub
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import hall_seed
from bench.hall_plan import HallParams, plan_hall
from bench.hall_play import Play
from bench.hall_seed import SeededHall, demo_hall, hall_of, seed_hall, seeded_sqlite
from dispatch.commands import Dispatch, Intake, ReportBack
from dispatch.events import EventType, apply_case_event
from dispatch.models import Case, Kind, Role, Source, Status
from hub.clock import VirtualClock
from hub.engines import async_url
from hub.schema import CommandRow, EventRow
from hub.store import Store

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 7, 15, 2, 30, tzinfo=UTC)  # 10:30 on a Wednesday in the hall
SMALL = HallParams(open_cases=2_000, events=20_000, command_ids=4_000, now=NOW, seed=3)
CASE_ID = re.compile(r"^(\d{6})(\d{4,})$")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SeededHall]:
    """One small hall for the module (seeding takes a few seconds); tests take copies."""
    db = tmp_path_factory.mktemp("seeded") / "hall.db"
    hall = asyncio.run(hall_seed.seed_params(f"sqlite:///{db}", SMALL))
    return db, hall


@pytest.fixture
def hall_url(seeded: tuple[Path, SeededHall], tmp_path: Path) -> str:
    """A private copy of the seeded hall, for a test that changes it."""
    copy = tmp_path / "hall.db"
    shutil.copyfile(seeded[0], copy)
    return f"sqlite+aiosqlite:///{copy}"


async def assert_a_valid_hall(url: str, hall: SeededHall) -> list[Case]:
    """The log numbered 1, 2, … in time order up to ``now``, folding into exactly the stored
    cases; the counts as reported; case ids as the engine makes them. The stored cases."""
    store = await Store.open(url, migrate=False)
    try:
        events = []
        while page := await store.events_after(len(events)):
            events.extend(page)
        cases = await store.all_cases()
    finally:
        await store.close()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
    assert events[-1].at <= hall.now
    folded: dict[str, Case] = {}
    for event in events:
        if event.case is not None and event.type is not EventType.ALERT:
            folded[event.case] = apply_case_event(folded.get(event.case), event)
    assert folded == {c.id: c for c in cases}
    counts = hall.counts
    assert (len(cases), len(events)) == (counts.cases, counts.events)
    assert sum(c.is_open for c in cases) == counts.open_cases
    tz = demo_hall().calendar.tz
    serials: dict[str, list[int]] = {}
    for case in sorted(cases, key=lambda c: (c.reported_at, c.id)):
        match = CASE_ID.match(case.id)
        assert match, case.id
        assert match.group(1) == case.reported_at.astimezone(tz).strftime("%y%m%d")
        serials.setdefault(match.group(1), []).append(int(match.group(2)))
    assert all(s == list(range(1, len(s) + 1)) for s in serials.values())  # in intake order
    return cases


async def test_every_stored_case_is_the_fold_of_its_stored_events(
    seeded: tuple[Path, SeededHall],
) -> None:
    db, hall = seeded
    cases = await assert_a_valid_hall(f"sqlite:///{db}", hall)
    assert sum(c.is_open for c in cases) == SMALL.open_cases
    assert abs(hall.counts.events - SMALL.events) < SMALL.events * 0.05
    open_statuses = {str(c.status) for c in cases if c.is_open}
    assert open_statuses >= {"reported", "accepted", "dispatched", "acknowledged", "on_scene",
                             "reported_back", "checked", "parked"}  # fmt: skip
    assert set(hall.counts.lights) == {"green", "amber", "red", "none"}
    assert hall.counts.lights["green"] > hall.counts.open_cases / 2
    assert hall.counts.breaches > 0
    owners = {c.owner_unit for c in cases if c.is_open and c.owner_unit}
    assert len(owners) >= 15  # spread over the demo city's units


async def test_the_last_command_ids_are_kept_with_their_acks(
    seeded: tuple[Path, SeededHall],
) -> None:
    db, hall = seeded
    engine = create_async_engine(async_url(f"sqlite:///{db}"))
    try:
        async with engine.connect() as conn:
            records = (await conn.execute(select(CommandRow.__table__))).all()
            last = select(EventRow.command, func.max(EventRow.seq)).group_by(EventRow.command)
            rows = (await conn.execute(last.where(EventRow.command.is_not(None)))).all()
            last_seq_of: dict[str, int] = {command: seq for command, seq in rows}
    finally:
        await engine.dispose()
    assert len(records) == hall.counts.command_ids == SMALL.command_ids
    # Each record is the ack of a command whose events are in the log: its last event.
    assert all(last_seq_of[r.id] == r.seq for r in records)
    # And they are the most recent commands: none older is remembered, none newer forgotten.
    newest = sorted(last_seq_of, key=lambda c: last_seq_of[c])[-SMALL.command_ids :]
    assert {r.id for r in records} == set(newest)


async def test_a_hub_starts_on_it_and_a_client_mirrors_it(
    seeded: tuple[Path, SeededHall], hall_url: str
) -> None:
    _, hall = seeded
    async with running_hub(hall_url, seed=False, clock=VirtualClock(hall.now, 1.0)) as hub:
        assert hub.engine.seq == hall.counts.events
        # Every deadline due before ``now`` was breached: the SLA ticker has nothing to do.
        soonest = hub.engine.next_deadline()
        assert soonest is not None and soonest > hall.now
        open_cases = [c for c in hub.engine.cases.values() if c.is_open]
        assert len(open_cases) == hall.counts.open_cases
        async with running_client(hub.url, hall.token(Role.COMMANDER)) as (client, _, _):
            await client.wait_live(UNIT * 10)
            assert client.mirror.seq == hub.engine.seq
            assert client.mirror.cases == dict(hub.engine.cases)


async def test_a_new_intake_and_commands_on_seeded_cases_apply(
    seeded: tuple[Path, SeededHall], hall_url: str
) -> None:
    _, hall = seeded
    clock = VirtualClock(hall.now, 1.0)
    async with running_hub(hall_url, seed=False, clock=clock) as hub:
        cases = dict(hub.engine.cases)
        today = hall.now.astimezone(hub.engine.hall.calendar.tz).strftime("%y%m%d")
        serial = max((int(i[6:]) for i in cases if i.startswith(today)), default=0)
        category = next(c for c in hub.engine.hall.catalog if c.kind is Kind.EVENT)
        grid = next(a.code for a in hub.engine.hall.areas.values() if a.kind == "grid")
        intake = Intake(id=uuid.uuid4().hex, kind=category.kind, category=category.code,
                        source=Source.PATROL, title="新的一件", grid=grid)  # fmt: skip
        async with running_client(hub.url, hall.token(Role.DISPATCHER)) as (client, _, _):
            await client.wait_live(UNIT * 10)
            ack = await client.send(intake)
            assert ack.case == f"{today}{serial + 1:04d}"  # the next serial: no collision
            accepted = next(c for c in cases.values() if c.status is Status.ACCEPTED)
            unit = next(u for u in sorted(hub.engine.hall.units) if u != accepted.owner_unit)
            ack = await client.send(Dispatch(id=uuid.uuid4().hex, case=accepted.id,
                                             version=accepted.version, unit=unit))  # fmt: skip
            assert ack.version == accepted.version + 1
        # A unit terminal seeded with the hall reports back on a case its unit holds.
        on_scene = next(c for c in cases.values()
                        if c.status is Status.ON_SCENE and c.request is None)  # fmt: skip
        token = hall.token(Role.UNIT, on_scene.owner_unit)
        async with running_client(hub.url, token) as (client, _, _):
            await client.wait_live(UNIT * 10)
            report = ReportBack(id=uuid.uuid4().hex, case=on_scene.id, version=on_scene.version,
                                reason="已处置")  # fmt: skip
            ack = await client.send(report)
            assert hub.engine.cases[on_scene.id].status is Status.REPORTED_BACK
            assert ack.version == on_scene.version + 1


async def test_a_retried_seeded_command_is_answered_as_a_replay(
    seeded: tuple[Path, SeededHall], hall_url: str
) -> None:
    _, hall = seeded
    # Played again, the same plans give the same commands: the seeded ones, ids and all.
    play = Play(plan_hall(demo_hall(), SMALL), demo_hall(), SMALL.now, SMALL.seed)
    last = [act for act in play if act.command is not None][-1]
    assert last.command is not None
    async with running_hub(hall_url, seed=False, clock=VirtualClock(hall.now, 1.0)) as hub:
        seq = hub.engine.seq
        operator = next(op for op in hall.operators if op.name == last.actor.name)
        async with running_client(hub.url, operator.token) as (client, _, _):
            await client.wait_live(UNIT * 10)
            ack = await client.send(last.command)
        assert ack.replayed
        assert (ack.seq, ack.case, ack.version) == (last.events[-1].seq, last.case, last.version)
        assert hub.engine.seq == seq  # applied once, long ago


def test_benchmarks_get_private_copies_of_one_cached_hall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hall_seed, "CACHE", tmp_path / "cache")
    params = HallParams(open_cases=40, events=400, command_ids=100, now=NOW)
    first = seeded_sqlite(params, into=tmp_path / "a")
    seeded_at = (tmp_path / "cache").stat().st_mtime_ns
    calls: list[HallParams] = []
    monkeypatch.setattr(hall_seed, "seed_params", lambda url, p: calls.append(p))
    second = seeded_sqlite(params, into=tmp_path / "b")  # from the cache: not seeded again
    assert calls == []
    assert first != second and first.read_bytes() == second.read_bytes()
    assert hall_of(second).token(Role.COMMANDER) == hall_of(first).token(Role.COMMANDER)
    assert hall_of(second).counts.open_cases == 40
    assert (tmp_path / "cache").stat().st_mtime_ns == seeded_at
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [
        f"hall-{hall_seed.cache_key(params)}"
    ]


def test_the_cache_key_follows_parameters_and_sources(tmp_path: Path) -> None:
    source = tmp_path / "schema.py"
    source.write_text("x = 1\n")
    key = hall_seed.cache_key(SMALL, [source])
    assert hall_seed.cache_key(SMALL, [source]) == key
    assert hall_seed.cache_key(HallParams(open_cases=1), [source]) != key
    source.write_text("x = 2\n")  # a schema change: seeded afresh
    assert hall_seed.cache_key(SMALL, [source]) != key


def test_the_command_line_seeds_a_file_and_says_where_the_tokens_are(tmp_path: Path) -> None:
    out = tmp_path / "small.db"
    done = subprocess.run(
        [sys.executable, "-m", "bench.hall_seed", "--open-cases", "30", "--events", "300",
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tokens = tmp_path / "small.tokens.json"
    assert f"tokens: {tokens}" in done.stdout
    assert "open 30" in done.stdout
    assert hall_of(out).counts.open_cases == 30
    again = subprocess.run(
        [sys.executable, "-m", "bench.hall_seed", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode != 0 and "exists" in again.stderr  # never seeds over a hall


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A new PostgreSQL database on the ``GRIDDESK_TEST_PG`` server, dropped afterwards."""
    async with fresh_pg_database(os.environ[PG_ENV]) as url:
        yield url


@pytest.mark.pg
async def test_a_hall_seeded_into_postgresql_is_valid_and_starts(pg_url: str) -> None:
    hall = await seed_hall(pg_url, open_cases=300, events=3_000, command_ids=500, now=NOW)
    await assert_a_valid_hall(pg_url, hall)
    async with running_hub(pg_url, seed=False, clock=VirtualClock(hall.now, 1.0)) as hub:
        assert hub.engine.seq == hall.counts.events
        assert sum(c.is_open for c in hub.engine.cases.values()) == 300
