"""The client against a real hub on a loopback port, over real SQLite: sync, commands and acks,
another console's changes, refusals, auth failure, restarts, and the hub clock."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from client_fixtures import COMMANDER, hub_at, hub_cases, hub_staff, running_client
from server_fixtures import UNIT, sqlite_url_in

from backend_client import (
    AuthFailed,
    CommandRefused,
    ConnectionState,
    HubClient,
    NotConnected,
    SessionRevoked,
)
from dispatch.commands import Accept
from dispatch.config import HubSettings
from dispatch.errors import ErrorCode
from dispatch.models import Role, Status, Urgency
from hub.clock import VirtualClock

LIVE = ConnectionState.LIVE


async def test_first_connect_mirrors_exactly_the_hubs_hall(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    # Small chunks, so the snapshot spans several frames.
    async with hub_at(url, hub=HubSettings(snapshot_chunk=2)) as hub:
        for n in range(5):
            await hub.engine.execute(hub.intake(n), COMMANDER)
        async with running_client(hub.url, hub.tokens[Role.DISPATCHER]) as (client, seen, _):
            await client.wait_live(UNIT * 5)
            assert client.mirror.cases == {c.id: c for c in await hub.store.all_cases()}
            assert client.mirror.cases == hub_cases(hub)
            assert client.mirror.staff == hub_staff(hub)
            assert client.mirror.units == hub.engine.hall.units
            assert client.mirror.areas == hub.engine.hall.areas
            assert client.mirror.seq == hub.engine.seq
            assert (client.operator, client.role) == ("op-dispatcher", Role.DISPATCHER)
    assert seen.snapshots == 1
    names = seen.state_names
    assert names[:3] == [ConnectionState.CONNECTING, ConnectionState.SYNCING, LIVE]
    assert names[-1] is ConnectionState.CLOSED


async def test_a_command_is_acked_after_its_change_reached_the_mirror(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.DISPATCHER]) as (client, seen, _),
    ):
        await client.wait_live(UNIT * 5)
        ack = await client.send(hub.intake(1, id=client.new_id(), urgency=Urgency.URGENT))
        assert ack.case is not None and not ack.replayed
        # The events precede the ack: when send() returns, the mirror and callbacks have them.
        assert client.mirror.cases[ack.case] == hub.engine.cases[ack.case]
        assert client.mirror.seq == ack.seq
        created = [c for c in seen.changes if ack.case in c.new_cases]
        assert len(created) == 1
        assert created[0].urgent_new == (ack.case,)
        assert created[0].cases[0].status is Status.REPORTED


async def test_a_callback_taken_off_hears_nothing_more(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.COMMANDER]) as (client, _, _),
    ):
        await client.wait_live(UNIT * 5)
        heard: list[str] = []
        off = client.on_change(lambda change: heard.extend(change.new_cases))
        first = await client.send(hub.intake(1, id=client.new_id()))
        off()
        off()  # twice is harmless
        second = await client.send(hub.intake(2, id=client.new_id()))
        assert second.case in client.mirror.cases  # the client itself still took it in
        assert heard == [first.case]


async def test_another_consoles_command_appears_in_the_mirror(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.OBSERVER]) as (watcher, seen, _),
        running_client(hub.url, hub.tokens[Role.COMMANDER]) as (commander, _, _),
    ):
        await watcher.wait_live(UNIT * 5)
        await commander.wait_live(UNIT * 5)
        ack = await commander.send(hub.intake(1, id=commander.new_id()))
        assert ack.case is not None and ack.version is not None
        accept = Accept(id=commander.new_id(), case=ack.case, version=ack.version)
        await commander.send(accept)

        def accepted() -> bool:
            case = watcher.mirror.cases.get(str(ack.case))
            return case is not None and case.status is Status.ACCEPTED

        await seen.until(accepted)
        assert watcher.mirror.cases == hub_cases(hub)
        assert watcher.mirror.seq == hub.engine.seq


async def test_a_refused_command_raises_its_code_and_changes_nothing(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.COMMANDER]) as (client, seen, _),
    ):
        await client.wait_live(UNIT * 5)
        ack = await client.send(hub.intake(1, id=client.new_id()))
        assert ack.case is not None
        before = (dict(client.mirror.cases), client.mirror.seq, len(seen.changes))
        stale = Accept(id=client.new_id(), case=ack.case, version=99)
        with pytest.raises(CommandRefused) as refused:
            await client.send(stale)
        assert refused.value.code is ErrorCode.CONFLICT
        assert refused.value.detail == "version_conflict_by"
        assert refused.value.params == {
            "case": ack.case,
            "version": 1,
            "status": "reported",
            "expected": 99,
            "by": "op-commander",
        }
        observer_only = hub.intake(2, id=client.new_id(), grid="no-such-grid")
        with pytest.raises(CommandRefused) as unknown:
            await client.send(observer_only)
        assert unknown.value.code is ErrorCode.NOT_FOUND
        assert (unknown.value.detail, unknown.value.params) == (
            "unknown_grid",
            {"grid": "no-such-grid"},
        )
        assert (dict(client.mirror.cases), client.mirror.seq, len(seen.changes)) == before
        assert client.state is LIVE


async def test_resending_the_same_command_is_answered_once(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.COMMANDER]) as (client, _, _),
    ):
        await client.wait_live(UNIT * 5)
        intake = hub.intake(1, id=client.new_id())
        first = await client.send(intake)
        again = await client.send(intake)
        assert again.replayed and (again.case, again.seq) == (first.case, first.seq)
        assert len(client.mirror.cases) == 1


async def test_send_fails_at_once_when_not_live(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        idle = HubClient(hub.url, hub.tokens[Role.COMMANDER])
        started = time.monotonic()
        with pytest.raises(NotConnected, match="not sent"):
            await idle.send(hub.intake(1, id=idle.new_id()))
        assert time.monotonic() - started < UNIT / 4
        async with running_client(hub.url, hub.tokens[Role.COMMANDER]) as (client, seen, _):
            await client.wait_live(UNIT * 5)
            await hub.server.close()  # the hub goes away; the client keeps trying
            await seen.until(lambda: client.state is not LIVE)
            with pytest.raises(NotConnected):
                await client.send(hub.intake(2, id=client.new_id()))
    assert hub.engine.seq == 0  # nothing was queued and replayed later


async def test_a_bad_token_is_final(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        client = HubClient(hub.url, "gd_not-a-token", backoff_min=0.01, backoff_max=0.01)
        states: list[ConnectionState] = []
        client.on_state(lambda state, _detail: states.append(state))
        await asyncio.wait_for(client.run(), UNIT * 5)  # returns: no retry loop
        assert client.state is ConnectionState.AUTH_FAILED
        assert states == [ConnectionState.CONNECTING, ConnectionState.AUTH_FAILED]
        with pytest.raises(AuthFailed):
            await client.wait_live(UNIT)
        with pytest.raises(AuthFailed, match="refused the token"):
            async with HubClient.connected(hub.url, "gd_wrong", timeout=UNIT * 5):
                pass


async def test_a_revoked_session_stops_for_good_with_a_typed_error(tmp_path: Path) -> None:
    """Close 4003 (the operator was disabled): REVOKED, no reconnect with the dead token, and
    SessionRevoked — an AuthFailed — from wait_live and send."""
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        client = HubClient(hub.url, hub.tokens[Role.DISPATCHER], backoff_min=0.01, backoff_max=0.01)
        states: list[ConnectionState] = []
        client.on_state(lambda state, _detail: states.append(state))
        run = asyncio.create_task(client.run())
        await client.wait_live(UNIT * 5)
        await hub.store.set_operator_enabled(f"op-{Role.DISPATCHER}", False)
        await asyncio.wait_for(run, UNIT * 5)  # returns: no retry loop
        assert client.state is ConnectionState.REVOKED
        assert states[-2:] == [ConnectionState.LIVE, ConnectionState.REVOKED]
        assert states.count(ConnectionState.CONNECTING) == 1
        with pytest.raises(SessionRevoked):
            await client.wait_live(UNIT)
        with pytest.raises(SessionRevoked):
            await client.send(hub.intake(1, id=client.new_id()))
        assert issubclass(SessionRevoked, AuthFailed)
        await client.close()
        assert client.state is ConnectionState.REVOKED  # still says why it stopped


async def test_connected_gives_a_live_client_and_closes_it(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        async with HubClient.connected(
            hub.url, hub.tokens[Role.COMMANDER], timeout=UNIT * 5
        ) as client:
            assert client.state is LIVE
            ack = await client.send(hub.intake(1, id=client.new_id()))
            assert ack.case in client.mirror.cases
        assert client.state is ConnectionState.CLOSED
        free_port = hub.server.port
    with pytest.raises(NotConnected, match="not reached within"):
        async with HubClient.connected(f"ws://127.0.0.1:{free_port}", "x", timeout=UNIT / 4):
            pass


async def test_a_failing_callback_does_not_stop_the_client(tmp_path: Path) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in the owner")

    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.COMMANDER]) as (client, _, _),
    ):
        client.on_change(broken)
        client.on_state(broken)
        await client.wait_live(UNIT * 5)
        ack = await client.send(hub.intake(1, id=client.new_id()))
        assert ack.case in client.mirror.cases
        assert client.state is LIVE


async def test_after_a_hub_restart_it_reconnects_and_catches_up(tmp_path: Path) -> None:
    url = sqlite_url_in(tmp_path)
    async with hub_at(url) as first:
        tokens = first.tokens
        port = first.server.port
        async with running_client(first.url, tokens[Role.DISPATCHER]) as (client, seen, _):
            await client.wait_live(UNIT * 5)
            await first.engine.execute(first.intake(1), COMMANDER)
            await seen.until(lambda: client.mirror.seq == first.engine.seq)
            # The hub stops; while it is away commands are applied straight through an engine
            # on the same file; then a new hub comes up on the same port.
            await first.server.close()
            await first.engine.stop()
            await first.store.close()
            await seen.until(lambda: client.state is ConnectionState.DISCONNECTED)
            async with hub_at(url, port=port, seed=False) as second:
                for n in range(2, 5):
                    await second.engine.execute(second.intake(n), COMMANDER)
                await client.wait_live(UNIT * 10)
                await seen.until(lambda: client.mirror.seq == second.engine.seq)
                assert client.mirror.cases == hub_cases(second)
                assert client.mirror.cases == {c.id: c for c in await second.store.all_cases()}
                assert client.mirror.staff == hub_staff(second)
                assert len(client.mirror.cases) == 4
    # Resumed from its last seq: the missed events came as changes, not a second snapshot.
    assert seen.snapshots == 1
    names = seen.state_names
    first_drop = names.index(ConnectionState.DISCONNECTED)
    assert LIVE in names[first_drop:]


async def test_a_hub_restored_from_a_backup_sends_a_snapshot_that_replaces_the_mirror(
    tmp_path: Path,
) -> None:
    """The client's last seq is ahead of a hub restored from an older copy of its database:
    the hub answers with a snapshot, and chunk 1 throws away what the hub no longer has."""
    url, backup = sqlite_url_in(tmp_path / "live"), tmp_path / "backup"
    async with hub_at(url) as hub:
        await hub.engine.execute(hub.intake(1), COMMANDER)
        tokens, port = hub.tokens, hub.server.port
    backup.mkdir()
    for file in (tmp_path / "live").iterdir():
        shutil.copy(file, backup / file.name)
    async with (
        hub_at(url, port=port, seed=False) as hub,
        running_client(hub.url, tokens[Role.COMMANDER]) as (client, seen, _),
    ):
        await client.wait_live(UNIT * 5)
        for n in range(2, 4):
            await client.send(hub.intake(n, id=client.new_id()))
        assert len(client.mirror.cases) == 3
        await hub.server.close()
        await hub.engine.stop()
        await hub.store.close()
        await seen.until(lambda: client.state is not LIVE)
        async with hub_at(sqlite_url_in(backup), port=port, seed=False) as restored:
            await seen.until(lambda: seen.snapshots == 2)
            await client.wait_live(UNIT * 5)
            assert client.mirror.cases == hub_cases(restored)
            assert len(client.mirror.cases) == 1
            assert client.mirror.seq == restored.engine.seq


async def test_hub_now_follows_the_hub_clock(tmp_path: Path) -> None:
    async with (
        hub_at(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.OBSERVER]) as (client, _, _),
    ):
        await client.wait_live(UNIT * 5)
        assert abs((client.hub_now() - hub.engine.clock.now()).total_seconds()) < 1.0
        assert client.speed == 1.0


async def test_hub_now_runs_at_the_demo_hubs_speed(tmp_path: Path) -> None:
    start = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)
    clock = VirtualClock(start, 60.0)
    async with (
        hub_at(sqlite_url_in(tmp_path), clock=clock) as hub,
        running_client(hub.url, hub.tokens[Role.OBSERVER]) as (client, _, _),
    ):
        await client.wait_live(UNIT * 5)
        assert client.speed == 60.0
        # A minute of hub time per real second: allow one second of hub time of skew.
        assert abs((client.hub_now() - clock.now()).total_seconds()) < 1.0
        local, hub_before = time.monotonic(), client.hub_now()
        await asyncio.sleep(0.5)  # measuring elapsed time, not synchronising
        elapsed_hub = (client.hub_now() - hub_before).total_seconds()
        elapsed_local = time.monotonic() - local
        assert elapsed_hub == pytest.approx(elapsed_local * 60, rel=0.05)
        assert abs((client.hub_now() - clock.now()).total_seconds()) < 1.0


async def test_history_brings_events_from_before_the_client_connected(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        ack = await hub.engine.execute(hub.intake(1), COMMANDER)
        assert ack.case is not None
        async with running_client(hub.url, hub.tokens[Role.OBSERVER]) as (client, _, _):
            await client.wait_live(UNIT * 5)
            events = await client.history(ack.case)
            assert events == await hub.store.case_events(ack.case)
            assert events[0].type == "case_created" and events[0].actor == "op-commander"
            with pytest.raises(CommandRefused) as refused:
                await client.history("no-such-case")
            assert refused.value.code is ErrorCode.NOT_FOUND
        with pytest.raises(NotConnected):
            await client.history(ack.case)
