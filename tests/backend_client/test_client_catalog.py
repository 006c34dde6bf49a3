"""The client library asks the hub for its category catalog."""

from __future__ import annotations

from pathlib import Path

from client_fixtures import running_client
from server_fixtures import running_hub, sqlite_url_in

from backend_client import ConnectionState
from dispatch.catalog import Catalog
from dispatch.models import Role


async def test_the_client_library_asks_for_it(tmp_path: Path) -> None:
    async with (
        running_hub(sqlite_url_in(tmp_path)) as hub,
        running_client(hub.url, hub.tokens[Role.DISPATCHER]) as (client, seen, _),
    ):
        await seen.until(lambda: client.state is ConnectionState.LIVE)
        categories = await client.catalog()
    assert {c.code for c in categories} == {c.code for c in Catalog.default()}
