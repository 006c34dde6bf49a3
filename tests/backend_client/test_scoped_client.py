"""A role-scoped client (a unit's terminal) against a real hub: its mirror and hall model hold
exactly its unit's cases as they move between units, and it resumes after a dropped connection
from its last position with no false gap although it is not sent every event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from client_fixtures import COMMANDER, hub_at, running_client
from server_fixtures import UNIT, RunningHub, sqlite_url_in

from backend_client import Change, ConnectionState, Mirror
from backend_client.hall_model import HallModel
from dispatch.commands import Accept, Dispatch, Note, Reassign
from dispatch.models import Case, Role
from dispatch.protocol import Ack

X, Y = "sanitation", "municipal"
REPORTER = "李四 13900001111"


class Proxy:
    """A TCP relay between client and hub that can be cut (every open link dropped, new ones
    refused) and restored: a network outage, with the hub staying up."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.down = False

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    @classmethod
    @contextlib.asynccontextmanager
    async def to(cls, port: int) -> AsyncIterator[Proxy]:
        proxy = cls(port)
        proxy._server = await asyncio.start_server(proxy._link, "127.0.0.1", 0)
        try:
            yield proxy
        finally:
            proxy.cut()
            proxy._server.close()

    def cut(self) -> None:
        self.down = True
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def restore(self) -> None:
        self.down = False

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._port)
        self._links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def run(hub: RunningHub, command: Any) -> Ack:
    ack = await hub.engine.execute(command, COMMANDER)
    assert isinstance(ack, Ack)
    return ack


async def case_for(hub: RunningHub, n: str, unit: str) -> str:
    made = await run(hub, hub.intake(n, reporter=REPORTER, description="d"))
    assert made.case is not None and made.version is not None
    accepted = await run(hub, Accept(id=f"a-{n}", case=made.case, version=made.version))
    assert accepted.version is not None
    await run(hub, Dispatch(id=f"d-{n}", case=made.case, version=accepted.version, unit=unit))
    return made.case


async def note(hub: RunningHub, case_id: str, n: str) -> None:
    case = hub.engine.cases[case_id]
    await run(hub, Note(id=f"note-{n}", case=case_id, version=case.version, reason="n"))


async def reassign(hub: RunningHub, case_id: str, unit: str) -> None:
    case = hub.engine.cases[case_id]
    await run(hub, Reassign(id=f"r-{case_id}-{unit}", case=case_id, version=case.version,
                            unit=unit, reason="wrong unit"))  # fmt: skip


def model_fed_by(client: Any) -> HallModel:
    """A hall model kept current from the client's callbacks, as the console keeps it."""
    model = HallModel()
    now = datetime.now(UTC)

    def snapshot(mirror: Mirror) -> None:
        model.replace(mirror.cases.values(), mirror.staff.values(), mirror.units.values(),
                      mirror.areas.values(), now)  # fmt: skip

    def change(change: Change) -> None:
        model.apply(change.cases, change.staff, now, change.removed)

    client.on_snapshot(snapshot)
    client.on_change(change)
    return model


def whole(hub: RunningHub, *case_ids: str) -> dict[str, Case]:
    return {k: hub.engine.cases[k] for k in case_ids}


async def test_a_case_reassigned_away_leaves_one_units_mirror_and_arrives_whole_in_the_other(
    tmp_path: Path,
) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        token_x = await hub.store.add_operator("op-unit-x", Role.UNIT, X)
        token_y = await hub.store.add_operator("op-standby-y", Role.STANDBY, Y)
        mine = await case_for(hub, "mine", X)
        theirs = await case_for(hub, "theirs", Y)
        async with (
            running_client(hub.url, token_x) as (x, seen_x, _),
            running_client(hub.url, token_y) as (y, seen_y, _),
        ):
            model_x, model_y = model_fed_by(x), model_fed_by(y)
            await x.wait_live(UNIT * 5)
            await y.wait_live(UNIT * 5)
            assert x.mirror.cases == whole(hub, mine)
            assert y.mirror.cases == whole(hub, theirs)
            assert set(model_x.cases) == {mine}

            await reassign(hub, mine, Y)
            await seen_x.until(lambda: x.mirror.seq == hub.engine.seq)
            await seen_y.until(lambda: y.mirror.seq == hub.engine.seq)

            assert x.mirror.cases == {}
            assert seen_x.changes[-1].removed == (mine,)
            assert model_x.cases == {} and model_x.counts() == HallModel().counts()
            # Whole, as the hub holds it (Y owns it now: the reporter too).
            assert y.mirror.cases == whole(hub, mine, theirs)
            assert y.mirror.cases[mine].reporter == REPORTER
            assert set(model_y.cases) == {mine, theirs}
            assert mine in seen_y.changes[-1].new_cases

            await reassign(hub, mine, X)  # and back again
            await seen_x.until(lambda: x.mirror.seq == hub.engine.seq)
            await seen_y.until(lambda: y.mirror.seq == hub.engine.seq)
            assert x.mirror.cases == whole(hub, mine)
            assert set(model_x.cases) == {mine} and set(model_y.cases) == {theirs}
    assert seen_x.snapshots == seen_y.snapshots == 1


async def test_a_unit_terminal_resumes_after_a_drop_with_no_false_gap(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub, Proxy.to(hub.server.port) as proxy:
        token = await hub.store.add_operator("op-unit-x", Role.UNIT, X)
        mine = await case_for(hub, "mine", X)
        leaving = await case_for(hub, "leaving", X)
        theirs = await case_for(hub, "theirs", Y)
        async with running_client(proxy.url, token) as (client, seen, _):
            model = model_fed_by(client)
            await client.wait_live(UNIT * 5)
            # Live: events it may not see (skipped, no gap) between ones it may.
            for n in range(3):
                await note(hub, theirs, f"theirs-{n}")
                await note(hub, mine, f"mine-{n}")
            await note(hub, theirs, "last")
            await seen.until(lambda: client.mirror.seq == hub.engine.seq)
            assert client.state is ConnectionState.LIVE

            proxy.cut()
            await seen.until(lambda: client.state is ConnectionState.DISCONNECTED)
            # While it is away: its case noted, one of its cases leaves, a new one arrives,
            # another unit's case is worked on; the last events are none of its business.
            await note(hub, mine, "away")
            await reassign(hub, leaving, Y)
            arriving = await case_for(hub, "arriving", X)
            await note(hub, theirs, "away-theirs")
            proxy.restore()

            await seen.until(
                lambda: (
                    client.state is ConnectionState.LIVE and client.mirror.seq == hub.engine.seq
                ),
                UNIT * 10,
            )
            assert client.mirror.cases == whole(hub, mine, arriving)
            assert set(model.cases) == {mine, arriving}
            # The missed events came as changes, the departure among them.
            assert any(leaving in c.removed for c in seen.changes)
    assert seen.snapshots == 1
    details = [detail for _, detail in seen.states]
    assert not any("out of sequence" in d or "out of step" in d for d in details), details
    assert seen.state_names.count(ConnectionState.LIVE) == 2
