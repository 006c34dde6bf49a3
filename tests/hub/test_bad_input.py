"""Hostile and mistaken input: every bad frame gets a typed error, changes nothing, and the
connection goes on working; oversize frames and floods close only the offender."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from server_fixtures import UNIT, TestClient, running_hub, sqlite_url_in, to_json

from dispatch.commands import Accept
from dispatch.config import HubSettings
from dispatch.errors import DETAILS, ErrorCode, placeholders
from dispatch.models import Role
from dispatch.protocol import Ack, CommandFrame, Error, Events, Pong, encode

BadFrame = Callable[[str, int], str]
"""Builds the bad frame from the id and version of an existing case."""


def _accept(case: str, version: int, **extra: object) -> str:
    body: dict[str, object] = {"op": "accept", "id": "bad-1", "case": case, "version": version}
    return to_json({"type": "command", "command": body | extra})


BAD_FRAMES: list[tuple[str, BadFrame, ErrorCode, str]] = [
    ("malformed JSON", lambda c, v: '{"type": "command", "command": {', ErrorCode.MALFORMED, "not_json"),  # noqa: E501
    ("a JSON array", lambda c, v: "[1, 2, 3]", ErrorCode.MALFORMED, "not_an_object"),
    ("a bare string", lambda c, v: '"hello"', ErrorCode.MALFORMED, "not_an_object"),
    ("a field of the wrong type", lambda c, v: _accept(c, v).replace(f'"version":{v}', '"version":"one"'), ErrorCode.INVALID, "invalid_frame"),  # noqa: E501
    ("a missing field", lambda c, v: _accept(c, v).replace(f',"version":{v}', ""), ErrorCode.INVALID, "invalid_frame"),  # noqa: E501
    ("an unknown field", lambda c, v: _accept(c, v, role="commander"), ErrorCode.INVALID, "invalid_frame"),  # noqa: E501
    ("an unknown message type", lambda c, v: '{"type": "subscribe"}', ErrorCode.UNKNOWN_MESSAGE, "unknown_message"),  # noqa: E501
    ("an unknown op", lambda c, v: '{"type":"command","command":{"op":"teleport","id":"x"}}', ErrorCode.UNKNOWN_COMMAND, "unknown_op"),  # noqa: E501
    ("a second hello", lambda c, v: '{"type":"hello","protocol":1,"token":"t"}', ErrorCode.INVALID, "hello_again"),  # noqa: E501
    ("a stale version", lambda c, v: _accept(c, v + 5), ErrorCode.CONFLICT, "version_conflict_by"),
    ("an unknown case", lambda c, v: _accept("9901010001", v), ErrorCode.NOT_FOUND, "unknown_case"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "code", "detail"),
    [(b, c, d) for _, b, c, d in BAD_FRAMES],
    ids=[n for n, _, _, _ in BAD_FRAMES],
)
async def test_a_bad_frame_gets_its_error_changes_nothing_and_the_line_stays_up(
    db_url: str, bad: BadFrame, code: ErrorCode, detail: str
) -> None:
    async with running_hub(db_url) as hub, TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        _, created = await client.execute(hub.intake("existing"))
        assert isinstance(created, Ack) and created.case and created.version
        cases_before, seq_before = await hub.store.all_cases(), await hub.store.last_seq()

        await client.send(bad(created.case, created.version))
        error = await client.expect(Error)
        assert error.code is code, error.message
        assert error.detail == detail, error.message
        assert error.params.keys() == placeholders(DETAILS[detail].text)
        assert error.message == DETAILS[detail].text.format(**error.params)
        assert await hub.store.all_cases() == cases_before
        assert await hub.store.last_seq() == seq_before

        _, follow_up = await client.execute(hub.intake("after"))
        assert isinstance(follow_up, Ack) and follow_up.seq > seq_before


async def test_a_command_error_names_the_command_even_when_it_did_not_validate(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub, TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        await client.send(_accept("2601010001", 0))  # version must be ≥ 1
        error = await client.expect(Error)
    assert error.code is ErrorCode.INVALID and error.command == "bad-1"


async def test_an_observer_may_not_accept_and_nothing_changes(tmp_path: Path) -> None:
    async with (
        running_hub(sqlite_url_in(tmp_path)) as hub,
        TestClient.connect(hub.url) as commander,
        TestClient.connect(hub.url) as observer,
    ):
        await commander.hello(hub.tokens[Role.COMMANDER])
        await commander.snapshot()
        await observer.hello(hub.tokens[Role.OBSERVER])
        await observer.snapshot()
        _, created = await commander.execute(hub.intake(1))
        assert isinstance(created, Ack) and created.case and created.version
        await observer.until(Events)
        cases_before, seq_before = await hub.store.all_cases(), await hub.store.last_seq()

        _, reply = await observer.execute(
            Accept(id="obs-accept", case=created.case, version=created.version)
        )
        assert isinstance(reply, Error) and reply.code is ErrorCode.FORBIDDEN
        assert reply.command == "obs-accept"
        assert await hub.store.all_cases() == cases_before
        assert await hub.store.last_seq() == seq_before

        await observer.send('{"type":"ping"}')  # still connected and served
        await observer.expect(Pong)


async def test_an_oversize_frame_closes_that_connection_only(tmp_path: Path) -> None:
    async with (
        running_hub(sqlite_url_in(tmp_path), HubSettings(max_frame_bytes=4096)) as hub,
        TestClient.connect(hub.url) as big,
        TestClient.connect(hub.url) as other,
    ):
        await big.hello(hub.tokens[Role.COMMANDER])
        await big.snapshot()
        await other.hello(hub.tokens[Role.DISPATCHER])
        await other.snapshot()
        frame = encode(CommandFrame(command=hub.intake(1, description="x" * 2000 * 3)))
        await big.send(frame.decode())
        code, _ = await big.closed()
        assert code == 1009
        _, ack = await other.execute(hub.intake(2))
        assert isinstance(ack, Ack)
    assert [c.title for c in await hub.store.all_cases()] == ["case 2"]


async def test_a_flood_is_throttled_then_closed_while_others_go_on(tmp_path: Path) -> None:
    settings = HubSettings(frames_per_second=5, burst=5)
    async with (
        running_hub(sqlite_url_in(tmp_path), settings) as hub,
        TestClient.connect(hub.url) as flooder,
        TestClient.connect(hub.url) as writer,
        TestClient.connect(hub.url) as watcher,
    ):
        for client, role in ((flooder, Role.OBSERVER), (writer, Role.COMMANDER),
                             (watcher, Role.OBSERVER)):  # fmt: skip
            await client.hello(hub.tokens[role])
            await client.snapshot()

        async def flood() -> None:
            for _ in range(200):
                await flooder.send('{"type":"ping"}')

        flooding = asyncio.create_task(flood())
        _, ack = await writer.execute(hub.intake(1))
        assert isinstance(ack, Ack)
        _, seen = await watcher.until(Events)
        assert seen.events[-1].seq == ack.seq

        code, frames = await flooder.closed()
        await asyncio.wait_for(asyncio.gather(flooding, return_exceptions=True), UNIT)
    limited = [f for f in frames if isinstance(f, Error) and f.code is ErrorCode.RATE_LIMITED]
    assert code == 1008
    # the burst answered, then every refused frame told why before the close
    assert sum(isinstance(f, Pong) for f in frames) >= settings.burst
    assert len(limited) >= 3 * settings.burst


async def test_throttled_commands_are_named_and_not_applied(tmp_path: Path) -> None:
    settings = HubSettings(frames_per_second=1, burst=5)
    async with (
        running_hub(sqlite_url_in(tmp_path), settings) as hub,
        TestClient.connect(hub.url) as client,
    ):
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        commands = [hub.intake(n) for n in range(12)]
        for command in commands:
            await client.command(command)
        replies: dict[str, Ack | Error] = {}
        async with asyncio.timeout(UNIT * 5):
            while len(replies) < len(commands):
                message = await client.recv()
                if isinstance(message, Ack | Error) and message.command:
                    replies[message.command] = message
        stored = {c.title for c in await hub.store.all_cases()}
    limited = [r for r in replies.values() if isinstance(r, Error)]
    assert limited and {r.code for r in limited} == {ErrorCode.RATE_LIMITED}
    assert {f"case {n}" for n, c in enumerate(commands) if isinstance(replies[c.id], Ack)} == stored
    assert len(stored) >= settings.burst  # the burst goes through
