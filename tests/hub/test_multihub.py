"""Several hubs on one PostgreSQL database (issue 13): one hall, one gap-free log, conflicts
and command ids arbitrated by the database, exactly one SLA ticker, and clients that move to
another hub when theirs dies — with no acknowledged command lost and none applied twice."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from server_fixtures import UNIT, RunningHub, running_hub, seed_store
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine
from test_restart import HubProcess, _intakes, in_process_hub

from backend_client import CommandRefused, CommandTimeout, HubClient, NotConnected
from dispatch.commands import Accept, Intake
from dispatch.errors import ErrorCode
from dispatch.events import EventType
from dispatch.models import Actor, Case, Role, Urgency
from dispatch.protocol import Ack
from hub.clock import SimClock
from hub.engines import async_url
from hub.peers import LogFollower
from hub.schema import EventRow
from hub.store import Store
from hub.ticker_lock import TickerLock

pytestmark = pytest.mark.pg

TICKING = "this hub runs the SLA ticker"


async def _until(check: object, what: str, limit: float = UNIT * 5) -> None:
    """Wait (polling the loop, not the wall clock's luck) until ``check()`` holds."""
    assert callable(check)
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"not within {limit:g} s: {what}"
        await asyncio.sleep(0.02)


async def _log_of(url: str) -> list[int]:
    store = await Store.open(url, migrate=False)
    try:
        return [e.seq for e in await store.events_after(0, 1_000_000)]
    finally:
        await store.close()


async def _fresh_cases(url: str, token: str) -> tuple[int, dict[str, Case]]:
    async with HubClient.connected(url, token, timeout=UNIT * 5) as fresh:
        return fresh.mirror.seq, dict(fresh.mirror.cases)


async def _mirrors_match_a_fresh_snapshot(
    clients: Sequence[HubClient], url: str, token: str, db_url: str
) -> None:
    last = (await _log_of(db_url))[-1]
    await _until(lambda: all(c.mirror.seq == last for c in clients), "every mirror at the tail")
    seq, cases = await _fresh_cases(url, token)
    assert seq == last
    for client in clients:
        assert client.mirror.cases == cases, f"the mirror through {client.url} differs"


@contextlib.asynccontextmanager
async def _clients(
    urls: Sequence[str | Sequence[str]], token: str
) -> AsyncIterator[list[HubClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(HubClient.connected(u, token, timeout=UNIT * 5))
            for u in urls
        ]


async def test_three_hubs_one_hall_one_log(pg_url: str) -> None:
    tokens = await seed_store(pg_url, city=False)
    commander = tokens[Role.COMMANDER]
    async with (
        in_process_hub(pg_url, demo=True) as a,
        in_process_hub(pg_url) as b,
        in_process_hub(pg_url) as c,
    ):
        urls = [f"ws://127.0.0.1:{hub.port}" for hub in (a, b, c)]
        async with _clients(urls, commander) as clients:
            # Commands on every hub at once.
            batches = [_intakes(15, f"hub{i}") for i in range(3)]
            acks = await asyncio.gather(
                *(client.send(cmd) for client, cmds in zip(clients, batches, strict=True)
                  for cmd in cmds)
            )  # fmt: skip
            assert len({ack.case for ack in acks}) == 45, "every intake got a case id of its own"
            assert len({ack.seq for ack in acks}) == 45

            # Two commanders on two hubs, same case, same version: one applies, one conflict.
            first = acks[0]
            assert first.case is not None and first.version is not None
            both = await asyncio.gather(
                *(client.send(Accept(id=f"accept-{i}", case=first.case, version=first.version))
                  for i, client in enumerate(clients[1:])),
                return_exceptions=True,
            )  # fmt: skip
            assert sum(isinstance(r, Ack) for r in both) == 1, both
            refused = [r for r in both if isinstance(r, CommandRefused)]
            assert len(refused) == 1 and refused[0].code == ErrorCode.CONFLICT, both

            # A command retried on another hub is the same command: applied once.
            again = await clients[2].send(batches[0][0])
            assert again.replayed and again.case == first.case

            await _mirrors_match_a_fresh_snapshot(clients, urls[1], commander, pg_url)
    assert await _log_of(pg_url) == list(range(1, len(await _log_of(pg_url)) + 1)), "gap-free"


async def test_kill_9_one_hub_mid_load_loses_nothing_and_the_ticker_moves(pg_url: str) -> None:
    tokens = await seed_store(pg_url)
    commander = tokens[Role.COMMANDER]
    hubs = [await HubProcess.start(pg_url) for _ in range(3)]
    try:
        await _until(lambda: any(TICKING in "".join(h.log) for h in hubs), "a hub ticks")
        ticker = next(h for h in hubs if TICKING in "".join(h.log))
        others = [h for h in hubs if h is not ticker]
        urls = [h.url for h in hubs]
        # Two clients per hub, each with the whole list starting at its own hub.
        lists = [urls[i:] + urls[:i] for i in range(3) for _ in range(2)]
        commands = [_intakes(25, f"load{n}") for n in range(len(lists))]
        acked: dict[str, Ack] = {}
        enough = asyncio.Event()

        async def work(client: HubClient, batch: list[Intake]) -> None:
            for command in batch:
                while True:
                    try:
                        acked[command.id] = await client.send(command)
                        break
                    except (NotConnected, CommandTimeout):
                        # Lost with its hub: the same id again on the next one.
                        await client.wait_live(UNIT * 10)
                if len(acked) >= 40:
                    enough.set()

        async with _clients(lists, commander) as clients:
            workers = [
                asyncio.create_task(work(client, batch))
                for client, batch in zip(clients, commands, strict=True)
            ]
            await asyncio.wait_for(enough.wait(), UNIT * 10)
            await ticker.kill()
            killed_at = time.monotonic()
            in_flight = sum(len(batch) for batch in commands) - len(acked)
            assert in_flight > 0, "killed mid-load"
            await asyncio.wait_for(asyncio.gather(*workers), UNIT * 20)
            assert all(client.url != ticker.url for client in clients), "all moved off it"
            await _mirrors_match_a_fresh_snapshot(clients, others[0].url, commander, pg_url)

            # Every command acknowledged, each applied exactly once.
            titles = {case.title: case for case in clients[0].mirror.cases.values()}
            sent = [command for batch in commands for command in batch]
            assert len(acked) == len(sent)
            for command in sent:
                assert titles[command.title].id == acked[command.id].case, command.id
            load_cases = [c for c in clients[0].mirror.cases.values() if c.title.startswith("load")]
            assert len(load_cases) == len(sent), "no command applied twice"

        # The ticker moved to a surviving hub within 5 s of the kill.
        await _until(lambda: any(TICKING in "".join(h.log) for h in others), "the ticker moved")
        assert time.monotonic() - killed_at <= 5.0 * UNIT / 2
        assert await _log_of(pg_url) == list(range(1, len(await _log_of(pg_url)) + 1))
    finally:
        for hub in hubs:
            if hub.proc.returncode is None:
                await hub.kill()


COMMANDER = Actor(name="commander", role=Role.COMMANDER)


@contextlib.asynccontextmanager
async def _shared_hub(
    url: str, clock: SimClock, *, seed: bool
) -> AsyncIterator[tuple[RunningHub, list[asyncio.Task[None]]]]:
    """An in-process hub on a shared store as the runner wires it: following the others and
    ticking only while it holds the ticker lock. Cancelling its tasks is the hub going away."""
    async with running_hub(url, seed=seed, clock=clock, engine_options={"ticker": False}) as hub:
        tasks = [
            asyncio.create_task(LogFollower(hub.engine, hub.store).run()),
            asyncio.create_task(TickerLock(hub.engine, hub.store).run()),
        ]
        try:
            yield hub, tasks
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _breaches(url: str) -> list[tuple[str | None, str]]:
    store = await Store.open(url, migrate=False)
    try:
        events = await store.events_after(0, 1_000_000)
    finally:
        await store.close()
    return [(e.case, str((e.data or {}).get("step"))) for e in events
            if e.type is EventType.DEADLINE_BREACHED]  # fmt: skip


async def test_one_ticker_breaches_each_deadline_once_and_another_takes_over(
    pg_url: str,
) -> None:
    clock = SimClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC), paced=False)
    async with _shared_hub(pg_url, clock, seed=True) as (a, a_tasks):
        await _until(lambda: a.engine.ticking, "the first hub takes the ticker")
        async with _shared_hub(pg_url, clock, seed=False) as (b, _):
            first = await a.engine.execute(a.intake(1, urgency=Urgency.URGENT), COMMANDER)
            second = await b.engine.execute(a.intake(2, urgency=Urgency.URGENT), COMMANDER)
            assert first.case is not None and second.case is not None
            await _until(lambda: first.case in b.engine.cases, "b follows a's intake")
            await _until(lambda: second.case in a.engine.cases, "a follows b's intake")
            assert a.engine.ticking and not b.engine.ticking, "exactly one ticker"

            # Even two tickers at once (a holder cut off for a moment) breach a deadline once.
            b.engine.start_ticker()
            due = a.engine.cases[first.case].deadlines[0].due
            clock.hold(due + timedelta(seconds=1))
            await _until(lambda: b.engine.cases[first.case].breaches == 1, "the breach")
            await _until(lambda: a.engine.cases[first.case].breaches == 1, "a follows it")
            await b.engine.stop_ticker()

            # The ticking hub goes away: the other takes the ticker over within 5 s and
            # breaches what falls due after — nothing missed, nothing twice.
            for task in a_tasks:
                task.cancel()
            await asyncio.gather(*a_tasks, return_exceptions=True)
            assert not a.engine.ticking
            gone = time.monotonic()
            await _until(lambda: b.engine.ticking, "b takes the ticker over", UNIT * 2.5)
            assert time.monotonic() - gone <= 5.0 * UNIT / 2
            later = [d for d in b.engine.cases[first.case].deadlines if not d.breached]
            due = max([b.engine.cases[second.case].deadlines[0].due, *(d.due for d in later)])
            clock.hold(due + timedelta(seconds=1))
            await _until(
                lambda: all(d.breached or d.due > clock.now()
                            for c in (first.case, second.case)
                            for d in b.engine.cases[c].deadlines),
                "every deadline due is breached",
            )  # fmt: skip
    breaches = await _breaches(pg_url)
    assert len(breaches) == len(set(breaches)), f"a deadline breached twice: {breaches}"
    assert {case for case, _ in breaches} == {first.case, second.case}


async def test_a_missed_notification_delays_an_event_but_never_loses_it(pg_url: str) -> None:
    """An event written with no NOTIFY (as if the notification were lost) still reaches the
    hub's clients: the follower reads the log's tail every second regardless."""
    async with running_hub(pg_url, engine_options={"ticker": False}) as hub:
        follower = asyncio.create_task(LogFollower(hub.engine, hub.store).run())
        try:
            async with HubClient.connected(hub.url, hub.tokens[Role.COMMANDER]) as client:
                ack = await client.send(hub.intake(1))
                event = {"seq": ack.seq + 1, "at": datetime.now(UTC), "actor": "other-hub",
                         "type": str(EventType.NOTED), "case": ack.case, "staff": None,
                         "command": "elsewhere", "reason": "noted on another hub",
                         "changes": {}, "data": {}}  # fmt: skip
                engine = create_async_engine(async_url(pg_url))
                try:
                    async with engine.begin() as conn:
                        await conn.execute(insert(EventRow).values(event))
                finally:
                    await engine.dispose()
                await _until(lambda: client.mirror.seq == ack.seq + 1, "the client has it")
                assert hub.engine.seq == ack.seq + 1
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
