"""The category catalog is on the wire: a bridge (the 12345 hotline) maps its ticket types onto
it before it sends intakes; any operator may ask, observers too."""

from __future__ import annotations

from pathlib import Path

from server_fixtures import TestClient, running_hub, sqlite_url_in, to_json

from dispatch.catalog import Catalog
from dispatch.models import Role
from dispatch.protocol import Categories, Error


async def test_any_operator_gets_the_whole_catalog(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub, TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.OBSERVER])
        await client.snapshot()
        await client.send(to_json({"type": "catalog", "id": "k-1"}))
        answer = await client.expect(Categories)
    assert answer.id == "k-1"
    assert answer.categories == list(Catalog.default())
    hazards = {c.code for c in answer.categories if c.urgent}
    assert hazards and all(c.kind in ("component", "event") for c in answer.categories)


async def test_a_catalog_request_without_an_id_is_invalid(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub, TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        await client.snapshot()
        await client.send(to_json({"type": "catalog"}))
        error = await client.expect(Error)
    assert error.code == "invalid" and error.detail == "invalid_frame"
