"""Who sees what (docs/PROTOCOL.md §5.1), against a real hub on loopback and SQLite: for each
role, the snapshot, the live events and ``history`` hold exactly what the table says."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from server_fixtures import UNIT, RunningHub, TestClient, events_in, running_hub, sqlite_url_in
from test_protocol_examples import client_example

from dispatch.commands import Accept, Dispatch, Joint, Note, Reassign
from dispatch.events import Event, EventType
from dispatch.models import Actor, Role
from dispatch.protocol import Ack, Error, Events, History, HistoryRequest, encode

X, Y = "sanitation", "municipal"
"""Two departments with no units under them."""
COMMANDER = Actor(name="op-commander", role=Role.COMMANDER)
REPORTER = "李四 13900001111"
DESCRIPTION = "门口有人摆摊, 联系人李四"
NOTE = "李四说 13900001111 下午在家"

ALL_ROLES = ("commander", "dispatcher", "observer", "unit-x", "standby-x", "unit-y")


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sqlite_url_in(tmp_path)) as running:
        running.tokens[Role.UNIT] = await running.store.add_operator("op-unit-x", Role.UNIT, X)
        running.tokens[Role.STANDBY] = await running.store.add_operator(
            "op-standby-x", Role.STANDBY, X
        )
        yield running


async def tokens_of(hub: RunningHub) -> dict[str, str]:
    unit_y = await hub.store.add_operator("op-unit-y", Role.UNIT, Y)
    return {
        "commander": hub.tokens[Role.COMMANDER],
        "dispatcher": hub.tokens[Role.DISPATCHER],
        "observer": hub.tokens[Role.OBSERVER],
        "unit-x": hub.tokens[Role.UNIT],
        "standby-x": hub.tokens[Role.STANDBY],
        "unit-y": unit_y,
    }


async def run(hub: RunningHub, command: Any) -> Ack:
    ack = await hub.engine.execute(command, COMMANDER)
    assert isinstance(ack, Ack)
    return ack


async def owned_case(hub: RunningHub, n: str, unit: str | None) -> str:
    """A case with a reporter and a description, accepted and (unless ``unit`` is None)
    dispatched to ``unit``; its id."""
    made = await run(hub, hub.intake(n, reporter=REPORTER, description=DESCRIPTION))
    case = made.case
    assert case is not None and made.version is not None
    if unit is None:
        return case
    accepted = await run(hub, Accept(id=f"accept-{n}", case=case, version=made.version))
    assert accepted.version is not None
    await run(hub, Dispatch(id=f"dispatch-{n}", case=case, version=accepted.version, unit=unit))
    return case


async def the_hall(hub: RunningHub) -> dict[str, str]:
    """Four cases: X's own, Y's own, Y's with X supporting (joint), and one nobody owns."""
    cases = {
        "x": await owned_case(hub, "x", X),
        "y": await owned_case(hub, "y", Y),
        "joint": await owned_case(hub, "joint", Y),
        "open": await owned_case(hub, "open", None),
    }
    joint = hub.engine.cases[cases["joint"]]
    await run(
        hub,
        Joint(id="joint", case=joint.id, version=joint.version, lead=Y, supporting=(X,)),
    )
    return cases


EXPECTED_CASES = {
    "commander": {"x", "y", "joint", "open"},
    "dispatcher": {"x", "y", "joint", "open"},
    "observer": {"x", "y", "joint", "open"},
    "unit-x": {"x", "joint"},
    "standby-x": {"x", "joint"},
    "unit-y": {"y", "joint"},
}
"""The cases each role's snapshot holds (by the names of :func:`the_hall`)."""
REPORTER_ON = {
    "commander": {"x", "y", "joint", "open"},
    "dispatcher": {"x", "y", "joint", "open"},
    "observer": set(),
    "unit-x": {"x"},  # it only supports the joint case
    "standby-x": {"x"},
    "unit-y": {"y", "joint"},
}
PHONES_OF = {
    "commander": "all",
    "dispatcher": "all",
    "observer": None,
    "unit-x": X,
    "standby-x": X,
    "unit-y": Y,
}


async def snapshot_of(hub: RunningHub, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cases and staff a client with ``token`` is sent at hello, by id."""
    async with TestClient.connect(hub.url) as client:
        await client.hello(token)
        chunks = await client.snapshot()
    cases = {c.id: c for chunk in chunks for c in chunk.cases}
    staff = {s.id: s for chunk in chunks for s in chunk.staff}
    return cases, staff


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_each_roles_snapshot_holds_what_the_table_says(hub: RunningHub, role: str) -> None:
    tokens = await tokens_of(hub)
    names = await the_hall(hub)
    cases, staff = await snapshot_of(hub, tokens[role])
    by_id = {v: k for k, v in names.items()}

    assert {by_id[c] for c in cases} == EXPECTED_CASES[role]
    for case_id, case in cases.items():
        name = by_id[case_id]
        assert case.reporter == (REPORTER if name in REPORTER_ON[role] else None), (role, name)
        assert case.description == ("" if role == "observer" else DESCRIPTION), (role, name)
        # Everything else is the hub's row as it is.
        whole = hub.engine.cases[case_id]
        assert case.status == whole.status and case.version == whole.version
        assert case.owner_unit == whole.owner_unit
    # Every person is listed; the phone only where the role may see it.
    assert staff.keys() == hub.engine.hall.staff.keys()
    phones = PHONES_OF[role]
    for person in staff.values():
        real = hub.engine.hall.staff[person.id].phone
        assert real is not None
        shown = phones == "all" or person.unit == phones
        assert person.phone == (real if shown else None), (role, person.id)


async def live_frames_of(
    hub: RunningHub, tokens: dict[str, str], act: Any
) -> dict[str, list[Events]]:
    """Every role's clients connected; ``act()`` run; the live events each was sent up to the
    hub's seq after it (read through the frames' ``seq``, or the last event's)."""
    clients: dict[str, TestClient] = {}
    contexts = []
    try:
        for role in ALL_ROLES:
            context = TestClient.connect(hub.url)
            contexts.append(context)
            client = await context.__aenter__()
            await client.hello(tokens[role])
            await client.snapshot()
            clients[role] = client
        await act()
        last = hub.engine.seq
        out: dict[str, list[Events]] = {}
        for role, client in clients.items():
            frames: list[Events] = []
            while True:
                frame = await client.expect(Events)
                frames.append(frame)
                end = frame.seq if frame.seq is not None else frame.events[-1].seq
                if end >= last:
                    break
            out[role] = frames
        return out
    finally:
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)


async def live_events_of(
    hub: RunningHub, tokens: dict[str, str], act: Any
) -> dict[str, list[Event]]:
    frames = await live_frames_of(hub, tokens, act)
    return {role: events_in(list(f)) for role, f in frames.items()}


async def test_live_events_hold_what_the_table_says(hub: RunningHub) -> None:
    tokens = await tokens_of(hub)
    names = await the_hall(hub)

    async def act() -> None:
        await owned_case(hub, "new", X)  # a new case, dispatched to X
        x = hub.engine.cases[names["x"]]
        await run(hub, Note(id="note-x", case=x.id, version=x.version, reason=NOTE))
        y = hub.engine.cases[names["y"]]
        await run(hub, Note(id="note-y", case=y.id, version=y.version, reason=NOTE))

    frames = await live_frames_of(hub, tokens, act)
    seen = {role: events_in(list(f)) for role, f in frames.items()}
    new = next(c.id for c in hub.engine.cases.values() if c.title == "case new")
    # A unit's frames say the span they cover, one per batch, each after the one before;
    # the others' frames are gap-free and carry no span.
    for role in ("unit-x", "standby-x", "unit-y"):
        spans = [(f.after, f.seq) for f in frames[role]]
        assert all(after is not None for after, _ in spans), role
        assert all(a[1] == b[0] for a, b in pairwise(spans)), spans
        assert spans[-1][1] == hub.engine.seq
    for role in ("commander", "dispatcher", "observer"):
        assert all(f.after is None and f.seq is None for f in frames[role]), role
    full = seen["commander"]
    assert [e.seq for e in full] == list(range(full[0].seq, hub.engine.seq + 1))
    assert seen["dispatcher"] == full
    created = next(e for e in full if e.type is EventType.CASE_CREATED)
    assert created.changes["reporter"] == REPORTER

    # The observer: every event, without reporter, description or free text.
    observer = seen["observer"]
    assert [e.seq for e in observer] == [e.seq for e in full]
    created = next(e for e in observer if e.type is EventType.CASE_CREATED)
    assert created.changes["reporter"] is None and created.changes["description"] == ""
    assert all(e.reason == "" for e in observer)

    # X's terminals: the new case arrives whole when it is dispatched to X (not at intake,
    # when nobody owned it), with the reporter; the note on X's case; nothing of Y's.
    for role in ("unit-x", "standby-x"):
        events = seen[role]
        assert [(e.type, e.case) for e in events] == [
            (EventType.IN_SCOPE, new),
            (EventType.NOTED, names["x"]),
        ], role
        arrived = events[0]
        assert arrived.changes["id"] == new and arrived.changes["reporter"] == REPORTER
        assert arrived.changes["owner_unit"] == X and arrived.data == {"cause": "dispatched"}
        assert events[1].reason == NOTE
    # Y's terminal sees none of it but the note on its own case.
    assert [(e.type, e.case) for e in seen["unit-y"]] == [(EventType.NOTED, names["y"])]


async def history_of(hub: RunningHub, token: str, case: str) -> History | Error:
    async with TestClient.connect(hub.url) as client:
        await client.hello(token)
        await client.snapshot()
        await client.send(encode(HistoryRequest(id="h-1", case=case)))
        while True:
            reply = await client.recv()
            if isinstance(reply, History | Error):
                return reply


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_history_holds_what_the_table_says(hub: RunningHub, role: str) -> None:
    tokens = await tokens_of(hub)
    names = await the_hall(hub)
    x = hub.engine.cases[names["x"]]
    await run(hub, Note(id="note", case=x.id, version=x.version, reason=NOTE))
    for name, case_id in names.items():
        reply = await history_of(hub, tokens[role], case_id)
        if name not in EXPECTED_CASES[role]:
            assert isinstance(reply, Error), (role, name)
            assert (reply.code, reply.detail, reply.command) == (
                "forbidden",
                "history_out_of_scope",
                "h-1",
            )
            continue
        assert isinstance(reply, History), (role, name, reply)
        stored = await hub.store.case_events(case_id)
        assert [e.seq for e in reply.events] == [e.seq for e in stored]
        created = reply.events[0]
        reporter = REPORTER if name in REPORTER_ON[role] else None
        assert created.changes["reporter"] == reporter, (role, name)
        assert created.changes["description"] == ("" if role == "observer" else DESCRIPTION)
        reasons = {e.reason for e in reply.events if e.type is EventType.NOTED}
        if name == "x":
            assert reasons == ({""} if role == "observer" else {NOTE}), role


async def test_a_case_reassigned_away_leaves_one_unit_and_arrives_whole_at_the_other(
    hub: RunningHub,
) -> None:
    tokens = await tokens_of(hub)
    names = await the_hall(hub)
    moved = names["x"]

    async def act() -> None:
        case = hub.engine.cases[moved]
        await run(hub, Reassign(id="move", case=moved, version=case.version, unit=Y, reason="r"))

    seen = await live_events_of(hub, tokens, act)
    (gone,) = seen["unit-x"]
    assert gone.type is EventType.OUT_OF_SCOPE and gone.case == moved
    # Only the case id and the seq: nothing of the case, nor who moved it or why.
    assert (gone.actor, gone.reason, gone.changes, gone.data, gone.command) == (
        "hub",
        "",
        {},
        {},
        None,
    )
    assert gone.seq == hub.engine.seq
    (came,) = seen["unit-y"]
    assert came.type is EventType.IN_SCOPE and came.seq == gone.seq
    assert came.changes["owner_unit"] == Y and came.changes["reporter"] == REPORTER
    assert came.changes["version"] == hub.engine.cases[moved].version
    # The others see the reassignment itself.
    assert [e.type for e in seen["dispatcher"]] == [EventType.REASSIGNED]
    assert [e.type for e in seen["observer"]] == [EventType.REASSIGNED]


async def test_a_supporting_unit_made_owner_gets_the_reporter(hub: RunningHub) -> None:
    """Seeing more of a case it already holds also comes as the whole case."""
    tokens = await tokens_of(hub)
    names = await the_hall(hub)
    joint = names["joint"]

    async def act() -> None:
        case = hub.engine.cases[joint]
        await run(hub, Reassign(id="lead", case=joint, version=case.version, unit=X, reason="r"))

    seen = await live_events_of(hub, tokens, act)
    (came,) = seen["unit-x"]
    assert came.type is EventType.IN_SCOPE and came.changes["reporter"] == REPORTER


async def test_the_protocols_client_example_follows_a_unit_terminal_with_no_false_gap(
    hub: RunningHub, tmp_path: Path
) -> None:
    """The runnable client of PROTOCOL.md §9, logged in as a unit terminal, while cases go to
    its unit and to another: it sees its own arrive and never reports a gap."""
    script = tmp_path / "watch.py"
    script.write_text(client_example(), encoding="utf-8")
    watcher = await asyncio.create_subprocess_exec(
        sys.executable, str(script), hub.url, hub.tokens[Role.UNIT],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert watcher.stdout is not None
        greeting = await asyncio.wait_for(watcher.stdout.readline(), UNIT * 5)
        assert greeting.decode().strip() == "op-unit-x (unit): 0 open cases"
        mine = []
        for n in range(10):
            await owned_case(hub, f"theirs-{n}", Y)
            mine.append(await owned_case(hub, f"mine-{n}", X))
        out, err = await asyncio.wait_for(watcher.communicate(), UNIT * 5)
    finally:
        if watcher.returncode is None:
            watcher.kill()
            await watcher.wait()
    assert watcher.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert [line.split()[1:] for line in lines] == [["in_scope", case] for case in mine]
