"""Hostile frames in bulk: 5,000 and more, of more than twenty kinds, before and after hello,
from every role. Each gets a typed error (or, before hello, the documented close); the hub logs
no traceback, changes nothing, and stays up for the next honest command."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from server_fixtures import UNIT, RunningHub, TestClient, running_hub, sqlite_url_in, to_json

from dispatch.config import HubSettings
from dispatch.models import Role
from dispatch.protocol import Ack, Error

Make = Callable[[str, int], str | bytes]
"""A hostile frame, from an existing case's id and a counter (to vary the frames)."""


def _command(case: str, n: int, **fields: object) -> str:
    body: dict[str, object] = {"op": "note", "id": f"h-{n}", "case": case, "version": 1}
    return to_json({"type": "command", "command": body | fields})


def _intake(n: int, **fields: object) -> str:
    body: dict[str, object] = {
        "op": "intake",
        "id": f"h-{n}",
        "kind": "event",
        "category": "E0101",
        "source": "patrol",
        "title": "垃圾",
    }
    return to_json({"type": "command", "command": body | fields})


KINDS: list[tuple[str, Make]] = [
    ("nested arrays", lambda c, n: "[" * (1000 + n % 7) + "]" * (1000 + n % 7)),
    ("nested objects", lambda c, n: '{"a":' * 600 + "1" + "}" * 600),
    ("nested after a known field", lambda c, n: '{"type":"ping","x":' + "[" * 5000),
    ("a cut frame", lambda c, n: '{"type":"ping","x":'),
    ("a huge number after an unknown field", lambda c, n: '{"type":"ping","x":1e400}'),
    ("a huge version", lambda c, n: _command(c, n, reason="x").replace('"version":1', '"version":1e400')),  # noqa: E501
    ("a version beyond 64 bits", lambda c, n: _command(c, n, reason="x").replace('"version":1', '"version":99999999999999999999999')),  # noqa: E501
    ("NaN", lambda c, n: '{"type":"ping","x":NaN}'),
    ("not UTF-8", lambda c, n: b'{"type":"ping","x":"\xff\xfe"}'),
    ("empty", lambda c, n: ""),
    ("blank", lambda c, n: "   \n\t "),
    ("null", lambda c, n: "null"),
    ("a number", lambda c, n: str(n)),
    ("NUL in a title", lambda c, n: _intake(n, title="井盖\u0000缺失")),
    ("a control character in a reason", lambda c, n: _command(c, n, reason="a\u001bb")),
    ("a longitude of 1e308", lambda c, n: _intake(n, position={"lon": 1e308, "lat": 31.2})),
    ("a latitude of -91", lambda c, n: _intake(n, position={"lon": 121.4, "lat": -91})),
    ("a title of 10,000 characters", lambda c, n: _intake(n, title="长" * 10_000)),
    ("an id of 100 characters", lambda c, n: _command(c, n, reason="x").replace(f'"h-{n}"', '"' + "i" * 100 + '"')),  # noqa: E501
    ("a forged role", lambda c, n: _command(c, n, reason="x", role="commander")),
    ("a forged actor", lambda c, n: _command(c, n, reason="x", actor="op-commander")),
    ("an unknown op", lambda c, n: to_json({"type": "command", "command": {"op": "delete_all", "id": f"h-{n}"}})),  # noqa: E501
    ("an unknown type", lambda c, n: to_json({"type": "subscribe", "all": True})),
    ("a second hello", lambda c, n: to_json({"type": "hello", "protocol": 1, "token": "x"})),
    ("twenty supporting units", lambda c, n: _command(c, n, op="joint", lead="police", supporting=["gas"] * 20)),  # noqa: E501
    ("a negative extension", lambda c, n: _command(c, n, op="request_extension", minutes=-5, reason="x")),  # noqa: E501
    ("a lone surrogate", lambda c, n: '{"type":"ping","x":"\\ud800"}'),
    ("duplicate keys", lambda c, n: '{"type":"ping","type":"hello"}'),
    ("a history of nothing", lambda c, n: to_json({"type": "history", "id": "", "case": c})),
]  # fmt: skip

PER_ROLE = 1_100
"""Frames each of five roles sends after hello: 5,500 in all."""


async def _operators(hub: RunningHub) -> dict[Role, str]:
    return hub.tokens | {
        Role.STANDBY: await hub.store.add_operator("op-standby", Role.STANDBY, "enforcement-1"),
        Role.UNIT: await hub.store.add_operator("op-unit", Role.UNIT, "enforcement-1"),
    }


CALM = HubSettings(frames_per_second=1_000_000, burst=1_000_000)
"""Flood control off: this test sends thousands of refused frames on purpose (flood control
has tests of its own)."""


async def test_thousands_of_hostile_frames_change_nothing_and_log_no_traceback(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(KINDS) >= 20
    caplog.set_level(logging.INFO)
    async with running_hub(db_url, CALM) as hub:
        tokens = await _operators(hub)
        async with TestClient.connect(hub.url) as setup:
            await setup.hello(tokens[Role.DISPATCHER])
            await setup.snapshot()
            _, made = await setup.execute(hub.intake("existing"))
        assert isinstance(made, Ack) and made.case
        case = made.case
        cases, seq = {c.id: c for c in await hub.store.all_cases()}, await hub.store.last_seq()

        # Before hello: every kind is refused as a first frame, with the documented close.
        for _, make in KINDS:
            async with TestClient.connect(hub.url) as stranger:
                await stranger.send(make(case, 0))
                code, frames = await stranger.closed()
            assert code in (4001, 1007), code  # 1007: not UTF-8, closed by the WebSocket layer
            assert all(isinstance(f, Error) for f in frames)

        # After hello, from every role: one error per frame, and the line stays up.
        sent = 0
        for role, token in tokens.items():
            async with TestClient.connect(hub.url) as client:
                await client.hello(token)
                await client.snapshot()
                frames = [KINDS[n % len(KINDS)][1](case, n) for n in range(PER_ROLE)]
                texts = [f for f in frames if not isinstance(f, bytes)]
                for frame in texts:
                    await client.send(frame)
                replies = [await client.recv(UNIT * 5) for _ in texts]
                assert all(isinstance(r, Error) for r in replies), role
                sent += len(texts)
                _, honest = await client.execute(hub.intake(f"after-{role}"))
                assert isinstance(honest, Ack | Error)
                assert not (isinstance(honest, Error) and honest.code == "malformed")

        # What the honest intakes changed, and nothing else.
        assert sent >= 5_000
        after = {c.id: c for c in await hub.store.all_cases()}
        new = {k: v for k, v in after.items() if k not in cases}
        assert {k: after[k] for k in cases} == cases
        assert all(c.title.startswith("case after-") for c in new.values())
        assert await hub.store.last_seq() >= seq
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == []
    refused_lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused_lines) < 200, "bad input is logged at most once a second per client"


async def test_a_binary_frame_that_is_not_utf8_gets_an_error_after_hello(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub, TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        await client.snapshot()
        await client.send(b'{"type":"ping","x":"\xff\xfe"}')
        error = await client.expect(Error)
        assert error.code == "malformed"
        _, ack = await client.execute(hub.intake("after"))
        assert isinstance(ack, Ack)
