"""Callbacks (回访) on a real hub: an unsatisfied answer with ``reopen`` sends the closed case
back to its unit as rework — in the hub, in its database and in a console's mirror alike —
and a satisfied one cannot reopen (typed refusal, nothing changes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_fixtures import running_hub, sqlite_url_in

from backend_client import CommandRefused, HubClient
from dispatch.commands import (
    Accept,
    Acknowledge,
    Arrive,
    Callback,
    Check,
    Close,
    Dispatch,
    ReportBack,
    Verify,
)
from dispatch.models import Case, Role, Source, Status
from hub.store import Store


async def test_an_unsatisfied_callback_reopens_the_case_everywhere(tmp_path: Path) -> None:
    async with (
        running_hub(sqlite_url_in(tmp_path)) as hub,
        HubClient.connected(hub.url, hub.tokens[Role.COMMANDER], timeout=5) as client,
    ):
        ack = await client.send(hub.intake(1, source=Source.HOTLINE, reporter="12345-1"))
        case, version = ack.case, ack.version
        assert case is not None and version is not None
        for make in (
            lambda v: Verify(id=client.new_id(), case=case, version=v, confirmed=True),
            lambda v: Accept(id=client.new_id(), case=case, version=v),
            lambda v: Dispatch(id=client.new_id(), case=case, version=v, unit="jw-1"),
            lambda v: Acknowledge(id=client.new_id(), case=case, version=v),
            lambda v: Arrive(id=client.new_id(), case=case, version=v),
            lambda v: ReportBack(id=client.new_id(), case=case, version=v, reason="已清理"),
            lambda v: Check(id=client.new_id(), case=case, version=v, passed=True),
            lambda v: Close(id=client.new_id(), case=case, version=v),
        ):
            version = (await client.send(make(version))).version
        assert version is not None
        with pytest.raises(CommandRefused) as refused:
            await client.send(Callback(id=client.new_id(), case=case, version=version,
                                       satisfied=True, reopen=True, reason="x"))  # fmt: skip
        assert refused.value.detail == "reopen_satisfied"
        assert hub.engine.cases[case].status is Status.CLOSED
        await client.send(Callback(id=client.new_id(), case=case, version=version,
                                   satisfied=False, reopen=True, reason="又脏了"))  # fmt: skip
        for seen in (hub.engine.cases[case], client.mirror.cases[case]):
            assert (seen.status, seen.callback, seen.reworks) == (
                Status.DISPATCHED, "unsatisfied", 1)  # fmt: skip
            assert seen.closed_at is None and seen.owner_unit == "jw-1"
    stored = {c.id: c for c in await _stored(tmp_path)}
    assert stored[case].status is Status.DISPATCHED and stored[case].callback == "unsatisfied"


async def _stored(tmp_path: Path) -> list[Case]:
    store = await Store.open(sqlite_url_in(tmp_path))
    try:
        return await store.all_cases()
    finally:
        await store.close()
