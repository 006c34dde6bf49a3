"""Revocation is immediate: disabling an operator, or giving it another role, unit or token,
ends its open sessions within a second with close 4003 — changed through the store by another
process (the real ``griddesk operator`` command) or by the same store functions in-process,
never through the hub — and a command of it still in flight when the hub notices is not
applied."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from server_fixtures import UNIT, RunningHub, TestClient, running_hub
from websockets.asyncio.client import connect

from dispatch.models import Role
from dispatch.protocol import Ack, Error
from hub.server import CLOSE_REVOKED
from hub.store import Applied, Grant

REVOKED_WITHIN = 1.0
"""Seconds from the store's change to the 4003 close (the bound PROTOCOL.md promises)."""

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def hub(db_url: str) -> AsyncIterator[RunningHub]:
    async with running_hub(db_url) as running:
        yield running


async def _session(hub: RunningHub, token: str) -> TestClient:
    """A client that has said hello and read its resync; the caller closes ``client.ws``."""
    client = TestClient(await connect(hub.url, compression=None, max_size=None))
    welcome = await client.hello(token)
    if welcome.resync == "snapshot":
        await client.snapshot()
    return client


async def _closed_after(client: TestClient, since: float) -> tuple[int | None, float]:
    """Read until the hub closes ``client``: the close code and the seconds since ``since``."""
    code, _ = await client.closed(UNIT * 5)
    return code, time.monotonic() - since


async def _cli(*args: str) -> None:
    """Run ``griddesk ARGS`` in a process of its own, as an administrator would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from console.cli import main; sys.exit(main())",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def test_disabling_an_operator_in_another_process_ends_its_session_within_a_second(
    hub: RunningHub, db_url: str
) -> None:
    other = await _session(hub, hub.tokens[Role.COMMANDER])
    client = await _session(hub, hub.tokens[Role.DISPATCHER])
    try:
        await _cli("operator", "disable", f"op-{Role.DISPATCHER}", "--db", db_url)
        code, took = await _closed_after(client, time.monotonic())
        assert code == CLOSE_REVOKED and client.ws.close_reason == "revoked"
        assert took <= REVOKED_WITHIN, f"closed {took:.2f} s after the operator was disabled"
        assert hub.server.clients == 1  # the commander's session goes on
        _, ack = await other.execute(hub.intake("after"))
        assert isinstance(ack, Ack)
        # The token is refused from now on: no session to come back to.
        again = TestClient(await connect(hub.url, compression=None))
        await again.send(f'{{"type":"hello","protocol":1,"token":"{hub.tokens[Role.DISPATCHER]}"}}')
        code, frames = await again.closed()
        assert code == 4001 and [f.code for f in frames if isinstance(f, Error)] == [
            "unauthenticated"
        ]
    finally:
        await other.ws.close()
        await client.ws.close()


@pytest.mark.parametrize(
    ("role", "unit", "change"),
    [
        (Role.DISPATCHER, None, (Role.OBSERVER, None)),  # another role
        (Role.STANDBY, "enforcement-1", (Role.STANDBY, "enforcement-2")),  # another unit
        (Role.UNIT, "enforcement-1", (Role.DISPATCHER, None)),  # both
    ],
)
async def test_another_role_or_unit_ends_the_session_and_the_next_one_has_the_new_grant(
    hub: RunningHub, role: Role, unit: str | None, change: tuple[Role, str | None]
) -> None:
    token = await hub.store.add_operator("changed", role, unit)
    client = await _session(hub, token)
    try:
        changed_at = time.monotonic()
        assert await hub.store.set_operator_role("changed", *change)
        code, took = await _closed_after(client, changed_at)
        assert code == CLOSE_REVOKED
        assert took <= REVOKED_WITHIN, f"closed {took:.2f} s after the change"
    finally:
        await client.ws.close()
    # The token itself still holds: a new session is opened under the new grant.
    again = TestClient(await connect(hub.url, compression=None, max_size=None))
    try:
        welcome = await again.hello(token)
        assert (welcome.role, welcome.unit) == change
    finally:
        await again.ws.close()


async def test_a_new_token_ends_the_sessions_of_the_old_one(hub: RunningHub) -> None:
    client = await _session(hub, hub.tokens[Role.OBSERVER])
    try:
        reset_at = time.monotonic()
        assert await hub.store.reset_token(f"op-{Role.OBSERVER}") is not None
        code, took = await _closed_after(client, reset_at)
        assert code == CLOSE_REVOKED and took <= REVOKED_WITHIN
    finally:
        await client.ws.close()


async def test_a_command_in_flight_when_revocation_is_noticed_is_not_applied(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer is held inside a commit while the revoked session's command waits behind
    it; the revocation is noticed meanwhile; the command is then decided — and refused."""
    gate = asyncio.Event()
    committing = asyncio.Event()
    commit = hub.store.commit

    async def held_commit(batch: Sequence[Applied]) -> Any:
        committing.set()
        await gate.wait()
        return await commit(batch)

    monkeypatch.setattr(hub.store, "commit", held_commit)
    if hub.store.shared:  # PostgreSQL: the writer commits through the shared log's turn
        turn = hub.store.log_turn

        @contextlib.asynccontextmanager
        async def held_turn() -> AsyncIterator[Any]:
            committing.set()
            await gate.wait()
            async with turn() as taken:
                yield taken

        monkeypatch.setattr(hub.store, "log_turn", held_turn)
    other = await _session(hub, hub.tokens[Role.COMMANDER])
    client = await _session(hub, hub.tokens[Role.DISPATCHER])
    try:
        await other.command(hub.intake("first"))  # the writer takes it and is held
        await asyncio.wait_for(committing.wait(), UNIT)
        in_flight = hub.intake("in-flight")
        await client.command(in_flight)  # waits behind it in the engine's queue
        await hub.store.set_operator_enabled(f"op-{Role.DISPATCHER}", False)
        code, took = await _closed_after(client, time.monotonic())
        assert code == CLOSE_REVOKED and took <= REVOKED_WITHIN
        gate.set()
        _, first = await other.until(Ack)
        assert first.command == "intake-first"
        # Decided after the revocation was noticed: refused, nothing stored, no case made.
        await other.execute(hub.intake("later"))  # the writer has moved past it
        assert await hub.store.applied(in_flight.id) is None
        titles = {c.title for c in hub.engine.snapshot().cases}
        assert "case in-flight" not in titles and "case first" in titles
    finally:
        gate.set()
        await other.ws.close()
        await client.ws.close()


async def test_sessions_in_good_standing_are_left_alone(hub: RunningHub) -> None:
    """Enabling an enabled operator, and another operator's change, end nothing."""
    client = await _session(hub, hub.tokens[Role.DISPATCHER])
    try:
        assert await hub.store.set_operator_enabled(f"op-{Role.DISPATCHER}", True)
        assert await hub.store.set_operator_enabled(f"op-{Role.OBSERVER}", False)
        await asyncio.sleep(REVOKED_WITHIN)
        _, ack = await client.execute(hub.intake("still"))
        assert isinstance(ack, Ack)
        assert hub.server.clients == 1
    finally:
        await client.ws.close()


async def test_a_login_under_the_new_grant_is_not_judged_by_a_read_older_than_it(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll that read the grants before a role change, answering after a session opened
    under the new role: that session stays; the one opened under the old role is revoked."""
    token = await hub.store.add_operator("changed", Role.DISPATCHER)
    old = await _session(hub, token)
    grants = hub.store.grants
    read = asyncio.Event()
    release = asyncio.Event()
    held = False

    async def stale_grants() -> dict[str, Grant]:
        nonlocal held
        result = await grants()
        if not held:  # the first read: hold it (the old grant) until the change and login
            held = True
            read.set()
            await release.wait()
        return result

    monkeypatch.setattr(hub.store, "grants", stale_grants)
    new: TestClient | None = None
    try:
        await asyncio.wait_for(read.wait(), UNIT)
        assert await hub.store.set_operator_role("changed", Role.OBSERVER)
        new = await _session(hub, token)
        release.set()
        code, _ = await _closed_after(old, time.monotonic())
        assert code == CLOSE_REVOKED
        await asyncio.sleep(REVOKED_WITHIN)  # more reads, now current: the new one holds
        assert hub.server.clients == 1
        _, reply = await new.execute(hub.intake("as-observer"))
        assert isinstance(reply, Error) and reply.code == "forbidden"  # it is an observer now
    finally:
        release.set()
        await old.ws.close()
        if new is not None:
            await new.ws.close()
