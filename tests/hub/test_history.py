"""A case's audit history over the wire: the hub answers a ``history`` request with exactly the
events its store holds for that case, in order; an unknown case is a typed error that leaves the
connection working; a read-only observer may ask too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from server_fixtures import RunningHub, TestClient, running_hub

from dispatch.commands import Accept, Note
from dispatch.errors import ErrorCode
from dispatch.events import EventType
from dispatch.models import Role
from dispatch.protocol import Ack, Error, History, HistoryRequest, Pong, encode


@pytest.fixture
async def hub(db_url: str) -> AsyncIterator[RunningHub]:
    """A hub on SQLite and, with GRIDDESK_TEST_PG set, the same tests on PostgreSQL."""
    async with running_hub(db_url) as running:
        yield running


async def ask(client: TestClient, request_id: str, case: str) -> History | Error:
    """Send a history request; read until its answer (live frames may come before it)."""
    await client.send(encode(HistoryRequest(id=request_id, case=case)).decode())
    while True:
        message = await client.recv()
        if isinstance(message, History) and message.id == request_id:
            return message
        if isinstance(message, Error) and message.command == request_id:
            return message


async def two_cases(client: TestClient, hub: RunningHub) -> tuple[str, str]:
    """Two cases, the first accepted and noted, so histories interleave in the log."""
    _, first = await client.execute(hub.intake(1))
    _, second = await client.execute(hub.intake(2))
    assert isinstance(first, Ack) and isinstance(second, Ack)
    assert first.case is not None and second.case is not None
    _, ack = await client.execute(Accept(id="a1", case=first.case, version=1))
    assert isinstance(ack, Ack)
    _, ack = await client.execute(Note(id="n1", case=first.case, version=2, reason="井盖松动"))
    assert isinstance(ack, Ack)
    return first.case, second.case


async def test_history_is_the_stored_events_of_the_case_in_order(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        case, other = await two_cases(client, hub)
        answer = await ask(client, "h1", case)
        assert isinstance(answer, History) and answer.case == case
        stored = [e for e in await hub.store.events_after(0) if e.case == case]
        assert answer.events == stored
        assert answer.events[0].type is EventType.CASE_CREATED
        assert [e.seq for e in answer.events] == sorted(e.seq for e in answer.events)
        assert answer.events[-1].reason == "井盖松动"
        assert all(e.case == case for e in answer.events)
        assert other not in {e.case for e in answer.events}


async def test_an_unknown_case_is_not_found_and_the_connection_keeps_working(
    hub: RunningHub,
) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        answer = await ask(client, "h-missing", "no-such-case")
        assert isinstance(answer, Error)
        assert (answer.code, answer.command) == (ErrorCode.NOT_FOUND, "h-missing")
        assert (answer.detail, answer.params) == ("unknown_case", {"case": "no-such-case"})
        _, ack = await client.execute(hub.intake(1))
        assert isinstance(ack, Ack) and ack.case is not None
        answer = await ask(client, "h-again", ack.case)
        assert isinstance(answer, History) and len(answer.events) == 1
        await client.send('{"type":"ping"}')
        await client.until(Pong)


async def test_a_malformed_request_is_refused_naming_its_id(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        await client.send('{"type":"history","id":"h-bad","case":""}')
        _, error = await client.until(Error)
        assert (error.code, error.command) == (ErrorCode.INVALID, "h-bad")
        assert error.detail == "invalid_frame" and "$.case" in str(error.params["error"])


async def test_an_observer_may_read_a_history(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as dispatcher:
        await dispatcher.hello(hub.tokens[Role.DISPATCHER])
        await dispatcher.snapshot()
        case, _ = await two_cases(dispatcher, hub)
    async with TestClient.connect(hub.url) as observer:
        await observer.hello(hub.tokens[Role.OBSERVER])
        await observer.snapshot()
        answer = await ask(observer, "h-obs", case)
        assert isinstance(answer, History)
        assert [e.type for e in answer.events] == [
            EventType.CASE_CREATED,
            EventType.ACCEPTED,
            EventType.NOTED,
        ]
